"""Greedy decoding and beam search on hand-built step models (ember.models.beam_search)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from ember.models.beam_search import beam_search, greedy_decode

EOS, A, B, BOS = 0, 1, 2, 3


class BigramTable:
    """log p(next | last token): a StepModel whose state is empty (only the last token matters)."""

    def __init__(self, probabilities: np.ndarray) -> None:
        self.logp = np.log(probabilities)

    def begin(self, src, src_lengths):
        return None

    def step(self, state, tokens):
        return self.logp[tokens], state

    def reorder(self, state, rows):
        return state


class SourceTable:
    """log p(next | source id, last token, step): random, different for every source (batched state)."""

    def __init__(self, vocab: int = 5, sources: int = 4, steps: int = 8, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(sources, max(vocab, BOS + 1), steps, vocab)) * 2.0  # a row for <bos>
        self.logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        self.steps = steps

    def begin(self, src, src_lengths):
        return {"src": src[:, 0].copy(), "t": 0}

    def step(self, state, tokens):
        t = min(state["t"], self.steps - 1)
        return self.logp[state["src"], tokens, t], {"src": state["src"], "t": state["t"] + 1}

    def reorder(self, state, rows):
        return {"src": state["src"][rows], "t": state["t"]}


def _trap() -> BigramTable:
    # After <bos>: a 0.5, b 0.4, <eos> 0.1. After a: a slightly ahead, a weak <eos>. After b: <eos> 0.9.
    p = np.zeros((4, 4))
    p[BOS] = [0.1, 0.5, 0.4, 0.0]
    p[A] = [0.28, 0.37, 0.35, 0.0]
    p[B] = [0.9, 0.05, 0.05, 0.0]
    p[EOS] = [1.0, 0.0, 0.0, 0.0]
    with np.errstate(divide="ignore"):
        return BigramTable(p)


def _normalised(model: BigramTable, tokens, alpha: float) -> float:
    sequence = [BOS, *tokens, EOS]
    total = sum(model.logp[a, b] for a, b in zip(sequence, sequence[1:]))
    return total / (len(tokens) + 1) ** alpha


def test_beam_finds_the_best_sequence_where_greedy_does_not():
    model = _trap()
    src, lengths = np.zeros((1, 1), dtype=np.int64), np.array([1])
    # The best sequence by length-normalised score, by brute force over every output up to 5 tokens.
    outputs = [list(t) for n in range(6) for t in itertools.product((A, B), repeat=n)]
    best = max(outputs, key=lambda t: _normalised(model, t, 1.0))
    assert best == [B]
    assert greedy_decode(model, src, lengths, BOS, EOS, max_len=6) == [[A] * 6]  # never reaches <eos>
    assert beam_search(model, src, lengths, BOS, EOS, beam_size=2, max_len=6) == [best]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_size_one_equals_greedy(seed):
    model = SourceTable(seed=seed)
    src = np.array([[0, 1], [1, 0], [2, 2], [3, 0], [1, 1]])
    lengths = np.array([2, 1, 2, 1, 2])
    greedy = greedy_decode(model, src, lengths, BOS, EOS, max_len=8)
    assert beam_search(model, src, lengths, BOS, EOS, beam_size=1, max_len=8) == greedy
    assert any(len(g) > 0 for g in greedy)


def test_batched_beam_search_equals_one_sentence_at_a_time():
    model = SourceTable(seed=3)
    src = np.array([[0], [1], [2], [3]])
    lengths = np.ones(4, dtype=np.int64)
    together = beam_search(model, src, lengths, BOS, EOS, beam_size=3, max_len=7)
    alone = [beam_search(model, src[i:i + 1], lengths[i:i + 1], BOS, EOS, beam_size=3, max_len=7)[0]
             for i in range(4)]
    assert together == alone


def test_wide_beam_finds_the_exhaustive_optimum_of_a_small_table():
    # With beam_size >= the number of live prefixes, beam search is exhaustive up to max_len:
    # outputs ended by <eos> within max_len steps, or cut at max_len (scored without <eos>).
    model = SourceTable(vocab=3, steps=4, seed=5)
    src, lengths = np.array([[1]]), np.array([1])
    max_len = 4
    found = beam_search(model, src, lengths, BOS, EOS, beam_size=16, max_len=max_len, length_penalty=1.0)[0]

    def score(tokens):
        ended = len(tokens) < max_len
        state, total, last = model.begin(src, lengths), 0.0, BOS
        for token in [*tokens, EOS] if ended else tokens:
            logp, state = model.step(state, np.array([last]))
            total += logp[0, token]
            last = token
        return total / (len(tokens) + ended)

    candidates = [list(t) for n in range(max_len + 1) for t in itertools.product((1, 2), repeat=n)]
    assert score(found) == pytest.approx(max(score(c) for c in candidates))


def test_length_penalty_zero_prefers_the_short_output():
    model = _trap()
    src, lengths = np.zeros((1, 1), dtype=np.int64), np.array([1])
    p = np.exp(model.logp)
    p[BOS] = [0.3, 0.05, 0.65, 0.0]       # "<eos>": log 0.3 = -1.20
    p[B] = [0.4, 0.3, 0.3, 0.0]           # "b <eos>": log 0.26 = -1.35 in all, -0.67 per token
    with np.errstate(divide="ignore"):
        model = BigramTable(p)
    assert beam_search(model, src, lengths, BOS, EOS, beam_size=3, max_len=4, length_penalty=0.0) == [[]]
    assert beam_search(model, src, lengths, BOS, EOS, beam_size=3, max_len=4, length_penalty=1.0) == [[B]]


def test_errors_name_the_decoder():
    model = _trap()
    with pytest.raises(ValueError, match="beam_search: beam_size must be at least 1"):
        beam_search(model, np.zeros((1, 1), int), np.array([1]), BOS, EOS, beam_size=0)
    with pytest.raises(ValueError, match=r"greedy_decode: expected src \(N, S\)"):
        greedy_decode(model, np.zeros(3, int), np.array([1]), BOS, EOS)
