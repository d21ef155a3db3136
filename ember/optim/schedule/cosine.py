"""Cosine annealing (Loshchilov and Hutter's SGDR), without and with warm restarts; PyTorch's rules."""
from __future__ import annotations

import math

from ...autograd.tracing import opaque
from ..optimizer import Optimizer
from ..options import NONNEGATIVE, POSITIVE_INT, REAL
from .scheduler import LRScheduler

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts"]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the rate along a half cosine from its initial value to ``eta_min`` over ``T_max`` steps.

    Alone it gives :math:`\eta_{min} + (\mathrm{lr} - \eta_{min})(1 + \cos(\pi t / T_{max})) / 2`
    (past ``T_max`` the cosine continues, rising again). The step is PyTorch's recursive form,
    so it also composes with other schedulers on the same optimizer. For a warm-up, put a
    :class:`~ember.optim.lr_scheduler.LinearLR` before it in a
    :class:`~ember.optim.lr_scheduler.SequentialLR`.

    Args:
        optimizer: the optimizer to schedule.
        T_max: the length of the half-period, in steps.
        eta_min: the smallest learning rate.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import CosineAnnealingLR
        >>> sched = CosineAnnealingLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), T_max=4)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 3)); sched.step()
        >>> lrs
        [1.0, 0.854, 0.5, 0.146, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = self._check("T_max", T_max, POSITIVE_INT)
        self.eta_min = self._check("eta_min", eta_min, NONNEGATIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, low = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed: no previous rate to recur from
            return [low + (base - low) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # the trough, where the ratio below would divide by zero
            return [g["lr"] + (base - low) * (1 - math.cos(math.pi / T)) / 2
                    for base, g in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (g["lr"] - low) + low for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing restarted every ``T_i`` steps, with ``T_0`` first and ``T_{i+1} = T_mult * T_i``.

    :math:`\eta_{min} + (\mathrm{lr} - \eta_{min})(1 + \cos(\pi T_{cur} / T_i)) / 2`, where
    :math:`T_{cur}` counts the steps since the last restart. ``step(epoch)`` accepts a
    fractional epoch (e.g. ``epoch + batch / batches``), as in PyTorch.

    Args:
        optimizer: the optimizer to schedule.
        T_0: the length of the first period.
        T_mult: the factor by which each period is longer than the previous one.
        eta_min: the smallest learning rate.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import CosineAnnealingWarmRestarts
        >>> sched = CosineAnnealingWarmRestarts(SGD([ember.ones(1, requires_grad=True)], lr=1.0), T_0=2)
        >>> lrs = []
        >>> for _ in range(4):
        ...     lrs.append(round(sched.get_last_lr()[0], 3)); sched.step()
        >>> lrs
        [1.0, 0.5, 1.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0 = self._check("T_0", T_0, POSITIVE_INT)
        self.T_i = T_0
        self.T_mult = self._check("T_mult", T_mult, POSITIVE_INT)
        self.eta_min = self._check("eta_min", eta_min, REAL)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    @opaque
    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or jump to (possibly fractional) ``epoch``, restarting when a period ends."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

