"""``nn.CTCLoss``: the module form of :func:`ember.functional.ctc_loss`.

Example:
    >>> import ember, ember.nn as nn, ember.functional as F
    >>> criterion = nn.CTCLoss(blank=0, zero_infinity=True)
    >>> log_probs = F.log_softmax(ember.randn(10, 2, 5, requires_grad=True), dim=2)   # (T, N, C)
    >>> criterion(log_probs, ember.tensor([[1, 2, 2], [3, 4, 0]]), [10, 8], [3, 2]).shape
    ()
"""
from __future__ import annotations

from ...functional import ctc as F
from ...functional._checks import check_reduction
from ...tensor import Tensor
from ..module import Module

__all__ = ["CTCLoss"]


class CTCLoss(Module):
    """Connectionist temporal classification loss, with PyTorch's arguments and call signature.

    ``forward(log_probs, targets, input_lengths, target_lengths)``; see
    :func:`ember.functional.ctc_loss` for the shapes, reductions and the gradient convention.

    Args:
        blank: the blank class index.
        reduction: ``'none'``, ``'sum'`` or ``'mean'`` (per-sample loss over target length, averaged).
        zero_infinity: replace infinite losses and their gradients by zero.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__()
        check_reduction("CTCLoss", reduction)
        self.blank, self.reduction, self.zero_infinity = int(blank), reduction, bool(zero_infinity)

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths, target_lengths) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)

    def extra_repr(self) -> str:
        return f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"
