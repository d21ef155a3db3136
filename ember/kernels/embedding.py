"""Embedding kernels: gather table rows by index, and scatter-add gradient rows back.

* ``gather_rows(table, indices)``: ``table[indices]``, shape ``indices.shape + (dim,)``;
* ``scatter_add_rows(g, indices, rows, padding_idx)``: a zero ``(rows, dim)`` table into which
  each gradient row ``g[..., :]`` is added at its index (the lookup's backward); the row
  ``padding_idx`` (if not None) stays zero.

The NumPy reference of the scatter sorts the indices (stably) and sums each run of equal
indices with one ``add.reduceat``: 7x faster than ``add.at`` on character vocabularies.
The numba version does a counting sort of the indices (stable, serial: one pass over the
indices), then splits the *table rows* between the threads, each summing the gradient
rows of its indices. No two threads write the same row, so there
is no race, and each sum starts from its first gradient row and adds the rest in the
reference's order (``add.reduceat``'s, NumPy's pairwise summation per column), so the two give the
same bits (signed zeros and NaN payloads included).

The indices are trusted here: :func:`ember.functional.embedding` checks their range.

Example::

    >>> import numpy as np
    >>> from ember.kernels.embedding import gather_rows, scatter_add_rows
    >>> table = np.arange(6.0).reshape(3, 2)
    >>> gather_rows(table, np.array([2, 0])).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    >>> scatter_add_rows(np.ones((3, 2)), np.array([1, 1, 2]), 3, None).tolist()
    [[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]]
"""
from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange

#: The kernels whose numba version runs when numba is on: those measured faster than their
#: reference on the word-LM, char-RNN and nanoGPT shapes (docs/kernels.md). The tests run
#: every numba version regardless.
NUMBA_KERNELS = frozenset({"scatter_add_rows"})

#: Elements (of the gradient or the table, whichever is larger) from which the scatter runs on
#: the thread pool (when there are threads). On the 2-core machine one thread was faster on every
#: shape measured, up to the word LM's 2M-element table (docs/kernels.md).
PARALLEL_MIN_ELEMENTS = 1 << 21


def _numba(kernel: str, rows_array, indices) -> bool:
    return (kernel in NUMBA_KERNELS and rows_array.ndim >= 1 and getattr(indices, "size", 0) > 0
            and type(indices) is np.ndarray and indices.dtype.kind in "iu"
            and engine.numba_runs(rows_array))


def _flat_indices(indices):
    """The indices as one contiguous ``intp`` vector (no copy for a C-ordered int64 array)."""
    return np.ascontiguousarray(indices, dtype=np.intp).reshape(-1)


# ------------------------------------------------------------------ NumPy reference
def gather_rows_reference(table, indices):
    """``table[indices]`` with ``take`` (the oracle of :func:`gather_rows`)."""
    return array_module(table).take(table, indices, axis=0)


def scatter_add_rows_reference(g, indices, rows: int, padding_idx: int | None):
    """Stable sort of the indices, one ``add.reduceat`` per run (the oracle of :func:`scatter_add_rows`)."""
    xp = array_module(g)
    dim = g.shape[-1]
    flat_idx = indices.reshape(-1)
    flat_g = g.reshape(flat_idx.size, dim)  # not (-1, dim): that is ambiguous when dim is 0
    out = xp.zeros((rows, dim), dtype=g.dtype)
    if flat_idx.size:
        if hasattr(xp.add, "reduceat"):
            # Sorting groups equal rows so that one add.reduceat sums each group.
            order = xp.argsort(flat_idx, kind="stable")
            ordered = flat_idx[order]
            starts = xp.flatnonzero(xp.concatenate((xp.ones(1, bool), ordered[1:] != ordered[:-1])))
            out[ordered[starts]] = xp.add.reduceat(flat_g[order], starts, axis=0)
        else:  # CuPy has no reduceat
            xp.add.at(out, flat_idx, flat_g)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


# ------------------------------------------------------------------ numba
@numba_kernel
def _gather(table, indices, out):
    for i in prange(indices.shape[0]):
        row = indices[i]
        for j in range(table.shape[1]):
            out[i, j] = table[row, j]


@numba_kernel
def _count_sort(indices, rows):
    """Stable counting sort: ``starts`` (``rows + 1`` offsets) and ``order`` (positions by row)."""
    starts = np.zeros(rows + 1, dtype=np.intp)
    for i in range(indices.shape[0]):
        starts[indices[i] + 1] += 1
    for r in range(rows):
        starts[r + 1] += starts[r]
    fill = starts[:-1].copy()
    order = np.empty(indices.shape[0], dtype=np.intp)
    for i in range(indices.shape[0]):
        r = indices[i]
        order[fill[r]] = i
        fill[r] += 1
    return starts, order


#: NumPy's pairwise summation: runs of up to this many numbers are summed in 8 interleaved partial sums.
_PAIRWISE_BLOCK = 128


