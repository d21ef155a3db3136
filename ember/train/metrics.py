"""Metrics: numbers that say how well a model does, accumulated over batches.

A metric is an object with ``reset()``, ``update(y_pred, y_true)`` and
``result()``: ``fit`` and ``evaluate`` reset it at the start of an epoch, update
it with every batch's raw model output and targets, and log ``result()``. Calling
a metric, ``metric(y_pred, y_true)``, computes it on one batch without touching
its running state; the lower-case functions (``accuracy``, ``f1_score`` ...) do
the same in one line.

The argument order is Ember's loss order, **prediction first**:
``metric(y_pred, y_true)`` like ``loss(input, target)``. Class scores lie along
``axis=1`` (PyTorch's layout, ``(N, C)`` or ``(N, C, d1, ...)``), like
:func:`ember.functional.cross_entropy`. Inputs may be tensors or NumPy/CuPy arrays.

Example:
    >>> import numpy as np
    >>> from ember.train import metrics
    >>> scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    >>> metrics.accuracy(scores, np.array([1, 0, 0]))
    0.6666666666666666
    >>> acc = metrics.Accuracy()
    >>> acc.update(scores, np.array([1, 0, 0])); acc.update(scores[:1], np.array([1]))
    >>> acc.result()
    0.75
"""
from __future__ import annotations

import copy
import math
import re

from .. import backend
from ..tensor import Tensor

__all__ = ["Metric", "Mean", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score",
           "MeanSquaredError", "MeanAbsoluteError", "Perplexity", "get_metric",
           "accuracy", "top_k_accuracy", "precision", "recall", "f1_score", "mean_squared_error",
           "mean_absolute_error", "perplexity", "confusion_matrix"]


