"""The scheduler base classes: bookkeeping shared by every schedule, and the closed-form step.

Every schedule here except :class:`~ember.optim.schedule.ReduceLROnPlateau` is a *closed
form*: the learning rate after ``t`` calls to ``step()`` depends only on ``t`` and the
initial learning rates, never on the previous rate. This makes resuming exact (the state
is one counter) and composition explicit (:class:`~ember.optim.schedule.SequentialLR`),
and it gives the same rates as PyTorch's schedulers used on their own.

"Epoch" is the name of the counter only: call ``step()`` once per batch for a per-step
schedule (one-cycle, warm-up) or once per epoch, and size ``step_size``, ``T_max`` and the
like in the same unit.
"""
from __future__ import annotations

from typing import Any

from ...autograd.tracing import opaque
from ..optimizer import Optimizer
from ..options import Rule


class _SchedulerBase:
    """What all schedulers share: the optimizer check, ``get_last_lr`` and the state dict."""

    optimizer: Optimizer
    _last_lr: list[float]

    def _attach(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an ember.optim.Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer

    def _check(self, name: str, value: Any, rule: Rule) -> Any:
        rule.check(type(self).__name__, name, value)
        return value

    def get_last_lr(self) -> list[float]:
        """The learning rate of each param group as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The scheduler's counters and settings as plain values (not the optimizer, nor functions)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (load the optimizer's own state dict as well)."""
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unexpected keys {sorted(unknown)}; "
                "is it the state of another scheduler?"
            )
        self.__dict__.update(state_dict)


class LRScheduler(_SchedulerBase):
    """Base class of the closed-form schedules: a subclass defines :meth:`lrs_at`.

    On construction the optimizer's current rates are recorded as ``group['initial_lr']``
    (``base_lrs``) and the rate of step 0 is applied, as in PyTorch.

    Args:
        optimizer: the optimizer whose ``group['lr']`` values are set.
        last_epoch: the index of the last step taken, to resume; -1 starts afresh.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.schedule import LRScheduler
        >>> class Halving(LRScheduler):
        ...     def lrs_at(self, epoch):
        ...         return [base * 0.5 ** epoch for base in self.base_lrs]
        >>> sched = Halving(SGD([ember.ones(1, requires_grad=True)], lr=1.0))
        >>> sched.step(); sched.step(); sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self._attach(optimizer)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{type(self).__name__}: resuming with last_epoch={last_epoch} needs "
                        f"'initial_lr' in param group {i}; load the optimizer's state_dict first"
                    )
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self.last_epoch = last_epoch
        self.step()

    def lrs_at(self, epoch: int) -> list[float]:
        """The learning rate of every param group after ``epoch`` steps."""
        raise NotImplementedError

    @opaque  # replayed whole by ember.compile, like the optimizer's step
    def step(self) -> None:
        """Advance the counter by one and set every group's learning rate."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise RuntimeError(
                f"{type(self).__name__}: the optimizer has {len(groups)} param groups but the "
                f"scheduler was made for {len(self.base_lrs)}; create the scheduler after add_param_group"
            )
        self.last_epoch += 1
        self._apply(self.last_epoch)
        self._last_lr = [group["lr"] for group in groups]

    def _apply(self, epoch: int) -> None:
        for group, lr in zip(self.optimizer.param_groups, self.lrs_at(epoch)):
            group["lr"] = lr
