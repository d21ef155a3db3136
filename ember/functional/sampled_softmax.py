"""Sampled softmax with importance sampling (Jean, Cho, Memisevic, Bengio 2015).

"On Using Very Large Target Vocabulary for Neural Machine Translation" (arXiv:1412.2007):
during training the softmax over ``num_classes`` outputs is replaced by a softmax over the
target and ``num_sampled`` classes drawn from a proposal ``Q``, each logit corrected by
``- log Q(w)`` so that the sampled normaliser estimates the full one. The proposal and the
corrections follow TensorFlow's ``tf.nn.sampled_softmax_loss`` (``_compute_sampled_logits``):

* ``sampler="log_uniform"``: Zipf-like ``Q(k) = log((k + 2) / (k + 1)) / log(num_classes + 1)``,
  right for classes sorted by decreasing frequency (as the corpora loaders number words);
  or an array of (unnormalised) class probabilities, e.g. the unigram counts.
* One set of ``num_sampled`` *distinct* classes is drawn per call and shared by the whole
  batch (rejection of repeats, like TF's ``unique=True``); ``Q(w)`` is then the expected
  count ``1 - (1 - q(w)) ** num_tries`` of ``w`` after the ``num_tries`` draws it took.
* ``remove_accidental_hits``: a sampled class equal to a row's target is masked out of
  that row (its logit becomes ``-inf``), so the target is not counted twice.

**At evaluation time use the full softmax** (``F.cross_entropy(F.linear(input, weight, bias),
target)``): the sampled loss is a training-time estimate only, and perplexities must be
computed with exact probabilities (:class:`ember.nn.SampledSoftmax` does this in ``eval()``).

Example:
    >>> import ember, ember.functional as F
    >>> weight, bias = ember.randn(1000, 16, requires_grad=True), ember.zeros(1000)
    >>> loss = F.sampled_softmax_loss(weight, bias, ember.randn(4, 16), ember.tensor([1, 5, 900, 3]),
    ...                               num_sampled=64, num_classes=1000, generator=ember.Generator().manual_seed(0))
    >>> loss.shape
    ()
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops.movement import cat
from ..ops.sampling import generator_rng
from ..tensor import Tensor, as_tensor
from ._checks import check_reduction
from .loss import cross_entropy

__all__ = ["sampled_softmax_loss", "log_uniform_probabilities", "sample_candidates", "SampledCandidates"]


class SampledCandidates(NamedTuple):
    """One draw of :func:`sample_candidates` (TensorFlow's ``sampled_values``).

    Attributes:
        sampled: ``(num_sampled,)`` int64 distinct class ids.
        true_expected_count: ``(N,)`` expected count ``Q`` of each row's target.
        sampled_expected_count: ``(num_sampled,)`` expected count ``Q`` of each sampled class.
    """

    sampled: np.ndarray
    true_expected_count: np.ndarray
    sampled_expected_count: np.ndarray


def log_uniform_probabilities(num_classes: int) -> np.ndarray:
    """The log-uniform (Zipfian) proposal ``q(k) = log((k+2)/(k+1)) / log(num_classes+1)``, float64.

    Example:
        >>> q = log_uniform_probabilities(4)
        >>> round(float(q.sum()), 12), bool((q[:-1] > q[1:]).all())
        (1.0, True)
    """
    k = np.arange(num_classes, dtype=np.float64)
    return np.log1p(1.0 / (k + 1.0)) / math.log(num_classes + 1.0)


def _proposal(sampler, num_classes: int) -> np.ndarray:
    """The normalised proposal ``q`` (float64, ``(num_classes,)``) named or given by ``sampler``."""
    if isinstance(sampler, str):
        if sampler != "log_uniform":
            raise ArgumentError(f"sampled_softmax_loss: sampler must be 'log_uniform' or an array of "
                                f"{num_classes} class probabilities, got {sampler!r}")
        return log_uniform_probabilities(num_classes)
    q = np.asarray(sampler.numpy() if isinstance(sampler, Tensor) else sampler, dtype=np.float64)
    if q.shape != (num_classes,):
        raise ShapeError(f"sampled_softmax_loss: sampler probabilities must have shape ({num_classes},), "
                         f"got {q.shape}")
    if not np.all(np.isfinite(q)) or (q < 0).any() or q.sum() <= 0:
        raise ArgumentError("sampled_softmax_loss: sampler probabilities must be finite, >= 0 and not all 0")
    return q / q.sum()


def sample_candidates(num_sampled: int, num_classes: int, target, sampler="log_uniform",
                      generator=None) -> SampledCandidates:
    """Draw ``num_sampled`` distinct classes from the proposal and their expected counts.

    Classes are drawn with replacement from ``q`` until ``num_sampled`` distinct ones are
    seen (``num_tries`` draws); the expected count of class ``w`` is then
    ``1 - (1 - q(w)) ** num_tries`` (TensorFlow's ``unique=True`` candidate samplers).
    The draws come from ``generator`` (an :class:`ember.Generator`) or the global generator
    (``ember.manual_seed``), so runs are reproducible.

    Example:
        >>> import ember
        >>> c = sample_candidates(5, 100, [3, 7], generator=ember.Generator().manual_seed(1))
        >>> len(set(c.sampled.tolist())), c.true_expected_count.shape
        (5, (2,))
    """
    q = _proposal(sampler, num_classes)
    if not 1 <= num_sampled <= int(np.count_nonzero(q)):
        raise ArgumentError(f"sampled_softmax_loss: num_sampled must be in [1, {np.count_nonzero(q)}] (the classes "
                            f"the proposal can draw, of num_classes {num_classes}), got {num_sampled}")
    rng = generator_rng("sampled_softmax_loss", generator, np)
    cdf = np.cumsum(q)
    seen = np.zeros(num_classes, dtype=bool)
    sampled: list[np.ndarray] = []
    have, num_tries = 0, 0
    chunk = max(2 * num_sampled, 64)
    while have < num_sampled:
        draws = np.minimum(np.searchsorted(cdf, rng.random(chunk) * cdf[-1], side="right"), num_classes - 1)
        values, first = np.unique(draws, return_index=True)
        fresh = ~seen[values]
        order = np.argsort(first[fresh])
        new_values, new_first = values[fresh][order], first[fresh][order]
        take = min(num_sampled - have, new_values.size)
        sampled.append(new_values[:take])
        seen[new_values[:take]] = True
        have += take
        # The draws it took: up to the last new class taken, or the whole chunk if more are needed.
        num_tries += int(new_first[take - 1]) + 1 if have == num_sampled else chunk
    sampled_ids = np.concatenate(sampled).astype(np.int64)
    expected = -np.expm1(num_tries * np.log1p(-np.minimum(q, 1.0 - 1e-16)))
    target = np.asarray(target.numpy() if isinstance(target, Tensor) else target, dtype=np.int64).reshape(-1)
    return SampledCandidates(sampled_ids, expected[target], expected[sampled_ids])


def sampled_softmax_loss(weight: Tensor, bias: Tensor | None, input: Tensor, target, num_sampled: int,
                         num_classes: int, sampler="log_uniform", remove_accidental_hits: bool = True,
                         subtract_log_q: bool = True, sampled_values: SampledCandidates | None = None,
                         generator=None, reduction: str = "mean") -> Tensor:
    """Sampled softmax cross-entropy of ``input @ weight.T + bias`` against ``target`` (training only).

    Only the rows of ``weight`` (and ``bias``) for the targets and the ``num_sampled`` sampled
    classes are used, so the cost is ``O(N * (num_sampled + 1) * in_features)`` instead of
    ``O(N * num_classes * in_features)``. At evaluation time use the full softmax.

    Args:
        weight: ``(num_classes, in_features)`` output embeddings (``Linear``'s layout).
        bias: ``(num_classes,)`` or ``None``.
        input: ``(N, in_features)`` features.
        target: ``(N,)`` integer classes.
        num_sampled: Distinct classes drawn per call (shared by the batch).
        num_classes: Size of the output space.
        sampler: ``"log_uniform"`` or ``(num_classes,)`` class probabilities (e.g. unigram counts).
        remove_accidental_hits: Mask a sampled class out of the rows whose target it is.
        subtract_log_q: Correct every logit by ``- log Q(w)`` (False: plain negative sampling logits).
        sampled_values: A given :class:`SampledCandidates` draw instead of sampling.
        generator: :class:`ember.Generator` to draw from (default: the global one).
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` over the ``N`` rows.

    Returns:
        The loss (``()`` or ``(N,)`` for ``'none'``).
    """
    check_reduction("sampled_softmax_loss", reduction)
    target = as_tensor(target)
    if input.ndim != 2 or weight.ndim != 2 or input.shape[1] != weight.shape[1] or weight.shape[0] != num_classes:
        raise ShapeError(f"sampled_softmax_loss: expected input (N, D) and weight ({num_classes}, D), got input "
                         f"{tuple(input.shape)} and weight {tuple(weight.shape)}")
    if target.shape != (input.shape[0],):
        raise ShapeError(f"sampled_softmax_loss: expected target of shape ({input.shape[0]},), "
                         f"got {tuple(target.shape)}")
    if bias is not None and tuple(bias.shape) != (num_classes,):
        raise ShapeError(f"sampled_softmax_loss: expected bias of shape ({num_classes},), got {tuple(bias.shape)}")
    t = np.asarray(target.numpy()).astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise ArgumentError(f"sampled_softmax_loss: target values must be in [0, {num_classes - 1}], "
                            f"got values in [{t.min()}, {t.max()}]")
    if sampled_values is None:
        sampled_values = sample_candidates(num_sampled, num_classes, t, sampler, generator)
    sampled, true_q, sampled_q = sampled_values
    sampled = np.asarray(sampled, dtype=np.int64)
    rows, ids = as_tensor(t), as_tensor(sampled)
    true_logits = (input * weight.index_select(0, rows)).sum(dim=1)
    sampled_logits = input.matmul(weight.index_select(0, ids).transpose(0, 1))
    if bias is not None:
        true_logits = true_logits + bias.index_select(0, rows)
        sampled_logits = sampled_logits + bias.index_select(0, ids)
    if subtract_log_q:
        dtype = np.dtype(input.dtype)
        true_logits = true_logits - as_tensor(np.log(np.asarray(true_q, dtype=np.float64)).astype(dtype))
        sampled_logits = sampled_logits - as_tensor(np.log(np.asarray(sampled_q, dtype=np.float64)).astype(dtype))
    if remove_accidental_hits:
        hits = t[:, None] == sampled[None, :]
        if hits.any():
            sampled_logits = sampled_logits.masked_fill(as_tensor(hits), float("-inf"))
    logits = cat([true_logits.unsqueeze(1), sampled_logits], dim=1)
    # The target sits in column 0 of every row.
    return cross_entropy(logits, as_tensor(np.zeros(len(t), dtype=np.int64)), reduction=reduction)