def _array(value):
    """The backend array of a tensor, or the value as an array of the same backend."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    return backend.numpy_module().asarray(value)


class Metric:
    """Base class: a number accumulated over batches.

    Subclasses set ``name`` and ``higher_is_better`` and define ``reset``,
    ``update`` and ``result``.

    Example:
        >>> import numpy as np
        >>> class MaxError(Metric):
        ...     name, higher_is_better = "max_error", False
        ...     def reset(self): self.worst = 0.0
        ...     def update(self, y_pred, y_true):
        ...         self.worst = max(self.worst, float(np.abs(y_pred - y_true).max()))
        ...     def result(self): return self.worst
        >>> MaxError()(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
        0.5
    """

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        raise NotImplementedError

    def update(self, y_pred, y_true) -> None:
        """Add one batch: the model's raw output and the targets."""
        raise NotImplementedError

    def result(self) -> float:
        """The metric over everything added since the last reset."""
        raise NotImplementedError

    def __call__(self, y_pred, y_true) -> float:
        """The metric of one batch alone (the running state is left as it was)."""
        fresh = copy.copy(self)
        fresh.reset()
        fresh.update(_array(y_pred), _array(y_true))
        return fresh.result()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """A weighted running mean of numbers (``fit`` tracks the loss with it).

    Example:
        >>> m = Mean("loss"); m.update(1.0, weight=3); m.update(2.0, weight=1)
        >>> m.result()
        1.25
    """

    name, higher_is_better = "mean", False

    def reset(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update(self, value, weight: float = 1.0) -> None:  # type: ignore[override]
        self.total += float(value) * weight
        self.count += weight

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")


# ---------------------------------------------------------------------- class predictions
def _class_axis(y_pred, axis: int) -> int:
    axis = axis % y_pred.ndim if y_pred.ndim else 0
    return axis


def _is_binary(y_pred, axis: int) -> bool:
    """One score per item: shape ``(N,)``, or a class axis of size 1."""
    return y_pred.ndim < 2 or y_pred.shape[_class_axis(y_pred, axis)] == 1


def _true_classes(y_pred, y_true, axis: int, who: str):
    """Targets as class indices shaped like ``argmax(y_pred, axis)``."""
    xp = backend.array_module(y_pred)
    expected = y_pred.shape[:axis] + y_pred.shape[axis + 1:]
    if y_true.shape == y_pred.shape and y_true.dtype.kind == "f":
        return xp.argmax(y_true, axis=axis)  # one-hot or probabilities
    if y_true.shape != expected and y_true.size == math.prod(expected) and y_true.ndim == len(expected) + 1:
        y_true = y_true.reshape(expected)  # (N, 1) labels, as Keras stores them
    if y_true.shape != expected:
        raise ValueError(f"{who}: expected targets of class indices of shape {expected} or one-hot targets of "
                         f"shape {y_pred.shape}, got shape {y_true.shape}")
    return y_true


def _binary_pair(y_pred, y_true, threshold: float, who: str):
    """Predicted and true booleans of a one-score-per-item output."""
    pred = y_pred.reshape(-1) > threshold
    true = y_true.reshape(-1)
    if true.size != pred.size:
        raise ValueError(f"{who}: expected {pred.size} binary targets for predictions of shape {y_pred.shape}, "
                         f"got shape {y_true.shape}")
    return pred, true > 0.5


class Accuracy(Metric):
    """The fraction of items whose predicted class is the true class.

    Like Keras's ``'accuracy'`` the kind is chosen from the shapes: with several
    scores per item the prediction is their ``argmax`` along ``axis`` and the target
    is a class index (or one-hot, reduced with ``argmax``); with one score per item
    (shape ``(N,)`` or ``(N, 1)``) the prediction is ``score > threshold``.
    ``mode='binary'`` forces the threshold rule (multi-label outputs).

    Args:
        threshold: the decision threshold of binary outputs (0.5 for probabilities,
            0 for logits; ``compile`` picks it from the loss).
        axis: the class axis.
        mode: ``'auto'``, ``'categorical'`` or ``'binary'``.
        ignore_index: a target value to leave out (padding).
        name: the key in the logs.

    Example:
        >>> import numpy as np
        >>> Accuracy()(np.array([[0.2], [0.9]]), np.array([0, 0]))
        0.5
    """

    name = "accuracy"

    def __init__(self, threshold: float = 0.5, axis: int = 1, mode: str = "auto", ignore_index: int | None = None,
                 name: str | None = None) -> None:
        if mode not in ("auto", "categorical", "binary"):
            raise ValueError(f"Accuracy: mode must be 'auto', 'categorical' or 'binary', got {mode!r}")
        self.threshold, self.axis, self.mode, self.ignore_index = threshold, axis, mode, ignore_index
        super().__init__(name)

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def update(self, y_pred, y_true) -> None:
        y_pred, y_true = _array(y_pred), _array(y_true)
        if self.mode == "binary" or (self.mode == "auto" and _is_binary(y_pred, self.axis)):
            pred, true = _binary_pair(y_pred, y_true, self.threshold, type(self).__name__)
            hits, valid = pred == true, None
        else:
            axis = _class_axis(y_pred, self.axis)
            true = _true_classes(y_pred, y_true, axis, type(self).__name__)
            hits = backend.array_module(y_pred).argmax(y_pred, axis=axis) == true
            valid = None if self.ignore_index is None else true != self.ignore_index
        if valid is not None:
            hits = hits & valid
            self.count += int(valid.sum())
        else:
            self.count += int(hits.size)
        self.correct += int(hits.sum())

    def result(self) -> float:
        return self.correct / self.count if self.count else float("nan")


class TopKAccuracy(Metric):
    """The fraction of items whose true class is among the ``k`` highest scores.

    Example:
        >>> import numpy as np
        >>> scores = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
        >>> TopKAccuracy(k=2)(scores, np.array([1, 0]))
        0.5
    """

    def __init__(self, k: int = 5, axis: int = 1, name: str | None = None) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive int, got {k!r}")
        self.k, self.axis = k, axis
        super().__init__(name or f"top_{k}_accuracy")

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def update(self, y_pred, y_true) -> None:
        y_pred, y_true = _array(y_pred), _array(y_true)
        xp = backend.array_module(y_pred)
        if _is_binary(y_pred, self.axis):
            raise ValueError(f"TopKAccuracy: needs several class scores per item, got predictions of shape "
                             f"{y_pred.shape}")
        axis = _class_axis(y_pred, self.axis)
        true = _true_classes(y_pred, y_true, axis, "TopKAccuracy")
        scores = xp.moveaxis(y_pred, axis, -1)
        k = min(self.k, scores.shape[-1])
        # A class is in the top k when fewer than k classes score strictly higher (ties count as hits).
        true_score = xp.take_along_axis(scores, true[..., None].astype(xp.int64), axis=-1)
        hits = (scores > true_score).sum(axis=-1) < k
        self.correct += int(hits.sum())
        self.count += int(hits.size)

    def result(self) -> float:
        return self.correct / self.count if self.count else float("nan")


# ---------------------------------------------------------------------- confusion-matrix metrics
def confusion_matrix(y_pred, y_true, num_classes: int | None = None, threshold: float = 0.5, axis: int = 1):
    """Counts of (true class, predicted class) pairs: row ``i``, column ``j`` counts items of
    class ``i`` predicted as ``j`` (scikit-learn's layout).

    ``y_pred`` holds scores (``(N, C)``, argmax taken) or, for one score per item, a
    binary output thresholded at ``threshold``; it may also be predicted class indices
    with the same shape as ``y_true``.

    Returns:
        A NumPy ``int64`` array of shape ``(C, C)``.

    Example:
        >>> import numpy as np
        >>> confusion_matrix(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), np.array([0, 1, 1]))
        array([[1, 0],
               [1, 1]])
    """
    y_pred, y_true = _array(y_pred), _array(y_true)
    xp = backend.array_module(y_pred)
    if y_pred.dtype.kind in "iub" and y_pred.shape == y_true.shape:
        pred, true = y_pred.astype(xp.int64), y_true
        classes = num_classes or int(max(int(pred.max(initial=0)), int(true.max(initial=0)))) + 1
    elif _is_binary(y_pred, axis):
        pred, true = _binary_pair(y_pred, y_true, threshold, "confusion_matrix")
        classes = 2
    else:
        axis = _class_axis(y_pred, axis)
        classes = y_pred.shape[axis]
        true = _true_classes(y_pred, y_true, axis, "confusion_matrix")
        pred = xp.argmax(y_pred, axis=axis)
    classes = num_classes or classes
    pred, true = pred.reshape(-1).astype(xp.int64), true.reshape(-1).astype(xp.int64)
    if true.size and (int(true.min()) < 0 or int(true.max()) >= classes):
        raise ValueError(f"confusion_matrix: true classes must lie in [0, {classes}), got values in "
                         f"[{int(true.min())}, {int(true.max())}]")
    counts = xp.bincount(true * classes + pred, minlength=classes * classes).reshape(classes, classes)
    return backend.to_device(counts, "cpu")


class _ConfusionMetric(Metric):
    """Precision, recall and F1 from an accumulated confusion matrix.

    ``average``: ``'binary'`` (the positive class ``pos_label`` only; the default for
    one-score outputs), ``'macro'`` (unweighted mean over classes; the default for
    several scores), ``'micro'`` (from the summed counts) or ``'weighted'`` (mean weighted
    by each class's number of true items). Classes never predicted (or never present)
    count 0, as scikit-learn's ``zero_division=0``.
    """

    def __init__(self, average: str | None = None, num_classes: int | None = None, threshold: float = 0.5,
                 pos_label: int = 1, axis: int = 1, name: str | None = None) -> None:
        if average not in (None, "binary", "macro", "micro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be 'binary', 'macro', 'micro' or "
                             f"'weighted', got {average!r}")
        self.average, self.num_classes, self.threshold = average, num_classes, threshold
        self.pos_label, self.axis = pos_label, axis
        super().__init__(name)

    def reset(self) -> None:
        self.matrix = None
        self._binary = False

    def update(self, y_pred, y_true) -> None:
        y_pred = _array(y_pred)
        self._binary = _is_binary(y_pred, self.axis) and not (y_pred.dtype.kind in "iu")
        counts = confusion_matrix(y_pred, y_true, self.num_classes, self.threshold, self.axis)
        if self.matrix is not None and self.matrix.shape != counts.shape:
            size = max(self.matrix.shape[0], counts.shape[0])
            grown = backend.numpy_module().zeros((size, size), dtype=counts.dtype)
            grown[:self.matrix.shape[0], :self.matrix.shape[0]] += self.matrix
            grown[:counts.shape[0], :counts.shape[0]] += counts
            self.matrix = grown
        else:
            self.matrix = counts if self.matrix is None else self.matrix + counts

    def _scores(self):
        """Per-class (precision, recall, f1, support) as NumPy arrays."""
        np = backend.numpy_module()
        m = self.matrix.astype(np.float64)
        tp = np.diag(m)
        predicted, actual = m.sum(axis=0), m.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, tp / predicted, 0.0)
            recall = np.where(actual > 0, tp / actual, 0.0)
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        return precision, recall, f1, actual, tp, predicted

    def _pick(self, per_class, numerator_total, denominator_total) -> float:
        np = backend.numpy_module()
        average = self.average or ("binary" if self._binary else "macro")
        if average == "binary":
            return float(per_class[self.pos_label]) if self.pos_label < len(per_class) else 0.0
        if average == "micro":
            return float(numerator_total / denominator_total) if denominator_total else 0.0
        if average == "weighted":
            support = self.matrix.sum(axis=1)
            return float(np.average(per_class, weights=support)) if support.sum() else 0.0
        return float(per_class.mean())

    def result(self) -> float:
        if self.matrix is None:
            return float("nan")
        return self._from_scores(*self._scores())


class Precision(_ConfusionMetric):
    """Of the items predicted as a class, the fraction that belong to it.

    Example:
        >>> import numpy as np
        >>> Precision()(np.array([0.9, 0.8, 0.1, 0.7]), np.array([1, 0, 0, 1]))
        0.6666666666666666
    """

    name = "precision"

    def _from_scores(self, precision, recall, f1, actual, tp, predicted) -> float:
        return self._pick(precision, tp.sum(), predicted.sum())


class Recall(_ConfusionMetric):
    """Of the items of a class, the fraction predicted as that class.

    Example:
        >>> import numpy as np
        >>> Recall()(np.array([0.9, 0.8, 0.1, 0.7]), np.array([1, 0, 1, 1]))
        0.6666666666666666
    """

    name = "recall"

    def _from_scores(self, precision, recall, f1, actual, tp, predicted) -> float:
        return self._pick(recall, tp.sum(), actual.sum())


class F1Score(_ConfusionMetric):
    """The harmonic mean of precision and recall.

    Example:
        >>> import numpy as np
        >>> round(F1Score()(np.array([0.9, 0.8, 0.1, 0.7]), np.array([1, 0, 1, 1])), 4)
        0.6667
    """

    name = "f1"

    def _from_scores(self, precision, recall, f1, actual, tp, predicted) -> float:
        # micro-F1 = 2 tp / (2 tp + fp + fn), from the summed counts.
        fp_fn = (predicted.sum() - tp.sum()) + (actual.sum() - tp.sum())
        return self._pick(f1, 2 * tp.sum(), 2 * tp.sum() + fp_fn)


# ---------------------------------------------------------------------- regression and language models
class _ErrorMean(Metric):
    higher_is_better = False

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, y_pred, y_true) -> None:
        y_pred, y_true = _array(y_pred), _array(y_true)
        if y_true.shape != y_pred.shape:
            if y_true.size != y_pred.size:
                raise ValueError(f"{type(self).__name__}: predictions of shape {y_pred.shape} and targets of "
                                 f"shape {y_true.shape} differ")
            y_true = y_true.reshape(y_pred.shape)  # (N,) targets of an (N, 1) output
        diff = y_pred.astype(backend.numpy_module().float64) - y_true
        self.total += float(self._error(diff).sum())
        self.count += diff.size

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")


