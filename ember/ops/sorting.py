"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, searchsorted.

Every op here is split the same way: a non-differentiable primitive finds the
*indices* (an array computation on the backend), and the values are
``gather(input, dim, indices)``. The gradient of the values therefore flows back
to the selected positions through gather's own rule (a scatter-add), exactly as
PyTorch's ``value_selecting_reduction_backward``, and higher-order and
forward-mode derivatives come for free. The one exception is ``median`` without a
dim, which, as in PyTorch, shares its gradient evenly among the elements equal to
the median (its own primitive, :class:`MedianAll`).

Order follows PyTorch: NaN sorts as the largest value, and sorting is always
stable (``stable=False`` is accepted; a stable order is one valid answer), so ties
keep their original order both ascending and descending. Indices are int64.
"""
from __future__ import annotations

from typing import Any

from .. import return_types
from ..autograd.function import Function, apply
from ..backend import array_module
from .checks import to_tensor
from .dim_helpers import at_least_1d, one_dim
from .movement import gather, narrow, reshape, squeeze
from .reduce import dim_argument, keepdim_argument
from ..errors import ArgumentError

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "searchsorted"]


# ------------------------------------------------------------------ index-finding primitives
def sorting_indices(x, axis: int, descending: bool):
    """Array kernel: the stable order of ``x`` along ``axis``, NaN last ascending, first descending.

    Descending order is the reverse of the stable ascending order of the reversed
    array, which keeps ties in their original order and puts NaN first (NaN is
    the largest value, as in PyTorch) for every dtype, unsigned and bool included.
    """
    xp = array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(xp.int64, copy=False)
    order = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return ((x.shape[axis] - 1) - xp.flip(order, axis)).astype(xp.int64, copy=False)


class ArgSort(Function):
    """Indices that sort ``x`` along ``axis`` (stable; see :func:`sorting_indices`)."""

    name = "argsort"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, descending):
        return sorting_indices(x, axis, descending)


def mode_indices(x, axis: int, keepdims: bool):
    """Array kernel: per slice along ``axis``, the index of the most frequent value.

    PyTorch's choice among ties: the smallest of the equally frequent values, and
    of its occurrences the last one.
    """
    xp = array_module(x)
    moved = xp.moveaxis(x, axis, -1)
    lead, n = moved.shape[:-1], moved.shape[-1]
    rows = moved.reshape(-1, n)
    order = xp.argsort(rows, axis=-1, kind="stable")
    ordered = xp.take_along_axis(rows, order, axis=-1)
    change = ordered[:, 1:] != ordered[:, :-1]
    starts = xp.concatenate([xp.ones((rows.shape[0], 1), dtype=bool), change], axis=1)
    ends = xp.concatenate([change, xp.ones((rows.shape[0], 1), dtype=bool)], axis=1)
    position = xp.arange(n)
    run_start = xp.maximum.accumulate(xp.where(starts, position, 0), axis=1)
    # Run lengths, read at each run's last element; argmax takes the first (smallest) value.
    lengths = xp.where(ends, position - run_start + 1, 0)
    best_end = xp.argmax(lengths, axis=1)
    # A stable sort keeps equal values in index order, so a run's end is its last occurrence.
    index = xp.take_along_axis(order, best_end[:, None], axis=1).reshape(lead)
    index = index.astype(xp.int64, copy=False)
    return xp.expand_dims(index, axis) if keepdims else index


class ModeIndex(Function):
    """Index of the most frequent value along ``axis`` (see :func:`mode_indices`)."""

    name = "mode"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return mode_indices(x, axis, keepdims)


def median_indices(x, axis: int, skip_nan: bool):
    """Array kernel: the index of the lower median along ``axis`` (kept as a size-1 dimension).

    NaN sorts last, so with ``n`` entries of which ``nans`` are NaN: the median of
    a slice holding NaN is its first NaN (sorted position ``n - nans``), and with
    ``skip_nan`` it is the lower median of the others (position ``(n - nans - 1) // 2``;
    when all are NaN, PyTorch reports the middle one, position ``(n - 1) // 2``).
    """
    xp = array_module(x)
    order = sorting_indices(x, axis, False)
    n = x.shape[axis]
    kept_shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
    if x.dtype.kind in "fc":
        nans = xp.isnan(x).sum(axis=axis, keepdims=True)
        if skip_nan:
            rank = xp.where(nans < n, (n - nans - 1) // 2, (n - 1) // 2)
        else:
            rank = xp.where(nans > 0, n - nans, (n - 1) // 2)
    else:
        rank = xp.full(kept_shape, (n - 1) // 2)
    return xp.take_along_axis(order, rank.astype(xp.int64), axis=axis)


class MedianIndex(Function):
    """Index of the lower median along ``axis`` (see :func:`median_indices`)."""

    name = "median"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, skip_nan):
        return median_indices(x, axis, skip_nan)


class MedianAll(Function):
    """The lower median of all elements: NaN if any is NaN (unless ``skip_nan``, for nanmedian).

    As in PyTorch (``evenly_distribute_backward``), the gradient is shared evenly
    among the elements equal to the median (the NaNs, when it is NaN).
    """

    name = "median"
    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx, x, skip_nan):
        xp = array_module(x)
        flat = x.reshape(-1)
        if skip_nan and x.dtype.kind in "fc" and flat.size:
            numbers = flat[~xp.isnan(flat)]
            flat = numbers if numbers.size else flat
        if flat.size == 0:
            return xp.asarray(xp.nan, dtype=x.dtype)
        ordered = xp.sort(flat, kind="stable")  # NaN sorts last
        k = flat.size - 1 if x.dtype.kind in "fc" and xp.isnan(ordered[-1]) else (flat.size - 1) // 2
        return ordered[k:k + 1].reshape(())  # a 0-d array, not a NumPy scalar

    @staticmethod
    def share(x, out):
        """Weights spreading a unit gradient evenly over the elements equal to ``out``."""
        hit = x == out
        if x.dtype.kind in "fc":
            hit = hit | (x.isnan() & out.isnan())
        weights = hit.astype(x.dtype)
        return weights / weights.sum()

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        return g * MedianAll.share(x.detach(), ctx.out.detach())

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        return (t * MedianAll.share(x.detach(), ctx.out.detach())).sum()


class SearchSorted(Function):
    """Insertion points of ``values`` into ``sorted_sequence`` along its last dimension."""

    name = "searchsorted"
    differentiable = False

    @staticmethod
    def forward(ctx, sorted_sequence, values, side, dtype):
        xp = array_module(sorted_sequence)
        if sorted_sequence.ndim == 1:
            return xp.searchsorted(sorted_sequence, values, side=side).astype(dtype, copy=False)
        # One row at a time: exact for any values (an offset trick would lose precision).
        rows = sorted_sequence.reshape(-1, sorted_sequence.shape[-1])
        queries = values.reshape(rows.shape[0], -1)
        out = xp.empty(queries.shape, dtype=dtype)
        for i in range(rows.shape[0]):
            out[i] = xp.searchsorted(rows[i], queries[i], side=side)
        return out.reshape(values.shape)


# ------------------------------------------------------------------ public functions
def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False, *,
         axis: int | None = None) -> return_types.sort:
    """Sort along ``dim``; returns ``(values, indices)`` with ``values == input.gather(dim, indices)``.

    The sort is stable (ties keep their order, ascending or descending) whatever
    ``stable`` says; NaN counts as the largest value. Gradients flow from the
    values back to the positions they came from.

    Example:
        >>> import ember
        >>> from ember.ops.sorting import sort
        >>> values, indices = sort(ember.tensor([3.0, 1.0, 2.0]), descending=True)
        >>> values.tolist(), indices.tolist()
        ([3.0, 2.0, 1.0], [0, 2, 1])
    """
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim("sort", dim, axis, x.ndim)
    indices = apply(ArgSort, (x,), {"axis": axis, "descending": bool(descending)})
    values = gather(x, axis, indices)
    if was_0d:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types.sort(values, indices)


def argsort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False, *, axis: int | None = None):
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``).

    Example:
        >>> import ember
        >>> from ember.ops.sorting import argsort
        >>> argsort(ember.tensor([[2, 0, 1]])).tolist()
        [[1, 2, 0]]
    """
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim("argsort", dim, axis, x.ndim)
    indices = apply(ArgSort, (x,), {"axis": axis, "descending": bool(descending)})
    return reshape(indices, ()) if was_0d else indices


def msort(input: Any):
    """Sort along the first dimension, values only (``sort(input, dim=0).values``)."""
    return sort(input, dim=0).values


def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,  # noqa: A002
         axis: int | None = None) -> return_types.topk:
    """The ``k`` largest (``largest=False``: smallest) entries along ``dim``, with their indices.

    The result is always in sorted order (largest first, or smallest first), which
    also satisfies ``sorted=False``. NaN counts as the largest value.

    Example:
        >>> import ember
        >>> from ember.ops.sorting import topk
        >>> values, indices = topk(ember.tensor([1.0, 4.0, 2.0, 3.0]), 2)
        >>> values.tolist(), indices.tolist()
        ([4.0, 3.0], [1, 3])
    """
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim("topk", dim, axis, x.ndim)
    k = int(k)
    size = x.shape[axis]
    if not 0 <= k <= size:
        raise ArgumentError(f"topk: k={k} is out of range for dimension {dim} of size {size} "
                            f"(input shape {tuple(to_tensor(input).shape)}); expected 0 <= k <= {size}")
    order = apply(ArgSort, (x,), {"axis": axis, "descending": bool(largest)})
    indices = narrow(order, axis, 0, k)
    values = gather(x, axis, indices)
    if was_0d:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types.topk(values, indices)


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False, *, axis: int | None = None,
             keepdims: bool | None = None) -> return_types.kthvalue:
    """The ``k``-th smallest entry along ``dim`` (``k`` counts from 1), and its index.

    Example:
        >>> import ember
        >>> from ember.ops.sorting import kthvalue
        >>> kthvalue(ember.tensor([5.0, 1.0, 3.0]), 2).values.item()
        3.0
    """
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim("kthvalue", dim, axis, x.ndim)
    keepdim = keepdim_argument(keepdim, keepdims)
    size = x.shape[axis]
    k = int(k)
    if not 1 <= k <= size:
        raise ArgumentError(f"kthvalue: k={k} is out of range for dimension {dim} of size {size} "
                            f"(input shape {tuple(to_tensor(input).shape)}); expected 1 <= k <= {size}")
    order = apply(ArgSort, (x,), {"axis": axis, "descending": False})
    return return_types.kthvalue(*_picked(x, axis, narrow(order, axis, k - 1, 1), keepdim, was_0d))


def _median_along(op, x, dim, keepdim, skip_nan):
    x, was_0d = at_least_1d(x)
    axis = one_dim(op, dim, None, x.ndim)
    if x.shape[axis] == 0:
        raise ArgumentError(f"{op}: expected reduction dim {dim} to have non-zero size "
                            f"(input shape {tuple(x.shape)})")
    indices = apply(MedianIndex, (x,), {"axis": axis, "skip_nan": skip_nan})
    return _picked(x, axis, indices, keepdim, was_0d)


def _picked(x, axis, indices, keepdim, was_0d):
    """Values at ``indices`` (one per slice, kept along ``axis``), shaped as asked."""
    values = gather(x, axis, indices)
    if was_0d:
        return reshape(values, ()), reshape(indices, ())
    if not keepdim:
        return squeeze(values, axis), squeeze(indices, axis)
    return values, indices


def median(input: Any, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
           keepdims: bool | None = None):
    """The lower median: of all elements (``dim=None``: a tensor), or along ``dim`` (values, indices).

    With an even count the lower of the two middle values is returned (PyTorch's
    rule, not their mean). NaN propagates: a slice containing NaN has median NaN,
    indexed at its first NaN. Without ``dim`` the gradient is shared among the
    elements equal to the median; with ``dim`` it goes to the returned index.

    Example:
        >>> import ember
        >>> from ember.ops.sorting import median
        >>> median(ember.tensor([4.0, 1.0, 3.0, 2.0])).item()
        2.0
        >>> median(ember.tensor([[4.0, 1.0, 3.0]]), dim=1).indices.tolist()
        [2]
    """
    x = to_tensor(input)
    dim = dim_argument("median", dim, axis)
    keepdim = keepdim_argument(keepdim, keepdims)
    if dim is None:
        if x.numel() == 0 and x.dtype.kind not in "fc":
            raise ArgumentError(f"median: an empty {x.dtype} tensor has no median (its NaN needs a float dtype)")
        return apply(MedianAll, (x,), {"skip_nan": False})
    return return_types.median(*_median_along("median", x, dim, keepdim, skip_nan=False))


def nanmedian(input: Any, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
              keepdims: bool | None = None):
    """:func:`median` ignoring NaN (NaN only when every element of the slice is NaN).

    Example:
        >>> import ember
        >>> from ember.ops.sorting import nanmedian
        >>> nanmedian(ember.tensor([1.0, float("nan"), 3.0, 2.0])).item()
        2.0
    """
    x = to_tensor(input)
    dim = dim_argument("nanmedian", dim, axis)
    keepdim = keepdim_argument(keepdim, keepdims)
    if dim is None:
        if x.numel() == 0 and x.dtype.kind not in "fc":
            raise ArgumentError(f"nanmedian: an empty {x.dtype} tensor has no median (its NaN needs a float dtype)")
        return apply(MedianAll, (x,), {"skip_nan": True})
    # PyTorch's type is return_types.nanmedian (same fields); median's until that type exists.
    return return_types.nanmedian(*_median_along("nanmedian", x, dim, keepdim, skip_nan=True))


def mode(input: Any, dim: int = -1, keepdim: bool = False, *, axis: int | None = None,
         keepdims: bool | None = None) -> return_types.mode:
    """The most frequent value along ``dim`` and an index of it.

    Among equally frequent values the smallest wins, and its last occurrence is
    the index reported (PyTorch's choice on the CPU).

    Example:
        >>> import ember
        >>> from ember.ops.sorting import mode
        >>> result = mode(ember.tensor([3, 1, 3, 1, 2]))
        >>> result.values.item(), result.indices.item()
        (1, 3)
    """
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim("mode", dim, axis, x.ndim)
    keepdim = keepdim_argument(keepdim, keepdims)
    if x.shape[axis] == 0:
        raise ArgumentError(f"mode: expected reduction dim {dim} to have non-zero size "
                            f"(input shape {tuple(x.shape)})")
    indices = apply(ModeIndex, (x,), {"axis": axis, "keepdims": True})
    return return_types.mode(*_picked(x, axis, indices, keepdim, was_0d))


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None):
    """Indices where ``input``'s values would be inserted to keep ``sorted_sequence`` sorted.

    ``sorted_sequence`` is 1-D, or N-D with leading dimensions equal to
    ``input``'s (searched row by row along the last dimension). ``right=True`` (or
    ``side="right"``) returns the position after equal entries.

    Example:
        >>> import ember
        >>> from ember.ops.sorting import searchsorted
        >>> searchsorted(ember.tensor([1, 3, 5]), ember.tensor([3, 6, 0])).tolist()
        [1, 3, 0]
    """
    seq = to_tensor(sorted_sequence)
    scalar = not hasattr(input, "shape")
    values = to_tensor(input)
    if side is not None and side not in ("left", "right"):
        raise ArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side == "left" and right:
        raise ArgumentError("searchsorted: side='left' contradicts right=True")
    side = side or ("right" if right else "left")
    if seq.ndim == 0:
        raise ArgumentError("searchsorted: sorted_sequence must have at least one dimension, got a 0-d tensor")
    if seq.ndim > 1 and (scalar or seq.shape[:-1] != values.shape[:-1]):
        raise ArgumentError(f"searchsorted: the leading dimensions of sorted_sequence {tuple(seq.shape)} "
                            f"must equal those of input {tuple(values.shape)}")
    if values.dtype != seq.dtype and values.dtype.kind in "fc" and seq.dtype.kind not in "fc":
        seq = seq.astype(values.dtype)
    return apply(SearchSorted, (seq, values), {"side": side, "dtype": "int32" if out_int32 else "int64"})
