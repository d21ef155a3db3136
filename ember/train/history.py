"""``History``: what ``fit`` returns, the logs of every epoch.

Example:
    >>> h = History()
    >>> for epoch, (loss, val) in enumerate([(0.9, 1.0), (0.5, 0.7), (0.4, 0.8)]):
    ...     h.on_epoch_end(epoch, {"loss": loss, "val_loss": val})
    >>> h.history["val_loss"], h.best("val_loss")
    ([1.0, 0.7, 0.8], (1, 0.7))
"""
from __future__ import annotations

import math
import os

from .callbacks.base import Callback
from .callbacks.monitor import Monitor

__all__ = ["History"]


class History(Callback):
    """The logs of every epoch of a ``fit``: ``history[key]`` is one list per logged quantity.

    Attributes:
        history: ``{'loss': [...], 'accuracy': [...], 'val_loss': [...], 'lr': [...]}``.
        epoch: the (0-based) epoch index of each entry.
        params: the run's settings (epochs, steps, batch_size, samples, verbose).
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        known = len(self.epoch) - 1
        for key, value in (logs or {}).items():
            # A quantity first logged late (validation every few epochs) is padded with NaN.
            values = self.history.setdefault(key, [math.nan] * known)
            values.append(value)
        for key, values in self.history.items():
            if len(values) < len(self.epoch):
                values.append(math.nan)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """The epoch (index into :attr:`epoch`'s values) and value of the best ``monitor``.

        Raises:
            KeyError: when ``monitor`` was not logged.
        """
        if monitor not in self.history:
            raise KeyError(f"History.best: {monitor!r} was not logged; logged: {', '.join(sorted(self.history))}")
        direction = Monitor("History.best", monitor, mode).resolve(self.model)
        best_index, best_value = -1, direction.worst
        for index, value in enumerate(self.history[monitor]):
            if not math.isnan(value) and (best_index < 0 or direction.improves(value, best_value)):
                best_index, best_value = index, value
        return self.epoch[best_index], best_value

    def plot(self, path: str | os.PathLike | None = None, metrics=None, **options):
        """Learning curves of the run (one panel per quantity, training and validation together).

        Needs matplotlib. See :func:`ember.viz.plot_history`; returns the figure.
        """
        from ..viz import plot_history  # matplotlib is optional

        return plot_history(self, path, metrics=metrics, **options)

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: list(v) for k, v in state["history"].items()}
