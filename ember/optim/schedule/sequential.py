"""Composition of schedulers: one after another (``SequentialLR``) or all at once (``ChainedScheduler``)."""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from ...autograd.tracing import opaque
from ..optimizer import Optimizer
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler

__all__ = ["ChainedScheduler", "SequentialLR"]


def _check_children(owner: str, schedulers: Sequence[LRScheduler], optimizer: Optimizer) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{owner}: expected at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{owner}: scheduler {i} is a {type(s).__name__}; expected an LRScheduler")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner}: scheduler {i} is a ReduceLROnPlateau, which needs the metric in "
                             "step(metric) and so cannot be composed")
        if s.optimizer is not optimizer:
            raise ValueError(f"{owner}: scheduler {i} ({type(s).__name__}) belongs to another optimizer")


def _undo_initial_steps(schedulers: Sequence[LRScheduler]) -> None:
    """Take back the initial step each scheduler (and each scheduler inside one) took when built."""
    for s in schedulers:
        if hasattr(s, "_schedulers"):
            _undo_initial_steps(s._schedulers)
        else:
            s.last_epoch -= 1


class _Composite(LRScheduler):
    """State dict of a scheduler made of others: the children's state dicts under ``'_schedulers'``."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        children = state.pop("_schedulers", [])
        if len(children) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(children)} scheduler states for "
                             f"{len(self._schedulers)} schedulers")
        self.__dict__.update(state)
        for s, child in zip(self._schedulers, children):
            s.load_state_dict(child)


class SequentialLR(_Composite):
    """Use ``schedulers[i]`` from ``milestones[i-1]`` on; each restarts from its epoch 0 there.

    Built after its schedulers (which have each taken their initial step), it puts every
    group's rate back to its initial value and undoes those steps, then starts the first
    scheduler, as PyTorch does; the rates are PyTorch's.

    Args:
        optimizer: the optimizer all the schedulers belong to.
        schedulers: the schedulers, in order (not :class:`ReduceLROnPlateau`).
        milestones: the steps at which to switch to the next scheduler (one fewer than schedulers).
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import ExponentialLR, LinearLR, SequentialLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> sched = SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(sched.get_last_lr()[0]); sched.step()
        >>> lrs
        [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        self._attach(optimizer)
        schedulers = list(schedulers)
        _check_children("SequentialLR", schedulers, optimizer)
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_steps(schedulers)
        first = self._schedulers[bisect.bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @opaque
    def step(self) -> None:  # type: ignore[override]
        """Advance the active scheduler (starting the next one at its milestone)."""
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers together at every ``step()``; their changes compose (e.g. multiply).

    Args:
        schedulers: the schedulers to step, in order (not :class:`ReduceLROnPlateau`).
        optimizer: their optimizer (default: that of the first scheduler).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2), ExponentialLR(opt, gamma=0.9)])
        >>> lrs = []
        >>> for _ in range(4):
        ...     lrs.append(round(sched.get_last_lr()[0], 4)); sched.step()
        >>> lrs
        [0.5, 0.45, 0.81, 0.729]
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler: expected at least one scheduler, got none")
        self._attach(optimizer if optimizer is not None else schedulers[0].optimizer)
        _check_children("ChainedScheduler", schedulers, self.optimizer)
        self._schedulers = schedulers
        self._last_lr = self._current_lrs()

    @opaque
    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler, in order."""
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()
