"""``embedding``: rows of a ``(num_embeddings, dim)`` table looked up by integer indices.

The lookup's backward sums the gradient rows of repeated indices; both array
loops are kernels (:mod:`ember.kernels.embedding`: a gather, and a sort then a
per-row sum, NumPy beside numba). The two primitives are each other's vjp.
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..backend import array_module
from ..kernels import embedding as K


class EmbeddingLookup(Function):
    """``weight[indices]``: rows of a ``(num_embeddings, dim)`` table."""

    name = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        return K.gather_rows(weight, indices)

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return apply(EmbeddingScatter, (g,), {"indices": p["indices"], "padding_idx": p["padding_idx"],
                                              "rows": ctx.in_meta[0][0][0]})

    @staticmethod
    def jvp(ctx, t):
        return apply(EmbeddingLookup, (t,), ctx.params)


class EmbeddingScatter(Function):
    """Sum gradient rows into a zero table by index (the backward of a lookup)."""

    name = "embedding_backward"

    @staticmethod
    def forward(ctx, g, indices, padding_idx, rows):
        return K.scatter_add_rows(g, indices, rows, padding_idx)

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        table = g
        if p["padding_idx"] is not None:
            # Rows scattered into the padding entry were dropped: they get no gradient.
            mask = array_module(g._data).ones((g.shape[0], 1), dtype=g.dtype)
            mask[p["padding_idx"]] = 0
            from ..tensor import constant

            table = g * constant(mask)
        return apply(EmbeddingLookup, (table,), {"indices": p["indices"], "padding_idx": None})

    @staticmethod
    def jvp(ctx, t):
        return apply(EmbeddingScatter, (t,), ctx.params)


def embedding(indices, weight, padding_idx=None):
    """Look up rows of ``weight`` (``(num_embeddings, dim)``) for integer ``indices``.

    The gradient of ``weight`` sums the output gradients of repeated indices;
    the row ``padding_idx`` (if given) gets none. Indices are checked by
    :func:`ember.functional.embedding`.

    Example:
        >>> import ember
        >>> from ember.ops.embedding import embedding
        >>> embedding(ember.tensor([[0, 2]]), ember.eye(3)).tolist()
        [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]
    """
    from ..tensor import as_tensor

    idx = as_tensor(indices)._data
    return apply(EmbeddingLookup, (weight,), {"indices": idx, "padding_idx": padding_idx})


__all__ = ["embedding", "EmbeddingLookup", "EmbeddingScatter"]
