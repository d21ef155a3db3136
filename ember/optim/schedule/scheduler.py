"""``LRScheduler``: the base of every learning-rate schedule, with PyTorch's stepping rules.

A scheduler changes ``group['lr']`` in its optimizer's param groups each time ``step()`` is
called. As in PyTorch, most schedules are *chainable*: :meth:`LRScheduler.get_lr` computes
the next rate from the rate the group holds now (``StepLR`` multiplies it by ``gamma`` at a
boundary, ``ExponentialLR`` at every step), so that two schedulers stepping the same
optimizer (or a :class:`~ember.optim.lr_scheduler.ChainedScheduler`) compose by
multiplication. Schedules that also have a closed form (``lr`` as a function of the step
count alone) expose it as ``_get_closed_form_lr``, used when ``step(epoch)`` jumps to an
epoch (PyTorch's deprecated form).

"Epoch" is the name of the counter only: call ``step()`` once per batch for a per-step
schedule (one-cycle, warm-up) or once per epoch, and size ``step_size``, ``T_max`` and the
like in the same unit. Call ``optimizer.step()`` before ``scheduler.step()``.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from ...autograd.tracing import opaque
from ..optimizer import Optimizer
from ..options import Rule

__all__ = ["LRScheduler", "_LRScheduler"]

_EPOCH_DEPRECATION = (
    "The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch); call `step()` without it"
)


def per_group(owner: str, name: str, optimizer: Optimizer, value: Any) -> list:
    """``value`` repeated once per param group, or ``value`` itself when it is a list of that length."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{owner}: expected {n} values of {name} (one per param group), got {len(value)}")
        return list(value)
    return [value] * n


class LRScheduler:
    """Base class of the learning-rate schedulers: subclasses implement :meth:`get_lr`.

    On construction the optimizer's current rates are recorded as ``group['initial_lr']``
    (``base_lrs``) and a first, initial step is taken (``last_epoch`` becomes 0), as in
    PyTorch.

    Args:
        optimizer: the optimizer whose ``group['lr']`` values are set.
        last_epoch: the index of the last step taken, to resume; -1 starts afresh (resuming
            needs ``'initial_lr'`` in every group: load the optimizer's state dict first).

    Attributes:
        base_lrs: the initial rate of every param group.
        last_epoch: the number of ``step()`` calls since the start (0 after construction).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import LRScheduler
        >>> class Halving(LRScheduler):
        ...     def get_lr(self):
        ...         return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
        >>> sched = Halving(SGD([ember.ones(1, requires_grad=True)], lr=1.0))
        >>> sched.step(); sched.step(); sched.get_last_lr()
        [0.25]
    """

    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self._attach(optimizer)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: resuming with last_epoch={last_epoch} needs "
                        f"'initial_lr' in param group {i}; load the optimizer's state_dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _attach(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an ember.optim.Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer

    def _check(self, name: str, value: Any, rule: Rule) -> Any:
        rule.check(type(self).__name__, name, value)
        return value

    def _initial_step(self) -> None:
        """Reset the step count and take the initial step (which sets the rates of step 0)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate of every param group for the step ``last_epoch`` (just incremented)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate of each param group as set by the last ``step()``."""
        return list(self._last_lr)

    @opaque  # replayed whole by ember.compile, like the optimizer's step
    def step(self, epoch: int | None = None) -> None:
        """Advance the counter by one (or, deprecated, jump to ``epoch``) and set the rates."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise RuntimeError(
                f"{type(self).__name__}: the optimizer has {len(groups)} param groups but the "
                f"scheduler was made for {len(self.base_lrs)}; create the scheduler after add_param_group"
            )
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values: Iterable[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ------------------------------------------------------------ saving and loading
    _NOT_SAVED: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's counters and settings as plain values (not the optimizer, nor functions)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._NOT_SAVED and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (load the optimizer's own state dict as well).

        Raises:
            ValueError: the dict has keys this scheduler does not save (another scheduler's state).
        """
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unexpected keys {sorted(unknown)}; "
                "is it the state of another scheduler?"
            )
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in self._NOT_SAVED})


class _LRScheduler(LRScheduler):
    """PyTorch's older name of :class:`LRScheduler`, kept for code that subclasses it."""
