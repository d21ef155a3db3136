"""Attention layers: ``MultiheadAttention`` (PyTorch-compatible) and ``AdditiveAttention`` (Bahdanau).

``MultiheadAttention`` has PyTorch's parameter names and layout
(``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight`` ...; separate
``q/k/v_proj_weight`` when ``kdim``/``vdim`` differ), initialisation and mask
convention: in ``attn_mask`` and ``key_padding_mask`` a boolean *true* means
"masked out", a float is added to the scores. One difference: a query whose
keys are all masked returns zeros rather than NaN.

Example:
    >>> import ember, ember.nn as nn
    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = ember.randn(2, 5, 16)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((2, 5, 16), (2, 5, 5))
"""
from __future__ import annotations

import math

from ...amp.autocast_mode import will_cast
from ...backend import array_module
from ...creation import empty
from ...functional.attention import additive_attention, scaled_dot_product_attention
from ...ops import elementwise as E
from ...ops import nn as N
from ...ops.checks import float_operand
from ...ops.movement import broadcast_to, concat, pad, reshape, split, squeeze, swapaxes, unsqueeze
from ...tensor import Tensor, as_tensor, constant
from .. import init
from ..module import Module, Parameter
from .linear import Linear

__all__ = ["MultiheadAttention", "AdditiveAttention"]


