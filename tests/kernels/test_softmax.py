"""Softmax kernels: the numba rows against the NumPy reference, and values and gradients against PyTorch."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, both

import ember
from ember.kernels import softmax as S

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def every_softmax_kernel(monkeypatch):
    monkeypatch.setattr(S, "NUMBA_KERNELS", frozenset({"softmax", "log_softmax", "softmax_backward",
                                                       "log_softmax_backward"}))


def logits(dtype, shape=(5, 37, 65), strided=False):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape[:-1] + (2 * shape[-1] if strided else shape[-1],)) * 3).astype(dtype)
    x = x[..., ::2] if strided else x
    rows = x.reshape(-1, x.shape[-1]) if not strided else x[0]
    rows[3, ::5] = np.nan
    rows[4, :] = -np.inf
    rows[5, 3] = np.inf
    rows[6, ::2] = -np.inf
    rows[7, 1] = 1e4
    return x


def assert_close(reference, fast, dtype):
    assert reference.dtype == fast.dtype and reference.shape == fast.shape
    tolerance = 4e-7 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=tolerance * 10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", [S.softmax, S.log_softmax])
def test_forward_matches_the_reference_with_nan_and_infinite_rows(kernel, dtype, strided):
    x = logits(dtype, strided=strided)
    reference, fast = both(kernel, x, -1)
    assert_close(reference, fast, dtype)
    odd = x[..., :1]  # rows of one
    assert_close(*both(kernel, odd, -1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_backwards_match_the_reference(dtype):
    x = np.random.default_rng(3).standard_normal((33, 17)).astype(dtype)
    g = np.random.default_rng(4).standard_normal((33, 17)).astype(dtype)
    y, logy = S.softmax_reference(x, -1), S.log_softmax_reference(x, -1)
    assert_close(*both(S.softmax_backward, g, y, -1), dtype)
    assert_close(*both(S.log_softmax_backward, g, logy, -1), dtype)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_values_and_gradients_match_torch_and_gradcheck(engine):
    ember.kernels.use(engine)
    try:
        x = np.random.default_rng(5).standard_normal((4, 3, 50)).astype(np.float32) * 4
        for name in ("softmax", "log_softmax"):
            xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            w = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)
            ye, yt = getattr(ember.nn.functional, name)(xe, -1), getattr(torch.nn.functional, name)(xt, -1)
            (ye * ember.tensor(w)).sum().backward()
            (yt * torch.tensor(w)).sum().backward()
            np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
            x64 = ember.tensor(np.random.default_rng(7).standard_normal((3, 6)), requires_grad=True)
            assert ember.autograd.gradcheck(lambda t, name=name: getattr(ember.nn.functional, name)(t, -1), (x64,))
    finally:
        ember.kernels.use("numba")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(S, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
