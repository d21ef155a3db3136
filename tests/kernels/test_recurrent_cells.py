"""Recurrent step kernels: the fused numba passes against the NumPy references, bit for bit.

The numba forwards keep NumPy's tanh between their passes and compute the same
``0.5 * tanh(x / 2) + 0.5`` sigmoid, so every output, and every gate left in the
buffers, has the reference's bits; the layers built on them too.
"""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both

import ember
from ember.kernels import recurrent as K
from ember.ops.recurrent import gru_scan, lstm_scan, rnn_scan

EVERY = frozenset({"lstm_step", "lstm_step_back", "gru_step", "gru_step_back", "rnn_step", "rnn_step_back"})
SHAPES = [(1, 1), (3, 5), (7, 33)]  # (B, H): odd sizes, a single element


@pytest.fixture(autouse=True)
def every_recurrent_kernel(monkeypatch):
    monkeypatch.setattr(K, "NUMBA_KERNELS", EVERY)


def _gate_major(rng, G, B, H, dtype, strided):
    """A ``(G, B, H)`` array: C-contiguous, or step 1 of a ``(G, T, B, H)`` array (the layer's view)."""
    if strided:
        return (rng.standard_normal((G, 3, B, H)) * 2).astype(dtype)[:, 1]
    return (rng.standard_normal((G, B, H)) * 2).astype(dtype)


def _copy(a):
    """A copy in the same kind of layout: C-contiguous, or strided."""
    if a.flags.c_contiguous:
        return a.copy()
    out = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)[..., ::2]
    out[...] = a
    return out


def _run(function, *arrays):
    """``function`` on copies of ``arrays``; returns its outputs and the (in-place updated) copies."""
    copies = [_copy(a) if isinstance(a, np.ndarray) else a for a in arrays]
    out = function(*copies)
    out = out if isinstance(out, tuple) else (out,)
    return [o for o in out if o is not None] + [c for c in copies if isinstance(c, np.ndarray)]


def _compare(function, *arrays):
    reference, fast = both(_run, function, *arrays)
    assert len(reference) == len(fast)
    for r, f in zip(reference, fast):
        assert_bit_identical(r, f)


def _with_specials(a):
    flat = a.reshape(-1)  # a copy for a strided view: the specials then go into the copy
    if flat.size > 6:
        flat[1], flat[3], flat[5] = np.nan, -0.0, 40.0  # NaN, a signed zero, a saturating gate
    return flat.reshape(a.shape)


