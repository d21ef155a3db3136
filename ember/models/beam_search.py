"""Greedy decoding and beam search for any sequence model with a small step interface.

A model is decoded through three methods (the :class:`StepModel` protocol):

* ``begin(src, src_lengths) -> state``: encode a batch of ``N`` padded sources;
* ``step(state, tokens) -> (log_probs, state)``: feed each row's last token
  (``(N,)`` ints) and get ``(N, V)`` log-probabilities of the next one (a NumPy array);
* ``reorder(state, rows) -> state``: keep, copy and permute rows of the state
  (``rows`` indexes the current rows), which is how beams are expanded and pruned.

The state is opaque to this module (a GRU keeps its hidden state and the encoder's
outputs, a transformer its memory and the prefix decoded so far). Both decoders run
the whole batch at once; beam search keeps ``N * beam_size`` rows.

Beam search follows fairseq's bookkeeping: at each step the ``2 * beam_size`` best
continuations of every sentence are ranked; those ending in ``<eos>`` among the first
``beam_size`` become finished hypotheses scored with length normalisation
``sum(log p) / len ** length_penalty`` (``len`` counts the ``<eos>``), the first
``beam_size`` others stay on the beam. A sentence is done when it holds
``beam_size`` finished hypotheses; at ``max_len`` the live beams are finished as they
are. With ``beam_size=1`` this is exactly greedy decoding.

Example:
    >>> import numpy as np
    >>> class Table:                     # a bigram table, log p(next | last); <eos> = 0, <bos> = 2
    ...     logp = np.log(np.array([[0.1, 0.6, 0.3], [0.8, 0.1, 0.1], [0.2, 0.5, 0.3]]))
    ...     def begin(self, src, src_lengths): return None
    ...     def step(self, state, tokens): return self.logp[tokens], state
    ...     def reorder(self, state, rows): return state
    >>> greedy_decode(Table(), np.zeros((1, 1), int), np.array([1]), bos_id=2, eos_id=0)
    [[1]]
    >>> beam_search(Table(), np.zeros((1, 1), int), np.array([1]), bos_id=2, eos_id=0, beam_size=2)
    [[1]]
"""
from __future__ import annotations

from typing import Any, List, Protocol

import numpy as np

__all__ = ["StepModel", "greedy_decode", "beam_search"]


class StepModel(Protocol):
    """What :func:`greedy_decode` and :func:`beam_search` need from a model (see the module docstring)."""

    def begin(self, src: np.ndarray, src_lengths: np.ndarray) -> Any:
        """Encode ``(N, S)`` padded sources; return the decoding state of ``N`` rows."""

    def step(self, state: Any, tokens: np.ndarray) -> tuple[np.ndarray, Any]:
        """Feed ``(N,)`` last tokens; return ``(N, V)`` next-token log-probabilities and the new state."""

    def reorder(self, state: Any, rows: np.ndarray) -> Any:
        """The state whose row ``i`` is row ``rows[i]`` of ``state``."""


