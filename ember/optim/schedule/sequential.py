"""Run closed-form schedules one after another (e.g. a warm-up, then a decay)."""
from __future__ import annotations

import bisect

from ..optimizer import Optimizer
from .scheduler import LRScheduler

__all__ = ["SequentialLR"]


class SequentialLR(LRScheduler):
    """Use ``schedulers[i]`` between ``milestones[i-1]`` and ``milestones[i]``, each counting from 0.

    Gives the same rates as PyTorch's ``SequentialLR`` for the same schedules.

    Args:
        optimizer: the optimizer all the schedulers belong to.
        schedulers: closed-form schedulers (not :class:`ReduceLROnPlateau`).
        milestones: the steps at which to switch to the next scheduler (one fewer than schedulers).
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import ExponentialLR, LinearLR, SequentialLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> sched = SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> [sched.lrs_at(t)[0] for t in range(5)]
        [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1):
        self._attach(optimizer)
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(
                    f"SequentialLR: scheduler {i} is a {type(s).__name__}; expected a closed-form "
                    "LRScheduler (ReduceLROnPlateau cannot be sequenced)"
                )
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} ({type(s).__name__}) belongs to another optimizer")
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1 or milestones != sorted(milestones):
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} increasing milestones for "
                f"{len(schedulers)} schedulers, got {milestones}"
            )
        self._schedulers = schedulers
        self.milestones = milestones
        super().__init__(optimizer, last_epoch)

    def _current(self, epoch: int) -> tuple[LRScheduler, int]:
        index = bisect.bisect_right(self.milestones, epoch)
        start = self.milestones[index - 1] if index else 0
        return self._schedulers[index], epoch - start

    def lrs_at(self, epoch: int) -> list[float]:
        scheduler, local = self._current(epoch)
        return scheduler.lrs_at(local)

    def _apply(self, epoch: int) -> None:
        scheduler, local = self._current(epoch)
        scheduler._apply(local)

    def state_dict(self) -> dict:
        state = {k: v for k, v in super().state_dict().items() if k != "_schedulers"}
        state["schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        children = state.pop("schedulers", [])
        if len(children) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: {len(children)} scheduler states for {len(self._schedulers)} schedulers"
            )
        super().load_state_dict(state)
        for s, child in zip(self._schedulers, children):
            s.load_state_dict(child)