class MeanSquaredError(_ErrorMean):
    """The mean of ``(y_pred - y_true) ** 2`` over all elements.

    Example:
        >>> import numpy as np
        >>> MeanSquaredError()(np.array([1.0, 3.0]), np.array([0.0, 1.0]))
        2.5
    """

    name = "mse"

    @staticmethod
    def _error(diff):
        return diff * diff


class MeanAbsoluteError(_ErrorMean):
    """The mean of ``|y_pred - y_true|`` over all elements.

    Example:
        >>> import numpy as np
        >>> MeanAbsoluteError()(np.array([1.0, 3.0]), np.array([0.0, 1.0]))
        1.5
    """

    name = "mae"

    @staticmethod
    def _error(diff):
        return abs(diff)


class Perplexity(Metric):
    """``exp`` of the mean negative log-likelihood per predicted token.

    Args:
        from_logits: the output is unnormalised scores (log-softmax is taken); else
            probabilities.
        axis: the class (vocabulary) axis.
        ignore_index: a target value to leave out (padding).

    Example:
        >>> import numpy as np
        >>> round(Perplexity()(np.zeros((4, 10)), np.array([1, 2, 3, 4])), 6)  # uniform over 10
        10.0
    """

    name, higher_is_better = "perplexity", False

    def __init__(self, from_logits: bool = True, axis: int = 1, ignore_index: int | None = None,
                 name: str | None = None) -> None:
        self.from_logits, self.axis, self.ignore_index = from_logits, axis, ignore_index
        super().__init__(name)

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, y_pred, y_true) -> None:
        y_pred, y_true = _array(y_pred), _array(y_true)
        xp = backend.array_module(y_pred)
        axis = _class_axis(y_pred, self.axis)
        scores = y_pred.astype(xp.float64)
        if self.from_logits:
            top = scores.max(axis=axis, keepdims=True)
            logp = scores - top - xp.log(xp.exp(scores - top).sum(axis=axis, keepdims=True))
        else:
            logp = xp.log(xp.clip(scores, 1e-12, None))
        if y_true.shape == y_pred.shape and y_true.dtype.kind == "f":
            nll = -(logp * y_true).sum(axis=axis)
            valid = None
        else:
            true = _true_classes(y_pred, y_true, axis, "Perplexity")
            valid = None if self.ignore_index is None else true != self.ignore_index
            safe = true if valid is None else xp.where(valid, true, 0)
            nll = -xp.squeeze(xp.take_along_axis(logp, xp.expand_dims(safe.astype(xp.int64), axis), axis), axis)
        if valid is not None:
            self.total += float((nll * valid).sum())
            self.count += int(valid.sum())
        else:
            self.total += float(nll.sum())
            self.count += int(nll.size)

    def result(self) -> float:
        return math.exp(self.total / self.count) if self.count else float("nan")


