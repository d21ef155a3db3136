"""Attention functions: scaled dot-product (the transformer's) and additive (Bahdanau's).

Both are composed from Ember primitives (matmul, where, the fused
:func:`ember.ops.nn.softmax`, tanh); their derivatives of every order come from
those ops' rules.

Masks. ``scaled_dot_product_attention`` follows PyTorch's function: a boolean
``attn_mask`` is true where a query *may* attend to a key, a floating mask is
added to the scores (``-inf`` forbids). The :class:`ember.nn.MultiheadAttention`
module keeps PyTorch's module convention instead (true means *masked out*).

Fully masked rows. When every key of a query is masked, PyTorch returns NaN.
Here the softmax of an all ``-inf`` row is defined as zeros, so that query's
output is zero and every gradient is finite (zero through that row).

Example:
    >>> import ember, ember.functional as F
    >>> q = k = v = ember.randn(2, 4, 5, 8)            # (batch, heads, length, head_dim)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 5, 8)
"""
from __future__ import annotations

import math

from ..backend import array_module
from ..ops import nn as N
from ..ops.checks import float_operand
from ..ops.elementwise import tanh, where
from ..ops.linalg import matmul
from ..ops.movement import broadcast_shapes, squeeze, swapaxes, unsqueeze
from ..tensor import Tensor, as_tensor, constant
from .dropout import dropout
from ..errors import ArgumentError

__all__ = ["scaled_dot_product_attention", "additive_attention", "causal_mask"]


def causal_mask(length: int, source_length: int | None = None, device_like: Tensor | None = None) -> Tensor:
    """A boolean ``(L, S)`` mask, true where key ``j`` may be attended from query ``i`` (``j <= i``).

    Example:
        >>> import ember.functional as F
        >>> F.causal_mask(3).tolist()
        [[True, False, False], [True, True, False], [True, True, True]]
    """
    source_length = length if source_length is None else source_length
    xp = array_module(device_like._data) if device_like is not None else array_module(None)
    return constant(xp.tril(xp.ones((length, source_length), dtype=bool)))


def _check_qkv(name: str, query: Tensor, key: Tensor, value: Tensor) -> None:
    for what, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ArgumentError(f"{name}: expected {what} with at least 2 dimensions (..., length, features), "
                                f"got shape {t.shape}")
    if query.shape[-1] != key.shape[-1]:
        raise ArgumentError(f"{name}: query and key must share their last dimension, got shapes {query.shape} "
                            f"and {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ArgumentError(f"{name}: key and value must have the same length (dimension -2), got shapes "
                            f"{key.shape} and {value.shape}")
    if not (query.dtype == key.dtype == value.dtype):
        raise TypeError(f"{name}: query, key and value dtypes differ ({query.dtype}, {key.dtype}, {value.dtype})")
    try:
        broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ArgumentError(f"{name}: the leading (batch) dimensions of query {query.shape}, key {key.shape} and "
                            f"value {value.shape} do not broadcast together") from None


