"""sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, searchsorted against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.sorting import (argsort, kthvalue, median, mode, msort, nanmedian, searchsorted, sort,
                               topk)

NAN = float("nan")


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def same(ember_tensor, torch_tensor):
    np.testing.assert_array_equal(ember_tensor.numpy(), torch_tensor.detach().numpy())


@pytest.mark.parametrize("dim", [0, 1, -1, -3])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_torch_values_indices_and_gradient(dim, descending):
    x = data(3, 4, 5)
    g = data(3, 4, 5, seed=1)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ev, ei = sort(e, dim, descending)
    tv, ti = torch.sort(t, dim, descending)
    same(ev, tv)
    same(ei, ti)
    assert ei.dtype == np.int64
    ev.backward(ember.tensor(g))
    tv.backward(torch.tensor(g))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


def test_sort_is_stable_both_ways_and_puts_nan_as_largest():
    ties = [1, 0, 1, 0, 1, 2, 0]
    for descending in (False, True):
        ev, ei = sort(ember.tensor(ties), descending=descending)
        tv, ti = torch.sort(torch.tensor(ties), descending=descending, stable=True)
        same(ev, tv)
        same(ei, ti)
    x = [3.0, NAN, 1.0, NAN, 2.0]
    for descending in (False, True):
        same(sort(ember.tensor(x), descending=descending).indices,
             torch.sort(torch.tensor(x), descending=descending, stable=True).indices)
    for dtype in ("uint8", "bool"):
        values = np.array([2, 0, 1, 0], dtype=dtype)
        same(argsort(ember.tensor(values), descending=True),
             torch.argsort(torch.tensor(values), descending=True, stable=True))


def test_sort_named_tuple_non_contiguous_0d_and_empty():
    result = sort(ember.tensor([2, 1]))
    assert result.values.tolist() == [1, 2] and result[1].tolist() == [1, 0]
    x = data(4, 3)
    same(sort(ember.tensor(x.T), 0).values, torch.sort(torch.tensor(x.T), 0).values)
    v, i = sort(ember.tensor(3.0))
    assert v.shape == () and i.item() == 0
    v, i = sort(ember.zeros(0, 3), 0)
    assert v.shape == (0, 3) and i.dtype == np.int64
    assert msort(ember.tensor([[3, 1], [1, 2]])).tolist() == [[1, 1], [3, 2]]


def test_sort_gradcheck_and_second_order():
    x = ember.tensor(data(3, 4), requires_grad=True)
    assert gradcheck(lambda v: sort(v, 1, True).values, (x,))
    assert gradgradcheck(lambda v: sort(v, 0).values, (x,))


def test_bad_dim_is_an_error():
    with pytest.raises((IndexError, ValueError), match="out of range"):
        sort(ember.ones(2), 1)
    with pytest.raises((IndexError, ValueError), match="out of range"):
        topk(ember.ones(2, 2), 1, dim=2)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, -1])
def test_topk_matches_torch(largest, dim):
    x = data(6, 5)
    g = data(3, 5, seed=2) if dim == 0 else data(6, 3, seed=2)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ev, ei = topk(e, 3, dim, largest)
    tv, ti = torch.topk(t, 3, dim, largest)
    same(ev, tv)
    same(ei, ti)
    ev.backward(ember.tensor(g))
    tv.backward(torch.tensor(g))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())
    assert gradcheck(lambda v: topk(v, 2, dim, largest).values, (ember.tensor(x, requires_grad=True),))


def test_topk_edges_and_errors():
    x = [3.0, NAN, 1.0, 2.0]
    for largest in (True, False):
        same(topk(ember.tensor(x), 2, largest=largest).indices, torch.topk(torch.tensor(x), 2, largest=largest).indices)
    assert topk(ember.zeros(3, 0), 0).values.shape == (3, 0)
    assert topk(ember.zeros(0, 3), 2).indices.shape == (0, 2)
    with pytest.raises(ValueError, match=r"topk: k=3 is out of range for dimension -1 of size 2"):
        topk(ember.ones(2), 3)
    with pytest.raises(ValueError, match="topk: k=-1"):
        topk(ember.ones(2), -1)


@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_matches_torch(keepdim):
    x = data(4, 7)
    for k in (1, 4, 7):
        e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ev, ei = kthvalue(e, k, 1, keepdim)
        tv, ti = torch.kthvalue(t, k, 1, keepdim)
        same(ev, tv)
        same(ei, ti)
        ev.sum().backward()
        tv.sum().backward()
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert gradcheck(lambda v: kthvalue(v, 2, 0).values, (ember.tensor(x, requires_grad=True),))
    same(kthvalue(ember.tensor([1.0, NAN, 3.0, 2.0]), 4).indices, torch.kthvalue(torch.tensor([1.0, NAN, 3.0, 2.0]), 4).indices)
    with pytest.raises(ValueError, match="kthvalue: k=3 is out of range for dimension -1 of size 2"):
        kthvalue(ember.ones(2), 3)
    with pytest.raises(ValueError, match="kthvalue: k=0"):
        kthvalue(ember.ones(2), 0)
    assert kthvalue(ember.tensor(3.0), 1).values.item() == 3.0


def test_median_lower_middle_nan_and_even_gradient():
    assert median(ember.tensor([1.0, 2.0, 3.0, 4.0])).item() == 2.0
    assert median(ember.tensor([1, 2, 3, 4])).item() == 2
    assert np.isnan(median(ember.tensor([1.0, NAN, 2.0])).item())
    assert np.isnan(median(ember.zeros(0)).item())
    for values in ([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 2.0, 2.0, 3.0], [3.0, NAN, 1.0, NAN]):
        e, t = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        median(e).backward()
        torch.median(t).backward()
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())
    assert gradcheck(median, (ember.tensor(data(5), requires_grad=True),))


@pytest.mark.parametrize("keepdim", [False, True])
def test_median_with_dim_matches_torch(keepdim):
    x = data(5, 6)
    x[1, 2] = NAN
    x[1, 4] = NAN
    for dim in (0, 1, -1):
        e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ev, ei = median(e, dim, keepdim)
        tv, ti = torch.median(t, dim, keepdim)
        np.testing.assert_array_equal(ev.numpy(), tv.detach().numpy())
        same(ei, ti)
        ev.backward(ember.ones(*ev.shape, dtype="float64"))
        tv.backward(torch.ones(tv.shape, dtype=torch.float64))
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert median(ember.zeros(0, 2), 1).values.shape == (0,)
    with pytest.raises(ValueError, match="median: expected reduction dim 1 to have non-zero size"):
        median(ember.zeros(2, 0), 1)


def test_nanmedian_matches_torch():
    x = [[1.0, NAN, 3.0, NAN, 2.0], [NAN, NAN, NAN, NAN, NAN], [4.0, 1.0, NAN, 2.0, 3.0]]
    ev, ei = nanmedian(ember.tensor(x), 1)
    tv, ti = torch.nanmedian(torch.tensor(x), 1)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    same(ei, ti)
    assert nanmedian(ember.tensor([1.0, NAN, 3.0, 2.0])).item() == 2.0
    assert np.isnan(nanmedian(ember.tensor([NAN, NAN])).item())


def test_mode_matches_torch_tie_rules():
    for values in ([3, 1, 3, 1, 2], [2, 2, 1, 1], [5, 1, 5, 1, 1, 5], [7]):
        ev, ei = mode(ember.tensor(values))
        tv, ti = torch.mode(torch.tensor(values))
        assert (ev.item(), ei.item()) == (tv.item(), ti.item())
    x = np.random.default_rng(3).integers(0, 3, size=(4, 9)).astype(np.float64)
    for dim, keepdim in ((0, False), (1, True)):
        e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ev, ei = mode(e, dim, keepdim)
        tv, ti = torch.mode(t, dim, keepdim)
        same(ev, tv)
        same(ei, ti)
        ev.sum().backward()
        tv.sum().backward()
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    with pytest.raises(ValueError, match="mode: expected reduction dim 0 to have non-zero size"):
        mode(ember.zeros(0), 0)


def test_searchsorted_matches_torch():
    seq = [1, 3, 5]
    for right in (False, True):
        same(searchsorted(ember.tensor(seq), ember.tensor([3, 6, 0, 1]), right=right),
             torch.searchsorted(torch.tensor(seq), torch.tensor([3, 6, 0, 1]), right=right))
    rows = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    same(searchsorted(ember.tensor(rows), ember.tensor([[3.0, 4.0], [6.0, 0.0]]), side="right"),
         torch.searchsorted(torch.tensor(rows), torch.tensor([[3.0, 4.0], [6.0, 0.0]]), side="right"))
    assert searchsorted(ember.tensor([1, 3]), ember.tensor([2]), out_int32=True).dtype == np.int32
    with pytest.raises(ValueError, match="leading dimensions"):
        searchsorted(ember.tensor(rows), ember.tensor([[1.0]]))