# ---------------------------------------------------------------------- names and one-line forms
_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy,
    "categorical_accuracy": lambda: Accuracy(mode="categorical", name="categorical_accuracy"),
    "sparse_categorical_accuracy": lambda: Accuracy(mode="categorical", name="sparse_categorical_accuracy"),
    "binary_accuracy": lambda: Accuracy(mode="binary", name="binary_accuracy"),
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": lambda: F1Score(name="f1_score"),
    "mse": MeanSquaredError, "mean_squared_error": lambda: MeanSquaredError(name="mean_squared_error"),
    "mae": MeanAbsoluteError, "mean_absolute_error": lambda: MeanAbsoluteError(name="mean_absolute_error"),
    "perplexity": Perplexity,
}
_TOP_K = re.compile(r"top_(\d+)_accuracy|top_k_accuracy")


def get_metric(metric) -> Metric:
    """A :class:`Metric` from a name (``'accuracy'``, ``'top_5_accuracy'``, ``'f1'``, ``'mse'``
    ...), a metric object (returned as is) or a function ``f(y_pred, y_true) -> float``
    (averaged over batches, weighted by batch size).

    Example:
        >>> get_metric("top_3_accuracy").k
        3
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.lower()
        match = _TOP_K.fullmatch(key)
        if match:
            return TopKAccuracy(k=int(match.group(1) or 5), name=metric)
        if key not in _BY_NAME:
            from .names import unknown_name_error  # names imports this module

            raise unknown_name_error("metric", metric, list(_BY_NAME) + ["top_k_accuracy", "top_5_accuracy"])
        made = _BY_NAME[key]()
        if made.name != metric and key in ("accuracy", "acc"):
            made.name = metric  # 'acc' stays 'acc' in the logs, as in Keras
        return made
    if callable(metric):
        return _FunctionMetric(metric)
    raise TypeError(f"get_metric: expected a metric name, a Metric or a function, got {type(metric).__name__}")


class _FunctionMetric(Metric):
    """A plain function of one batch, averaged over batches weighted by their size."""

    def __init__(self, fn) -> None:
        self.fn = fn
        super().__init__(getattr(fn, "__name__", "metric"))

    def reset(self) -> None:
        self.mean = Mean()

    def update(self, y_pred, y_true) -> None:
        y_pred = _array(y_pred)
        self.mean.update(float(self.fn(y_pred, _array(y_true))), weight=len(y_pred) if y_pred.ndim else 1)

    def result(self) -> float:
        return self.mean.result()


def accuracy(y_pred, y_true, **options) -> float:
    """:class:`Accuracy` of one batch. Example: ``accuracy(scores, labels)``."""
    return Accuracy(**options)(y_pred, y_true)


def top_k_accuracy(y_pred, y_true, k: int = 5, **options) -> float:
    """:class:`TopKAccuracy` of one batch."""
    return TopKAccuracy(k, **options)(y_pred, y_true)


def precision(y_pred, y_true, **options) -> float:
    """:class:`Precision` of one batch."""
    return Precision(**options)(y_pred, y_true)


def recall(y_pred, y_true, **options) -> float:
    """:class:`Recall` of one batch."""
    return Recall(**options)(y_pred, y_true)


def f1_score(y_pred, y_true, **options) -> float:
    """:class:`F1Score` of one batch."""
    return F1Score(**options)(y_pred, y_true)


def mean_squared_error(y_pred, y_true) -> float:
    """:class:`MeanSquaredError` of one batch."""
    return MeanSquaredError()(y_pred, y_true)


def mean_absolute_error(y_pred, y_true) -> float:
    """:class:`MeanAbsoluteError` of one batch."""
    return MeanAbsoluteError()(y_pred, y_true)


def perplexity(y_pred, y_true, **options) -> float:
    """:class:`Perplexity` of one batch."""
    return Perplexity(**options)(y_pred, y_true)
