"""Charts drawn with matplotlib (an optional dependency): learning curves, confusion matrices, labelled images.

Figures are made with matplotlib's object API and the Agg canvas, never with
``pyplot``'s global state, so they work in scripts, on servers without a display
and in tests. Each function returns the :class:`matplotlib.figure.Figure` and,
given a ``path``, saves it as a PNG.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .grid import _channel_first, _host

__all__ = ["plot_history", "plot_confusion_matrix", "plot_images"]


def _figure(width: float, height: float):
    try:
        from matplotlib.backends.backend_agg import (
            FigureCanvasAgg,  # optional dependency
        )
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("this plot needs matplotlib: pip install matplotlib (or pip install 'ember[viz]'); "
                          "image grids (ember.viz.save_image_grid, plot_filters) work without it") from err
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(os.fspath(path), format="png", bbox_inches="tight")


def plot_history(history, path: str | os.PathLike | None = None, metrics=None, log_scale: tuple = ("lr",)):
    """Learning curves: one panel per quantity, training and validation on the same axes.

    Args:
        history: a :class:`~ember.train.History` (or its ``.history`` dict).
        path: the PNG file to write.
        metrics: the quantities to draw (default: every logged one without ``val_``,
            and ``lr`` only when it changed; a ``val_`` twin is drawn on the same axes).
        log_scale: quantities drawn on a logarithmic axis.

    Returns:
        The matplotlib figure.

    Example:
        >>> figure = plot_history({"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]})
        >>> [axis.get_title() for axis in figure.axes]
        ['loss']
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    epochs = list(getattr(history, "epoch", None) or range(len(next(iter(logs.values()), []))))
    if metrics is None:  # a constant learning rate is not worth a panel
        names = [k for k in logs if not k.startswith("val_") and not (k == "lr" and len(set(logs[k])) <= 1)]
    else:
        names = list(metrics)
    missing = [n for n in names if n not in logs and f"val_{n}" not in logs]
    if missing or not names:
        raise ValueError(f"plot_history: nothing logged under {missing or 'any name'}; logged: {sorted(logs)}")
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = _figure(4.2 * columns, 3.2 * rows)
    x = [e + 1 for e in epochs]
    for index, name in enumerate(names):
        axis = figure.add_subplot(rows, columns, index + 1)
        for key, label, style in ((name, "training", "-"), (f"val_{name}", "validation", "--")):
            if key in logs:
                axis.plot(x[:len(logs[key])], logs[key], style, marker="o", markersize=3, label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.xaxis.get_major_locator().set_params(integer=True)
        if name in log_scale:
            axis.set_yscale("log")
        if f"val_{name}" in logs and name in logs:
            axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    _save(figure, path)
    return figure


def plot_confusion_matrix(matrix, path: str | os.PathLike | None = None, class_names=None,
                          normalize: bool = False, title: str = "confusion matrix"):
    """Draw a confusion matrix (rows: true class, columns: predicted class) with its counts.

    Args:
        matrix: a ``(C, C)`` array of counts, e.g. from
            :func:`ember.train.metrics.confusion_matrix`.
        path: the PNG file to write.
        class_names: tick labels.
        normalize: show each row as fractions of its class.

    Returns:
        The matplotlib figure.

    Example:
        >>> import numpy as np
        >>> figure = plot_confusion_matrix(np.array([[5, 1], [2, 7]]), class_names=["cat", "dog"])
    """
    counts = np.asarray(_host(matrix), dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square (C, C) matrix, got shape {counts.shape}")
    classes = counts.shape[0]
    if class_names is not None and len(class_names) != classes:
        raise ValueError(f"plot_confusion_matrix: {len(class_names)} class names for {classes} classes")
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    size = max(4.0, 0.5 * classes + 2)
    figure = _figure(size, size)
    axis = figure.add_subplot(1, 1, 1)
    image = axis.imshow(shown, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    labels = list(class_names) if class_names is not None else [str(i) for i in range(classes)]
    axis.set_xticks(range(classes), labels, rotation=45 if classes > 5 else 0, ha="right" if classes > 5 else "center")
    axis.set_yticks(range(classes), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    if classes <= 30:
        threshold = shown.max() / 2 if shown.size else 0
        for i in range(classes):
            for j in range(classes):
                text = f"{shown[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
                axis.text(j, i, text, ha="center", va="center", fontsize=8,
                          color="white" if shown[i, j] > threshold else "black")
    figure.tight_layout()
    _save(figure, path)
    return figure


def plot_images(images, path: str | os.PathLike | None = None, labels=None, predictions=None, class_names=None,
                ncols: int | None = None):
    """A grid of images with their labels (and predictions, wrong ones in red) as titles.

    Example:
        >>> import numpy as np
        >>> figure = plot_images(np.zeros((4, 28, 28)), labels=[0, 1, 2, 3], predictions=[0, 1, 2, 2])
        >>> len(figure.axes)
        4
    """
    images = _channel_first(_host(images), "plot_images")
    n = len(images)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != n:
            raise ValueError(f"plot_images: {len(values)} {name} for {n} images")
    ncols = ncols or min(n, 8)
    rows = math.ceil(n / ncols)
    figure = _figure(1.4 * ncols, 1.6 * rows)

    def name_of(value) -> str:
        value = int(value)
        return str(class_names[value]) if class_names is not None else str(value)

    for index in range(n):
        axis = figure.add_subplot(rows, ncols, index + 1)
        image = images[index]
        if image.shape[0] == 1:
            axis.imshow(image[0], cmap="gray")
        else:
            low, high = float(image.min()), float(image.max())
            axis.imshow(((image - low) / (high - low if high > low else 1)).transpose(1, 2, 0))
        axis.set_xticks([])
        axis.set_yticks([])
        if labels is not None or predictions is not None:
            title = name_of(labels[index]) if labels is not None else ""
            color = "black"
            if predictions is not None:
                title = f"{title} / {name_of(predictions[index])}" if labels is not None else name_of(predictions[index])
                if labels is not None and int(predictions[index]) != int(labels[index]):
                    color = "red"
            axis.set_title(title, fontsize=8, color=color)
    figure.tight_layout()
    _save(figure, path)
    return figure
