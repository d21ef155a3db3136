"""Linear-chain conditional random fields: the stateless algorithms behind ``nn.CRF``.

A sequence of tags ``y_1..y_T`` over emissions ``e`` (``(B, T, K)``, batch first)
scores ``start[y_1] + e_1[y_1] + sum_t (trans[y_{t-1}, y_t] + e_t[y_t]) + end[y_T]``;
``p(y | e) = exp(score(y) - log Z)``. The functions here:

* :func:`crf_log_partition` — ``log Z`` by the forward algorithm in log space;
* :func:`crf_sequence_score` — ``score(y)`` of given tags;
* :func:`crf_marginals` — ``p(y_t = k | e)`` by forward-backward;
* :func:`crf_viterbi_decode` — the most probable tag sequence (Viterbi, NumPy, no gradient).

``mask`` (``(B, T)`` boolean) marks the valid steps of each sequence: a prefix, whose first
step is always on (as pytorch-crf requires). The first three are compositions of Ember
ops, one ``logsumexp`` per step, so they are differentiable to any order.

Example:
    >>> import ember, ember.functional as F
    >>> K = 3
    >>> e, z = ember.zeros(1, 2, K), ember.zeros(K)
    >>> round(F.crf_log_partition(e, None, z, z, ember.zeros(K, K)).exp().item(), 4)   # K ** 2 paths
    9.0
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.elementwise import where
from ..ops.movement import stack
from ..ops.reduce import logsumexp
from ..tensor import Tensor, as_tensor

__all__ = ["crf_log_partition", "crf_sequence_score", "crf_marginals", "crf_viterbi_decode"]


def _check(name: str, emissions: Tensor, mask, start: Tensor, end: Tensor, transitions: Tensor) -> Tensor:
    """Validate the shapes (batch first) and return the mask as a boolean ``(B, T)`` tensor."""
    if emissions.ndim != 3:
        raise ShapeError(f"{name}: expected emissions of shape (batch, seq_len, num_tags), got {emissions.shape}")
    batch, steps, tags = emissions.shape
    if start.shape != (tags,) or end.shape != (tags,) or transitions.shape != (tags, tags):
        raise ShapeError(f"{name}: for {tags} tags expected start ({tags},), end ({tags},) and transitions "
                         f"({tags}, {tags}), got {start.shape}, {end.shape} and {transitions.shape}")
    if steps == 0:
        raise ShapeError(f"{name}: emissions {emissions.shape} have no time steps")
    if mask is None:
        return as_tensor(np.ones((batch, steps), dtype=bool))
    mask = as_tensor(mask)
    if mask.shape != (batch, steps):
        raise ShapeError(f"{name}: expected mask of shape {(batch, steps)} (the emissions' first two), "
                         f"got {mask.shape}")
    if mask.dtype.kind not in "bui":
        raise DTypeError(f"{name}: mask must be boolean or integer, got {mask.dtype}")
    on = mask.numpy().astype(bool)
    if not on[:, 0].all():
        raise ArgumentError(f"{name}: the mask of the first time step must be on for every sequence")
    if (on[:, 1:] & ~on[:, :-1]).any():
        raise ArgumentError(f"{name}: each mask row must be a prefix (ones then zeros)")
    return as_tensor(on)


def crf_log_partition(emissions: Tensor, mask: Optional[Tensor], start: Tensor, end: Tensor,
                      transitions: Tensor) -> Tensor:
    """``log Z`` per sequence ``(B,)``: the forward algorithm, ``alpha_t = logsumexp(alpha_{t-1} + trans) + e_t``.

    Args:
        emissions: ``(B, T, K)`` scores; mask: ``(B, T)`` booleans or None (all on);
        start, end: ``(K,)`` scores of the first and last tag; transitions: ``(K, K)``,
        ``transitions[i, j]`` scores tag ``i`` followed by ``j``.
    """
    mask = _check("crf_log_partition", emissions, mask, start, end, transitions)
    return _logsumexp_tags(_forward_scores(emissions, mask, start, transitions)[-1] + end)


def _logsumexp_tags(scores: Tensor) -> Tensor:
    return logsumexp(scores, dim=1)


def _forward_scores(emissions: Tensor, mask: Tensor, start: Tensor, transitions: Tensor) -> List[Tensor]:
    """``alpha_t`` ``(B, K)`` for every step; past a sequence's end the last value is carried on."""
    alpha = [start + emissions[:, 0]]
    for t in range(1, emissions.shape[1]):
        step = logsumexp(alpha[-1].unsqueeze(2) + transitions, dim=1) + emissions[:, t]
        alpha.append(where(mask[:, t].unsqueeze(1), step, alpha[-1]))
    return alpha


