"""Normalization kernels: the numba rows against the NumPy reference; layer norm against PyTorch.

The numba rows add their sums in float64 where NumPy adds float32 pairwise, so the
two agree to a few ulps, not bit for bit (measured, in ulps of the largest value: at
most 1.5 in float32, 9.5 in float64 on 4096-wide rows, where a sequential float64 sum
is less exact than NumPy's pairwise one). The cases the rows do not handle run the
reference in both engines and give the same bits.
"""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both

import ember
import ember.functional as F
from ember.kernels import normalization as K

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def every_normalization_kernel(monkeypatch):
    monkeypatch.setattr(K, "NUMBA_KERNELS", frozenset({"normalize", "normalize_backward"}))


def assert_close(reference, fast, dtype, ulps=16):
    assert reference.dtype == fast.dtype and reference.shape == fast.shape
    eps = np.finfo(dtype).eps
    scale = max(1.0, float(np.nanmax(np.abs(reference))))
    np.testing.assert_allclose(fast, reference, rtol=ulps * eps, atol=ulps * eps * scale)


def data(shape, dtype, strided=False, seed=0):
    rng = np.random.default_rng(seed)
    wide = shape[:-1] + (2 * shape[-1],) if strided else shape
    x = (rng.standard_normal(wide) * 3 + 1).astype(dtype)
    return x[..., ::2] if strided else x


# (shape, number of trailing axes normalised)
CASES = [((5, 37), 1), ((3, 4, 129), 1), ((2, 3, 4, 5), 3), ((6, 1), 1), ((1, 200), 1)]


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_rows_match_the_reference(dtype, case, strided, affine):
    shape, k = case
    x = data(shape, dtype, strided)
    axes = tuple(range(x.ndim - k, x.ndim))
    trailing = shape[x.ndim - k:]
    rng = np.random.default_rng(1)
    weight = rng.standard_normal(trailing).astype(dtype) if affine in ("weight", "both") else None
    bias = rng.standard_normal(trailing).astype(dtype) if affine in ("bias", "both") else None
    reference, fast = both(K.normalize, x, axes, 1e-5, None, weight, bias)
    for r, f in zip(reference, fast):
        assert_close(r, f, dtype)
    assert fast[2].shape == shape[:x.ndim - k] + (1,) * k


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_rows_match_the_reference(dtype, case):
    shape, k = case
    axes = tuple(range(len(shape) - k, len(shape)))
    _, xhat, invstd = K.normalize_reference(data(shape, dtype), axes, 1e-5)
    v = data(shape, dtype, strided=True, seed=2)  # a non-contiguous gradient
    reference, fast = both(K.normalize_backward, v, xhat, invstd, axes)
    assert_close(reference, fast, dtype)


def test_constant_rows_give_zeros_and_the_eps_scale():
    x = np.full((3, 8), 2.5, np.float32)
    out, xhat, invstd = K.normalize(x, (1,), 1e-4)
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_allclose(invstd, 100.0, rtol=1e-6)


@pytest.mark.parametrize("case", ["batch_norm_axes", "stats", "float16", "mixed_dtype_weight", "channel_weight"])
def test_the_cases_the_rows_do_not_take_run_the_reference(case):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)
    axes, stats, weight = (3,), None, None
    if case == "batch_norm_axes":
        axes = (0, 2, 3)
    elif case == "stats":
        stats = K.moments(x, axes)
    elif case == "float16":
        x = x.astype(np.float16)
    elif case == "mixed_dtype_weight":
        weight = rng.standard_normal(6)  # float64 against float32 rows: NumPy promotes, so must we
    else:
        weight = rng.standard_normal((4, 3, 5, 1)).astype(np.float32)  # varies across the rows
    reference, fast = both(K.normalize, x, axes, 1e-5, stats, weight, None)
    for r, f in zip(reference, fast):
        assert_bit_identical(r, f)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_matches_torch_to_the_second_order(engine, dtype):
    ember.kernels.use(engine)
    try:
        rng = np.random.default_rng(4)
        x = (rng.standard_normal((3, 7, 12)) * 2 + 0.5).astype(dtype)
        w, b = rng.standard_normal(12).astype(dtype), rng.standard_normal(12).astype(dtype)
        ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ey = F.layer_norm(ex, 12, ew, eb)
        ty = torch.nn.functional.layer_norm(tx, (12,), tw, tb)
        tolerance = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(ey.numpy(), ty.detach().numpy(), rtol=tolerance, atol=tolerance)
        eg = ember.autograd.grad((ey * ey * ey).sum(), [ex, ew], create_graph=True)
        tg = torch.autograd.grad((ty * ty * ty).sum(), [tx, tw], create_graph=True)
        for e, t in zip(eg, tg):
            np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=10 * tolerance, atol=10 * tolerance)
        (egg,) = ember.autograd.grad(sum((g * g).sum() for g in eg), [ex])
        (tgg,) = torch.autograd.grad(sum((g * g).sum() for g in tg), [tx])
        np.testing.assert_allclose(egg.numpy(), tgg.numpy(), rtol=100 * tolerance, atol=100 * tolerance)
    finally:
        ember.kernels.use("numba")


def test_layer_norm_over_several_trailing_dims_matches_torch_under_numba():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = F.layer_norm(ex, (3, 4, 5)), torch.nn.functional.layer_norm(tx, (3, 4, 5))
    np.testing.assert_allclose(ey.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(x.shape)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-11, atol=1e-12)
