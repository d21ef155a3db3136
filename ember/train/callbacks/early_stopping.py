"""Stop training when a monitored quantity has stopped improving."""
from __future__ import annotations

from .base import Callback
from .monitor import Monitor

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Keras's rule: an epoch that does not improve on the best increases a counter, an
    epoch that does resets it, and training stops once the counter reaches
    ``patience`` (never after the first epoch).

    Args:
        monitor: the quantity to watch (``'val_loss'``, ``'val_accuracy'``, ``'loss'`` ...).
        min_delta: the least change that counts as an improvement.
        patience: the number of epochs without improvement to tolerate.
        verbose: 1 prints a line when training stops.
        mode: ``'min'``, ``'max'`` or ``'auto'`` (see :class:`Monitor`).
        baseline: a value the quantity must beat; epochs that do not beat it count
            as not improving.
        restore_best_weights: when training stops early, put back the weights of
            the best epoch (as Keras, weights are not restored when all epochs run).
        start_from_epoch: epochs to wait before watching (warm-up).

    Attributes:
        stopped_epoch: the epoch training stopped at (0 when it was not stopped).
        best, best_epoch: the best value seen and its epoch.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        self.monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, -1
        self.best = self.baseline if self.baseline is not None else float("nan")
        self.best_weights = None

    def on_train_begin(self, logs=None) -> None:
        self.monitor.resolve(self.model)
        self._reset()
        if self.baseline is None:
            self.best = self.monitor.worst

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = self.monitor.value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # something to restore even if nothing improves
        self.wait += 1
        if self.monitor.improves(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if not self.stopped_epoch:
            return
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        if self.verbose:
            restored = f"; restored the weights of epoch {self.best_epoch + 1}" if self.restore_best_weights else ""
            print(f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor.monitor} did not improve on "
                  f"{self.best:.5g} for {self.wait} epochs{restored})")

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.stopped_epoch, self.best_weights = state["stopped_epoch"], state["best_weights"]
