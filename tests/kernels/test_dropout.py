"""Dropout kernels: the fused numba passes against the NumPy reference, and F.dropout unchanged."""
import hashlib

import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both, launch_fixture, run_with

import ember
import ember.functional as F
import ember.nn as nn
from ember.kernels import dropout as K
from ember.ops.dropout import dropout as dropout_op


@pytest.fixture(autouse=True)
def every_dropout_kernel(monkeypatch):
    monkeypatch.setattr(K, "NUMBA_KERNELS", frozenset({"dropout_apply", "dropout_backward"}))


launch = launch_fixture(K)  # each test in the serial and the thread-pool form


def operands(shape, dtype, p, strided=False, seed=0):
    """x with NaN, inf and signed zeros; draws with values exactly at p and one ulp either side."""
    rng = np.random.default_rng(seed)
    wide = shape[:-1] + (2 * shape[-1],) if strided else shape
    x = rng.standard_normal(wide).astype(dtype)
    u = rng.random(wide, dtype=dtype)
    flat_x, flat_u = x.reshape(-1), u.reshape(-1)
    if flat_x.size > 20:
        flat_x[::7], flat_x[1::11], flat_x[2::13], flat_x[3::17] = -0.0, np.nan, np.inf, -np.inf
        at = dtype(p)
        flat_u[4::5], flat_u[5::9] = at, np.nextafter(at, dtype(0))
        flat_u[6::19] = np.nextafter(at, dtype(1))
    if strided:
        x, u = x[..., ::2], u[..., ::2]
    return x, u


@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("shape", [(1,), (0, 3), (7, 3), (35 * 20, 200), (3, 5, 7)])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_apply_and_backward_match_the_reference_bit_for_bit(dtype, p, shape, strided, launch):
    x, u = operands(shape, dtype, p, strided)
    with np.errstate(invalid="ignore"):  # inf * 0 where an infinite element is dropped
        (ref_out, ref_keep), (out, keep) = both(K.dropout_apply, x, u, p)
        assert_bit_identical(ref_out, out)
        np.testing.assert_array_equal(ref_keep, keep)
        assert keep.dtype == np.bool_ and keep.shape == shape
        g = np.random.default_rng(1).standard_normal(shape).astype(dtype)
        assert_bit_identical(*both(K.dropout_backward, g, keep, p))


def test_the_formula_in_each_precision():
    x = np.array([1.0, -2.0, -3.0, np.nan], np.float32)
    at = np.float32(0.7)  # 0.699999988: below 0.7, so a float64 comparison would drop it
    u = np.array([at, np.nextafter(at, np.float32(0)), 0.05, 0.0], np.float32)
    for engine in ("numpy", "numba"):
        out, keep = run_with(engine, K.dropout_apply, x, u, 0.7)
        assert keep.tolist() == [True, False, False, False]  # p compared in float32, as Ember's `rand >= p`
        assert out[0] == np.float32(1 / 0.3)  # the scale rounded to float32
        assert np.signbit(out[1]) and np.signbit(out[2]) and np.isnan(out[3])  # x * 0, not 0
    assert (ember.tensor(u) >= 0.7).tolist() == keep.tolist()


def test_broadcast_draws_and_half_precision_take_the_reference():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    u = np.array([[[0.7], [0.2], [0.9]], [[0.1], [0.6], [0.3]]], np.float32)  # one draw per channel
    out, keep = K.dropout_apply(x, u, 0.5)
    assert keep.shape == (2, 3, 1)
    np.testing.assert_array_equal(out, x * (u >= 0.5) * np.float32(2))
    half, keep16 = K.dropout_apply(x.astype(np.float16), u, 0.5)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(K.dropout_backward(np.ones((2, 3, 2), np.float16), keep16, 0.5),
                                  np.broadcast_to(keep16 * np.float16(2), (2, 3, 2)))


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