def _backward_scores(emissions: Tensor, mask: Tensor, end: Tensor, transitions: Tensor) -> List[Tensor]:
    """``beta_t`` ``(B, K)``: log-score of the steps after ``t``; ``end`` at each sequence's last step."""
    batch, steps, tags = emissions.shape
    final = end.unsqueeze(0).expand(batch, tags)
    beta = [final]
    for t in range(steps - 2, -1, -1):
        step = logsumexp(transitions + (emissions[:, t + 1] + beta[0]).unsqueeze(1), dim=2)
        beta.insert(0, where(mask[:, t + 1].unsqueeze(1), step, final))
    return beta


def crf_sequence_score(emissions: Tensor, tags: Tensor, mask: Optional[Tensor], start: Tensor, end: Tensor,
                       transitions: Tensor) -> Tensor:
    """``score(y)`` per sequence ``(B,)`` of integer ``tags`` ``(B, T)`` (masked steps ignored)."""
    name = "crf_sequence_score"
    mask = _check(name, emissions, mask, start, end, transitions)
    tags = as_tensor(tags)
    if tags.shape != emissions.shape[:2]:
        raise ShapeError(f"{name}: expected tags of shape {emissions.shape[:2]} (the emissions' first two), "
                         f"got {tags.shape}")
    if tags.dtype.kind not in "iu":
        raise DTypeError(f"{name}: tags must be integers, got {tags.dtype}")
    batch, steps, k = emissions.shape
    values = tags.numpy()
    on = mask.numpy()
    if ((values[on] < 0) | (values[on] >= k)).any():
        raise ArgumentError(f"{name}: tags must lie in [0, {k}) for {k} tags, got values in "
                            f"[{values[on].min()}, {values[on].max()}]")
    values = np.where(on, values, 0).astype(np.int64)  # padding may hold anything
    weight = as_tensor(on.astype(emissions.dtype))
    emitted = (emissions.gather(2, as_tensor(values[:, :, None])).squeeze(2) * weight).sum(1)
    pairs = as_tensor((values[:, :-1] * k + values[:, 1:]).reshape(-1))
    moved = (transitions.reshape(-1).gather(0, pairs).reshape(batch, steps - 1) * weight[:, 1:]).sum(1)
    last = values[np.arange(batch), on.sum(1) - 1]
    return start.gather(0, as_tensor(values[:, 0])) + emitted + moved + end.gather(0, as_tensor(last))


def crf_marginals(emissions: Tensor, mask: Optional[Tensor], start: Tensor, end: Tensor,
                  transitions: Tensor) -> Tensor:
    """``p(y_t = k | emissions)`` ``(B, T, K)`` by forward-backward; zero on masked steps.

    Each valid step's marginals sum to 1.
    """
    mask = _check("crf_marginals", emissions, mask, start, end, transitions)
    alpha = _forward_scores(emissions, mask, start, transitions)
    beta = _backward_scores(emissions, mask, end, transitions)
    log_z = _logsumexp_tags(alpha[-1] + end).reshape(-1, 1, 1)
    joint = stack(alpha, 1) + stack(beta, 1)
    return (joint - log_z).exp() * mask.unsqueeze(2).astype(emissions.dtype)


def crf_viterbi_decode(emissions: Tensor, mask: Optional[Tensor], start: Tensor, end: Tensor,
                       transitions: Tensor) -> List[List[int]]:
    """The highest-scoring tag sequence of each batch element (its valid steps only), by Viterbi."""
    mask = _check("crf_viterbi_decode", emissions, mask, start, end, transitions)
    e = emissions.detach().numpy().astype(np.float64)
    on = mask.numpy()
    trans = transitions.detach().numpy().astype(np.float64)
    first, last = start.detach().numpy().astype(np.float64), end.detach().numpy().astype(np.float64)
    paths = []
    for b in range(e.shape[0]):
        length = int(on[b].sum())
        score = first + e[b, 0]
        back = np.empty((length, e.shape[2]), dtype=np.int64)
        for t in range(1, length):
            candidates = score[:, None] + trans        # previous tag x next tag
            back[t] = candidates.argmax(0)
            score = candidates.max(0) + e[b, t]
        best = [int((score + last).argmax())]
        for t in range(length - 1, 0, -1):
            best.append(int(back[t, best[-1]]))
        paths.append(best[::-1])
    return paths
