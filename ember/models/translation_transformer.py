"""A small encoder-decoder Transformer for translation, over ``ember.nn.Transformer``.

Token embeddings scaled by ``sqrt(d_model)`` plus the fixed sinusoidal positions
(Vaswani et al.; the PyTorch "Language Translation with nn.Transformer" tutorial),
``nn.Transformer(batch_first=True)`` (post-norm, ReLU), and a linear generator.
Masks: the source padding mask (encoder self-attention and cross-attention), the
target padding mask and the causal mask in decoder self-attention.

It is a :class:`~ember.models.beam_search.StepModel`: the decoding state holds the
encoder memory and the prefix, and every step reruns the decoder over the prefix
(sentences are short, so the quadratic recomputation is cheaper than caches in Python).
:meth:`TranslationTransformer.cross_attention` returns the last decoder layer's
cross-attention averaged over heads (for heat maps). Train it with
:func:`ember.models.seq2seq.train_translation_epoch`.

Example:
    >>> import numpy as np
    >>> model = TranslationTransformer(20, 30, d_model=16, nhead=2, num_encoder_layers=1,
    ...                                num_decoder_layers=1, dim_feedforward=32)
    >>> model(np.array([[4, 5, 6], [7, 8, 0]]), np.array([3, 2]), np.array([[2, 9], [2, 10]])).shape
    (2, 2, 30)
"""
from __future__ import annotations

import math

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

from .seq2seq import _as_ids, _lengths

__all__ = ["TranslationTransformer"]


class TranslationTransformer(nn.Module):
    """Embeddings + sinusoidal positions + ``nn.Transformer`` + a linear generator.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout:
            as ``nn.Transformer`` (defaults: 256, 8, 3, 3, 512, 0.1; bentrevett's tutorial 6 sizes).
        max_len: longest source or target.
        pad_id: padding id of both vocabularies.

    ``forward(src (B, S), src_lengths (B,), tgt_in (B, T))`` returns logits ``(B, T, V)``.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 256, nhead: int = 8,
                 num_encoder_layers: int = 3, num_decoder_layers: int = 3, dim_feedforward: int = 512,
                 dropout: float = 0.1, max_len: int = 256, pad_id: int = 0) -> None:
        super().__init__()
        self.pad_id, self.d_model = int(pad_id), int(d_model)
        self.src_embedding = nn.Embedding(src_vocab, d_model)
        self.tgt_embedding = nn.Embedding(tgt_vocab, d_model)
        self.positions = nn.SinusoidalPositionalEncoding(d_model, max_len=max_len, dropout=dropout, batch_first=True)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def _embed(self, embedding: nn.Embedding, ids) -> Tensor:
        return self.positions(embedding(_as_ids(ids)) * math.sqrt(self.d_model))

    def _padding(self, ids) -> Tensor:
        return ember.tensor(np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids) == self.pad_id)

    def encode(self, src, src_lengths) -> tuple[Tensor, Tensor]:
        """``(memory (B, S, d), source padding mask (B, S), true on padding)``."""
        src = np.asarray(src.numpy() if isinstance(src, Tensor) else src)
        lengths = _lengths(src_lengths)
        padding = ember.tensor(np.arange(src.shape[1])[None, :] >= lengths[:, None])
        memory = self.transformer.encoder(self._embed(self.src_embedding, src), src_key_padding_mask=padding)
        return memory, padding

    def decode(self, memory: Tensor, src_padding: Tensor, tgt_in) -> Tensor:
        """The decoder's output ``(B, T, d_model)`` after each prefix of ``tgt_in`` (the generator's input)."""
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(np.shape(tgt_in)[1])
        return self.transformer.decoder(self._embed(self.tgt_embedding, tgt_in), memory, tgt_mask=tgt_mask,
                                        tgt_key_padding_mask=self._padding(tgt_in),
                                        memory_key_padding_mask=src_padding, tgt_is_causal=True)

    def features(self, src, src_lengths, tgt_in) -> Tensor:
        """The decoder's output ``(B, T, d_model)``, the generator's input (teacher forced)."""
        memory, padding = self.encode(src, src_lengths)
        return self.decode(memory, padding, tgt_in)

    def output_layer(self, features: Tensor) -> Tensor:
        """Logits of the next token from :meth:`features` (any leading shape)."""
        return self.generator(features)

    def forward(self, src, src_lengths, tgt_in) -> Tensor:
        """Teacher-forced logits ``(B, T, V)``."""
        return self.generator(self.features(src, src_lengths, tgt_in))

    def cross_attention(self, src, src_lengths, tgt_in) -> np.ndarray:
        """The last decoder layer's attention over the source, averaged over heads: ``(B, T, S)``.

        Reruns the decoder stack layer by layer and, in the last layer, the self-attention block and
        ``multihead_attn`` with ``need_weights=True`` (post-norm layers, as built here).
        """
        self.eval()
        with ember.no_grad():
            memory, padding = self.encode(src, src_lengths)
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(np.shape(tgt_in)[1])
            tgt_padding = self._padding(tgt_in)
            x = self._embed(self.tgt_embedding, tgt_in)
            layers = self.transformer.decoder.layers
            for layer in layers[:-1]:
                x = layer(x, memory, tgt_mask=tgt_mask, tgt_key_padding_mask=tgt_padding,
                          memory_key_padding_mask=padding, tgt_is_causal=True)
            last = layers[-1]
            x = last.norm1(x + last._sa_block(x, tgt_mask, tgt_padding, True))
            _, weights = last.multihead_attn(x, memory, memory, key_padding_mask=padding, need_weights=True)
        return weights.numpy()

    # ------------------------------------------------------------ StepModel
    def begin(self, src, src_lengths) -> dict:
        """Encode a batch for decoding (call under ``ember.no_grad()`` in eval mode)."""
        memory, padding = self.encode(src, src_lengths)
        return {"memory": memory, "padding": padding, "prefix": np.zeros((memory.shape[0], 0), dtype=np.int64)}

    def step(self, state: dict, tokens: np.ndarray) -> tuple[np.ndarray, dict]:
        """Append ``tokens`` to the prefix and return the next token's ``(N, V)`` log-probabilities."""
        prefix = np.concatenate([state["prefix"], np.asarray(tokens, dtype=np.int64)[:, None]], axis=1)
        # Only the last position's next-token distribution is needed: the generator runs on it alone.
        logits = self.generator(self.decode(state["memory"], state["padding"], prefix)[:, -1])
        return F.log_softmax(logits, dim=-1).numpy(), dict(state, prefix=prefix)

    def reorder(self, state: dict, rows: np.ndarray) -> dict:
        """Keep rows ``rows`` of the memory, its mask and the prefix."""
        rows = np.asarray(rows, dtype=np.int64)
        index = ember.tensor(rows)
        return {"memory": state["memory"][index], "padding": state["padding"][index], "prefix": state["prefix"][rows]}
