"""The 1cycle policy (Smith and Topin, 2018): warm up to a maximum rate, then anneal far below the start."""
from __future__ import annotations

import math

from ..optimizer import Optimizer
from ..options import FLAG, POSITIVE, POSITIVE_INT, UNIT_INTERVAL
from .scheduler import LRScheduler

__all__ = ["OneCycleLR"]


def _per_group(name: str, value, n: int) -> list[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"OneCycleLR: expected {n} values of {name} (one per param group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * n


class OneCycleLR(LRScheduler):
    """The one-cycle learning-rate (and momentum) policy, with PyTorch's rates; step it every batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of
    the ``total_steps``, then anneals to ``max_lr / (div_factor * final_div_factor)``; the
    momentum (or Adam's ``beta1``) moves the opposite way between ``max_momentum`` and
    ``base_momentum``. ``three_phase`` comes back down symmetrically before the final anneal.

    Args:
        optimizer: the optimizer to schedule (its ``lr`` is replaced).
        max_lr: the peak learning rate (or one per param group).
        total_steps: the length of the cycle; or give ``epochs`` and ``steps_per_epoch``.
        epochs: number of epochs (with ``steps_per_epoch``).
        steps_per_epoch: batches per epoch (with ``epochs``).
        pct_start: the fraction of the cycle spent increasing the rate.
        anneal_strategy: ``'cos'`` or ``'linear'``.
        cycle_momentum: cycle the momentum (or ``beta1``) inversely to the rate.
        base_momentum: the lowest momentum (at the peak rate).
        max_momentum: the highest momentum (at the start and end).
        div_factor: ``max_lr / div_factor`` is the starting rate.
        final_div_factor: the final rate is the starting rate divided by this.
        three_phase: use the three-phase variant (up, down to the start, anneal).
        last_epoch: the index of the last step, to resume (-1 starts afresh).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> from ember.optim.lr_scheduler import OneCycleLR
        >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> lrs = []
        >>> for _ in range(10):
        ...     lrs.append(round(sched.get_last_lr()[0], 4)); sched.step()
        >>> lrs[0], lrs[2], lrs[9]
        (0.04, 1.0, 0.0)
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        self._attach(optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
            total_steps = self._check("epochs", epochs, POSITIVE_INT) * \
                self._check("steps_per_epoch", steps_per_epoch, POSITIVE_INT)
        self.total_steps = self._check("total_steps", total_steps, POSITIVE_INT)
        self._check("pct_start", pct_start, UNIT_INTERVAL)
        self._check("div_factor", div_factor, POSITIVE)
        self._check("final_div_factor", final_div_factor, POSITIVE)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = self._check("cycle_momentum", cycle_momentum, FLAG)
        up = float(pct_start * self.total_steps) - 1
        # (end step, lr from, lr to, momentum from, momentum to) per phase, as in PyTorch.
        if three_phase:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                           (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", max_lr, len(groups))):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(
                    f"OneCycleLR: cycle_momentum=True needs an optimizer with 'momentum' or 'betas'; "
                    f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)"
                )
            if last_epoch == -1:
                highs = _per_group("max_momentum", max_momentum, len(groups))
                lows = _per_group("base_momentum", base_momentum, len(groups))
                for group, high, low in zip(groups, highs, lows):
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _values_at(self, epoch: int, group: dict, lr: bool) -> float:
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {epoch} times but total_steps is {self.total_steps}; "
                "make total_steps (or epochs * steps_per_epoch) cover the whole run"
            )
        start_step = 0.0
        for i, (end_step, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
            if epoch <= end_step or i == len(self.phases) - 1:
                pct = (epoch - start_step) / (end_step - start_step)
                return self._anneal(group[lr_from], group[lr_to], pct) if lr else \
                    self._anneal(group[m_from], group[m_to], pct)
            start_step = end_step
        raise AssertionError("unreachable")

    def get_lr(self) -> list[float]:
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._values_at(self.last_epoch, group, lr=True))
            if self.cycle_momentum:
                momentum = self._values_at(self.last_epoch, group, lr=False)
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs
