"""Closed-form decays: step, multi-step, exponential, linear, Keras inverse-time, and any lambda."""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

from ..optimizer import Optimizer
from ..options import (
    NONNEGATIVE,
    NONNEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    UNIT_INTERVAL,
    Rule,
)
from .scheduler import LRScheduler

__all__ = ["ExponentialLR", "InverseTimeDecay", "LambdaLR", "LinearLR", "MultiStepLR", "StepLR", "TimeDecay"]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps: ``lr * gamma ** (t // step_size)``.

    Args:
        optimizer: the optimizer to schedule.
        step_size: steps between two decays.
        gamma: the decay factor.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import StepLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = StepLR(opt, step_size=2, gamma=0.1)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 6)); sched.step()
        >>> lrs
        [1.0, 1.0, 0.1, 0.1, 0.01]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = self._check("step_size", step_size, POSITIVE_INT)
        self.gamma = self._check("gamma", gamma, POSITIVE)
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        return [base * self.gamma ** (epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone (a repeated milestone counts twice).

    Args:
        optimizer: the optimizer to schedule.
        milestones: step indices at which to decay.
        gamma: the decay factor.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import MultiStepLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
        >>> [sched.lrs_at(t)[0] for t in range(5)]
        [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1):
        milestones = list(milestones)
        for m in milestones:
            self._check("milestones", m, NONNEGATIVE_INT)
        self.milestones = sorted(milestones)
        self.gamma = self._check("gamma", gamma, POSITIVE)
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        factor = self.gamma ** bisect.bisect_right(self.milestones, epoch)
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every step: ``lr * gamma ** t``.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import ExponentialLR
        >>> sched = ExponentialLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), gamma=0.5)
        >>> sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = self._check("gamma", gamma, POSITIVE)
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        return [base * self.gamma ** epoch for base in self.base_lrs]


def linear_factor(start: float, end: float, total: int, epoch: int) -> float:
    """The factor going linearly from ``start`` to ``end`` over ``total`` steps, then staying at ``end``."""
    return start + (end - start) * min(total, epoch) / total


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then constant: a linear warm-up with the defaults of a ramp up.

    Args:
        optimizer: the optimizer to schedule.
        start_factor: the factor at step 0, in (0, 1].
        end_factor: the factor from step ``total_iters`` on, in [0, 1].
        total_iters: the length of the ramp.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import LinearLR
        >>> sched = LinearLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), start_factor=0.25, total_iters=3)
        >>> [sched.lrs_at(t)[0] for t in range(5)]
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        self.start_factor = self._check("start_factor", start_factor,
                                        Rule("a number in (0, 1]", lambda v: 0 < v <= 1))
        self.end_factor = self._check("end_factor", end_factor, UNIT_INTERVAL)
        self.total_iters = self._check("total_iters", total_iters, POSITIVE_INT)
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        factor = linear_factor(self.start_factor, self.end_factor, self.total_iters, epoch)
        return [base * factor for base in self.base_lrs]


class InverseTimeDecay(LRScheduler):
    """Keras's time-based decay: ``lr / (1 + decay_rate * t / decay_steps)``.

    With ``decay_steps=1`` and one ``step()`` per batch this is the ``decay`` argument of the
    classic Keras optimizers, ``lr / (1 + decay * iterations)``; ``TimeDecay`` is the same class.

    Args:
        optimizer: the optimizer to schedule.
        decay_rate: the decay coefficient.
        decay_steps: the number of steps that counts as one unit of time.
        staircase: decay in whole units (``t // decay_steps``) instead of continuously.
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import TimeDecay
        >>> sched = TimeDecay(SGD([ember.ones(1, requires_grad=True)], lr=1.0), decay_rate=0.5)
        >>> [sched.lrs_at(t)[0] for t in range(4)]
        [1.0, 0.6666666666666666, 0.5, 0.4]
    """

    def __init__(self, optimizer: Optimizer, decay_rate: float, decay_steps: int = 1, staircase: bool = False,
                 last_epoch: int = -1):
        self.decay_rate = self._check("decay_rate", decay_rate, NONNEGATIVE)
        self.decay_steps = self._check("decay_steps", decay_steps, POSITIVE)
        self.staircase = bool(staircase)
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: int) -> list[float]:
        time = epoch / self.decay_steps
        if self.staircase:
            time = math.floor(time)
        return [base / (1 + self.decay_rate * time) for base in self.base_lrs]


TimeDecay = InverseTimeDecay


class LambdaLR(LRScheduler):
    """Scale each group's initial learning rate by ``lr_lambda(t)`` (one function, or one per group).

    The functions are not part of ``state_dict()``; pass the same ones when resuming.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import LambdaLR
        >>> sched = LambdaLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), lambda t: 1 / (t + 1))
        >>> sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list,
                 last_epoch: int = -1):
        self._attach(optimizer)
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n or not all(callable(f) for f in lambdas):
            raise ValueError(f"LambdaLR: expected one function or {n} functions (one per param group)")
        self._lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict:
        return {k: v for k, v in super().state_dict().items() if k != "_lambdas"}

    def lrs_at(self, epoch: int) -> list[float]:
        return [base * f(epoch) for base, f in zip(self.base_lrs, self._lambdas)]