# Captured from ember.functional.dropout before the kernels existed (x * (rand >= p) * scale as
# tensor ops): seed 1, x and the output gradient from default_rng(0) and default_rng(1), then
# the next three draws of the generator, which show that the stream is consumed as before.
BEFORE = [
    ("dropout", (7, 13), "float32", 0.5, "f5a54618af0e5a8c", "6ddc002f20f91185", 0.5094958543777466),
    ("dropout", (700, 200), "float32", 0.1, "25d097e8ce43295c", "057e398a47409dd3", 0.9678206443786621),
    ("dropout", (5, 3, 4), "float64", 0.3, "3b507df4c72cecd8", "437ccfaa5b7a1abf", 0.6174188256263733),
    ("dropout2d", (2, 3, 4, 4), "float32", 0.5, "6391fe96671962d7", "5c66ce2735eec9e2", 0.8229436278343201),
    ("dropout1d", (2, 5, 3), "float64", 0.25, "2b4928e95b07e542", "f774ecb75d88748e", 0.8655883073806763),
    ("dropout", (6,), "float16", 0.5, "cbd58343b8aab96d", "a9b5f347b3d95afd", 0.8229436278343201),
    ("dropout", (4, 9), "float32", 1.0, "a2f6a5a8109ee02c", "57fccd07529cf53e", 0.4731886386871338),
]


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("name, shape, dtype, p, out_digest, grad_digest, next_draw", BEFORE,
                         ids=lambda v: str(v))
def test_masks_outputs_and_gradients_are_those_before_the_kernels(engine, name, shape, dtype, p, out_digest,
                                                                   grad_digest, next_draw):
    def run():
        ember.manual_seed(1)
        x = ember.tensor(np.random.default_rng(0).standard_normal(shape)).to(getattr(ember, dtype))
        x.requires_grad_()
        y = getattr(F, name)(x, p=p)
        w = ember.tensor(np.random.default_rng(1).standard_normal(shape)).to(getattr(ember, dtype))
        (y * w).sum().backward()
        return y.numpy(), x.grad.numpy(), ember.rand(3).numpy()[0]

    y, grad, after = run_with(engine, run)
    assert (digest(y), digest(grad)) == (out_digest, grad_digest)
    assert after == np.float32(next_draw)


def test_evaluation_and_p_zero_return_the_input_and_p_one_zeroes():
    x = ember.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert (y.numpy() == 0).all() and (x.grad.numpy() == 0).all()


def test_the_gradient_is_the_scaled_mask_in_both_engines():
    for engine in ("numpy", "numba"):
        x = ember.ones(300, 40, requires_grad=True)
        y = run_with(engine, F.dropout, x, 0.25)
        run_with(engine, y.sum().backward)
        np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # x = 1: both are keep / 0.75
        assert set(np.unique(y.numpy()).tolist()) == {0.0, np.float32(1 / 0.75)}


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_gradcheck_float64_with_a_fixed_mask(engine):
    rng = np.random.default_rng(2)
    u = ember.tensor(rng.random((4, 6)))
    x = ember.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 6)))

    def f(x):
        return dropout_op(x, u, 0.4) * (x * w)  # nonlinear in x, so the second order is not zero

    run_with(engine, ember.autograd.gradcheck, f, [x])
    run_with(engine, ember.autograd.gradgradcheck, f, [x])


def test_forward_mode_tangent_is_the_masked_tangent():
    u = ember.tensor([0.9, 0.1, 0.5, 0.7])
    x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    tangent = ember.tensor([1.0, 1.0, -1.0, 2.0])
    _, jvp = ember.autograd.functional.jvp(lambda t: dropout_op(t, u, 0.5), (x,), (tangent,))
    assert jvp.tolist() == [2.0, 0.0, -2.0, 4.0]


def test_inplace_dropout_still_writes_into_the_input():
    ember.manual_seed(4)
    x = ember.ones(64)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy()).tolist()) == {0.0, 2.0}


def test_channels_last_activations_keep_their_layout_and_values():
    # After a convolution the activation is a channels-last view: no transposing copy, same layout out.
    rng = np.random.default_rng(6)
    x = np.moveaxis(rng.standard_normal((4, 7, 7, 16)).astype(np.float32), -1, 1)
    uniform = np.moveaxis(rng.random((4, 7, 7, 16), dtype=np.float32), -1, 1)
    out, keep = K.dropout_apply(x, uniform, 0.25)
    want_out, want_keep = K.dropout_apply_reference(x, uniform, 0.25)
    assert out.strides == x.strides and keep.shape == x.shape
    assert_bit_identical(want_out, out)
    np.testing.assert_array_equal(want_keep, keep)
    g = np.moveaxis(rng.standard_normal((4, 7, 7, 16)).astype(np.float32), -1, 1)
    back = K.dropout_backward(g, keep, 0.25)
    assert back.strides == g.strides
    assert_bit_identical(K.dropout_backward_reference(g, keep, 0.25), back)