def _apply_mask(name: str, scores: Tensor, mask) -> Tensor:
    """Restrict ``scores`` by a boolean (true = attend) or additive floating mask."""
    mask = as_tensor(mask)
    try:
        target = broadcast_shapes(scores.shape, mask.shape)
    except ValueError:
        target = None
    if target != scores.shape:
        raise ArgumentError(f"{name}: attn_mask of shape {mask.shape} does not broadcast to the scores' shape "
                            f"{scores.shape} (..., L, S)")
    if mask.dtype.kind == "b":
        return where(mask, scores, -math.inf)
    if mask.dtype != scores.dtype:
        mask = mask.astype(scores.dtype)
    return scores + mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, return_weights: bool = False):
    """``softmax(query @ key^T * scale + mask) @ value``, PyTorch's signature and mask convention.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        attn_mask: broadcastable to ``(..., L, S)``; boolean (true = may attend) or
            floating (added to the scores).
        dropout_p: dropout probability on the attention weights (applied whenever positive,
            as in PyTorch; pass 0 at evaluation time).
        is_causal: also forbid keys after the query (``j > i``, top-left aligned).
        scale: score scale, ``1 / sqrt(E)`` by default.
        enable_gqa: grouped-query attention: key and value have fewer heads (dimension -3)
            than query, each shared by ``query heads / key heads`` consecutive query heads.
        return_weights: also return the attention weights (after dropout).

    Returns:
        ``(..., L, Ev)``, or ``(output, weights)`` with ``return_weights``. A query whose
        keys are all masked gets a zero output row and zero weights (not NaN).

    Example:
        >>> import ember, ember.functional as F
        >>> q, k, v = ember.randn(1, 3, 4), ember.randn(1, 5, 4), ember.randn(1, 5, 2)
        >>> out, w = F.scaled_dot_product_attention(q, k, v, return_weights=True)
        >>> out.shape, w.shape
        ((1, 3, 2), (1, 3, 5))
    """
    name = "scaled_dot_product_attention"
    query, key, value = (float_operand(name, t) for t in (query, key, value))
    if is_causal and attn_mask is not None:
        raise ArgumentError(f"{name}: an explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if kv_heads == 0 or heads % kv_heads or value.shape[-3] != kv_heads:
            raise ArgumentError(f"{name}: with enable_gqa the query heads ({heads}) must be a multiple of the "
                                f"key and value heads (shapes {query.shape}, {key.shape}, {value.shape})")
        key = key.repeat_interleave(heads // kv_heads, dim=-3)
        value = value.repeat_interleave(heads // kv_heads, dim=-3)
    _check_qkv(name, query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"{name}: dropout_p must lie in [0, 1], got {dropout_p}")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    # Scaling the query (L*E numbers) is cheaper than scaling the scores (L*S).
    scores = matmul(query * scale, swapaxes(key, -1, -2))
    if is_causal:
        scores = _apply_mask(name, scores, causal_mask(query.shape[-2], key.shape[-2], query))
    if attn_mask is not None:
        scores = _apply_mask(name, scores, attn_mask)
    weights = N.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    out = matmul(weights, value)
    return (out, weights) if return_weights else out


def additive_attention(query: Tensor, keys: Tensor, values: Tensor, w_query: Tensor, w_key: Tensor,
                       w_score: Tensor, b_key: Tensor | None = None, mask=None) -> tuple[Tensor, Tensor]:
    """Bahdanau's additive attention: ``score(q, k_j) = w_score . tanh(W_q q + W_k k_j + b)``.

    Args:
        query: ``(B, Dq)`` (one query per sequence, e.g. a decoder state) or ``(B, L, Dq)``.
        keys: ``(B, S, Dk)``, e.g. the encoder's outputs.
        values: ``(B, S, Dv)``; often the keys themselves.
        w_query: ``(A, Dq)``; w_key: ``(A, Dk)``; w_score: ``(1, A)`` or ``(A,)``; b_key: ``(A,)`` or None.
        mask: optional boolean ``(B, S)``, true on the keys that may be attended (valid steps).

    Returns:
        ``(context, weights)``: ``(B, Dv)`` and ``(B, S)`` (or ``(B, L, Dv)`` and ``(B, L, S)``).
        A query with every key masked gets zero weights and a zero context.

    Example:
        >>> import ember, ember.functional as F
        >>> B, S, D, A = 2, 5, 6, 4
        >>> ctx, w = F.additive_attention(ember.randn(B, D), ember.randn(B, S, D), ember.randn(B, S, D),
        ...                               ember.randn(A, D), ember.randn(A, D), ember.randn(1, A))
        >>> ctx.shape, w.shape
        ((2, 6), (2, 5))
    """
    name = "additive_attention"
    query, keys, values = (float_operand(name, t) for t in (query, keys, values))
    single = query.ndim == 2
    if query.ndim not in (2, 3) or keys.ndim != 3 or values.ndim != 3:
        raise ArgumentError(f"{name}: expected query (B, Dq) or (B, L, Dq), keys (B, S, Dk) and values (B, S, Dv), "
                            f"got shapes {query.shape}, {keys.shape} and {values.shape}")
    if keys.shape[:2] != values.shape[:2] or query.shape[0] != keys.shape[0]:
        raise ArgumentError(f"{name}: batch and length of query {query.shape}, keys {keys.shape} and values "
                            f"{values.shape} do not match")
    if w_query.shape[-1] != query.shape[-1] or w_key.shape[-1] != keys.shape[-1] or w_query.shape[0] != w_key.shape[0]:
        raise ArgumentError(f"{name}: expected w_query (A, {query.shape[-1]}) and w_key (A, {keys.shape[-1]}), "
                            f"got {w_query.shape} and {w_key.shape}")
    if single:
        query = unsqueeze(query, 1)
    w_score = w_score if w_score.ndim == 2 else unsqueeze(w_score, 0)
    projected_q = unsqueeze(N.linear(query, w_query), 2)            # (B, L, 1, A)
    projected_k = unsqueeze(N.linear(keys, w_key, b_key), 1)        # (B, 1, S, A)
    scores = squeeze(N.linear(tanh(projected_q + projected_k), w_score), -1)   # (B, L, S)
    if mask is not None:
        mask = as_tensor(mask)
        if mask.shape != (keys.shape[0], keys.shape[1]):
            raise ArgumentError(f"{name}: expected mask of shape {(keys.shape[0], keys.shape[1])} (batch, keys), "
                                f"got shape {mask.shape}")
        scores = _apply_mask(name, scores, unsqueeze(mask.astype(bool), 1))
    weights = N.softmax(scores, -1)
    context = matmul(weights, values)
    if single:
        return squeeze(context, 1), squeeze(weights, 1)
    return context, weights
