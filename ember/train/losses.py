"""Keras's probability-based losses, and per-item forms of any loss.

``ember.nn`` losses follow PyTorch: :class:`~ember.nn.CrossEntropyLoss` takes
logits. Keras programs end their model with ``Softmax`` and use
``'categorical_crossentropy'`` on the probabilities; the classes here give that
meaning to the Keras names, so a Keras program reads the same in Ember. They also
check their input: probabilities given logits (or the reverse) is a silent bug in
Keras and a clear error here.

Example:
    >>> import ember
    >>> from ember.train.losses import CategoricalCrossentropy
    >>> probs = ember.tensor([[0.7, 0.2, 0.1]])
    >>> round(CategoricalCrossentropy()(probs, ember.tensor([0])).item(), 4)  # -log 0.7
    0.3567
"""
from __future__ import annotations

import copy
import functools
import inspect

from .. import functional as F
from ..functional._checks import check_reduction
from ..ops.elementwise import clamp, log
from ..tensor import Tensor, as_tensor

__all__ = ["CategoricalCrossentropy", "BinaryCrossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "per_item"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): probabilities are clipped into [eps, 1 - eps]


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _check_probabilities(name: str, input: Tensor, axis: int | None) -> None:
    """Raise when ``input`` is not a probability (distribution along ``axis``)."""
    data = input._data
    if data.size == 0:
        return
    low, high = float(data.min()), float(data.max())
    tolerance = 1e-2 if data.dtype.itemsize < 4 else 1e-4
    problem = None
    if low < -tolerance or high > 1 + tolerance:
        problem = f"the outputs lie in [{low:.4g}, {high:.4g}]"
    elif axis is not None and data.ndim > axis:
        sums = data.sum(axis=axis)
        worst = float(abs(sums - 1).max())
        if worst > 10 * tolerance:
            problem = f"the outputs along axis {axis} sum to values up to {worst:.3g} away from 1"
    if problem is not None:
        fix = ("end the model with Softmax, or use loss='cross_entropy' (or from_logits=True) for unnormalised "
               "scores" if axis is not None else
               "end the model with Sigmoid, or use loss='bce_with_logits' (or from_logits=True) for logits")
        raise ValueError(f"{name}: expects probabilities, but {problem}; {fix}")


class CategoricalCrossentropy:
    """Cross-entropy of predicted class probabilities, Keras's ``categorical_crossentropy``.

    Targets may be one-hot rows (``to_categorical``) or class indices (Keras's
    ``sparse_categorical_crossentropy``); both names map here.

    Args:
        from_logits: the input is unnormalised scores (then this is
            :func:`ember.functional.cross_entropy`).
        label_smoothing: in ``[0, 1]``, mixes the targets with the uniform distribution.
        axis: the class axis (1, PyTorch's layout).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Example:
        >>> import ember
        >>> loss = CategoricalCrossentropy()
        >>> round(loss(ember.tensor([[0.5, 0.5]]), ember.tensor([[0.0, 1.0]])).item(), 4)
        0.6931
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = 1,
                 reduction: str = "mean", name: str = "categorical_crossentropy") -> None:
        check_reduction(type(self).__name__, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{type(self).__name__}: label_smoothing must lie in [0, 1], got {label_smoothing}")
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.reduction, self.name = reduction, name

    def __call__(self, input: Tensor, target: Tensor) -> Tensor:
        input, target = as_tensor(input), as_tensor(target)
        if self.axis != 1 and input.ndim > 1:
            input = input.transpose(self.axis, 1)
            if target.shape != input.shape and target.dtype.kind == "f":
                target = target.transpose(self.axis, 1)
        if self.from_logits:
            return F.cross_entropy(input, target, reduction=self.reduction, label_smoothing=self.label_smoothing)
        _check_probabilities(self.name, input, 1 if input.ndim > 1 else 0)
        logp = log(clamp(input, _EPSILON, 1 - _EPSILON))
        classes = input.shape[1] if input.ndim > 1 else input.shape[0]
        if target.dtype.kind in "iu":
            loss = F.nll_loss(logp, target, reduction=self.reduction)
            if self.label_smoothing:
                uniform = -logp.mean(dim=1 if input.ndim > 1 else 0)
                loss = loss * (1 - self.label_smoothing) + _reduce(uniform, self.reduction) * self.label_smoothing
            return loss
        if target.shape != input.shape:
            raise ValueError(f"{self.name}: expected one-hot targets of shape {input.shape} or class indices "
                             f"(integers) of shape {input.shape[:1] + input.shape[2:]}, got {target.dtype} of "
                             f"shape {target.shape}")
        target = target.to(input.dtype)
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + self.label_smoothing / classes
        return _reduce(-(logp * target).sum(dim=1 if input.ndim > 1 else 0), self.reduction)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(from_logits={self.from_logits}, label_smoothing={self.label_smoothing}, "
                f"reduction={self.reduction!r})")


class BinaryCrossentropy:
    """Binary cross-entropy of predicted probabilities, Keras's ``binary_crossentropy``.

    Targets are 0/1 (integers or floats, or soft labels); an ``(N,)`` target of an
    ``(N, 1)`` output is reshaped, as Keras does.

    Args:
        from_logits: the input is a logit (then this is
            :func:`ember.functional.binary_cross_entropy_with_logits`).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Example:
        >>> import ember
        >>> round(BinaryCrossentropy()(ember.tensor([[0.8]]), ember.tensor([1])).item(), 4)
        0.2231
    """

    def __init__(self, from_logits: bool = False, reduction: str = "mean", name: str = "binary_crossentropy") -> None:
        check_reduction(type(self).__name__, reduction)
        self.from_logits, self.reduction, self.name = from_logits, reduction, name

    def __call__(self, input: Tensor, target: Tensor) -> Tensor:
        input, target = as_tensor(input), as_tensor(target)
        if target.shape != input.shape and target.numel() == input.numel():
            target = target.reshape(input.shape)
        target = target.to(input.dtype)
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
        _check_probabilities(self.name, input, None)
        p = clamp(input, _EPSILON, 1 - _EPSILON)
        return _reduce(-(target * log(p) + (1 - target) * log(1 - p)), self.reduction)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from_logits={self.from_logits}, reduction={self.reduction!r})"


def categorical_crossentropy(input: Tensor, target: Tensor, from_logits: bool = False,
                             reduction: str = "mean") -> Tensor:
    """Functional form of :class:`CategoricalCrossentropy`."""
    return CategoricalCrossentropy(from_logits, reduction=reduction)(input, target)


def sparse_categorical_crossentropy(input: Tensor, target: Tensor, from_logits: bool = False,
                                    reduction: str = "mean") -> Tensor:
    """Functional form of :class:`CategoricalCrossentropy` with class-index targets."""
    return CategoricalCrossentropy(from_logits, reduction=reduction,
                                   name="sparse_categorical_crossentropy")(input, target)


def binary_crossentropy(input: Tensor, target: Tensor, from_logits: bool = False, reduction: str = "mean") -> Tensor:
    """Functional form of :class:`BinaryCrossentropy`."""
    return BinaryCrossentropy(from_logits, reduction=reduction)(input, target)


def per_item(loss):
    """The same loss with ``reduction='none'`` (a loss per item), or None when it has no reduction.

    Works for loss objects with a ``reduction`` attribute (every ``ember.nn`` loss and the
    classes here) and for functions taking a ``reduction`` keyword. ``fit`` uses it to
    weight items by ``class_weight`` or ``sample_weight``.

    Example:
        >>> import ember, ember.nn as nn
        >>> per_item(nn.MSELoss())(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0])).tolist()
        [1.0, 4.0]
    """
    if hasattr(loss, "reduction"):
        unreduced = copy.copy(loss)  # a shallow copy: shares weights and buffers with the original
        object.__setattr__(unreduced, "reduction", "none")
        return unreduced
    try:
        parameters = inspect.signature(loss).parameters
    except (TypeError, ValueError):
        return None
    if "reduction" in parameters:
        return functools.partial(loss, reduction="none")
    return None
