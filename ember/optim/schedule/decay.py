"""Decays: lambda, multiplicative, step, multi-step, constant, linear, exponential, polynomial,
and Keras's inverse-time decay; PyTorch's rules step by step."""
from __future__ import annotations

import bisect
import math
import types
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..optimizer import Optimizer
from ..options import NONNEGATIVE, NONNEGATIVE_INT, POSITIVE, POSITIVE_INT, REAL, UNIT_INTERVAL, Rule
from .scheduler import LRScheduler

__all__ = [
    "ConstantLR", "ExponentialLR", "InverseTimeDecay", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "PolynomialLR", "StepLR", "TimeDecay",
]

_OPEN_UNIT = Rule("a number in (0, 1]", lambda v: 0 < v <= 1)


def _lambdas(owner: str, optimizer: Optimizer, lr_lambda) -> list[Callable[[int], float]]:
    n = len(optimizer.param_groups)
    lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
    if len(lambdas) != n:
        raise ValueError(f"{owner}: expected {n} lr_lambdas (one per param group), got {len(lambdas)}")
    for f in lambdas:
        if not callable(f):
            raise TypeError(f"{owner}: lr_lambda should be a function, got {type(f).__name__}")
    return lambdas


class _LambdaState(LRScheduler):
    """State dict handling of the schedules built on ``lr_lambdas`` (PyTorch's layout): a plain
    function is stored as None (pass the same one when resuming); a callable object's
    ``__dict__`` is stored and restored."""

    lr_lambdas: list

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas") and not callable(v)}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for f, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                f.__dict__.update(attrs)


class LambdaLR(_LambdaState):
    """Set each group's rate to its initial rate times ``lr_lambda(epoch)`` (one function, or one per group).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import LambdaLR
        >>> sched = LambdaLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), lambda t: 1 / (t + 1))
        >>> sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self._attach(optimizer)
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_LambdaState):
    """Multiply each group's current rate by ``lr_lambda(epoch)`` at every step (not at construction).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import MultiplicativeLR
        >>> sched = MultiplicativeLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), lambda t: 0.5)
        >>> sched.step(); sched.step(); sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self._attach(optimizer)
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [g["lr"] * f(self.last_epoch) for f, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (``lr * gamma ** (t // step_size)`` alone).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import StepLR
        >>> sched = StepLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), step_size=2, gamma=0.1)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 6)); sched.step()
        >>> lrs
        [1.0, 1.0, 0.1, 0.1, 0.01]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = self._check("step_size", step_size, POSITIVE_INT)
        self.gamma = self._check("gamma", gamma, REAL)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone (a milestone given twice multiplies twice).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import MultiStepLR
        >>> sched = MultiStepLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), milestones=[1, 3], gamma=0.5)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        milestones = list(milestones)
        for m in milestones:
            self._check("milestones", m, NONNEGATIVE_INT)
        self.milestones = Counter(milestones)
        self.gamma = self._check("gamma", gamma, REAL)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones.get(self.last_epoch, 0)  # a loaded state holds a plain dict
        if not times:
            return self._current_lrs()
        return [g["lr"] * self.gamma ** times for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(m for m, times in self.milestones.items() for _ in range(times))
        factor = self.gamma ** bisect.bisect_right(milestones, self.last_epoch)
        return [base * factor for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the rate by ``factor`` for the first ``total_iters`` steps, then restore it.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import ConstantLR
        >>> sched = ConstantLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), factor=0.5, total_iters=2)
        >>> lrs = []
        >>> for _ in range(4):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = self._check("factor", factor, UNIT_INTERVAL)
        self.total_iters = self._check("total_iters", total_iters, NONNEGATIVE_INT)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [g["lr"] * (1.0 / self.factor) for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        factor = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base * factor for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then constant (a linear warm-up by default).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import LinearLR
        >>> sched = LinearLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), start_factor=0.25, total_iters=3)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 6)); sched.step()
        >>> lrs
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = self._check("start_factor", start_factor, _OPEN_UNIT)
        self.end_factor = self._check("end_factor", end_factor, UNIT_INTERVAL)
        self.total_iters = self._check("total_iters", total_iters, POSITIVE_INT)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [g["lr"] * ratio for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        factor = self.start_factor + (self.end_factor - self.start_factor) * \
            min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step (``lr * gamma ** t`` alone).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import ExponentialLR
        >>> sched = ExponentialLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), gamma=0.5)
        >>> sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = self._check("gamma", gamma, REAL)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rate as ``lr * (1 - t / total_iters) ** power`` until ``total_iters``, then hold it.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import PolynomialLR
        >>> sched = PolynomialLR(SGD([ember.ones(1, requires_grad=True)], lr=1.0), total_iters=4)
        >>> sched.step(); sched.get_last_lr()
        [0.75]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = self._check("total_iters", total_iters, POSITIVE_INT)
        self.power = self._check("power", power, REAL)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        t, n = self.last_epoch, self.total_iters
        factor = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base * factor for base in self.base_lrs]


class InverseTimeDecay(LRScheduler):
    """Keras's time-based decay: ``lr / (1 + decay_rate * t / decay_steps)`` (not in PyTorch).

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
        >>> from ember.optim.lr_scheduler import TimeDecay
        >>> sched = TimeDecay(SGD([ember.ones(1, requires_grad=True)], lr=1.0), decay_rate=0.5)
        >>> sched.step(); sched.get_last_lr()
        [0.6666666666666666]
    """

    def __init__(self, optimizer: Optimizer, decay_rate: float, decay_steps: int = 1, staircase: bool = False,
                 last_epoch: int = -1) -> None:
        self.decay_rate = self._check("decay_rate", decay_rate, NONNEGATIVE)
        self.decay_steps = self._check("decay_steps", decay_steps, POSITIVE)
        self.staircase = bool(staircase)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        time = self.last_epoch / self.decay_steps
        if self.staircase:
            time = math.floor(time)
        return [base / (1 + self.decay_rate * time) for base in self.base_lrs]


TimeDecay = InverseTimeDecay