def _check(name: str, src: np.ndarray, src_lengths: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    src, src_lengths = np.asarray(src), np.asarray(src_lengths)
    if src.ndim != 2 or src_lengths.shape != (src.shape[0],):
        raise ValueError(f"{name}: expected src (N, S) and src_lengths (N,), got shapes {src.shape} and "
                         f"{src_lengths.shape}")
    if max_len < 1:
        raise ValueError(f"{name}: max_len must be at least 1, got {max_len}")
    return src, src_lengths


def _strip(tokens: np.ndarray, eos_id: int) -> List[int]:
    """The tokens before the first ``<eos>``."""
    ends = np.flatnonzero(tokens == eos_id)
    return tokens[:ends[0] if ends.size else len(tokens)].tolist()


def greedy_decode(model: StepModel, src: np.ndarray, src_lengths: np.ndarray, bos_id: int, eos_id: int,
                  max_len: int = 50) -> List[List[int]]:
    """The most probable next token at every step, for a batch of sources.

    Args:
        model: a :class:`StepModel`.
        src: ``(N, S)`` padded source ids; ``src_lengths``: ``(N,)`` their lengths.
        bos_id, eos_id: the target's start and end tokens.
        max_len: most tokens generated per sentence (including ``<eos>``).

    Returns:
        ``N`` lists of target ids, without ``<bos>`` and ``<eos>``.
    """
    src, src_lengths = _check("greedy_decode", src, src_lengths, max_len)
    n = src.shape[0]
    state = model.begin(src, src_lengths)
    last = np.full(n, bos_id, dtype=np.int64)
    out = np.full((n, max_len), eos_id, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    for t in range(max_len):
        log_probs, state = model.step(state, last)
        last = np.asarray(log_probs).argmax(axis=1).astype(np.int64)
        last[done] = eos_id
        out[:, t] = last
        done |= last == eos_id
        if done.all():
            break
    return [_strip(row, eos_id) for row in out]


def beam_search(model: StepModel, src: np.ndarray, src_lengths: np.ndarray, bos_id: int, eos_id: int,
                beam_size: int = 5, max_len: int = 50, length_penalty: float = 1.0) -> List[List[int]]:
    """Beam search with length normalisation, for a batch of sources.

    Args:
        model, src, src_lengths, bos_id, eos_id, max_len: as :func:`greedy_decode`.
        beam_size: hypotheses kept per sentence.
        length_penalty: exponent ``a`` of the normalisation ``score / len ** a``
            (0: raw log-probability, which favours short outputs; 1: mean log-probability).

    Returns:
        ``N`` lists of target ids (the best finished hypothesis of each sentence), without
        ``<bos>`` and ``<eos>``.

    Example:
        >>> import numpy as np
        >>> class Uniform:
        ...     def begin(self, src, n): return None
        ...     def step(self, state, tokens): return np.log(np.full((len(tokens), 4), 0.25)), state
        ...     def reorder(self, state, rows): return state
        >>> len(beam_search(Uniform(), np.zeros((3, 2), int), np.array([2, 2, 1]), 1, 0, max_len=4))
        3
    """
    src, src_lengths = _check("beam_search", src, src_lengths, max_len)
    if beam_size < 1:
        raise ValueError(f"beam_search: beam_size must be at least 1, got {beam_size}")
    n, k = src.shape[0], int(beam_size)
    state = model.begin(src, src_lengths)
    # Row b * k + j is beam j of sentence b; at the start only beam 0 is live (the others
    # are copies at -inf, so the first step's k best continuations all come from beam 0).
    state = model.reorder(state, np.repeat(np.arange(n), k))
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0
    prefix = np.zeros((n * k, 0), dtype=np.int64)
    last = np.full(n * k, bos_id, dtype=np.int64)
    finished: List[List[tuple[float, np.ndarray]]] = [[] for _ in range(n)]
    active = np.ones(n, dtype=bool)
    for t in range(max_len):
        log_probs, state = model.step(state, last)
        log_probs = np.asarray(log_probs, dtype=np.float64)
        vocab = log_probs.shape[1]
        total = (scores.reshape(n * k, 1) + log_probs).reshape(n, k * vocab)
        width = min(2 * k, k * vocab)
        best = np.argpartition(-total, width - 1, axis=1)[:, :width]
        best = np.take_along_axis(best, np.argsort(-np.take_along_axis(total, best, axis=1), axis=1,
                                                   kind="stable"), axis=1)
        cand_scores = np.take_along_axis(total, best, axis=1)
        cand_beam, cand_token = best // vocab, best % vocab
        rows = np.zeros(n * k, dtype=np.int64)
        new_scores = np.full((n, k), -np.inf)
        new_last = np.full(n * k, eos_id, dtype=np.int64)
        length = t + 1
        # Python bookkeeping over at most 2k candidates per sentence: cheap next to the model's step.
        for b in range(n):
            kept = 0
            if active[b]:
                for rank in range(width):
                    score, beam, token = cand_scores[b, rank], cand_beam[b, rank], cand_token[b, rank]
                    if not np.isfinite(score):
                        break
                    if token == eos_id:
                        if rank < k:
                            finished[b].append((score / length ** length_penalty, prefix[b * k + beam]))
                        continue
                    if kept < k:
                        rows[b * k + kept] = b * k + beam
                        new_scores[b, kept] = score
                        new_last[b * k + kept] = token
                        kept += 1
                if len(finished[b]) >= k or kept == 0:
                    active[b] = False
            for j in range(kept, k):  # empty slots copy a live row at -inf (never chosen again)
                rows[b * k + j] = b * k
        prefix = np.concatenate([prefix[rows], new_last[:, None]], axis=1)
        scores, last = new_scores, new_last
        if not active.any():
            break
        state = model.reorder(state, rows)
    # Sentences still live at max_len: their beams end here.
    length = prefix.shape[1]
    for b in np.flatnonzero(active):
        for j in range(k):
            if np.isfinite(scores[b, j]):
                finished[b].append((scores[b, j] / length ** length_penalty, prefix[b * k + j]))
    results = []
    for b in range(n):
        if not finished[b]:
            results.append([])
            continue
        _, tokens = max(finished[b], key=lambda item: item[0])
        results.append(_strip(np.asarray(tokens), eos_id))
    return results
