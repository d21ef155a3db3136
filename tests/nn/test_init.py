"""Initialisers: gains and fans as in PyTorch, the distributions they draw, reproducibility."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.parametrize("shape", [(10, 20), (16, 3, 5, 5), (8, 4, 3), (6, 2, 3, 3, 3)])
def test_fans_match_pytorch_including_convolution_weights(shape):
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(ember.empty(*shape)) == expected


def test_fan_of_a_vector_is_an_error():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(ember.empty(5))


def _std_of_uniform(bound):
    return bound / math.sqrt(3)


@pytest.mark.parametrize("fill,bound,std", [
    (lambda w: init.uniform_(w, -0.3, 0.3), 0.3, _std_of_uniform(0.3)),
    (lambda w: init.xavier_uniform_(w, gain=2.0), 2 * math.sqrt(6 / 700), _std_of_uniform(2 * math.sqrt(6 / 700))),
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(200), _std_of_uniform(1 / math.sqrt(200))),
    (lambda w: init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(6 / 500),
     _std_of_uniform(math.sqrt(6 / 500))),
    (lambda w: init.normal_(w, 0.0, 0.05), None, 0.05),
    (lambda w: init.xavier_normal_(w), None, math.sqrt(2 / 700)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), None, math.sqrt(2 / 200)),
    (lambda w: init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04), 0.04, None),
])
def test_distributions_have_the_documented_bounds_and_spread(fill, bound, std):
    w = nn.Parameter(ember.empty(500, 200))
    out = fill(w)
    assert out is w and w.requires_grad
    values = w.numpy()
    if bound is not None:
        assert np.abs(values).max() <= bound * (1 + 1e-6)
    if std is not None:
        assert abs(values.std() - std) < 0.02 * std
    assert abs(values.mean()) < 0.05 * (std or bound)


def test_constant_zeros_ones_eye_and_dirac():
    torch = pytest.importorskip("torch")
    assert init.constant_(ember.empty(3), 0.25).tolist() == [0.25] * 3
    assert init.zeros_(ember.ones(2)).tolist() == [0.0, 0.0]
    assert init.ones_(ember.zeros(2)).tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(init.eye_(ember.empty(3, 4)).numpy(), np.eye(3, 4))
    for shape, groups in (((4, 2, 3, 3), 2), ((3, 3, 5), 1), ((2, 4, 3, 3, 3), 1)):
        expected = torch.nn.init.dirac_(torch.empty(shape), groups).numpy()
        np.testing.assert_array_equal(init.dirac_(ember.empty(*shape), groups).numpy(), expected)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = init.orthogonal_(ember.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    small = min(w.shape)
    product = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(product, 4 * np.eye(small), atol=1e-5)


def test_initialisers_keep_dtype_and_do_not_record_a_graph():
    for dtype in ("float64", "float16"):
        w = nn.Parameter(ember.empty(10, 10, dtype=dtype))
        init.kaiming_uniform_(w)
        assert w.dtype == np.dtype(dtype) and w.node is None


def test_equal_seeds_give_equal_draws():
    ember.manual_seed(11)
    a = init.normal_(ember.empty(5, 5)).numpy().copy()
    ember.manual_seed(11)
    b = init.normal_(ember.empty(5, 5)).numpy()
    np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(ember.empty(3, 3), mode="fan_avg")
    with pytest.raises(TypeError, match="expected a floating tensor"):
        init.uniform_(ember.zeros(3, dtype="int64"))
