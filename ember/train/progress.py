"""The progress display of ``fit``: a live bar per epoch on a terminal, one line per epoch in logs.

``verbose`` follows Keras: 0 is silent, 1 draws a progress bar per epoch with the
running loss, metrics and throughput (samples per second), replaced at the end of
the epoch by the epoch's full line, 2 prints that line only. ``'auto'`` is 1. A bar needs a terminal: when the output is a file or a
pipe (a batch job's log, CI), ``verbose=1`` prints the per-epoch line instead of
hundreds of bar refreshes. The bar is tqdm's when tqdm is installed, else a
plain-text one.
"""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from .callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs", "format_rate"]

_REFRESH_SECONDS = 0.1


def _format_value(value) -> str:
    value = float(value)
    return f"{value:.4e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"


def _format_seconds(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def format_logs(logs: dict, skip=("lr", "size", "batch")) -> str:
    """``'loss: 0.3120 - accuracy: 0.9100'``: the logs as Keras prints them.

    Example:
        >>> format_logs({"loss": 0.31204, "val_loss": 0.0001})
        'loss: 0.3120 - val_loss: 1.0000e-04'
    """
    return " - ".join(f"{k}: {_format_value(v)}" for k, v in logs.items() if k not in skip)


def format_rate(samples: float, seconds: float) -> str:
    """Throughput such as ``'12.3k samples/s'``.

    Example:
        >>> format_rate(24600, 2.0)
        '12.3k samples/s'
    """
    rate = samples / seconds if seconds > 0 else 0.0
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.1f}{unit} samples/s"
    return f"{rate:.0f} samples/s"


class ProgressBar(Callback):
    """Show training progress; ``fit`` adds one for ``verbose > 0``.

    Args:
        verbose: 1 (bar on a terminal, else a line per epoch) or 2 (a line per epoch).
        stream: where to write (standard output by default).
        use_tqdm: draw the bar with tqdm when it is installed.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgressBar(verbose=2, stream=out)
        >>> bar.set_params({"epochs": 3, "steps": 10})
        >>> bar.on_train_begin(); bar.on_epoch_begin(0)
        >>> bar.on_epoch_end(0, {"loss": 0.5})
        >>> out.getvalue().startswith("Epoch 1/3 - ")
        True
    """

    def __init__(self, verbose: int = 1, stream: TextIO | None = None, use_tqdm: bool = True) -> None:
        super().__init__()
        self.verbose, self.stream, self.use_tqdm = verbose, stream, use_tqdm
        self._bar = None

    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _live(self) -> bool:
        isatty = getattr(self._out, "isatty", None)
        return self.verbose == 1 and bool(isatty and isatty())

    def on_train_begin(self, logs=None) -> None:
        self._live_bar = self._live()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()
        self._last_draw = -float("inf")  # draw after the first batch, then every _REFRESH_SECONDS
        self._samples = 0
        self._title = f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}"
        if self._live_bar:
            self._bar = _make_bar(self._title, self.params.get("steps"), self._out, self.use_tqdm)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        logs = logs or {}
        self._samples += logs.get("size", 0)
        if self._bar is None:
            return
        now = time.perf_counter()
        self._bar.update(1)
        if now - self._last_draw >= _REFRESH_SECONDS:
            self._last_draw = now
            self._bar.describe(f"{format_logs(logs)} - {format_rate(self._samples, now - self._start)}")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        seconds = time.perf_counter() - self._start
        summary = f"{_format_seconds(seconds)} - {format_rate(self._samples, seconds)} - {format_logs(logs or {})}"
        if self._bar is not None:
            # The bar gives way to the full line: a terminal-wide bar would cut the validation results off.
            self._bar.close()
            self._bar = None
        print(f"{self._title} - {summary}", file=self._out, flush=True)


def _make_bar(title: str, total: int | None, out: TextIO, use_tqdm: bool):
    if use_tqdm:
        try:
            from tqdm.auto import tqdm  # optional dependency
        except ImportError:
            pass
        else:
            try:
                width = os.get_terminal_size(out.fileno()).columns
            except (AttributeError, OSError, ValueError):
                width = 0
            # A terminal reporting no width (some ptys) would get an empty bar from tqdm.
            return _TqdmBar(tqdm(total=total, desc=title, unit="batch", file=out, leave=False,
                                 ncols=None if width else 100))
    return _TextBar(title, total, out)


class _TqdmBar:
    def __init__(self, bar) -> None:
        self.bar = bar

    def update(self, n: int) -> None:
        self.bar.update(n)

    def describe(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        self.bar.close()


class _TextBar:
    """A one-line bar redrawn with a carriage return (when tqdm is not installed)."""

    width = 24

    def __init__(self, title: str, total: int | None, out: TextIO) -> None:
        self.title, self.total, self.out, self.done, self.text = title, total, out, 0, ""

    def update(self, n: int) -> None:
        self.done += n

    def describe(self, text: str) -> None:
        self.text = text
        if self.total:
            filled = int(self.width * min(self.done, self.total) / self.total)
            bar = "=" * filled + (">" if filled < self.width else "") + "." * max(self.width - filled - 1, 0)
            where = f"[{bar}] {self.done}/{self.total}"
        else:
            where = f"{self.done} batches"
        self.out.write(f"\r{self.title} {where} - {text}")
        self.out.flush()

    def close(self) -> None:
        self.out.write("\r" + " " * (len(self.title) + len(self.text) + 48) + "\r")  # erase the bar
        self.out.flush()
