"""Transformer layers and stacks with PyTorch's structure, names and defaults.

``TransformerEncoderLayer`` and ``TransformerDecoderLayer`` come in the
original post-norm form (``x = norm(x + sublayer(x))``) and the pre-norm form
(``norm_first=True``: ``x = x + sublayer(norm(x))``, GPT-2's), with the
submodule names of ``torch.nn`` (``self_attn``, ``linear1``, ``norm1``,
``dropout1`` ...) so that state dicts are interchangeable. The stacks copy the
given layer ``num_layers`` times, as PyTorch does.

Example:
    >>> import ember, ember.nn as nn
    >>> layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True)
    >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(ember.randn(2, 10, 32), is_causal=True).shape
    (2, 10, 32)
"""
from __future__ import annotations

import copy
from typing import Callable

from ...functional.activation import gelu, relu
from ...functional.attention import causal_mask
from ...tensor import Tensor, constant
from .. import init
from ..containers import ModuleList
from ..module import Module
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .norm import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
           "Transformer"]


def _activation(name: str, activation) -> Callable:
    if callable(activation):
        return activation
    table = {"relu": relu, "gelu": gelu}
    if activation not in table:
        raise ValueError(f"{name}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return table[activation]


class _SublayersBase(Module):
    """What the encoder and decoder layers share: PyTorch's submodule names and order, and the blocks.

    The decoder adds ``multihead_attn`` (attention over the encoder's memory),
    ``norm3`` and ``dropout3``; the feed-forward block's last dropout is then
    ``dropout3`` rather than ``dropout2``.
    """

    #: The dropout on the feed-forward block's residual branch (PyTorch's numbering).
    _ff_dropout = "dropout2"

    def _build(self, cross_attention: bool, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
               batch_first, norm_first, bias, dtype, device) -> None:
        kw = {"dtype": dtype, "device": device}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        if cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        if cross_attention:
            self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if cross_attention:
            self.dropout3 = Dropout(dropout)
        self.activation = _activation(type(self).__name__, activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return getattr(self, self._ff_dropout)(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_SublayersBase):
    """Self-attention then a feed-forward block, each with a residual connection and layer norm.

    Args:
        d_model: model width.
        nhead: attention heads.
        dim_feedforward: width of the feed-forward block.
        dropout: dropout after attention weights, inside the feed-forward block and on both residual branches.
        activation: ``'relu'``, ``'gelu'`` or a callable.
        layer_norm_eps: the norms' epsilon.
        batch_first: ``(B, T, E)`` instead of ``(T, B, E)``.
        norm_first: pre-norm (``x + f(norm(x))``) instead of post-norm (``norm(x + f(x))``).
        bias: biases in the linear layers and the norms.

    Example:
        >>> import ember, ember.nn as nn
        >>> layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, norm_first=True, activation="gelu")
        >>> layer(ember.randn(5, 3, 16)).shape
        (5, 3, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self._build(False, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                    norm_first, bias, dtype, device)

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        """Encode ``src``; masks follow :class:`MultiheadAttention` (true = masked out)."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_SublayersBase):
    """Masked self-attention, attention over the encoder's ``memory``, then a feed-forward block.

    Arguments as in :class:`TransformerEncoderLayer`.

    Example:
        >>> import ember, ember.nn as nn
        >>> layer = nn.TransformerDecoderLayer(16, 2, dim_feedforward=32, batch_first=True)
        >>> layer(ember.randn(3, 4, 16), ember.randn(3, 7, 16), tgt_is_causal=True).shape
        (3, 4, 16)
    """

    _ff_dropout = "dropout3"

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self._build(True, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                    norm_first, bias, dtype, device)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """Decode ``tgt`` attending to ``memory``; masks follow :class:`MultiheadAttention`."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)


def _clones(module: Module, n: int) -> ModuleList:
    if int(n) < 1:
        raise ValueError(f"{type(module).__name__} stack: num_layers must be at least 1, got {n}")
    return ModuleList([copy.deepcopy(module) for _ in range(int(n))])


class TransformerEncoder(Module):
    """``num_layers`` copies of an encoder layer, then an optional final ``norm``.

    Example:
        >>> import ember, ember.nn as nn
        >>> enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), num_layers=3, norm=nn.LayerNorm(8))
        >>> len(enc.layers), enc(ember.randn(4, 2, 8)).shape
        (3, (4, 2, 8))
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None, is_causal: bool = False) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` copies of a decoder layer, then an optional final ``norm``.

    Example:
        >>> import ember, ember.nn as nn
        >>> dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), num_layers=2)
        >>> dec(ember.randn(4, 2, 8), ember.randn(6, 2, 8)).shape
        (4, 2, 8)
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder transformer of "Attention is all you need" (PyTorch's ``nn.Transformer``).

    Every parameter with more than one dimension starts Xavier-uniform, as in PyTorch.

    Example:
        >>> import ember, ember.nn as nn
        >>> model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
        ...                        dim_feedforward=32, batch_first=True)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(5)
        >>> model(ember.randn(2, 7, 16), ember.randn(2, 5, 16), tgt_mask=tgt_mask).shape
        (2, 5, 16)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        kw = {"dtype": dtype, "device": device}
        layer_kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                        layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                        **kw)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **layer_kw), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **layer_kw), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.d_model, self.nhead, self.batch_first = int(d_model), int(nhead), bool(batch_first)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                src_is_causal: bool = False, tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ValueError(f"Transformer: src and tgt batch sizes differ (shapes {src.shape} and {tgt.shape})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: expected src and tgt with last dimension {self.d_model}, got shapes "
                             f"{src.shape} and {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(size: int, dtype=None) -> Tensor:
        """A float ``(size, size)`` mask with ``-inf`` above the diagonal and 0 elsewhere (PyTorch's).

        Example:
            >>> import ember.nn as nn
            >>> nn.Transformer.generate_square_subsequent_mask(2).tolist()
            [[0.0, -inf], [0.0, 0.0]]
        """
        from ...backend import array_module, default_dtype

        allowed = causal_mask(size)._data
        xp = array_module(allowed)
        return constant(xp.where(allowed, 0.0, -xp.inf).astype(dtype or default_dtype()))
