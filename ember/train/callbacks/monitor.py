"""Watching one logged quantity: reading it, and deciding whether a new value improves on the best.

Shared by :class:`EarlyStopping`, :class:`ModelCheckpoint` and
:class:`ReduceLROnPlateau`, so that ``mode='auto'`` and ``min_delta`` mean the
same thing in all three.
"""
from __future__ import annotations

import math
import warnings

__all__ = ["Monitor"]

_HIGHER_IS_BETTER_HINTS = ("acc", "precision", "recall", "f1", "auc")


class Monitor:
    """A quantity of the epoch logs (``'val_loss'``, ``'val_accuracy'`` ...) and its direction.

    Args:
        who: the owner's name, for messages.
        monitor: the log key.
        mode: ``'min'``, ``'max'`` or ``'auto'``: the direction of the model's metric of
            that name (``higher_is_better``), else ``'max'`` for names containing
            accuracy/precision/recall/f1/auc and ``'min'`` for everything else (losses).
        min_delta: the least change that counts as an improvement.

    Example:
        >>> m = Monitor("EarlyStopping", "val_accuracy", "auto", min_delta=0.01)
        >>> m.resolve(None).mode, m.improves(0.95, 0.94), m.improves(0.96, 0.94)
        ('max', False, True)
    """

    def __init__(self, who: str, monitor: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{who}: monitor must be the name of a logged quantity, got {monitor!r}")
        self.who, self.monitor, self.requested, self.min_delta = who, monitor, mode, abs(float(min_delta))
        self.mode = mode
        self._warned = False

    def resolve(self, model) -> "Monitor":
        """Fix ``mode`` from the model's metrics (call at the start of training)."""
        if self.requested != "auto":
            self.mode = self.requested
            return self
        base = self.monitor.removeprefix("val_")
        for metric in getattr(model, "metrics", None) or ():
            if metric.name == base:
                self.mode = "max" if metric.higher_is_better else "min"
                return self
        self.mode = "max" if any(h in base.lower() for h in _HIGHER_IS_BETTER_HINTS) else "min"
        return self

    @property
    def worst(self) -> float:
        """The starting ``best``: nothing is worse."""
        return math.inf if self.mode == "min" else -math.inf

    def improves(self, current: float, best: float) -> bool:
        """Whether ``current`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return current < best - self.min_delta
        return current > best + self.min_delta

    def value(self, logs: dict | None) -> float | None:
        """The monitored value in ``logs``, or None (with one warning) when it is not there."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned:
                available = ", ".join(sorted(logs or {})) or "none"
                warnings.warn(f"{self.who}: {self.monitor!r} is not in the logs (available: {available}); "
                              "pass validation data for val_* quantities", RuntimeWarning, stacklevel=3)
                self._warned = True
            return None
        return float(value)