@numba_kernel
def _scatter_add(g, starts, order, padding_idx, out):
    """Row ``r`` of ``out``: the sum of ``g[order[starts[r]:starts[r + 1]]]`` in ``add.reduceat``'s order.

    ``reduceat`` copies a run's first row, then adds, per column, NumPy's pairwise sum of the others
    (``pairwise_sum`` in NumPy's ``loops_utils.h``): under 8 numbers a running sum from -0.0, up to
    128 eight interleaved sums combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`` then the tail,
    above that the two halves (the first a multiple of 8 long) summed alike and added. The same
    order here gives the same bits; longer runs walk that recursion with an explicit stack.
    """
    zero = out.dtype.type(0)
    negative_zero = -zero

    def block_sum(first, n, j):  # NumPy's pairwise_sum for n <= 128 numbers g[order[first:first + n], j]
        if n < 8:
            res = negative_zero
            for k in range(first, first + n):
                res += g[order[k], j]
            return res
        r0, r1, r2, r3 = g[order[first], j], g[order[first + 1], j], g[order[first + 2], j], g[order[first + 3], j]
        r4, r5, r6, r7 = g[order[first + 4], j], g[order[first + 5], j], g[order[first + 6], j], g[order[first + 7], j]
        i = 8
        while i < n - n % 8:
            k = first + i
            r0 += g[order[k], j]
            r1 += g[order[k + 1], j]
            r2 += g[order[k + 2], j]
            r3 += g[order[k + 3], j]
            r4 += g[order[k + 4], j]
            r5 += g[order[k + 5], j]
            r6 += g[order[k + 6], j]
            r7 += g[order[k + 7], j]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += g[order[first + i], j]
            i += 1
        return res

    for r in prange(out.shape[0]):
        begin, end = starts[r], starts[r + 1]
        if begin == end or r == padding_idx:
            for j in range(out.shape[1]):
                out[r, j] = zero
            continue
        head = order[begin]
        rest = end - begin - 1
        if rest == 0:
            for j in range(out.shape[1]):
                out[r, j] = g[head, j]
        elif rest <= _PAIRWISE_BLOCK:
            for j in range(out.shape[1]):
                out[r, j] = g[head, j] + block_sum(begin + 1, rest, j)
        else:
            # Post-order walk of the halving tree: a task is (first, n), n < 0 meaning "add the two
            # values on top"; 64 levels cover any index count.
            task_first = np.empty(130, dtype=np.intp)
            task_n = np.empty(130, dtype=np.intp)
            values = np.empty(66, dtype=out.dtype)
            for j in range(out.shape[1]):
                tasks, depth = 1, 0
                task_first[0], task_n[0] = begin + 1, rest
                while tasks:
                    tasks -= 1
                    first, n = task_first[tasks], task_n[tasks]
                    if n < 0:
                        depth -= 1
                        values[depth - 1] = values[depth - 1] + values[depth]
                    elif n <= _PAIRWISE_BLOCK:
                        values[depth] = block_sum(first, n, j)
                        depth += 1
                    else:
                        half = n // 2
                        half -= half % 8
                        task_first[tasks], task_n[tasks] = 0, -1  # then add the halves' sums
                        task_first[tasks + 1], task_n[tasks + 1] = first + half, n - half  # second half
                        task_first[tasks + 2], task_n[tasks + 2] = first, half  # first half: done first
                        tasks += 3
                out[r, j] = g[head, j] + values[0]


# ------------------------------------------------------------------ dispatch
def gather_rows(table, indices):
    """``table[indices]`` for a ``(num_embeddings, dim)`` table and integer ``indices`` of any shape."""
    if table.ndim == 2 and _numba("gather_rows", table, indices):
        flat = _flat_indices(indices)
        out = np.empty((flat.shape[0], table.shape[1]), dtype=table.dtype)
        _gather(table, flat, out)
        return out.reshape(indices.shape + (table.shape[1],))
    return gather_rows_reference(table, indices)


def scatter_add_rows(g, indices, rows: int, padding_idx: int | None):
    """The ``(rows, dim)`` sum of the gradient rows ``g`` (``indices.shape + (dim,)``) at their indices.

    ``padding_idx`` (a non-negative row, or None) names a row that stays zero.
    """
    if _numba("scatter_add_rows", g, indices) and g.shape[-1] > 0:
        flat = _flat_indices(indices)
        flat_g = g.reshape(flat.shape[0], g.shape[-1])  # a view where it can be: a strided g is read in place
        # The sort is one serial pass over the indices: the parallel form would only add a pool launch.
        starts, order = _count_sort.serial()(flat, rows)
        out = np.empty((rows, g.shape[-1]), dtype=g.dtype)
        kernel = _scatter_add if max(flat_g.size, out.size) >= PARALLEL_MIN_ELEMENTS else _scatter_add.serial()
        kernel(flat_g, starts, order, -1 if padding_idx is None else padding_idx, out)
        return out
    return scatter_add_rows_reference(g, indices, rows, padding_idx)


__all__ = ["gather_rows", "gather_rows_reference", "scatter_add_rows", "scatter_add_rows_reference",
           "NUMBA_KERNELS"]
