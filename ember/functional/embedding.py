"""Embedding lookup: rows of a table selected by integer indices.

Example:
    >>> import ember, ember.functional as F
    >>> F.embedding(ember.tensor([1]), ember.eye(2)).tolist()
    [[0.0, 1.0]]
"""
from __future__ import annotations

from ..ops import nn as N
from ..tensor import Tensor, as_tensor
from ._checks import check_integer
from ..errors import ArgumentError

__all__ = ["embedding"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up ``weight[input]``: ``input`` of any shape gives ``input.shape + (dim,)``.

    Args:
        input: integer indices in ``[0, num_embeddings)``.
        weight: the table, ``(num_embeddings, dim)``.
        padding_idx: an index whose row receives no gradient (negative values
            count from the end).

    The backward pass sums the gradients of repeated indices with a sort and a
    per-row sum (see :mod:`ember.kernels.embedding`).

    Example:
        >>> import ember, ember.functional as F
        >>> w = ember.randn(10, 3, requires_grad=True)
        >>> F.embedding(ember.tensor([[1, 1, 4]]), w).sum().backward()
        >>> w.grad[1].tolist()
        [2.0, 2.0, 2.0]
    """
    name = "embedding"
    input = as_tensor(input)
    check_integer(name, input, "indices")
    if weight.ndim != 2:
        raise ArgumentError(f"{name}: weight must be 2-D (num_embeddings, dim), got shape {weight.shape}")
    rows = weight.shape[0]
    if input.numel():
        low, high = int(input._data.min()), int(input._data.max())
        if low < 0 or high >= rows:
            raise IndexError(f"{name}: indices must lie in [0, {rows}) for a table of shape {weight.shape}, "
                             f"got values in [{low}, {high}]")
    return N.embedding(input, weight, normalize_padding_idx(name, padding_idx, rows))


def normalize_padding_idx(name: str, padding_idx: int | None, rows: int) -> int | None:
    """``padding_idx`` as a non-negative row index (or None), checked against ``rows``."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ArgumentError(f"{name}: padding_idx {padding_idx} is out of range for {rows} embeddings")
    return padding_idx % rows
