"""String names for losses, optimizers and metrics, as ``compile`` accepts them.

``compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])``
resolves each name here. Unknown names fail at once, listing the known ones and
the closest match, so a typo never reaches the training loop.

Example:
    >>> from ember.train.names import get_loss
    >>> get_loss("mse")
    MSELoss(reduction='mean'...)
    >>> get_loss("categorical_crossentropy")
    CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, reduction='mean')
"""
from __future__ import annotations

import difflib

from .. import nn
from .losses import BinaryCrossentropy, CategoricalCrossentropy
from .metrics import Accuracy, Metric, get_metric
from .optimizers import OPTIMIZERS, get_optimizer

__all__ = ["LOSSES", "register_loss", "get_loss", "get_optimizer", "get_metric", "resolve_metrics", "unknown_name_error",
           "OPTIMIZERS"]

#: name -> a function making the loss. Keras's names mean what they mean in Keras (probabilities in);
#: PyTorch's names mean what they mean in ember.nn (logits in).
LOSSES = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": lambda: CategoricalCrossentropy(name="sparse_categorical_crossentropy"),
    "binary_crossentropy": BinaryCrossentropy,
    "cross_entropy": nn.CrossEntropyLoss,
    "nll": nn.NLLLoss, "nll_loss": nn.NLLLoss,
    "mse": nn.MSELoss, "mean_squared_error": nn.MSELoss,
    "mae": nn.L1Loss, "mean_absolute_error": nn.L1Loss, "l1": nn.L1Loss,
    "huber": nn.HuberLoss, "smooth_l1": nn.SmoothL1Loss,
    "bce": nn.BCELoss, "bce_with_logits": nn.BCEWithLogitsLoss,
    "kl_div": lambda: nn.KLDivLoss(reduction="batchmean"),
    "multi_margin": nn.MultiMarginLoss,
}


def register_loss(name: str, make) -> None:
    """Make ``Model.compile(loss=name)`` (and recipes) build the loss ``make()``.

    Re-registering a name with the same maker is allowed (modules may be imported twice);
    a different maker for a taken name raises, so that two losses never share a name.

    Example:
        >>> import ember.nn as nn
        >>> register_loss("l1", nn.L1Loss)  # already the same: a no-op
    """
    key = name.lower()
    if key in LOSSES and LOSSES[key] is not make:
        raise ValueError(f"register_loss: the loss name {name!r} is taken by {LOSSES[key]!r}")
    LOSSES[key] = make


def unknown_name_error(kind: str, name: str, known) -> ValueError:
    """A ``ValueError`` for an unknown ``kind`` name, listing the known ones and the closest match."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name).lower(), known, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    plural = kind + ("es" if kind.endswith("s") else "s")
    return ValueError(f"unknown {kind} {name!r}.{hint} Known {plural}: {', '.join(known)}")


def get_loss(loss):
    """A loss from a name in :data:`LOSSES`, or a loss object or function (returned as is).

    Example:
        >>> get_loss("cross_entropy")
        CrossEntropyLoss(reduction='mean', ...)
    """
    if isinstance(loss, str):
        key = loss.lower()
        if key not in LOSSES:
            raise unknown_name_error("loss", loss, LOSSES)
        return LOSSES[key]()
    if callable(loss):
        return loss
    raise TypeError(f"compile: loss must be a name, a loss object or a function, got {type(loss).__name__}")


def _binary_threshold(loss) -> float | None:
    """The decision threshold that accuracy should use under ``loss``, when it is a binary loss."""
    if isinstance(loss, nn.BCEWithLogitsLoss) or (isinstance(loss, BinaryCrossentropy) and loss.from_logits):
        return 0.0
    if isinstance(loss, (nn.BCELoss, BinaryCrossentropy)):
        return 0.5
    return None


def resolve_metrics(metrics, loss=None) -> list[Metric]:
    """Metric objects for ``compile``; ``'accuracy'`` follows the loss as in Keras.

    Under a binary loss, ``'accuracy'`` thresholds each output (at 0 for logits, 0.5
    for probabilities); under a class-index loss it ignores the loss's
    ``ignore_index``.

    Example:
        >>> import ember.nn as nn
        >>> [m.threshold for m in resolve_metrics(["accuracy"], nn.BCEWithLogitsLoss())]
        [0.0]
    """
    if metrics is None:
        return []
    if isinstance(metrics, (str, Metric)) or callable(metrics):
        metrics = [metrics]
    resolved, names = [], set()
    for metric in metrics:
        made = get_metric(metric)
        if isinstance(metric, str) and isinstance(made, Accuracy) and made.mode != "categorical":
            threshold = _binary_threshold(loss)
            if threshold is not None:
                made.mode, made.threshold = "binary", threshold
            elif getattr(loss, "ignore_index", None) is not None:
                made.ignore_index = loss.ignore_index
        if made.name in names or made.name == "loss":
            raise ValueError(f"compile: two metrics are named {made.name!r}; give one another name")
        names.add(made.name)
        resolved.append(made)
    return resolved

