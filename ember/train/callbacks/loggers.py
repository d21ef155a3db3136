"""Writing the logs somewhere: a CSV file, TensorBoard, and stopping on a NaN loss."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from .base import Callback

__all__ = ["CSVLogger", "TensorBoard", "TerminateOnNaN"]


class CSVLogger(Callback):
    """Write one row per epoch (``epoch`` and every log, sorted by name) to a CSV file.

    The header lists every quantity ``fit`` logs; one missing from an epoch
    (validation run every few epochs) is written ``NA``. The file is flushed after
    every row, so it can be followed while training runs.

    Args:
        filename: the file.
        separator: the field separator.
        append: add to an existing file (after a resume) instead of replacing it.

    Example:
        >>> import tempfile, os
        >>> logger = CSVLogger(os.path.join(tempfile.mkdtemp(), "training.csv"))
    """

    main_process_only = True  # under mpiexec, one writer

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.separator, self.append = Path(filename), separator, append
        self.keys: list[str] | None = None
        self._file = self._writer = None

    def on_train_begin(self, logs=None) -> None:
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        continuing = self.append and self.filename.exists() and self.filename.stat().st_size > 0
        if continuing:
            with open(self.filename, newline="") as existing:
                header = next(csv.reader(existing, delimiter=self.separator), None)
            self.keys = header[1:] if header else None
        else:
            self.keys = None
        self._file = open(self.filename, "a" if continuing else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.keys is None:
            # fit announces its keys (validation every few epochs would be missing from the first row).
            self.keys = sorted(set(self.params.get("metrics") or ()) | set(logs))
            self._writer.writerow(["epoch"] + self.keys)
        self._writer.writerow([epoch] + [_format(logs[k]) if k in logs else "NA" for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None


def _format(value) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class TensorBoard(Callback):
    """Write the logs as TensorBoard scalars (and, optionally, weight histograms).

    Needs the optional ``tensorboardX`` package (``pip install tensorboardX``, or
    Ember's ``tensorboard`` extra). Training quantities go to ``log_dir/train``,
    validation ones to ``log_dir/validation`` under the same tag (``loss``,
    ``accuracy``...), so TensorBoard draws them on one chart, as with Keras.

    Args:
        log_dir: the directory of the event files.
        histogram_freq: write a histogram of every parameter every that many
            epochs (0: never).
        update_freq: ``'epoch'``, or an int to also write the batch loss every that
            many batches.

    Example:
        >>> board = TensorBoard(log_dir="runs/mlp")  # then: tensorboard --logdir runs
    """

    main_process_only = True  # under mpiexec, one writer

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 update_freq: str | int = "epoch") -> None:
        super().__init__()
        try:
            import tensorboardX  # noqa: F401 - optional dependency
        except ImportError as err:
            raise ImportError("TensorBoard needs the tensorboardX package: pip install tensorboardX "
                              "(or pip install 'ember[tensorboard]')") from err
        self.log_dir, self.histogram_freq, self.update_freq = Path(log_dir), histogram_freq, update_freq
        self._writers: dict = {}
        self._step = 0

    def _writer(self, which: str):
        if which not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[which] = SummaryWriter(str(self.log_dir / which))
        return self._writers[which]

    def on_train_begin(self, logs=None) -> None:
        self._step = 0

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._step += 1
        if self.update_freq != "epoch" and self._step % self.update_freq == 0 and logs and "loss" in logs:
            self._writer("train").add_scalar("batch_loss", logs["loss"], self._step)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                self._writer("validation").add_scalar(key[4:], value, epoch)
            else:
                self._writer("train").add_scalar("learning_rate" if key == "lr" else key, value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, value in self.model.get_weights().items():
                self._writer("train").add_histogram(name, value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss becomes NaN or infinite.

    Example:
        >>> guard = TerminateOnNaN()
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_batch = None

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_batch = batch
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True
