"""Triangles and diagonals of matrices: tril, triu, diagonal, diag_embed, diag, trace, tril/triu_indices.

Four linear primitives do the work, each the other's transpose: ``tril`` and
``triu`` are their own vjps (masking is self-adjoint); ``diagonal`` reads a
diagonal and :class:`DiagonalScatter` writes one into zeros, so each is the
other's vjp. ``diag_embed`` *is* a diagonal scatter, and ``diag`` and ``trace``
are composed from these. Batched inputs work on their last two dimensions
(tril/triu) or on any pair of dimensions (diagonal, diag_embed), as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from ..autograd.function import LinearFunction, apply
from ..backend import array_module
from .checks import to_tensor
from .movement import _axis
from ..errors import ArgumentError

__all__ = ["tril", "triu", "diagonal", "diag_embed", "diag", "trace", "tril_indices", "triu_indices"]


def triangle_mask(xp, rows: int, cols: int, diagonal: int, lower: bool):
    """Boolean ``rows x cols`` mask of the lower (``j - i <= diagonal``) or upper (``>=``) triangle."""
    lower_mask = xp.tri(rows, cols, diagonal, dtype=bool)
    return lower_mask if lower else ~xp.tri(rows, cols, diagonal - 1, dtype=bool)


class Triangle(LinearFunction):
    """Zero everything outside the lower (``lower``) or upper triangle of the last two dims."""

    name = "triangle"

    @staticmethod
    def forward(ctx, x, diagonal, lower):
        xp = array_module(x)
        mask = triangle_mask(xp, x.shape[-2], x.shape[-1], diagonal, lower)
        return xp.where(mask, x, xp.zeros((), dtype=x.dtype))

    @staticmethod
    def vjp(ctx, g):
        return apply(Triangle, (g,), ctx.params)


def _triangle(op: str, input, diagonal: int, lower: bool):
    x = to_tensor(input)
    if x.ndim < 2:
        raise ArgumentError(f"{op}: input must have at least 2 dimensions, got shape {tuple(x.shape)}")
    return apply(Triangle, (x,), {"diagonal": int(diagonal), "lower": lower})


def tril(input: Any, diagonal: int = 0):
    """The lower triangle of the last two dims (``j - i <= diagonal``); the rest is zero.

    Example:
        >>> import ember
        >>> from ember.ops.triangular import tril
        >>> tril(ember.ones(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    """
    return _triangle("tril", input, diagonal, True)


def triu(input: Any, diagonal: int = 0):
    """The upper triangle of the last two dims (``j - i >= diagonal``); the rest is zero.

    Example:
        >>> import ember
        >>> from ember.ops.triangular import triu
        >>> triu(ember.ones(2, 3), 1).tolist()
        [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _triangle("triu", input, diagonal, False)


# ------------------------------------------------------------------ diagonals
def diagonal_positions(xp, rows: int, cols: int, offset: int):
    """Row and column indices of the ``offset`` diagonal of a ``rows x cols`` matrix."""
    if offset >= 0:
        length = max(min(rows, cols - offset), 0)
        return xp.arange(length), xp.arange(length) + offset
    length = max(min(rows + offset, cols), 0)
    return xp.arange(length) - offset, xp.arange(length)


class Diagonal(LinearFunction):
    """The ``offset`` diagonal of dims ``dim1`` x ``dim2``, appended as the last dimension."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        # NumPy's diagonal is a read-only view; a copy lets in-place ops write to the result.
        return array_module(x).diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return apply(DiagonalScatter, (g,), {"shape": ctx.in_meta[0][0], "offset": p["offset"],
                                              "dim1": p["dim1"], "dim2": p["dim2"]})


class DiagonalScatter(LinearFunction):
    """Zeros of ``shape`` with ``g`` (diagonal last, as :class:`Diagonal` returns it) on a diagonal."""

    name = "diagonal_scatter"

    @staticmethod
    def forward(ctx, g, shape, offset, dim1, dim2):
        xp = array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        view = xp.moveaxis(out, (dim1, dim2), (-2, -1))  # writes go through to ``out``
        rows, cols = diagonal_positions(xp, shape[dim1], shape[dim2], offset)
        view[..., rows, cols] = g
        return out

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return apply(Diagonal, (g,), {"offset": p["offset"], "dim1": p["dim1"], "dim2": p["dim2"]})


def _two_dims(op: str, dim1: int, dim2: int, ndim: int):
    d1, d2 = _axis(op, dim1, ndim), _axis(op, dim2, ndim)
    if d1 == d2:
        raise ArgumentError(f"{op}: diagonal dimensions cannot be identical, got dim1={dim1} and dim2={dim2}")
    return d1, d2


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The ``offset`` diagonal (above the main one when positive) of dims ``dim1`` and ``dim2``.

    Those two dimensions are removed and the diagonal is appended as the last one.
    An offset past the matrix gives an empty diagonal, as in PyTorch.

    Example:
        >>> import ember
        >>> from ember.ops.triangular import diagonal
        >>> diagonal(ember.arange(6).reshape(2, 3), 1).tolist()
        [1, 5]
    """
    x = to_tensor(input)
    if x.ndim < 2:
        raise ArgumentError(f"diagonal: input must have at least 2 dimensions, got shape {tuple(x.shape)}")
    d1, d2 = _two_dims("diagonal", dim1, dim2, x.ndim)
    return apply(Diagonal, (x,), {"offset": int(offset), "dim1": d1, "dim2": d2})


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Put the last dimension of ``input`` on the ``offset`` diagonal of new dims ``dim1``, ``dim2``.

    The matrices are square, of size ``input.shape[-1] + abs(offset)``; the other
    dimensions of ``input`` fill the remaining output dimensions in order.

    Example:
        >>> import ember
        >>> from ember.ops.triangular import diag_embed
        >>> diag_embed(ember.tensor([[1, 2]])).tolist()
        [[[1, 0], [0, 2]]]
    """
    x = to_tensor(input)
    if x.ndim < 1:
        raise ArgumentError("diag_embed: input must have at least 1 dimension, got a 0-d tensor")
    d1, d2 = _two_dims("diag_embed", dim1, dim2, x.ndim + 1)
    size = x.shape[-1] + abs(int(offset))
    rest = iter(x.shape[:-1])
    shape = tuple(size if d in (d1, d2) else next(rest) for d in range(x.ndim + 1))
    return apply(DiagonalScatter, (x,), {"shape": shape, "offset": int(offset), "dim1": d1, "dim2": d2})


def diag(input: Any, diagonal: int = 0):
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives that diagonal.

    Example:
        >>> import ember
        >>> from ember.ops.triangular import diag
        >>> diag(ember.tensor([1, 2])).tolist()
        [[1, 0], [0, 2]]
        >>> diag(ember.tensor([[1, 2], [3, 4]])).tolist()
        [1, 4]
    """
    x = to_tensor(input)
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return apply(Diagonal, (x,), {"offset": int(diagonal), "dim1": 0, "dim2": 1})
    raise ArgumentError(f"diag: expected a 1-D or 2-D tensor, got {x.ndim}-D (shape {tuple(x.shape)})")


def trace(input: Any):
    """Sum of the main diagonal of a matrix (integers sum to int64, as in PyTorch).

    Example:
        >>> import ember
        >>> from ember.ops.triangular import trace
        >>> trace(ember.tensor([[1, 2], [3, 4]])).item()
        5
    """
    from .reduce import sum as reduce_sum

    x = to_tensor(input)
    if x.ndim != 2:
        raise ArgumentError(f"trace: expected a matrix, got a {x.ndim}-D tensor of shape {tuple(x.shape)}")
    if x.dtype.kind in "biu":
        x = x.astype("int64")
    return reduce_sum(apply(Diagonal, (x,), {"offset": 0, "dim1": 0, "dim2": 1}))


# ------------------------------------------------------------------ index lists
def _triangle_indices(op: str, row: int, col: int, offset: int, lower: bool, dtype, device):
    from .. import backend
    from ..creation import _finish

    for name, value in (("row", row), ("col", col)):
        if int(value) < 0:
            raise ArgumentError(f"{op}: {name} must be non-negative, got {value}")
    xp = backend.module_for_device(device)
    mask = triangle_mask(xp, int(row), int(col), int(offset), lower)
    return _finish(xp.stack(xp.nonzero(mask)).astype(dtype), False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype="int64", device: str = "cpu"):
    """The ``2 x N`` (row, column) coordinates of the lower triangle of a ``row x col`` matrix.

    Coordinates come in row-major order; ``offset`` moves the diagonal as in :func:`tril`.

    Example:
        >>> from ember.ops.triangular import tril_indices
        >>> tril_indices(2, 2).tolist()
        [[0, 1, 1], [0, 0, 1]]
    """
    return _triangle_indices("tril_indices", row, col, offset, True, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype="int64", device: str = "cpu"):
    """The ``2 x N`` (row, column) coordinates of the upper triangle of a ``row x col`` matrix.

    Example:
        >>> from ember.ops.triangular import triu_indices
        >>> triu_indices(2, 2).tolist()
        [[0, 0, 1], [0, 1, 1]]
    """
    return _triangle_indices("triu_indices", row, col, offset, False, dtype, device)
