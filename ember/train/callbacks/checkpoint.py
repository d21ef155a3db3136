"""Saving during training: ``ModelCheckpoint`` (best or every epoch) and ``BackupAndRestore``.

The files are written by :mod:`ember.io` (safetensors, atomic: a crash leaves
the previous file intact). A full checkpoint holds what resuming needs: the
weights, the optimizer (and learning-rate schedule) state, Ember's random
generators, the epoch, the data order's seed, the history so far and the state
of the callbacks. ``model.load_checkpoint(path)`` followed by ``model.fit(...)``
continues the run as if it had never stopped.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .base import Callback
from .monitor import Monitor

__all__ = ["ModelCheckpoint", "BackupAndRestore"]


class ModelCheckpoint(Callback):
    """Save the model at the end of every epoch, or only when ``monitor`` improves.

    Args:
        filepath: the file to write; it may hold ``{epoch}`` (1-based) and any log
            key, e.g. ``'ckpt/{epoch:02d}-{val_loss:.3f}.safetensors'``.
        monitor: the quantity for ``save_best_only``.
        verbose: 1 prints a line per save.
        save_best_only: save only epochs that improve on the best so far (with a
            fixed ``filepath`` the file always holds the best model).
        save_weights_only: write the weights alone (``ember.save`` format; load with
            ``model.load_weights``) instead of a resumable checkpoint.
        mode: ``'min'``, ``'max'`` or ``'auto'`` (see :class:`Monitor`).
        save_freq: ``'epoch'``, or an int to save every that many batches as well.
        initial_value_threshold: a value the first saved epoch must beat.

    It runs after the other callbacks (``writes_checkpoints``), so a checkpoint holds
    their state at the end of the epoch (history, early-stopping counters).

    Example:
        >>> import tempfile, os
        >>> best = ModelCheckpoint(os.path.join(tempfile.mkdtemp(), "best.safetensors"),
        ...                        monitor="val_accuracy", save_best_only=True)
    """

    main_process_only = True  # under mpiexec, one writer

    writes_checkpoints = True

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = Monitor("ModelCheckpoint", monitor, mode)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only
        self.save_freq, self.initial_value_threshold = save_freq, initial_value_threshold
        self.best = initial_value_threshold
        self._batches_seen = 0
        self._epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.monitor.resolve(self.model)
        if self.best is None:
            self.best = self.monitor.worst

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._write(self._path(self._epoch, logs, batch), epoch=self._epoch)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.save_freq != "epoch":
            return
        if self.save_best_only:
            current = self.monitor.value(logs)
            if current is None or not self.monitor.improves(current, self.best):
                return
            previous, self.best = self.best, current
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor.monitor} improved from {previous:.5g} to {current:.5g}")
        self._write(self._path(epoch, logs), epoch=epoch + 1)

    def _path(self, epoch: int, logs: dict | None, batch: int | None = None) -> str:
        fields = dict(logs or {})
        fields.update(epoch=epoch + 1, batch=None if batch is None else batch + 1)
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} refers to {err}, which is not in the logs "
                           f"(available: epoch, batch, {', '.join(sorted(logs or {}))})") from None

    def _write(self, path: str, epoch: int) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save_checkpoint(path, epoch=epoch)
        if self.verbose:
            print(f"Epoch {epoch}: saved {path}")

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


class BackupAndRestore(Callback):
    """Resume an interrupted ``fit`` automatically from a backup directory.

    At the end of every epoch the full training state is written to
    ``backup_dir`` (atomically, keeping only the newest). When ``fit`` starts and a
    backup is there, it is restored first and training continues from the epoch
    after it, with the same data order and random numbers. A run that finishes
    deletes its backup (unless ``delete_checkpoint=False``).

    Example:
        >>> import tempfile
        >>> backup = BackupAndRestore(tempfile.mkdtemp())
    """

    writes_checkpoints = True

    def __init__(self, backup_dir: str | os.PathLike, delete_checkpoint: bool = True) -> None:
        super().__init__()
        from ...io import CheckpointManager  # io is only needed once training runs

        self.manager = CheckpointManager(backup_dir, keep=1, prefix="backup")
        self.delete_checkpoint = delete_checkpoint

    def on_train_begin(self, logs=None) -> None:
        latest = self.manager.latest()
        if latest is not None:
            self.model.load_checkpoint(latest)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.model.save_checkpoint(epoch=epoch + 1, manager=self.manager)  # keep=1 prunes the previous one

    def on_train_end(self, logs=None) -> None:
        # Only reached when fit returns normally: an exception skips on_train_end, keeping the backup.
        if self.delete_checkpoint:
            for info in self.manager.checkpoints():
                info.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only when empty: the folder may hold the user's files
                self.manager.directory.rmdir()
