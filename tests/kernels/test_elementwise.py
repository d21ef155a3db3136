"""Elementwise kernels (erf, GELU, small powers): numba against the NumPy reference, and against PyTorch."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both

import ember
from ember.kernels import elementwise as E

torch = pytest.importorskip("torch")

#: numba's float32 exp/tanh are libm's, NumPy's its own SIMD ones: they may differ by an ulp or two.
ULPS = {np.float32: 4, np.float64: 4}


@pytest.fixture(autouse=True)
def every_elementwise_kernel(monkeypatch):
    monkeypatch.setattr(E, "NUMBA_KERNELS", frozenset({"erf", "gelu_forward", "gelu_slope", "gelu_backward",
                                                       "gelu_forward_tanh", "gelu_slope_tanh",
                                                       "gelu_backward_tanh", "power", "power_all"}))


def data(dtype, size=70001, special=True, strided=False):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(2 * size if strided else size) * 3).astype(dtype)
    x = x[::2] if strided else x
    if special:
        x[::97] = np.nan
        x[1::89] = np.inf
        x[2::83] = -np.inf
        x[3::79] = 0.0
        x[4::73] = -0.0
    return x


def assert_ulps(reference, fast, ulps):
    reference, fast = np.asarray(reference), np.asarray(fast)
    assert reference.dtype == fast.dtype and reference.shape == fast.shape
    np.testing.assert_array_equal(np.isnan(reference), np.isnan(fast))
    finite = np.isfinite(reference)
    np.testing.assert_array_equal(reference[~finite & ~np.isnan(reference)], fast[~finite & ~np.isnan(fast)])
    # ulps of the value, or of 1 for values below 1 (differences of O(1) terms, as in gelu's slope)
    spacing = np.spacing(np.maximum(np.abs(reference[finite]), reference.dtype.type(1)))
    assert (np.abs(reference[finite] - fast[finite]) <= ulps * spacing).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("size", [1, 7, 70001])
@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_matches_the_reference(dtype, size, strided):
    x = data(dtype, size, special=size > 7, strided=strided)
    reference, fast = both(E.erf, x)
    if dtype == np.float32:
        assert_bit_identical(reference, fast)  # the same rational, in the same order
    else:
        assert_ulps(reference, fast, 4)  # Cody's against libm's erf (3 ulp apart near 0.47)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_forward_slope_and_backward_match_the_reference(dtype, approximate):
    x = data(dtype, 70007, strided=True).reshape(-1, 7)
    v = data(dtype, 70007, special=False).reshape(x.shape)
    (out, gate), (fast_out, fast_gate) = both(E.gelu_forward, x, approximate)
    assert_ulps(gate, fast_gate, ULPS[dtype])
    assert_ulps(out, fast_out, ULPS[dtype])
    slope, fast_slope = both(E.gelu_slope, x, gate, approximate)
    assert_ulps(slope, fast_slope, ULPS[dtype])
    grad, fast_grad = both(E.gelu_backward, v, x, gate, approximate)
    assert_ulps(grad, fast_grad, ULPS[dtype])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("exponent", E.SMALL_POWERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_small_powers_match_the_reference_bit_for_bit_and_torch(dtype, exponent):
    x = data(dtype, strided=True)
    reference, fast = both(E.power, x, exponent)
    assert_bit_identical(reference, fast)
    expected = (torch.from_numpy(np.ascontiguousarray(x)) ** exponent).numpy()
    if exponent in (4, 0.5):  # PyTorch: pow for 4, a vectorized sqrt 1 ulp off sqrt's rounding on 0.3%
        assert_ulps(expected, reference, 2)
    else:  # the same bits (NaN's sign aside: PyTorch's sqrt(-1) is -NaN)
        np.testing.assert_array_equal(expected, reference)
        assert (np.signbit(expected) == np.signbit(reference))[~np.isnan(expected)].all()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_gelu_values_and_gradients_match_torch(engine, approximate):
    ember.kernels.use(engine)
    try:
        x = data(np.float32, 1001, special=False)
        xe = ember.tensor(x, requires_grad=True)
        ember.nn.functional.gelu(xe, approximate=approximate).sum().backward()
        xt = torch.tensor(x, requires_grad=True)
        torch.nn.functional.gelu(xt, approximate=approximate).sum().backward()
        np.testing.assert_allclose(ember.nn.functional.gelu(ember.tensor(x), approximate=approximate).numpy(),
                                   torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).numpy(),
                                   rtol=1e-6, atol=1e-6)
        # (1 - tanh^2) cancels in float32 for x << 0 (both frameworks): a few 1e-6 apart there
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=3e-6)
        x64 = ember.tensor(data(np.float64, 9, special=False), requires_grad=True)
        assert ember.autograd.gradcheck(lambda t: ember.nn.functional.gelu(t, approximate=approximate), (x64,))
        assert ember.autograd.gradcheck(lambda t: t ** 3 + t ** -2 + (t * t + 1.0) ** 0.5, (x64,))
    finally:
        ember.kernels.use("numba")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(E, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
