"""Max and average pooling primitives: PyTorch agreement, gradients, ties, NaN, no add.at, errors."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.pool import avg_pool, max_pool


def t(array, requires_grad=True):
    return ember.tensor(np.asarray(array), requires_grad=requires_grad)


def random_pool(rng, d, with_dilation=True):
    kernel = tuple(int(k) for k in rng.integers(1, 4, d))
    stride = tuple(int(s) for s in rng.integers(1, 4, d))
    dilation = tuple(int(s) for s in rng.integers(1, 3, d)) if with_dilation else (1,) * d
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    size = tuple(dl * (k - 1) + 1 + int(rng.integers(0, 5)) for k, dl in zip(kernel, dilation))
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=bool(rng.integers(0, 2)))
    if with_dilation:
        kwargs["dilation"] = dilation
    return rng.standard_normal((2, 3) + size), kwargs


def torch_pool(torch, kind, d):
    F = torch.nn.functional
    return getattr(F, f"{kind}_pool{d}d")


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("seed", range(10))
def test_max_pool_matches_torch_with_indices_and_gradient(d, seed):
    torch = pytest.importorskip("torch")
    x, kwargs = random_pool(np.random.default_rng(seed * 7 + d), d)
    xe, xt = t(x), torch.tensor(x, requires_grad=True)
    y, i = max_pool(xe, return_indices=True, d=d, **kwargs)
    yt, it = torch_pool(torch, "max", d)(xt, return_indices=True, **kwargs)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("seed", range(10))
def test_avg_pool_matches_torch(d, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed * 5 + d)
    x, kwargs = random_pool(rng, d, with_dilation=False)
    kwargs["count_include_pad"] = bool(rng.integers(0, 2))
    if d > 1 and seed % 4 == 0:
        kwargs["divisor_override"] = 3
    xe, xt = t(x), torch.tensor(x, requires_grad=True)
    y = avg_pool(xe, d=d, **kwargs)
    yt = torch_pool(torch, "avg", d)(xt, **kwargs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                    dict(kernel_size=(2, 3), stride=1, dilation=(2, 1))])
def test_max_pool_gradients_of_first_and_second_order(kwargs):
    # Distinct values keep finite differences away from ties.
    x = t(np.random.default_rng(0).permutation(50).reshape(1, 2, 5, 5) * 0.1)
    assert gradcheck(lambda x: max_pool(x, d=2, **kwargs), (x,))
    assert gradgradcheck(lambda x: max_pool(x, d=2, **kwargs), (x,))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                               count_include_pad=False)])
def test_avg_pool_gradients_of_first_and_second_order(kwargs):
    x = t(np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    assert gradcheck(lambda x: avg_pool(x, d=2, **kwargs), (x,))
    assert gradgradcheck(lambda x: avg_pool(x, d=2, **kwargs), (x,))


def test_ties_send_the_gradient_to_the_first_maximum_like_torch():
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, 4, 4))  # all tied, as after a ReLU
    xe, xt = t(x), torch.tensor(x, requires_grad=True)
    max_pool(xe, 3, stride=1, d=2).sum().backward()
    torch.nn.functional.max_pool2d(xt, 3, stride=1).sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
    assert xe.grad.numpy().sum() == 4  # each of the 4 windows sends exactly one unit


def test_nan_propagates_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[1.0, np.nan, 3.0, 2.0, 0.0, 7.0]]])
    y, i = max_pool(t(x, False), 3, return_indices=True, d=1)
    yt, it = torch.nn.functional.max_pool1d(torch.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())


def test_max_pool_backward_does_not_use_add_at(monkeypatch):
    x = t(np.random.default_rng(0).standard_normal((2, 3, 9, 9)))
    y = max_pool(x, 3, stride=2, padding=1, d=2)  # overlapping windows

    def forbidden(*args, **kwargs):
        raise AssertionError("np.add.at on the max-pool backward path")

    monkeypatch.setattr(np, "add", _NoAt(np.add, forbidden))
    y.sum().backward()
    assert x.grad.shape == x.shape


class _NoAt:
    """np.add with its ``.at`` method replaced."""

    def __init__(self, ufunc, at):
        self._ufunc, self.at = ufunc, at

    def __call__(self, *args, **kwargs):
        return self._ufunc(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ufunc, name)


def test_jvp_of_max_pool_picks_the_maxima_tangents():
    x = t(np.array([[[1.0, 4.0, 2.0, 3.0]]]), False)
    tangent = ember.tensor(np.array([[[10.0, 20.0, 30.0, 40.0]]]))
    _, out = ember.jvp(lambda x: max_pool(x, 2, d=1), (x,), (tangent,))
    np.testing.assert_array_equal(out.numpy(), [[[20.0, 40.0]]])


def test_pooling_keeps_channels_last_memory():
    from ember.ops.conv import conv

    y = conv(ember.randn(2, 3, 10, 10), ember.randn(8, 3, 3, 3))
    pooled = max_pool(y, 2, d=2)
    assert np.moveaxis(pooled.numpy(), 1, -1).flags.c_contiguous


def test_unbatched_pooling():
    y = max_pool(ember.randn(3, 8, 8), 2, d=2)
    assert y.shape == (3, 4, 4)
    assert avg_pool(ember.randn(3, 8), 2, d=1).shape == (3, 4)


@pytest.mark.parametrize("call,message", [
    (lambda: max_pool(ember.zeros(1, 1, 4, 4), 3, padding=2, d=2), r"max_pool: padding \(2, 2\) must be at most half"),
    (lambda: max_pool(ember.zeros(1, 1, 2, 2), 3, d=2), r"kernel size \(3, 3\).*larger than the padded input.*\(2, 2\)"),
    (lambda: max_pool(ember.zeros(1, 1, 4, 4), 2, stride=0, d=2), r"stride must be positive, got \(0, 0\)"),
    (lambda: max_pool(ember.zeros(4, 4), 2, d=2, op="MaxPool2d"), r"MaxPool2d: expected a 4-D input.*got shape \(4, 4\)"),
    (lambda: avg_pool(ember.zeros(1, 1, 4, 4), 2, d=2, divisor_override=0), r"divisor_override must not be zero"),
    (lambda: avg_pool(ember.zeros(1, 1, 4), (2, 2), d=1), r"kernel_size must have 1 values"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