@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_step_and_back_match_the_reference(dtype, shape, strided):
    rng = np.random.default_rng(1)
    B, H = shape
    a = _with_specials(_gate_major(rng, 4, B, H, dtype, False))
    p = _gate_major(rng, 4, B, H, dtype, strided)
    c = rng.standard_normal((B, H)).astype(dtype)
    _compare(K.lstm_step, a, p, c, np.zeros((B, H), dtype))
    gates = (np.tanh(a) + 1) / 2  # NaN, a signed zero and a saturated gate among them
    dh, dc = (rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    dgh = np.zeros((4, 2, B, H), dtype)[:, 1]  # the backward writes into a step of (G, T, B, H)
    _compare(K.lstm_step_back, dh, dc, gates, np.tanh(c), c, dgh)


@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_step_and_back_match_the_reference(dtype, shape, strided):
    rng = np.random.default_rng(2)
    B, H = shape
    a = np.zeros((3, B, H), dtype)
    p = _gate_major(rng, 3, B, H, dtype, strided)
    gh = _with_specials(_gate_major(rng, 3, B, H, dtype, False))
    b_hh = rng.standard_normal((3, 1, H)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    _compare(K.gru_step, a, p, gh, b_hh, h, np.zeros((B, H), dtype))
    gates = np.tanh(_gate_major(rng, 3, B, H, dtype, False))
    dh = rng.standard_normal((B, H)).astype(dtype)
    dx, dgh = np.zeros((3, 2, B, H), dtype)[:, 0], np.zeros((3, 2, B, H), dtype)[:, 1]
    _compare(K.gru_step_back, dh, gates, h, h * 0.5, dx, dgh)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_step_and_back_match_the_reference(dtype, shape, nonlinearity):
    rng = np.random.default_rng(3)
    B, H = shape
    a = _with_specials(_gate_major(rng, 1, B, H, dtype, False))
    p = _gate_major(rng, 1, B, H, dtype, True)
    _compare(K.rnn_step, a, p, nonlinearity)
    y = _with_specials(np.tanh(rng.standard_normal((B, H))).astype(dtype))
    y[0, 0] = 0.0  # relu's boundary: no gradient at 0
    dh = _with_specials(rng.standard_normal((B, H)).astype(dtype))
    _compare(K.rnn_step_back, dh, y, np.zeros((2, B, H), dtype)[1], nonlinearity)


def test_the_relu_step_clamps_to_positive_zero_and_keeps_nan():
    a = np.array([[[-3.0, -0.0, np.nan, 2.0]]], np.float32)
    out = K.rnn_step(a, np.full_like(a, -0.0), "relu")  # -0.0 + -0.0 stays -0.0 before the clamp
    assert out[0, :2].tolist() == [0.0, 0.0] and not np.signbit(out[0, :2]).any()
    assert np.isnan(out[0, 2]) and out[0, 3] == 2.0


def test_the_lstm_step_gives_the_cell_equations():
    rng = np.random.default_rng(4)
    a, p, c = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5)), rng.standard_normal((3, 5))
    pre = a + p
    sig = 1.0 / (1.0 + np.exp(-pre))
    c_expected = sig[1] * c + sig[0] * np.tanh(pre[2])
    h, c_new = K.lstm_step(a, p, c, np.empty((3, 5)))
    np.testing.assert_allclose(c_new, c_expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h, sig[3] * np.tanh(c_expected), rtol=1e-13, atol=1e-15)


def test_mixed_dtypes_take_the_reference():
    dh = np.ones((2, 3), np.float64)
    y = np.full((2, 3), 0.5, np.float32)
    dgh = np.empty((2, 3), np.float64)
    K.rnn_step_back(dh, y, dgh, "tanh")
    np.testing.assert_array_equal(dgh, 0.75)


def _layer_run(kind, dtype, batch_first):
    rng = np.random.default_rng(5)
    T, B, I, H = 6, 3, 4, 5
    G = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    x = ember.tensor(rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype), requires_grad=True)
    w_ih = ember.tensor((rng.standard_normal((G * H, I)) * 0.5).astype(dtype), requires_grad=True)
    w_hh = ember.tensor((rng.standard_normal((G * H, H)) * 0.5).astype(dtype), requires_grad=True)
    b = ember.tensor(rng.standard_normal(G * H).astype(dtype), requires_grad=True)
    h0 = ember.tensor(rng.standard_normal((B, H)).astype(dtype), requires_grad=True)
    mask = np.ones((T, B), bool)
    mask[4:, 1] = False
    if kind == "lstm":
        outs = lstm_scan(x, w_ih, w_hh, b, h0, h0 * 0.5, mask=mask, batch_first=batch_first)
    elif kind == "gru":
        outs = gru_scan(x, w_ih, w_hh, b, b * 0.5, h0, mask=mask, batch_first=batch_first)
    else:
        outs = rnn_scan(x, w_ih, w_hh, b, h0, "relu", mask=mask, batch_first=batch_first)
    loss = sum((o * o).sum() for o in outs)
    grads = ember.autograd.grad(loss, [x, w_ih, w_hh, b, h0])
    return [o.numpy() for o in outs] + [g.numpy() for g in grads]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_whole_layers_give_the_same_bits_under_both_engines(kind, dtype, batch_first):
    reference, fast = both(_layer_run, kind, dtype, batch_first)
    for r, f in zip(reference, fast):
        assert_bit_identical(r, f)
