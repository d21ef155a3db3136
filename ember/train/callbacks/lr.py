"""Learning-rate callbacks: a schedule over epochs (or batches), and reduce-on-plateau.

Both drive the optimizer given to ``compile`` by changing ``group['lr']`` in its
param groups; the schedules themselves are those of :mod:`ember.optim.schedule`.
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

from ...optim import schedule as schedules
from .base import Callback
from .monitor import Monitor

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau", "get_lr", "set_lr"]


def get_lr(optimizer) -> float:
    """The learning rate of the optimizer's first param group."""
    return float(optimizer.param_groups[0]["lr"])


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every param group."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


class LearningRateScheduler(Callback):
    """Set the learning rate from a schedule.

    ``schedule`` is either

    * a function ``schedule(epoch, lr) -> new_lr`` (or ``schedule(epoch)``), called at
      the start of each epoch (0-based), as in Keras; or
    * a scheduler of :mod:`ember.optim.schedule` built over ``model.optimizer``
      (``StepLR``, ``CosineAnnealingLR``, ``OneCycleLR`` ...), stepped at the end of
      every epoch, or of every batch with ``per_batch=True``. Its state is saved in
      checkpoints.

    Example:
        >>> halve_every_10 = LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch and epoch % 10 == 0 else lr)
    """

    def __init__(self, schedule: Callable | object, verbose: int = 0, per_batch: bool = False) -> None:
        super().__init__()
        self.is_scheduler = hasattr(schedule, "step") and hasattr(schedule, "state_dict")
        if not self.is_scheduler and not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be a function (epoch, lr) -> lr or an "
                            f"ember.optim.schedule scheduler, got {type(schedule).__name__}")
        if per_batch and not self.is_scheduler:
            raise ValueError("LearningRateScheduler: per_batch=True needs an ember.optim.schedule scheduler")
        self.schedule, self.verbose, self.per_batch = schedule, verbose, per_batch
        if not self.is_scheduler:
            try:
                self._two_args = len(inspect.signature(schedule).parameters) >= 2
            except (TypeError, ValueError):
                self._two_args = True

    def on_train_begin(self, logs=None) -> None:
        if self.is_scheduler and getattr(self.schedule, "optimizer", self.model.optimizer) is not self.model.optimizer:
            raise ValueError("LearningRateScheduler: the scheduler was built over another optimizer than the "
                             "model's; build it over model.optimizer after compile()")

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if self.is_scheduler:
            return
        old = get_lr(self.model.optimizer)
        new = self.schedule(epoch, old) if self._two_args else self.schedule(epoch)
        if not isinstance(new, (int, float)) or math.isnan(new) or new < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {new!r} for epoch {epoch}; expected a "
                             "non-negative number")
        set_lr(self.model.optimizer, new)
        if self.verbose and new != old:
            print(f"Epoch {epoch + 1}: learning rate set to {new:.6g}")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.per_batch:
            self.schedule.step()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.is_scheduler and not self.per_batch:
            self.schedule.step()
            if self.verbose:
                print(f"Epoch {epoch + 1}: learning rate {get_lr(self.model.optimizer):.6g}")

    def state_dict(self) -> dict | None:
        return self.schedule.state_dict() if self.is_scheduler else None

    def load_state_dict(self, state: dict) -> None:
        if self.is_scheduler:
            self.schedule.load_state_dict(state)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stopped improving.

    Keras's callback, run by :class:`ember.optim.schedule.ReduceLROnPlateau`:
    after ``patience`` epochs without an improvement larger than ``min_delta`` the
    learning rate is reduced (not below ``min_lr``), then ``cooldown`` epochs pass
    before counting again.

    Example:
        >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must lie in (0, 1), got {factor!r}")
        self.monitor = Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.scheduler = None

    def on_train_begin(self, logs=None) -> None:
        mode = self.monitor.resolve(self.model).mode
        # Keras reduces once `patience` epochs have not improved, PyTorch after more than `patience`.
        self.scheduler = schedules.ReduceLROnPlateau(
            self.model.optimizer, mode=mode, factor=self.factor, patience=max(self.patience - 1, 0),
            threshold=self.monitor.min_delta, threshold_mode="abs", cooldown=self.cooldown, min_lr=self.min_lr)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = self.monitor.value(logs)
        if current is None:
            return
        old = get_lr(self.model.optimizer)
        self.scheduler.step(current)
        new = get_lr(self.model.optimizer)
        if self.verbose and new < old:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.6g}")

    def state_dict(self) -> dict | None:
        return None if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)
