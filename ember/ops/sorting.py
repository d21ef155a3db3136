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
from ..kernels import sorting as K
from .checks import to_tensor
from .dim_helpers import at_least_1d, one_dim
from .movement import gather, narrow, reshape, squeeze
from .reduce import dim_argument, keepdim_argument
from ..errors import ArgumentError

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "searchsorted"]


# ------------------------------------------------------------------ index-finding primitives
class ArgSort(Function):
    """Indices that sort ``x`` along ``axis`` (stable; see :func:`ember.kernels.sorting.sorting_indices`)."""

    name = "argsort"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, descending):
        return K.sorting_indices(x, axis, descending)


class ModeIndex(Function):
    """Index of the most frequent value along ``axis`` (see :func:`ember.kernels.sorting.mode_indices`)."""

    name = "mode"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return K.mode_indices(x, axis, keepdims)


class MedianIndex(Function):
    """Index of the lower median along ``axis`` (see :func:`ember.kernels.sorting.median_indices`)."""

    name = "median"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, skip_nan):
        return K.median_indices(x, axis, skip_nan)


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
        return K.median_of_all(x, skip_nan)

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
        return K.searchsorted_rows(sorted_sequence, values, side, dtype)


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
