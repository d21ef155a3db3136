"""Encoder-decoder translation with attention (Bahdanau, Cho & Bengio 2015), and the training helpers
shared by the translation models.

:class:`AttentionSeq2Seq` is the model of bentrevett's "Neural Machine Translation by
Jointly Learning to Align and Translate" tutorial:

* encoder: embedding (dropout), a bidirectional GRU over the padded source
  (``lengths=`` so padding never enters the states); the decoder's first state is
  ``tanh(W [h_fwd; h_bwd])`` of the two directions' final states;
* attention (:class:`BahdanauAttention`): ``e_tj = v . tanh(W_s s_{t-1} + W_h h_j + b)``,
  softmax over the source positions with the **padding masked out**;
* decoder: a GRU cell reading ``[embedding(y_{t-1}); context_t]``, and a prediction
  ``Linear([s_t; context_t; embedding(y_{t-1})])``.

Training is teacher forced: the source-side projection ``W_h h_j + b`` is computed once
per batch, the recurrent loop only does the per-step work, and the output layer runs as
one GEMM over every step afterwards.

:func:`train_translation_epoch`, :func:`evaluate_translation_loss` and
:func:`translate` serve any model with ``forward(src, src_lengths, tgt_in) -> logits``
and the :class:`~ember.models.beam_search.StepModel` methods (this one and
:class:`~ember.models.translation_transformer.TranslationTransformer`).

Example:
    >>> import numpy as np, ember
    >>> model = AttentionSeq2Seq(20, 30, emb_dim=8, enc_hidden=6, dec_hidden=7)
    >>> src = ember.tensor(np.array([[4, 5, 6], [7, 8, 0]]))
    >>> logits, weights = model(src, np.array([3, 2]), ember.tensor(np.array([[2, 9], [2, 10]])),
    ...                         return_attention=True)
    >>> logits.shape, weights.shape, float(weights.numpy()[1, :, 2].max())   # padding gets no weight
    ((2, 2, 30), (2, 2, 3), 0.0)
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

from .beam_search import beam_search, greedy_decode

__all__ = ["BahdanauAttention", "AttentionSeq2Seq", "translation_loss", "train_translation_epoch",
           "evaluate_translation_loss", "translate"]


def _as_ids(x) -> Tensor:
    return x if isinstance(x, Tensor) else ember.tensor(np.asarray(x, dtype=np.int64))


def _lengths(x) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x, dtype=np.int64)


class BahdanauAttention(nn.Module):
    """Additive attention with the keys' projection computed once per source batch.

    ``score(s, h_j) = v . tanh(W_s s + W_h h_j + b)``; positions where ``mask`` is false
    (padding) get weight exactly 0. :meth:`project_keys` runs once per batch, then
    :meth:`forward` once per decoder step.

    Args:
        query_size: decoder state width; key_size: encoder output width; hidden_size: ``A``.

    Example:
        >>> import ember
        >>> attn = BahdanauAttention(4, 6, 5)
        >>> keys = ember.randn(2, 3, 6)
        >>> ctx, w = attn(ember.randn(2, 4), attn.project_keys(keys), keys, ember.tensor([[1, 1, 0], [1, 1, 1]]).bool())
        >>> ctx.shape, w.shape, float(w.numpy()[0, 2])
        ((2, 6), (2, 3), 0.0)
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)
        self.key_proj = nn.Linear(key_size, hidden_size)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        """``W_h h_j + b`` for every source position: ``(B, S, A)``."""
        return self.key_proj(keys)

    def forward(self, query: Tensor, projected_keys: Tensor, values: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """``(context (B, Dv), weights (B, S))`` for a ``(B, Dq)`` query; ``mask (B, S)`` true on real tokens."""
        energy = ember.tanh(projected_keys + self.query_proj(query).unsqueeze(1))   # (B, S, A)
        scores = self.v(energy).squeeze(-1).masked_fill(~mask, -math.inf)        # (B, S)
        weights = F.softmax(scores, dim=-1)
        context = ember.bmm(weights.unsqueeze(1), values).squeeze(1)
        return context, weights


class AttentionSeq2Seq(nn.Module):
    """Bidirectional-GRU encoder, Bahdanau attention, GRU decoder (bentrevett's tutorial 3 model).

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        emb_dim: both embeddings' width (tutorial: 256).
        enc_hidden: each encoder direction's width (512); dec_hidden: the decoder's (512).
        dropout: on both embeddings (0.5).
        pad_id: the padding id of both vocabularies (masked in attention, ignored in the loss).

    ``forward(src (B, S), src_lengths (B,), tgt_in (B, T))`` returns logits ``(B, T, V)``
    (and the attention ``(B, T, S)`` with ``return_attention=True``); the decoding
    methods :meth:`begin`, :meth:`step`, :meth:`reorder` make it a
    :class:`~ember.models.beam_search.StepModel`.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb_dim: int = 256, enc_hidden: int = 512,
                 dec_hidden: int = 512, dropout: float = 0.5, pad_id: int = 0) -> None:
        super().__init__()
        self.pad_id, self.tgt_vocab = int(pad_id), int(tgt_vocab)
        self.src_embedding = nn.Embedding(src_vocab, emb_dim)
        self.encoder = nn.GRU(emb_dim, enc_hidden, bidirectional=True, batch_first=True)
        self.bridge = nn.Linear(2 * enc_hidden, dec_hidden)
        self.attention = BahdanauAttention(dec_hidden, 2 * enc_hidden, dec_hidden)
        self.tgt_embedding = nn.Embedding(tgt_vocab, emb_dim)
        self.decoder = nn.GRUCell(emb_dim + 2 * enc_hidden, dec_hidden)
        self.out = nn.Linear(dec_hidden + 2 * enc_hidden + emb_dim, tgt_vocab)
        self.dropout = nn.Dropout(dropout)

    def encode(self, src, src_lengths) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(outputs (B, S, 2He), projected keys (B, S, A), mask (B, S), first decoder state (B, Hd))``."""
        src = _as_ids(src)
        lengths = _lengths(src_lengths)
        embedded = self.dropout(self.src_embedding(src))
        outputs, h_n = self.encoder(embedded, lengths=lengths)
        state = ember.tanh(self.bridge(ember.cat([h_n[0], h_n[1]], dim=1)))
        mask = ember.tensor(np.arange(src.shape[1])[None, :] < lengths[:, None])
        return outputs, self.attention.project_keys(outputs), mask, state

    def features(self, src, src_lengths, tgt_in) -> tuple[Tensor, Tensor]:
        """The output layer's inputs ``[s_t; context_t; embedding(y_{t-1})]`` ``(B, T, F)`` and the attention."""
        outputs, keys, mask, state = self.encode(src, src_lengths)
        embedded = self.dropout(self.tgt_embedding(_as_ids(tgt_in)))            # (B, T, E)
        states, contexts, weights = [], [], []
        for t in range(embedded.shape[1]):
            context, w = self.attention(state, keys, outputs, mask)
            state = self.decoder(ember.cat([embedded[:, t], context], dim=1), state)
            states.append(state)
            contexts.append(context)
            weights.append(w)
        features = ember.cat([ember.stack(states, dim=1), ember.stack(contexts, dim=1), embedded], dim=2)
        return features, ember.stack(weights, dim=1)

    def output_layer(self, features: Tensor) -> Tensor:
        """Logits of the next token from :meth:`features` (any leading shape)."""
        return self.out(features)

    def forward(self, src, src_lengths, tgt_in, return_attention: bool = False):
        """Teacher-forced logits ``(B, T, V)`` of the next tokens of ``tgt_in`` (``<bos> y_1 ...``)."""
        features, weights = self.features(src, src_lengths, tgt_in)
        logits = self.out(features)
        return (logits, weights) if return_attention else logits

    # ------------------------------------------------------------ StepModel
    def begin(self, src, src_lengths) -> dict:
        """Encode a batch for decoding (call under ``ember.no_grad()`` in eval mode)."""
        outputs, keys, mask, state = self.encode(src, src_lengths)
        return {"outputs": outputs, "keys": keys, "mask": mask, "state": state, "attention": None}

    def step(self, state: dict, tokens: np.ndarray) -> tuple[np.ndarray, dict]:
        """One decoder step: ``(N, V)`` log-probabilities; the state keeps the step's attention."""
        embedded = self.dropout(self.tgt_embedding(_as_ids(tokens)))
        context, w = self.attention(state["state"], state["keys"], state["outputs"], state["mask"])
        hidden = self.decoder(ember.cat([embedded, context], dim=1), state["state"])
        logits = self.out(ember.cat([hidden, context, embedded], dim=1))
        return F.log_softmax(logits, dim=-1).numpy(), dict(state, state=hidden, attention=w)

    def reorder(self, state: dict, rows: np.ndarray) -> dict:
        """Keep rows ``rows`` of every tensor of the state."""
        index = ember.tensor(np.asarray(rows, dtype=np.int64))
        return {k: (v[index] if isinstance(v, Tensor) else v) for k, v in state.items()}


# ------------------------------------------------------------------ training helpers
def translation_loss(model: nn.Module, src, src_lengths, tgt, pad_id: int = 0) -> Tensor:
    """Mean cross-entropy of predicting ``tgt[:, 1:]`` from ``tgt[:, :-1]`` (padding ignored).

    Models with ``features`` and ``output_layer`` (both here) run the vocabulary-wide output layer
    and softmax on the real target positions only: after bucketing about a fifth of the target
    cells of a Multi30k batch are padding, and that layer is the costliest part of a step.
    """
    tgt = np.asarray(tgt)
    target = np.ascontiguousarray(tgt[:, 1:]).reshape(-1)
    if not (hasattr(model, "features") and hasattr(model, "output_layer")):
        logits = model(src, src_lengths, tgt[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ember.tensor(target), ignore_index=pad_id)
    features = model.features(src, src_lengths, tgt[:, :-1])
    features = features[0] if isinstance(features, tuple) else features
    rows = np.flatnonzero(target != pad_id)
    logits = model.output_layer(features.reshape(-1, features.shape[-1])[ember.tensor(rows)])
    return F.cross_entropy(logits, ember.tensor(target[rows]))


def train_translation_epoch(model: nn.Module, batches: Iterable, optimizer, clip: float = 1.0, pad_id: int = 0,
                            log: Optional[Callable[[str], None]] = None, log_every: int = 50,
                            max_steps: Optional[int] = None) -> float:
    """One pass of ``batches`` (:class:`~ember.data.datasets.translation.TranslationBatch`); returns the mean loss.

    Gradients are clipped to norm ``clip``; every ``log_every`` steps ``log`` gets a
    progress line with the running loss and the elapsed seconds.
    """
    model.train()
    total, count, start = 0.0, 0, time.perf_counter()
    for step, batch in enumerate(batches, 1):
        loss = translation_loss(model, batch.src, batch.src_lengths, batch.tgt, pad_id)
        optimizer.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += float(loss.item())
        count += 1
        if log is not None and step % log_every == 0:
            log(f"  step {step}: loss {total / count:.3f} ({time.perf_counter() - start:.0f}s)")
        if max_steps is not None and step >= max_steps:
            break
    return total / max(count, 1)


def evaluate_translation_loss(model: nn.Module, batches: Iterable, pad_id: int = 0) -> float:
    """Mean cross-entropy per target token over ``batches`` (eval mode, no gradients)."""
    model.eval()
    total, tokens = 0.0, 0
    with ember.no_grad():
        for batch in batches:
            n = int((np.asarray(batch.tgt)[:, 1:] != pad_id).sum())
            total += float(translation_loss(model, batch.src, batch.src_lengths, batch.tgt, pad_id).item()) * n
            tokens += n
    return total / max(tokens, 1)


def translate(model: nn.Module, sources: Sequence[np.ndarray], bos_id: int = 2, eos_id: int = 3,
              pad_id: int = 0, beam_size: int = 1, batch_size: int = 128, max_len: int = 60,
              length_penalty: float = 1.0, src_eos: bool = True) -> List[List[int]]:
    """Decode every source (id arrays, no padding) greedily (``beam_size=1``) or by beam search.

    Sources are decoded in batches of similar length (sorted), results returned in the input order.
    ``src_eos`` appends ``<eos>`` to each source, as in training with ``bucket_batches(src_eos=True)``.
    """
    from ember.data.datasets.translation import pad_sequences

    model.eval()
    order = np.argsort([len(s) for s in sources], kind="stable")
    results: List[List[int]] = [[] for _ in sources]
    with ember.no_grad():
        for i in range(0, len(order), batch_size):
            index = order[i:i + batch_size]
            src, lengths = pad_sequences([sources[j] for j in index], pad_id, eos_id=eos_id if src_eos else None)
            if beam_size == 1:
                decoded = greedy_decode(model, src, lengths, bos_id, eos_id, max_len)
            else:
                decoded = beam_search(model, src, lengths, bos_id, eos_id, beam_size, max_len, length_penalty)
            for j, tokens in zip(index, decoded):
                results[j] = tokens
    return results
