"""Convolution primitives: PyTorch agreement on random geometries, gradients of every order, errors."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.conv import conv, conv_transpose, fold, unfold


def t(array, requires_grad=True):
    return ember.tensor(np.asarray(array), requires_grad=requires_grad)


def random_geometry(rng, d, transposed=False):
    """A valid random convolution: groups, stride, padding, dilation and sizes all drawn."""
    groups = int(rng.choice([1, 1, 2, 3]))
    per_in, per_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 4, d))
    stride = tuple(int(s) for s in rng.integers(1, 4, d))
    dilation = tuple(int(s) for s in rng.integers(1, 3, d))
    padding = tuple(int(rng.integers(0, k + 1)) for k in kernel)
    extent = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    size = tuple(int(max(e - 2 * p, 1) + rng.integers(0, 5)) for e, p in zip(extent, padding))
    n = int(rng.integers(1, 3))
    out = dict(groups=groups, stride=stride, padding=padding, dilation=dilation)
    if transposed:
        out["output_padding"] = tuple(int(rng.integers(0, max(s, dl))) for s, dl in zip(stride, dilation))
        # Enough input positions for a positive output size.
        size = tuple(1 + -(-max(0, 2 * p - e + 1) // s) + int(rng.integers(0, 3))
                     for p, e, s in zip(padding, extent, stride))
        x = rng.standard_normal((n, per_in * groups) + size)
        w = rng.standard_normal((per_in * groups, per_out) + kernel)
        b = rng.standard_normal(per_out * groups)
    else:
        x = rng.standard_normal((n, per_in * groups) + size)
        w = rng.standard_normal((per_out * groups, per_in) + kernel)
        b = rng.standard_normal(per_out * groups)
    return x, w, b, out


def torch_conv(torch, d, transposed=False):
    F = torch.nn.functional
    if transposed:
        return {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]


def compare_with_torch(torch, fn, torch_fn, x, w, b, kwargs, dtype):
    xe, we, be = (t(a.astype(dtype)) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b))
    y = fn(xe, we, be, **kwargs)
    yt = torch_fn(xt, wt, bt, **kwargs)
    def close(mine, theirs):
        # float32 sums over thousands of terms: tolerate rounding relative to the largest value.
        scale = np.abs(theirs).max() if dtype == "float32" else 1.0
        rtol = 1e-4 if dtype == "float32" else 1e-10
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=rtol * scale)

    close(y.numpy(), yt.detach().numpy())
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for mine, theirs in ((xe, xt), (we, wt), (be, bt)):
        close(mine.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("seed", range(12))
def test_conv_matches_torch_on_random_geometries(d, seed):
    torch = pytest.importorskip("torch")
    x, w, b, kwargs = random_geometry(np.random.default_rng(seed * 10 + d), d)
    compare_with_torch(torch, conv, torch_conv(torch, d), x, w, b, kwargs, "float64")


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("seed", range(12))
def test_conv_transpose_matches_torch_on_random_geometries(d, seed):
    torch = pytest.importorskip("torch")
    x, w, b, kwargs = random_geometry(np.random.default_rng(seed * 10 + d + 5), d, transposed=True)
    compare_with_torch(torch, conv_transpose, torch_conv(torch, d, True), x, w, b, kwargs, "float64")


@pytest.mark.parametrize("shape,weight,kwargs", [
    ((32, 3, 32, 32), (32, 3, 3, 3), dict(padding=1)),      # W3's first layer (channels-first im2col)
    ((32, 32, 32, 32), (32, 32, 3, 3), dict()),              # W3's second (channels-last im2col)
    ((64, 1, 32, 32), (6, 1, 5, 5), dict()),                 # LeNet's first
    ((4, 8, 9, 9), (8, 1, 3, 3), dict(groups=8, stride=2)),  # depthwise, strided (col2im backward)
])
def test_conv_float32_at_network_shapes(shape, weight, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(weight) * 0.1, rng.standard_normal(weight[0])
    compare_with_torch(torch, conv, torch.nn.functional.conv2d, x, w, b, kwargs, "float32")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kernel,dilation", [(3, 1), (4, 1), (2, 3), ((2, 5), (2, 1))])
def test_same_padding_matches_torch_including_even_kernels(kernel, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    x, w, b = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3) + k), rng.standard_normal(4)
    kwargs = dict(padding="same", dilation=dilation)
    compare_with_torch(torch, conv, torch.nn.functional.conv2d, x, w, b, kwargs, "float64")
    y = conv(t(x), t(w), padding="valid")
    assert y.shape == torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding="valid").shape


def test_unbatched_input_matches_batched():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3))
    single = conv(t(x), t(w), padding=1)
    batched = conv(t(x[None]), t(w), padding=1)
    assert single.shape == (2, 6, 6)
    np.testing.assert_allclose(single.numpy(), batched.numpy()[0])
    back = conv_transpose(single, t(w), padding=1)
    assert back.shape == (3, 6, 6)


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1),
    dict(dilation=2, groups=2),
    dict(stride=(1, 2), padding=(0, 1), groups=2),
])
def test_conv_gradcheck_first_and_second_order(kwargs):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((2, 4 // kwargs.get("groups", 1), 2, 2)), \
        rng.standard_normal(2)
    f = lambda x, w, b: conv(x, w, b, **kwargs)
    assert gradcheck(f, (t(x), t(w), t(b)))
    assert gradgradcheck(f, (t(x[:1]), t(w), t(b)))


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_conv_gradients_and_torch(multiplier):
    rng = np.random.default_rng(multiplier)
    x, w, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((3 * multiplier, 1, 3, 2)), \
        rng.standard_normal(3 * multiplier)
    f = lambda x, w, b: conv(x, w, b, stride=(2, 1), padding=1, groups=3)
    assert gradcheck(f, (t(x), t(w), t(b)))
    assert gradgradcheck(f, (t(x[:1, :, :3, :3]), t(w), t(b)))
    torch = pytest.importorskip("torch")
    compare_with_torch(torch, conv, torch.nn.functional.conv2d, x, w, b,
                       dict(stride=(2, 1), padding=1, groups=3), "float64")


@pytest.mark.parametrize("d", [1, 3])
def test_conv_gradcheck_in_1d_and_3d(d):
    rng = np.random.default_rng(d)
    x, w, b = rng.standard_normal((1, 2) + (4,) * d), rng.standard_normal((3, 2) + (2,) * d), rng.standard_normal(3)
    assert gradcheck(lambda x, w, b: conv(x, w, b, stride=2, padding=1), (t(x), t(w), t(b)))


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1, output_padding=1),
                                    dict(dilation=2, groups=2, output_padding=1)])
def test_conv_transpose_gradcheck_first_and_second_order(kwargs):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((1, 4, 3, 3)), rng.standard_normal((4, 1, 2, 3)), rng.standard_normal(kwargs.get("groups", 1))
    f = lambda x, w, b: conv_transpose(x, w, b, **kwargs)
    assert gradcheck(f, (t(x), t(w), t(b)))
    assert gradgradcheck(f, (t(x), t(w), t(b)))


def test_double_backward_matches_torch():
    """d/dw of |d loss/dx|^2: exercises the vjps of ConvTranspose and ConvWeightGrad."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    xe, we = t(x), t(w)
    (gx,) = ember.autograd.grad(conv(xe, we, stride=2, padding=1).tanh().sum(), [xe], create_graph=True)
    (gx * gx).sum().backward()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (gxt,) = torch.autograd.grad(torch.nn.functional.conv2d(xt, wt, stride=2, padding=1).tanh().sum(), xt,
                                 create_graph=True)
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-9)


