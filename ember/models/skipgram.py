"""Skip-gram with negative sampling (word2vec; Mikolov, Sutskever, Chen, Corrado, Dean 2013).

"Distributed Representations of Words and Phrases and their Compositionality"
(arXiv:1310.4546). Every (center, context) pair within a window is a positive
example; ``negative`` words drawn from the unigram distribution raised to 3/4 are
negatives. The loss of one pair is

    -log sigma(u_ctx . v_center) - sum_k log sigma(-u_k . v_center)

with ``v`` the input ("word") vectors and ``u`` the output ("context") vectors.
As in the C code (and gensim):

* the window of each center word is drawn uniformly from ``1 .. window``
  (nearer words are sampled more often);
* frequent words are discarded before the windows are formed, keeping a word of
  frequency ``f`` with probability ``(sqrt(f / (t * N)) + 1) * t * N / f`` (the
  C code's form of the paper's ``1 - sqrt(t / f)``), ``t = sample``;
* input vectors start uniform in ``+-0.5 / dim``, output vectors at zero;
* plain SGD on the loss *summed* over a minibatch (word2vec's per-pair update,
  applied for a batch at once), the rate falling linearly from ``lr`` to
  ``lr * 1e-4`` over training.

The model is an :class:`ember.nn.Module` trained with Ember's autograd; the
sampling (windows, subsampling, negatives) is vectorised NumPy.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import Tensor, as_tensor

__all__ = ["SkipGram", "SkipGramConfig", "noise_distribution", "keep_probabilities",
           "skipgram_pairs", "train_skipgram", "nearest_neighbours"]


class SkipGram(nn.Module):
    """Word and context embedding tables of skip-gram with negative sampling.

    Args:
        vocab_size: Number of words.
        dim: Vector width.

    Example:
        >>> import ember
        >>> model = SkipGram(10, 4)
        >>> loss = model(ember.tensor([1, 2]), ember.tensor([3, 4]), ember.tensor([[5, 6], [7, 8]]))
        >>> round(float(loss.numpy()), 4)  # output vectors start at 0: each term is log 2
        4.1589
    """

    def __init__(self, vocab_size: int, dim: int = 100) -> None:
        super().__init__()
        if vocab_size < 1 or dim < 1:
            raise ValueError(f"SkipGram: vocab_size and dim must be >= 1, got {vocab_size}, {dim}")
        self.vocab_size, self.dim = vocab_size, dim
        self.in_embed = nn.Embedding(vocab_size, dim)
        self.out_embed = nn.Embedding(vocab_size, dim)
        with no_grad():
            self.in_embed.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.out_embed.weight.zero_()

    def forward(self, center: Tensor, context: Tensor, negatives: Tensor) -> Tensor:
        """Summed SGNS loss of ``B`` pairs: ``center``, ``context`` ``(B,)``, ``negatives`` ``(B, K)``."""
        v = self.in_embed(center)                                # (B, D)
        u = self.out_embed(context)                              # (B, D)
        u_neg = self.out_embed(negatives)                        # (B, K, D)
        positive = F.logsigmoid((u * v).sum(dim=1))
        negative = F.logsigmoid(-(u_neg * v.unsqueeze(1)).sum(dim=2)).sum(dim=1)
        return -(positive + negative).sum()

    def vectors(self) -> np.ndarray:
        """The input ("word") vectors ``(vocab_size, dim)``, the embedding word2vec saves."""
        return self.in_embed.weight.numpy().copy()


@dataclass
class SkipGramConfig:
    """Settings of :func:`train_skipgram` (defaults: word2vec's for skip-gram, but dim 100).

    Attributes:
        dim: Vector width.
        window: Largest window radius (each center draws its radius from ``1..window``).
        negative: Negatives per positive pair.
        sample: Subsampling threshold ``t`` (0: no subsampling).
        ns_exponent: Power of the unigram counts of the noise distribution.
        lr: Initial learning rate (falls linearly to ``lr * 1e-4``).
        epochs: Passes over the corpus.
        batch_size: Pairs per SGD step.
        seed: Seed of the sampling and the initialisation.
    """

    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    ns_exponent: float = 0.75
    lr: float = 0.025
    epochs: int = 5
    batch_size: int = 1024
    seed: int = 0


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative-sampling distribution ``counts ** power``, normalised.

    Example:
        >>> noise_distribution(np.array([16, 1, 0])).round(4).tolist()
        [0.8889, 0.1111, 0.0]
    """
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word under frequent-word subsampling.

    ``min(1, (sqrt(c / (t N)) + 1) t N / c)`` for a word seen ``c`` times of ``N``
    (word2vec's C code and gensim); 1 everywhere when ``sample`` is 0.

    Example:
        >>> keep_probabilities(np.array([900, 90, 10]), 0.01).round(3).tolist()
        [0.117, 0.444, 1.0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.where(counts > 0, np.minimum(keep, 1.0), 0.0)


def skipgram_pairs(ids: np.ndarray, window: int, rng: np.random.Generator,
                   breaks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All ``(center, context)`` id pairs with a radius drawn per center from ``1..window``.

    Args:
        ids: The (subsampled) token ids.
        window: Largest radius.
        rng: Draws the radii.
        breaks: Optional sentence number of every token; pairs never cross sentences.

    Example:
        >>> c, x = skipgram_pairs(np.array([7, 8, 9]), 1, np.random.default_rng(0))
        >>> sorted(zip(c.tolist(), x.tolist()))
        [(7, 8), (8, 7), (8, 9), (9, 8)]
    """
    ids = np.asarray(ids, dtype=np.int64)
    radius = rng.integers(1, window + 1, size=len(ids))
    centers, contexts = [], []
    positions = np.arange(len(ids))
    for offset in range(1, window + 1):
        for sign in (-1, 1):
            other = positions + sign * offset
            ok = (other >= 0) & (other < len(ids)) & (radius >= offset)
            if breaks is not None:
                ok[ok] &= breaks[positions[ok]] == breaks[other[ok]]
            centers.append(ids[positions[ok]])
            contexts.append(ids[other[ok]])
    return np.concatenate(centers), np.concatenate(contexts)


def train_skipgram(ids: np.ndarray, vocab_size: int, config: SkipGramConfig | None = None,
                   log: Callable[[str], None] = print,
                   breaks: np.ndarray | None = None) -> tuple[SkipGram, dict]:
    """Train skip-gram with negative sampling on a token-id stream.

    Args:
        ids: ``int64`` token ids of the corpus (words to drop, e.g. rare ones, removed already).
        vocab_size: Size of the vocabulary (ids are below it).
        config: The settings.
        log: Receives one line per epoch.
        breaks: Optional sentence number of each token (windows stay within a sentence).

    Returns:
        ``(model, {"seconds", "words_per_second", "pairs", "loss_per_pair"})``; words/s
        counts corpus tokens (before subsampling) as word2vec and gensim report.

    Example:
        >>> ids = np.tile([0, 1, 2, 3], 50)
        >>> model, info = train_skipgram(ids, 4, SkipGramConfig(dim=8, epochs=1, sample=0),
        ...                              log=lambda s: None)
        >>> model.vectors().shape
        (4, 8)
    """
    config = config or SkipGramConfig()
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"train_skipgram: ids must be in [0, {vocab_size}), got "
                         f"[{ids.min()}, {ids.max()}]")
    rng = np.random.default_rng(config.seed)
    counts = np.bincount(ids, minlength=vocab_size)
    keep = keep_probabilities(counts, config.sample)
    noise_cdf = np.cumsum(noise_distribution(counts, config.ns_exponent))
    from .. import manual_seed  # the tables' initialisation follows config.seed
    manual_seed(config.seed)
    model = SkipGram(vocab_size, config.dim)
    optimizer = optim.SGD(model.parameters(), lr=config.lr)
    # The rate falls with the share of the planned pairs done, estimated from epoch 1.
    total_pairs_estimate, done_pairs = None, 0
    started = time.perf_counter()
    loss_sum = 0.0
    for epoch in range(1, config.epochs + 1):
        kept = rng.random(len(ids)) < keep[ids]
        centers, contexts = skipgram_pairs(ids[kept], config.window, rng,
                                           None if breaks is None else breaks[kept])
        order = rng.permutation(len(centers))
        if total_pairs_estimate is None:
            total_pairs_estimate = max(1, len(centers) * config.epochs)
        epoch_loss = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            progress = min(1.0, done_pairs / total_pairs_estimate)
            optimizer.param_groups[0]["lr"] = config.lr * max(1e-4, 1.0 - progress)
            negatives = np.searchsorted(noise_cdf, rng.random((len(batch), config.negative)),
                                        side="right").clip(0, vocab_size - 1)
            optimizer.zero_grad()
            loss = model(as_tensor(centers[batch]), as_tensor(contexts[batch]), as_tensor(negatives))
            loss.backward()
            optimizer.step()
            epoch_loss += float(loss.numpy())
            done_pairs += len(batch)
        loss_sum += epoch_loss
        log(f"epoch {epoch}/{config.epochs}  {len(centers)} pairs  loss/pair "
            f"{epoch_loss / max(1, len(centers)):.4f}  {time.perf_counter() - started:.1f}s")
    seconds = time.perf_counter() - started
    return model, {"seconds": round(seconds, 2),
                   "words_per_second": round(len(ids) * config.epochs / max(seconds, 1e-9)),
                   "pairs": done_pairs, "loss_per_pair": round(loss_sum / max(1, done_pairs), 4)}


def nearest_neighbours(embeddings: np.ndarray, words, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded).

    Example:
        >>> e = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> [w for w, _ in nearest_neighbours(e, ["a", "b", "c"], "a", k=2)]
        ['b', 'c']
    """
    tokens = words.tokens if hasattr(words, "tokens") else list(words)
    if word not in tokens:
        raise KeyError(f"nearest_neighbours: {word!r} is not in the vocabulary")
    e = np.asarray(embeddings, dtype=np.float64)
    unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    i = tokens.index(word)
    sims = unit @ unit[i]
    sims[i] = -np.inf
    best = np.argsort(-sims, kind="stable")[:k]
    return [(tokens[j], float(sims[j])) for j in best]
