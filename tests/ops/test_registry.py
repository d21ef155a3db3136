"""Every op in the registry: forward against NumPy, gradients by gradcheck, and PyTorch parity."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

from ops.registry import SPECS

IDS = [s.name for s in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_matches_numpy(spec, dtype):
    rng = np.random.default_rng(0)
    arrays = spec.inputs(rng, dtype)
    out = spec.ember(*[ember.tensor(a) for a in arrays])
    expected = spec.numpy(*arrays)
    assert out.shape == np.shape(expected)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gradcheck_reverse_and_forward(spec):
    rng = np.random.default_rng(1)
    inputs = [ember.tensor(a, requires_grad=True) for a in spec.inputs(rng, "float64")]
    assert gradcheck(spec.ember, inputs)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.second_order], ids=[s.name for s in SPECS if s.second_order])
def test_gradgradcheck(spec):
    rng = np.random.default_rng(2)
    inputs = [ember.tensor(a, requires_grad=True) for a in spec.inputs(rng, "float64")]
    assert gradgradcheck(spec.ember, inputs)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_matches_pytorch_values_and_gradients(spec):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = spec.inputs(rng, "float32")
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = spec.ember(*ours)
    ref = spec.torch(*theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    cotangent = rng.standard_normal(out.shape).astype(out.dtype)
    out.backward(ember.tensor(cotangent))
    ref.backward(torch.tensor(cotangent))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-4, atol=1e-5)