def test_frozen_weight_still_gives_input_gradient():
    rng = np.random.default_rng(0)
    x, w = t(rng.standard_normal((1, 2, 5, 5))), t(rng.standard_normal((3, 2, 3, 3)), requires_grad=False)
    conv(x, w).sum().backward()
    assert x.grad.shape == x.shape and w.grad is None


def test_output_is_channels_last_in_memory_but_shaped_nchw():
    y = conv(ember.randn(2, 3, 8, 8), ember.randn(5, 3, 3, 3))
    assert y.shape == (2, 5, 6, 6)
    assert np.moveaxis(y.numpy(), 1, -1).flags.c_contiguous


def test_float32_stays_float32():
    y = conv(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3), ember.zeros(3))
    assert y.dtype == np.float32


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call,message", [
    (lambda: conv(ember.zeros(1, 4, 8, 8), ember.zeros(6, 3, 3, 3)), r"conv: expected input with 3 channels.*\(6, 3, 3, 3\).*\(1, 4, 8, 8\)"),
    (lambda: conv(ember.zeros(1, 3, 2, 2), ember.zeros(6, 3, 3, 3)), r"kernel size \(3, 3\) is larger than the padded input \(2, 2\)"),
    (lambda: conv(ember.zeros(1, 3, 4, 4), ember.zeros(6, 3, 3, 3), dilation=2), r"dilated to \(5, 5\)"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3), stride=0), r"stride must be positive, got \(0, 0\)"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3), stride=(1, -1)), r"stride must be positive"),
    (lambda: conv(ember.zeros(3, 8), ember.zeros(6, 3, 3, 3)), r"expected a 4-D input \(N, C, H, W\).*got shape \(3, 8\)"),
    (lambda: conv(ember.zeros(1, 4, 8, 8), ember.zeros(6, 2, 3, 3), groups=4), r"6 output channels are not divisible by groups=4"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3), stride=2, padding="same"), r"padding='same' needs stride 1"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3), padding=-1), r"padding must be non-negative"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3), ember.zeros(5)), r"bias of shape \(6,\), got \(5,\)"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3, 3, 3, dtype="float64")), r"dtype float32 and weight dtype float64"),
    (lambda: conv(ember.zeros(1, 3, 8, 8), ember.zeros(6, 3)), r"weight must be"),
    (lambda: conv_transpose(ember.zeros(1, 3, 4, 4), ember.zeros(4, 2, 3, 3)), r"conv_transpose: expected input with 4 channels"),
    (lambda: conv_transpose(ember.zeros(1, 4, 4, 4), ember.zeros(4, 2, 3, 3), stride=2, output_padding=2), r"output_padding \(2, 2\) must be smaller"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_error_uses_the_callers_name():
    with pytest.raises(ValueError, match=r"^Conv2d: expected input with 3 channels"):
        conv(ember.zeros(1, 4, 8, 8), ember.zeros(6, 3, 3, 3), op="Conv2d")


# ------------------------------------------------------------------ unfold / fold
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1,
                                                               stride=(2, 1))])
def test_unfold_fold_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    cols = unfold(t(x), **kwargs)
    expected = torch.nn.functional.unfold(torch.tensor(x), **kwargs)
    np.testing.assert_allclose(cols.numpy(), expected.numpy())
    back = fold(cols, (7, 8), **kwargs)
    np.testing.assert_allclose(back.numpy(), torch.nn.functional.fold(expected, (7, 8), **kwargs).numpy())


def test_unfold_and_fold_gradcheck():
    x = t(np.random.default_rng(0).standard_normal((1, 2, 4, 4)))
    assert gradcheck(lambda x: unfold(x, 2, padding=1, stride=2), (x,))
    cols = t(np.random.default_rng(1).standard_normal((1, 8, 9)))
    assert gradcheck(lambda c: fold(c, (4, 4), 2, padding=1, stride=2), (cols,))


def test_fold_rejects_wrong_block_count():
    with pytest.raises(ValueError, match=r"fold: expected input \(N, C \* 4, 9\)"):
        fold(ember.zeros(1, 8, 5), (4, 4), 2, padding=1, stride=2)
