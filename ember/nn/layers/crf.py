"""``nn.CRF``: a linear-chain conditional random field layer, with pytorch-crf's interface.

``CRF(num_tags, batch_first=False)`` holds ``start_transitions`` ``(K,)``,
``end_transitions`` ``(K,)`` and ``transitions`` ``(K, K)`` (``transitions[i, j]``
scores tag ``i`` followed by tag ``j``), initialised uniformly in ``[-0.1, 0.1]``.
``forward(emissions, tags, mask, reduction)`` returns the **log-likelihood** of the
tags (maximise it, i.e. minimise its negative), ``decode`` the Viterbi paths and
``marginals`` the per-step tag posteriors. The algorithms are in
:mod:`ember.functional.crf`.

Example:
    >>> import ember, ember.nn as nn
    >>> crf = nn.CRF(5)
    >>> emissions = ember.randn(7, 3, 5)                  # (seq_len, batch, num_tags)
    >>> tags = ember.randint(0, 5, (7, 3))
    >>> crf(emissions, tags).shape, len(crf.decode(emissions))
    ((), 3)
"""
from __future__ import annotations

from typing import List, Optional

from ...creation import empty
from ...functional import crf as F
from ...errors import ArgumentError
from ...tensor import Tensor, as_tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["CRF"]

REDUCTIONS = ("none", "sum", "mean", "token_mean")


class CRF(Module):
    """Linear-chain CRF over ``num_tags`` tags.

    Args:
        num_tags: the number of tags ``K``.
        batch_first: emissions are ``(batch, seq_len, K)`` (else ``(seq_len, batch, K)``,
            pytorch-crf's default); tags and mask follow the same order.
    """

    def __init__(self, num_tags: int, batch_first: bool = False) -> None:
        super().__init__()
        if num_tags <= 0:
            raise ArgumentError(f"CRF: invalid number of tags: {num_tags}")
        self.num_tags, self.batch_first = int(num_tags), bool(batch_first)
        self.start_transitions = Parameter(empty(num_tags))
        self.end_transitions = Parameter(empty(num_tags))
        self.transitions = Parameter(empty(num_tags, num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``[-0.1, 0.1]``, as pytorch-crf."""
        for p in (self.start_transitions, self.end_transitions, self.transitions):
            init.uniform_(p, -0.1, 0.1)

    def _batch_first(self, emissions: Tensor, *others):
        emissions = as_tensor(emissions)
        if emissions.ndim != 3 or emissions.shape[2] != self.num_tags:
            raise ArgumentError(f"CRF: expected emissions of 3 dimensions with last size {self.num_tags} "
                                f"(num_tags), got shape {emissions.shape}")
        if self.batch_first:
            return (emissions,) + others
        return (emissions.transpose(0, 1),) + tuple(None if o is None else as_tensor(o).transpose(0, 1)
                                                    for o in others)

    def _params(self):
        return self.start_transitions, self.end_transitions, self.transitions

    def forward(self, emissions: Tensor, tags: Tensor, mask: Optional[Tensor] = None,
                reduction: str = "sum") -> Tensor:
        """Log-likelihood ``log p(tags | emissions)``.

        Args:
            emissions: ``(seq_len, batch, K)`` (or batch first) scores.
            tags: integer tags of the emissions' first two dimensions.
            mask: booleans of that shape, a prefix per sequence (first step on); None: all on.
            reduction: ``'none'`` (per sequence), ``'sum'``, ``'mean'`` (over sequences) or
                ``'token_mean'`` (sum divided by the number of valid steps).
        """
        if reduction not in REDUCTIONS:
            raise ArgumentError(f"CRF: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
                                f"got {reduction!r}")
        emissions, tags, mask = self._batch_first(emissions, tags, mask)
        start, end, trans = self._params()
        score = F.crf_sequence_score(emissions, tags, mask, start, end, trans)
        llh = score - F.crf_log_partition(emissions, mask, start, end, trans)
        if reduction == "none":
            return llh
        if reduction == "sum":
            return llh.sum()
        if reduction == "mean":
            return llh.mean()
        steps = emissions.shape[0] * emissions.shape[1] if mask is None else float(as_tensor(mask).numpy().sum())
        return llh.sum() / steps

    def log_partition(self, emissions: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``log Z`` per sequence ``(batch,)`` (forward algorithm)."""
        emissions, mask = self._batch_first(emissions, mask)
        return F.crf_log_partition(emissions, mask, *self._params())

    def decode(self, emissions: Tensor, mask: Optional[Tensor] = None) -> List[List[int]]:
        """The Viterbi tag sequence of each batch element (its valid steps only)."""
        emissions, mask = self._batch_first(emissions, mask)
        return F.crf_viterbi_decode(emissions, mask, *self._params())

    def marginals(self, emissions: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``p(tag_t = k | emissions)``, shaped like the emissions; zero on masked steps."""
        emissions, mask = self._batch_first(emissions, mask)
        out = F.crf_marginals(emissions, mask, *self._params())
        return out if self.batch_first else out.transpose(0, 1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

