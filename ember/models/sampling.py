"""Text generation for the zoo's language models: priming, temperature and top-k sampling.

Any model with a ``next_logits(tokens, state) -> (logits, state)`` method can be
sampled: it is called once with the priming ids ``(1, T)`` and ``state=None``,
then with each new id ``(1, 1)`` and the state it returned. :class:`CharRNN`'s
state is its LSTM ``(h, c)``; :class:`TinyGPT`'s is the window of recent ids.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, as_tensor

__all__ = ["generate", "sample", "sample_next"]


class _Codec(Protocol):
    def encode(self, text: str) -> np.ndarray: ...
    def decode(self, ids) -> str: ...


def sample_next(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                rng: np.random.Generator | None = None) -> int:
    """Draw one id from 1-D ``logits`` after dividing by ``temperature`` and keeping the ``top_k`` best.

    ``temperature=0`` picks the most likely id (greedy decoding).

    Example:
        >>> sample_next(np.array([0.0, 5.0, 1.0]), temperature=0)
        1
    """
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample_next: top_k must be >= 1, got {top_k}")
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits / temperature
    if top_k is not None and top_k < logits.size:
        threshold = np.partition(logits, -top_k)[-top_k]
        logits = np.where(logits < threshold, -np.inf, logits)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(probs.size, p=probs))


def generate(model, prime_ids, length: int, temperature: float = 1.0, top_k: int | None = None,
             seed: int | None = None) -> np.ndarray:
    """``length`` new ids continuing ``prime_ids`` (at least one id), one at a time.

    The model is put in eval mode for the call (dropout off) and restored afterwards.

    Example:
        >>> from ember.models import CharRNN
        >>> generate(CharRNN(5, hidden_size=8), [1, 2], length=4, seed=0).shape
        (4,)
    """
    prime = np.asarray(prime_ids, dtype=np.int64).reshape(-1)
    if prime.size == 0:
        raise ValueError("generate: prime_ids must hold at least one id")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    out = np.empty(int(length), dtype=np.int64)
    try:
        with no_grad():
            logits, state = model.next_logits(as_tensor(prime[None]), None)
            for i in range(int(length)):
                out[i] = sample_next(_row(logits), temperature, top_k, rng)
                logits, state = model.next_logits(as_tensor(out[i:i + 1][None]), state)
    finally:
        model.train(was_training)
    return out


def sample(model, codec: _Codec, prime: str = "\n", length: int = 500, temperature: float = 0.8,
           top_k: int | None = None, seed: int | None = None) -> str:
    """Text from a character (or word) model: ``prime`` followed by ``length`` sampled tokens.

    Args:
        model: a model with ``next_logits`` (:class:`CharRNN`, :class:`TinyGPT`).
        codec: what turns text into ids and back (a :class:`~ember.data.CharCorpus`).
        prime: the priming text (every character must be in the vocabulary).
        length: number of tokens to generate.
        temperature: below 1 sharper and more conservative, above 1 more random; 0 is greedy.
        top_k: sample only among the ``top_k`` most likely tokens.
        seed: seed of the sampler's own generator (the model's weights are not touched).

    Example:
        >>> from ember.data import CharCorpus
        >>> from ember.models import CharRNN
        >>> corpus = CharCorpus("to be or not to be", val_fraction=0.0)
        >>> text = sample(CharRNN(len(corpus.vocab), hidden_size=8), corpus, prime="to ", length=5, seed=0)
        >>> text.startswith("to "), len(text)
        (True, 8)
    """
    ids = codec.encode(prime)
    return prime + codec.decode(generate(model, ids, length, temperature, top_k, seed))


def _row(logits) -> np.ndarray:
    data = logits.numpy() if isinstance(logits, Tensor) else np.asarray(logits)
    return data.reshape(-1, data.shape[-1])[-1]
