"""Linear, Bilinear and Identity: PyTorch parity, gradients, initialisation and input errors."""
import math

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients, normal

CASES = [
    LayerCase("Linear", lambda: nn.Linear(5, 3), lambda t: t.nn.Linear(5, 3), lambda r: [normal(4, 5)(r)],
              second_order=True),
    LayerCase("Linear-3d-input", lambda: nn.Linear(5, 3), lambda t: t.nn.Linear(5, 3),
              lambda r: [normal(2, 4, 5)(r)]),
    LayerCase("Linear-1d-input", lambda: nn.Linear(5, 3), lambda t: t.nn.Linear(5, 3), lambda r: [normal(5)(r)]),
    LayerCase("Linear-no-bias", lambda: nn.Linear(5, 3, bias=False), lambda t: t.nn.Linear(5, 3, bias=False),
              lambda r: [normal(4, 5)(r)]),
    LayerCase("Bilinear", lambda: nn.Bilinear(3, 4, 2), lambda t: t.nn.Bilinear(3, 4, 2),
              lambda r: [normal(5, 3)(r), normal(5, 4)(r)], second_order=True),
    LayerCase("Bilinear-no-bias", lambda: nn.Bilinear(3, 4, 2, bias=False),
              lambda t: t.nn.Bilinear(3, 4, 2, bias=False), lambda r: [normal(2, 3)(r), normal(2, 4)(r)]),
    LayerCase("Identity", lambda: nn.Identity(), lambda t: t.nn.Identity(), lambda r: [normal(3, 2)(r)]),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


def test_linear_is_one_primitive_with_pytorch_layout():
    layer = nn.Linear(784, 10)
    assert layer.weight.shape == (10, 784) and layer.bias.shape == (10,)
    out = layer(ember.randn(2, 784))
    assert out.node.fn.name == "linear"  # one node: no transpose or broadcast add recorded


def test_linear_weight_gradient_owns_its_buffer():
    layer = nn.Linear(4, 3)
    layer(ember.randn(6, 4)).sum().backward()
    assert layer.weight.grad._data.flags.c_contiguous and layer.weight.grad._data.flags.owndata


def test_default_initialisation_matches_pytorch_bounds():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has standard deviation a / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    bil = nn.Bilinear(16, 9, 4)
    assert np.abs(bil.weight.numpy()).max() <= 1 / 4


def test_equal_seeds_give_equal_layers():
    ember.manual_seed(7)
    a = nn.Linear(6, 2)
    ember.manual_seed(7)
    b = nn.Linear(6, 2)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


def test_wrong_input_width_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Linear: expected input with last dimension 784, got shape \(32, 100\)"):
        nn.Linear(784, 10)(ember.zeros(32, 100))
    with pytest.raises(ValueError, match=r"Bilinear: expected second input with last dimension 4, got shape \(5, 3\)"):
        nn.Bilinear(3, 4, 2)(ember.zeros(5, 3), ember.zeros(5, 3))
    with pytest.raises(ValueError, match=r"linear: expected input with last dimension 3, got shape \(2, 2\)"):
        F.linear(ember.zeros(2, 2), ember.zeros(4, 3))


def test_wrong_dtype_is_reported():
    with pytest.raises(TypeError, match="Linear: input dtype float64 differs from the parameters' dtype float32"):
        nn.Linear(3, 2)(ember.zeros(1, 3, dtype="float64"))


def test_integer_input_is_promoted():
    out = nn.Linear(3, 2)(ember.tensor([[1, 2, 3]]))
    assert out.dtype == ember.float32


def test_functional_linear_equals_module():
    layer = nn.Linear(3, 2)
    x = ember.randn(4, 3)
    np.testing.assert_allclose(F.linear(x, layer.weight, layer.bias).numpy(), layer(x).numpy())


def test_repr():
    assert repr(nn.Linear(784, 10, bias=False)) == "Linear(in_features=784, out_features=10, bias=False)"
