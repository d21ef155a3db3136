"""Activation backward kernels: the numba pass against the NumPy reference, bit for bit."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both

import ember
from ember.kernels import activation as A

KERNELS = [A.relu_backward, A.tanh_backward, A.sigmoid_backward]


@pytest.fixture(autouse=True)
def every_activation_kernel(monkeypatch):
    monkeypatch.setattr(A, "NUMBA_KERNELS", frozenset({"relu_backward", "tanh_backward", "sigmoid_backward"}))
    monkeypatch.setattr(A, "NUMBA_MIN_ELEMENTS", 1)  # the small shapes run numba too


def pair(dtype, shape, strided=False, seed=3):
    rng = np.random.default_rng(seed)
    wide = shape[:-1] + (2 * shape[-1],) if strided else shape
    g = rng.standard_normal(wide).astype(dtype)
    y = np.tanh(rng.standard_normal(wide)).astype(dtype)
    if strided:
        g, y = g[..., ::2], y[..., ::2]
    flat_g, flat_y = g.reshape(-1) if g.flags.c_contiguous else None, y.reshape(-1) if y.flags.c_contiguous else None
    if flat_y is not None and flat_y.size > 8:
        flat_y[::7] = 0.0
        flat_y[1::11] = -0.0
        flat_y[2::13] = np.nan
        flat_g[3::5] = np.nan
        flat_g[4::9] = -0.0
    return g, y


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("shape", [(1,), (7, 3), (3, 70001)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_numba_matches_the_reference_bit_for_bit(kernel, dtype, shape, strided, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(A, "PARALLEL_MIN_ELEMENTS", 1)
    g, y = pair(dtype, shape, strided)
    reference, fast = both(kernel, g, y)
    assert_bit_identical(reference, fast)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_broadcast_or_mixed_dtype_gradients_take_the_reference(kernel):
    y = np.tanh(np.linspace(-2, 2, 12, dtype=np.float32)).reshape(3, 4)
    g = np.float32(2.0) * np.ones((1, 4), np.float32)  # broadcasts against y: the numba pass needs equal shapes
    np.testing.assert_array_equal(kernel(g, y), getattr(A, kernel.__name__ + "_reference")(g, y))
    assert kernel(g, y).shape == (3, 4)


def test_the_primitives_give_pytorch_gradients_of_every_order():
    torch = pytest.importorskip("torch")
    x = np.linspace(-2.0, 2.0, 9).reshape(3, 3)
    for name in ("relu", "tanh", "sigmoid"):
        ex = ember.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        (eg,) = ember.autograd.grad(getattr(ex, name)().pow(2).sum(), ex, create_graph=True)
        (tg,) = torch.autograd.grad(getattr(tx, name)().pow(2).sum(), tx, create_graph=True)
        np.testing.assert_allclose(eg.numpy(), tg.detach().numpy(), rtol=1e-12)
        (egg,) = ember.autograd.grad(eg.sum(), ex)
        (tgg,) = torch.autograd.grad(tg.sum(), tx)
        np.testing.assert_allclose(egg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.__name__)
def test_channels_last_arrays_run_in_memory_order_and_keep_their_layout(kernel):
    # Convolutions hand back (N, C, H, W) views of channels-last memory: the kernel must neither copy
    # them into C order (a transposing copy cost W10 11 ms a step) nor change the output's layout.
    rng = np.random.default_rng(5)
    g = np.moveaxis(rng.standard_normal((4, 9, 9, 16)).astype(np.float32), -1, 1)
    y = np.moveaxis(np.tanh(rng.standard_normal((4, 9, 9, 16))).astype(np.float32), -1, 1)
    out = kernel(g, y)
    assert out.strides == y.strides
    assert_bit_identical(getattr(A, kernel.__name__ + "_reference")(g, y), out)
    mixed = kernel(np.ascontiguousarray(g), y)  # different layouts: the reference, still right
    assert_bit_identical(getattr(A, kernel.__name__ + "_reference")(np.ascontiguousarray(g), y), mixed)
