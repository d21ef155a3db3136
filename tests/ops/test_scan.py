"""cumprod, cummax, cummin, logcumsumexp against PyTorch, with zeros, ties, NaN and infinities."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.scan import cummax, cummin, cumprod, logcumsumexp

NAN, INF = float("nan"), float("inf")
WITH_ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, -3.0, 4.0, 0.5], [0.0, 1.5, 2.0, 3.0, 1.0]])


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def grads(ember_fn, torch_fn, x, g):
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ember_fn(e).backward(ember.tensor(g))
    torch_fn(t).backward(torch.tensor(g))
    return e.grad.numpy(), t.grad.numpy()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_values_and_gradient_with_zeros_match_torch(dim):
    g = data(*WITH_ZEROS.shape, seed=1)
    np.testing.assert_allclose(cumprod(ember.tensor(WITH_ZEROS), dim).numpy(),
                               torch.cumprod(torch.tensor(WITH_ZEROS), dim).numpy())
    mine, theirs = grads(lambda v: cumprod(v, dim), lambda v: torch.cumprod(v, dim), WITH_ZEROS, g)
    np.testing.assert_allclose(mine, theirs, atol=1e-12)
    assert gradcheck(lambda v: cumprod(v, dim), (ember.tensor(WITH_ZEROS, requires_grad=True),))


def test_cumprod_second_order_and_dtypes():
    assert gradgradcheck(lambda v: cumprod(v, 1), (ember.tensor(data(3, 4), requires_grad=True),))
    assert cumprod(ember.tensor([1, 2, 3], dtype="int32"), 0).dtype == np.int64
    assert cumprod(ember.tensor([True, True]), 0).dtype == np.int64
    assert cumprod(ember.tensor([1, 2]), 0, dtype="float64").dtype == np.float64
    assert cumprod(ember.tensor(3.0), 0).item() == 3.0
    x = data(4, 3)
    np.testing.assert_allclose(cumprod(ember.tensor(x).T, 1).numpy(), torch.cumprod(torch.tensor(x).T, 1).numpy())
    with pytest.raises((IndexError, ValueError), match="out of range"):
        cumprod(ember.ones(2), 1)
    with pytest.raises(TypeError, match="missing the dim"):
        cumprod(ember.ones(2))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_running_extrema_match_torch_ties_and_nan(op):
    mine, theirs = {"cummax": cummax, "cummin": cummin}[op], getattr(torch, op)
    for values in ([1, 3, 3, 2, 5, 5], [3, 1, 1, 2, 0, 0], [1.0, NAN, 3.0, NAN, 2.0], [2.0, -INF, INF, 1.0]):
        ev, ei = mine(ember.tensor(values), 0)
        tv, ti = theirs(torch.tensor(values), 0)
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    x = np.round(data(4, 6) * 2) / 2  # ties
    g = data(4, 6, seed=3)
    for dim in (0, 1):
        ev, ei = mine(ember.tensor(x), dim)
        tv, ti = theirs(torch.tensor(x), dim)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        a, b = grads(lambda v: mine(v, dim).values, lambda v: theirs(v, dim).values, x, g)
        np.testing.assert_allclose(a, b)
    assert gradcheck(lambda v: mine(v, 1).values, (ember.tensor(data(3, 4), requires_grad=True),))
    assert mine(ember.tensor(3.0), 0).indices.item() == 0
    assert mine(ember.zeros(0), 0).values.shape == (0,)


def test_logcumsumexp_is_stable_and_matches_torch():
    for values in ([-1000.0, 0.0, -INF], [-INF, -INF, 1.0], [INF, 1.0, INF], [1e4, 1e4, -1e4]):
        np.testing.assert_allclose(logcumsumexp(ember.tensor(values, dtype="float64"), 0).numpy(),
                                   torch.logcumsumexp(torch.tensor(values, dtype=torch.float64), 0).numpy())
    x = np.array([-1000.0, 0.0, 5.0, -3.0, 1000.0])
    g = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    a, b = grads(lambda v: logcumsumexp(v, 0), lambda v: torch.logcumsumexp(v, 0), x, g)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    y = data(3, 4) * 3
    assert gradcheck(lambda v: logcumsumexp(v, 1), (ember.tensor(y, requires_grad=True),))
    assert gradgradcheck(lambda v: logcumsumexp(v, 0), (ember.tensor(y * 30, requires_grad=True),))
    out = logcumsumexp(ember.tensor(data(2, 3), dtype="float32"), -1)
    assert out.dtype == np.float32
    with pytest.raises(TypeError, match="logcumsumexp: expected a floating-point tensor, got int64"):
        logcumsumexp(ember.tensor([1, 2]), 0)
