"""Reduce the learning rate when a monitored metric stops improving."""
from __future__ import annotations

import math
import warnings
from typing import SupportsFloat

from ...autograd.tracing import opaque
from ..optimizer import Optimizer
from ..options import NONNEGATIVE, NONNEGATIVE_INT, Rule
from .scheduler import _EPOCH_DEPRECATION, LRScheduler

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` once the metric has not improved for ``patience`` steps.

    Call ``step(metric)`` after each evaluation (usually each epoch) with the validation loss
    (``mode='min'``) or accuracy (``mode='max'``); the behaviour is PyTorch's.

    Args:
        optimizer: the optimizer to schedule.
        mode: ``'min'`` when lower is better, ``'max'`` when higher is better.
        factor: the multiplier applied on a plateau, in (0, 1).
        patience: the number of steps without improvement tolerated before reducing.
        threshold: the least change that counts as an improvement.
        threshold_mode: ``'rel'`` (improve on ``best * (1 -/+ threshold)``) or ``'abs'``
            (on ``best -/+ threshold``).
        cooldown: steps to wait after a reduction before counting bad steps again.
        min_lr: the lowest learning rate (or one per param group).
        eps: reductions smaller than this are skipped.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for loss in [1.0, 0.9, 0.95, 0.95]:  # two steps without improvement > patience
        ...     sched.step(loss)
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0.0, eps: float = 1e-8):
        self._attach(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} values of min_lr (one per param group), "
                                 f"got {len(min_lr)}")
            min_lrs = list(min_lr)
            self.default_min_lr = None
        else:
            min_lrs = [min_lr] * n
            self.default_min_lr = min_lr
        for value in min_lrs:
            self._check("min_lr", value, NONNEGATIVE)
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = self._check("factor", factor, Rule("a number in (0, 1)", lambda v: 0 < v < 1))
        self.patience = self._check("patience", patience, NONNEGATIVE_INT)
        self.threshold = self._check("threshold", threshold, NONNEGATIVE)
        self.cooldown = self._check("cooldown", cooldown, NONNEGATIVE_INT)
        self.eps = self._check("eps", eps, NONNEGATIVE)
        self.min_lrs = min_lrs
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    @property
    def in_cooldown(self) -> bool:
        """Whether bad steps are being ignored after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1 - threshold) if self.threshold_mode == "rel" else best - threshold)
        return value > (best * (1 + threshold) if self.threshold_mode == "rel" else best + threshold)

    @opaque  # replayed whole by ember.compile
    def step(self, metrics: SupportsFloat, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one evaluation of the monitored metric; reduce the rates after a plateau."""
        value = float(metrics)
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs) and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * len(groups)
        if len(groups) != len(self.min_lrs):
            raise RuntimeError(
                f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but the scheduler "
                f"was made for {len(self.min_lrs)}; create the scheduler after add_param_group"
            )
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new
