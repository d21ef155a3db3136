"""ember.nn.utils clipping: PyTorch's signatures, one implementation shared with ember.optim."""
import inspect

import numpy as np
import pytest

import ember
import ember.optim
from ember.nn import utils

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
                                  "parameters_to_vector", "vector_to_parameters"])
def test_signatures_are_torchs(name):
    ours = [p.name for p in inspect.signature(getattr(utils, name)).parameters.values()]
    theirs = [p.name for p in inspect.signature(getattr(torch.nn.utils, name)).parameters.values()]
    assert ours == theirs


def test_optim_exports_the_same_functions():
    for name in ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]:
        assert getattr(ember.optim, name) is getattr(utils, name)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_returns_the_total_norm_tensor_like_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(3, 2), (4,)]]
    ours = [ember.zeros(g.shape, dtype="float64", requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = ember.tensor(g.copy()), torch.from_numpy(g.copy())
    total = utils.clip_grad_norm_(ours, 0.5, norm_type, foreach=True)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type, foreach=None)
    assert isinstance(total, ember.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_with_foreach():
    p = ember.zeros(3, requires_grad=True)
    p.grad = ember.tensor([-3.0, 0.5, 7.0])
    utils.clip_grad_value_([p], 1.0, foreach=False)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a number >= 0, got -1.0"):
        utils.clip_grad_value_([p], -1.0)
