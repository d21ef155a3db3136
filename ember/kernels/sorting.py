"""Sorting and order-statistic kernels: stable orders, modes, medians, insertion points.

NumPy (or CuPy) array code only, used by the primitives of :mod:`ember.ops.sorting`,
which find *indices* here and gather the values with differentiable ops. There is
no numba version: NumPy's sorts and searches are compiled loops already, and a
numba sort would be no faster (the kernels' rule, docs/kernels.md: a numba version
exists where it measured faster).

Example::

    >>> import numpy as np
    >>> from ember.kernels.sorting import sorting_indices
    >>> sorting_indices(np.array([2.0, np.nan, 1.0, 2.0]), 0, True).tolist()
    [1, 0, 3, 2]
"""
from __future__ import annotations

from ..backend import array_module


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


def median_of_all(x, skip_nan: bool):
    """The lower median of all elements as a 0-d array: NaN if any is NaN (unless ``skip_nan``)."""
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


def searchsorted_rows(sorted_sequence, values, side: str, dtype):
    """Insertion points of ``values`` into each row of ``sorted_sequence`` (its last dimension)."""
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


__all__ = ["sorting_indices", "mode_indices", "median_indices", "median_of_all", "searchsorted_rows"]