def _additive(mask: Tensor, dtype) -> Tensor:
    """PyTorch's module masks as additive floats: boolean true -> -inf, floats as they are."""
    if mask.dtype.kind == "b":
        # Ember ops, not arrays, so that ember.compile replays a mask that changes between calls.
        return E.where(mask, -math.inf, 0.0).to(dtype)
    return mask if mask.dtype == dtype else mask.to(dtype)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al.) with PyTorch's interface.

    Args:
        embed_dim: model width ``E`` (the query's features and the output's).
        num_heads: heads; ``E`` must be divisible by it.
        dropout: dropout on the attention weights (training only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn ``bias_k``/``bias_v``, appended to the keys and values as one extra step.
        add_zero_attn: append a step of zeros to the keys and values (after the projection).
        kdim, vdim: key and value widths (default ``E``); when they differ from ``E`` the
            projections are separate ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``.
        batch_first: inputs and outputs are ``(B, L, E)`` rather than ``(L, B, E)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> mha = nn.MultiheadAttention(8, 2)
        >>> q, kv = ember.randn(3, 2, 8), ember.randn(6, 2, 8)          # (L, B, E), (S, B, E)
        >>> out, w = mha(q, kv, kv, key_padding_mask=ember.zeros(2, 6).bool())
        >>> out.shape, w.shape
        ((3, 2, 8), (2, 3, 6))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                             f"num_heads ({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must lie in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = float(dropout), bool(batch_first), bool(add_zero_attn)
        E = self.embed_dim

        def param(*shape):
            return Parameter(empty(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * E, E)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = param(E, E)
            self.k_proj_weight = param(E, self.kdim)
            self.v_proj_weight = param(E, self.vdim)
        if bias:
            self.in_proj_bias = param(3 * E)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, device=device)
        if add_bias_kv:
            self.bias_k = param(1, 1, E)
            self.bias_v = param(1, 1, E)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal ``bias_k/v``."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    # ------------------------------------------------------------ projections
    def _bias(self, index: int):
        E = self.embed_dim
        return None if self.in_proj_bias is None else self.in_proj_bias[index * E:(index + 1) * E]

    def _project(self, query: Tensor, key: Tensor, value: Tensor):
        """``(B, L, E)`` inputs to projected q, k, v; one GEMM for self-attention."""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                return split(N.linear(query, w, self.in_proj_bias), E, axis=-1)
            if key is value:  # encoder-decoder attention: keys and values in one GEMM
                b = None if self.in_proj_bias is None else self.in_proj_bias[E:]
                k, v = split(N.linear(key, w[E:], b), E, axis=-1)
                return N.linear(query, w[:E], self._bias(0)), k, v
            weights = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(N.linear(x, weights[i], self._bias(i)) for i, x in enumerate((query, key, value)))

    # ------------------------------------------------------------ checks
    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        name = "MultiheadAttention"
        if query.ndim not in (2, 3):
            layout = "(B, L, E)" if self.batch_first else "(L, B, E)"
            raise ValueError(f"{name}: expected a 3-D query {layout} or a 2-D unbatched query (L, E), "
                             f"got shape {query.shape}")
        for what, t, width in (("query", query, self.embed_dim), ("key", key, self.kdim),
                               ("value", value, self.vdim)):
            if t.ndim != query.ndim or t.shape[-1] != width:
                raise ValueError(f"{name}: expected {what} with {query.ndim} dimensions and last dimension "
                                 f"{width}, got shape {t.shape}")
        batched = query.ndim == 3
        batch_axis = 0 if self.batch_first else 1
        if batched and not (query.shape[batch_axis] == key.shape[batch_axis] == value.shape[batch_axis]):
            raise ValueError(f"{name}: query, key and value batch sizes differ (shapes {query.shape}, "
                             f"{key.shape}, {value.shape})")
        seq_axis = -2 if not batched or self.batch_first else 0
        if key.shape[seq_axis] != value.shape[seq_axis]:
            raise ValueError(f"{name}: key and value must have the same length, got shapes {key.shape} "
                             f"and {value.shape}")
        param = self.out_proj.weight
        if query.dtype != param.dtype and not will_cast(query, param):
            raise TypeError(f"{name}: input dtype {query.dtype} differs from the parameters' dtype {param.dtype}")
        return batched

    def _score_mask(self, attn_mask, key_padding_mask, B: int, L: int, S: int, dtype, is_causal: bool):
        """One additive mask broadcastable to ``(B, heads, L, S)``, or None."""
        name, H = "MultiheadAttention", self.num_heads
        combined = None
        if attn_mask is None and is_causal:
            xp = array_module(self.out_proj.weight._data)
            attn_mask = constant(~xp.tril(xp.ones((L, S), dtype=bool)))
        if attn_mask is not None:
            attn_mask = as_tensor(attn_mask)
            if attn_mask.shape == (L, S):
                combined = _additive(attn_mask, dtype)
            elif attn_mask.shape == (B * H, L, S):
                combined = reshape(_additive(attn_mask, dtype), (B, H, L, S))
            else:
                raise ValueError(f"{name}: expected attn_mask of shape (L, S) = {(L, S)} or "
                                 f"(B * num_heads, L, S) = {(B * H, L, S)}, got shape {attn_mask.shape}")
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask)
            if key_padding_mask.shape != (B, S):
                raise ValueError(f"{name}: expected key_padding_mask of shape (B, S) = {(B, S)}, "
                                 f"got shape {key_padding_mask.shape}")
            padding = reshape(_additive(key_padding_mask, dtype), (B, 1, 1, S))
            combined = padding if combined is None else combined + padding
        return combined

    # ------------------------------------------------------------ forward
    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: ``(L, B, E)`` (``(B, L, E)`` with ``batch_first``) or unbatched ``(L, E)``.
            key, value: ``(S, B, kdim)`` and ``(S, B, vdim)`` in the same layout.
            key_padding_mask: ``(B, S)``; true (or ``-inf``) marks keys to ignore (padding).
            need_weights: also return the attention weights.
            attn_mask: ``(L, S)`` or ``(B * num_heads, L, S)``; true (or ``-inf``) forbids a pair.
            average_attn_weights: average the returned weights over heads.
            is_causal: with no ``attn_mask``, forbid attending to later positions.

        Returns:
            ``(output, weights)``: output shaped like ``query``; weights ``(B, L, S)``
            (``(B, heads, L, S)`` without averaging) or None.
        """
        query, key, value = (float_operand("MultiheadAttention", t) for t in (query, key, value))
        batched = self._check(query, key, value)
        if not batched:
            query, key, value = unsqueeze(query, 0), unsqueeze(key, 0), unsqueeze(value, 0)
            if key_padding_mask is not None:
                key_padding_mask = unsqueeze(as_tensor(key_padding_mask), 0)
        elif not self.batch_first:
            same_kv = key is value
            same = query is key and same_kv
            query = swapaxes(query, 0, 1)
            key = query if same else swapaxes(key, 0, 1)
            value = key if same_kv else swapaxes(value, 0, 1)
        B, L, E = query.shape
        H, D = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            k = concat([k, broadcast_to(self.bias_k, (B, 1, E))], axis=1)
            v = concat([v, broadcast_to(self.bias_v, (B, 1, E))], axis=1)
            attn_mask, key_padding_mask = _extend_masks(attn_mask, key_padding_mask)
        q, k, v = (swapaxes(reshape(t, (B, t.shape[1], H, D)), 1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            k, v = pad(k, ((0, 0), (0, 0), (0, 1), (0, 0))), pad(v, ((0, 0), (0, 0), (0, 1), (0, 0)))
            attn_mask, key_padding_mask = _extend_masks(attn_mask, key_padding_mask)
        S = k.shape[2]
        mask = self._score_mask(attn_mask, key_padding_mask, B, L, S, q.dtype, is_causal)
        p = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, return_weights=True)
        out = self.out_proj(reshape(swapaxes(out, 1, 2), (B, L, E)))
        if not batched:
            out = squeeze(out, 0)
        elif not self.batch_first:
            out = swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            weights = squeeze(weights, 0)
        return out, weights

    def extra_repr(self) -> str:
        extra = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            extra += f", dropout={self.dropout}"
        if self.batch_first:
            extra += ", batch_first=True"
        return extra


def _extend_masks(attn_mask, key_padding_mask):
    """Add one always-allowed key column to the masks (for ``bias_k``/``bias_v`` or a zero key)."""
    if attn_mask is not None:
        attn_mask = as_tensor(attn_mask)
        attn_mask = pad(attn_mask, ((0, 0),) * (attn_mask.ndim - 1) + ((0, 1),), value=False if
                        attn_mask.dtype.kind == "b" else 0.0)
    if key_padding_mask is not None:
        key_padding_mask = as_tensor(key_padding_mask)
        key_padding_mask = pad(key_padding_mask, ((0, 0), (0, 1)), value=False if
                               key_padding_mask.dtype.kind == "b" else 0.0)
    return attn_mask, key_padding_mask


class AdditiveAttention(Module):
    """Bahdanau (additive) attention: ``score(q, k_j) = v . tanh(W_q q + W_k k_j + b)``.

    The alignment model of Bahdanau, Cho and Bengio's encoder-decoder: the
    decoder state is the query, the encoder outputs are the keys (and values).

    Args:
        query_size: features of the query (decoder state).
        key_size: features of the keys (encoder outputs).
        hidden_size: width ``A`` of the alignment layer.

    Attributes:
        query_proj: ``Linear(query_size, A, bias=False)``.
        key_proj: ``Linear(key_size, A)``.
        score: ``Linear(A, 1, bias=False)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> attn = nn.AdditiveAttention(query_size=8, key_size=6, hidden_size=10)
        >>> keys = ember.randn(2, 7, 6)
        >>> context, weights = attn(ember.randn(2, 8), keys, mask=ember.ones(2, 7).bool())
        >>> context.shape, weights.shape
        ((2, 6), (2, 7))
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self.query_proj = Linear(query_size, hidden_size, bias=False, dtype=dtype, device=device)
        self.key_proj = Linear(key_size, hidden_size, dtype=dtype, device=device)
        self.score = Linear(hidden_size, 1, bias=False, dtype=dtype, device=device)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor | None = None, mask=None):
        """Return ``(context, weights)``; ``mask`` is ``(B, S)``, true on keys that may be attended."""
        return additive_attention(query, keys, keys if values is None else values, self.query_proj.weight,
                                  self.key_proj.weight, self.score.weight, self.key_proj.bias, mask=mask)
