"""Cosine annealing (Loshchilov and Hutter's SGDR without restarts), with an optional linear warm-up."""
from __future__ import annotations

import math

from ..optimizer import Optimizer
from ..options import NONNEGATIVE, NONNEGATIVE_INT, POSITIVE_INT, Rule
from .decay import linear_factor
from .scheduler import LRScheduler

__all__ = ["CosineAnnealingLR"]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate along a half cosine from ``lr`` to ``eta_min`` over ``T_max`` steps,
    after an optional linear warm-up.

    For step :math:`t \ge w` (``w = warmup_steps``):
    :math:`\eta_{min} + (\mathrm{lr} - \eta_{min})\,(1 + \cos(\pi (t - w) / T_{max})) / 2`
    (past ``T_max`` the cosine continues, rising again, as PyTorch's does). During the
    warm-up, :math:`t < w`, the rate goes linearly from ``warmup_start_factor * lr`` towards
    ``lr``: the same rates as PyTorch's ``SequentialLR([LinearLR(start_factor, total_iters=w),
    CosineAnnealingLR(T_max, eta_min)], milestones=[w])``.

    Args:
        optimizer: the optimizer to schedule.
        T_max: the length of the cosine half-period, in steps (after the warm-up).
        eta_min: the smallest learning rate.
        warmup_steps: steps of linear warm-up before the cosine (0: none).
        warmup_start_factor: the fraction of ``lr`` used at step 0 of the warm-up, in (0, 1].
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import CosineAnnealingLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = CosineAnnealingLR(opt, T_max=4, warmup_steps=2, warmup_start_factor=0.5)
        >>> [round(sched.lrs_at(t)[0], 3) for t in range(7)]
        [0.5, 0.75, 1.0, 0.854, 0.5, 0.146, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, warmup_steps: int = 0,
                 warmup_start_factor: float = 1e-3, last_epoch: int = -1):
        self.T_max = self._check("T_max", T_max, POSITIVE_INT)
        self.eta_min = self._check("eta_min", eta_min, NONNEGATIVE)
        self.warmup_steps = self._check("warmup_steps", warmup_steps, NONNEGATIVE_INT)
        self.warmup_start_factor = self._check("warmup_start_factor", warmup_start_factor,
                                               Rule("a number in (0, 1]", lambda v: 0 < v <= 1))
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        warmup = self.warmup_steps
        if epoch < warmup:
            factor = linear_factor(self.warmup_start_factor, 1.0, warmup, epoch)
            return [base * factor for base in self.base_lrs]
        cosine = (1 + math.cos(math.pi * (epoch - warmup) / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]
