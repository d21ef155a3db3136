"""Loss functions (the stateless forms of ``ember.nn``'s loss layers).

Each takes ``(input, target, ...)`` and a ``reduction`` of ``'mean'`` (the
default), ``'sum'`` or ``'none'``, with PyTorch's formulas, defaults and
normalisations, so results agree with ``torch.nn.functional`` to float32
rounding. Unlike PyTorch, pointwise losses do not broadcast ``input`` against
``target``: a shape mismatch is an error naming both shapes.

``cross_entropy`` and ``nll_loss`` run on the fused ``log_softmax`` and ``nll``
primitives of :mod:`ember.ops.nn`; the others are compositions of core ops,
written in the overflow-free forms (``softplus`` for logits, clamped logs).

Example:
    >>> import ember, ember.functional as F
    >>> logits = ember.tensor([[2.0, 0.0, 0.0]])
    >>> round(F.cross_entropy(logits, ember.tensor([0])).item(), 4)
    0.2395
"""
from __future__ import annotations

from ..ops import elementwise as E
from ..ops import nn as N
from ..ops.checks import float_operand
from ..ops.movement import reshape, unsqueeze
from ..tensor import Tensor, as_tensor
from ._checks import check_integer, check_reduction, check_same_shape
from .activation import softplus
from ..errors import ArgumentError

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_embedding_loss",
           "multi_margin_loss", "margin_ranking_loss", "kl_div", "cosine_embedding_loss"]


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _pair(name: str, input, target, reduction: str):
    """Float input and target of one shape and dtype, after checking ``reduction``."""
    check_reduction(name, reduction)
    input = float_operand(name, input)
    target = as_tensor(target)
    if target.dtype.kind == "b":
        target = target.astype(input.dtype)
    target = float_operand(name, target)
    check_same_shape(name, input, target)
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    return input, target


def _class_weight(name: str, weight, classes: int, like: Tensor):
    if weight is None:
        return None
    weight = as_tensor(weight)
    if weight.shape != (classes,):
        raise ArgumentError(f"{name}: expected a class weight of shape ({classes},), got {weight.shape}")
    return weight if weight.dtype == like.dtype else weight.astype(like.dtype)


def _class_axis(name: str, input: Tensor) -> int:
    if input.ndim == 0:
        raise ArgumentError(f"{name}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a scalar")
    return 1 if input.ndim >= 2 else 0


def _index_target(name: str, input: Tensor, target: Tensor, ignore_index: int) -> None:
    """Check a class-index target's shape and range against ``input``."""
    axis = _class_axis(name, input)
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.shape != expected:
        raise ArgumentError(
            f"{name}: expected target of shape {expected} (the input {input.shape} without its class "
            f"dimension {axis}), got shape {target.shape}"
        )
    classes = input.shape[axis]
    data = target._data
    valid = data[data != ignore_index]
    if valid.size and (int(valid.min()) < 0 or int(valid.max()) >= classes):
        raise IndexError(
            f"{name}: class indices must lie in [0, {classes}) (or equal ignore_index={ignore_index}), "
            f"got values in [{int(valid.min())}, {int(valid.max())}]"
        )


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Args:
        input: log-probabilities, ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (integers) of shape ``(N,)``, ``(N, d1, ...)`` or ``()``.
        weight: optional per-class weights ``(C,)``.
        ignore_index: target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` divides by the summed weights of the counted items.

    Example:
        >>> import ember, ember.functional as F
        >>> logp = F.log_softmax(ember.zeros(2, 4), dim=1)
        >>> round(F.nll_loss(logp, ember.tensor([1, 2])).item(), 4)
        1.3863
    """
    check_reduction("nll_loss", reduction)
    input, target = float_operand("nll_loss", input), as_tensor(target)
    check_integer("nll_loss", target)
    _index_target("nll_loss", input, target, ignore_index)
    weight = _class_weight("nll_loss", weight, input.shape[_class_axis("nll_loss", input)], input)
    return N.nll(input, target, weight, ignore_index, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits against class indices or class probabilities.

    Args:
        input: unnormalised logits, ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: either integer class indices (the input's shape without dimension
            1) or floating class probabilities (the input's shape).
        weight: optional per-class weights ``(C,)``.
        ignore_index: class-index target value to skip (index targets only).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``; for index targets ``'mean'``
            divides by the summed weights of the counted items, for probability
            targets by the number of items (PyTorch's conventions).
        label_smoothing: in ``[0, 1]``; mixes the target with the uniform
            distribution over the ``C`` classes.

    Example:
        >>> import ember, ember.functional as F
        >>> logits = ember.tensor([[2.0, 0.0, 0.0]])
        >>> round(F.cross_entropy(logits, ember.tensor([[1.0, 0.0, 0.0]])).item(), 4)
        0.2395
    """
    name = "cross_entropy"
    check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{name}: label_smoothing must lie in [0, 1], got {label_smoothing}")
    input, target = float_operand(name, input), as_tensor(target)
    axis = _class_axis(name, input)
    classes = input.shape[axis]
    weight = _class_weight(name, weight, classes, input)
    if target.dtype.kind in "iu":
        _index_target(name, input, target, ignore_index)
        logp = N.log_softmax(input, axis)
        loss = N.nll(logp, target, weight, ignore_index, reduction)
        if label_smoothing > 0:
            loss = loss * (1.0 - label_smoothing) + _smoothing_term(
                logp, target, weight, ignore_index, reduction, axis) * (label_smoothing / classes)
        return loss
    if target.dtype.kind != "f" or target.shape != input.shape:
        expected = input.shape[:axis] + input.shape[axis + 1:]
        raise ArgumentError(
            f"{name}: expected target of class indices (integers) of shape {expected} or class "
            f"probabilities (floats) of shape {input.shape}, got {target.dtype} of shape {target.shape}"
        )
    target = target.astype(input.dtype)
    logp = N.log_softmax(input, axis)
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    weighted = logp * target
    if weight is not None:
        weighted = weighted * _along(weight, axis, input.ndim)
    return _reduce(-weighted.sum(axis=axis), reduction)


def _along(weight: Tensor, axis: int, ndim: int) -> Tensor:
    """Reshape a ``(C,)`` vector to broadcast along ``axis`` of an ``ndim`` tensor."""
    return reshape(weight, (1,) * axis + (weight.shape[0],) + (1,) * (ndim - axis - 1))


def _smoothing_term(logp, target, weight, ignore_index, reduction, axis):
    """PyTorch's label-smoothing term: ``-sum_c w_c logp_c`` per item, over the counted items."""
    weighted = logp if weight is None else logp * _along(weight, axis, logp.ndim)
    valid = target != ignore_index
    per_item = E.where(valid, -weighted.sum(axis=axis), 0.0)
    if reduction == "none":
        return per_item
    if reduction == "sum":
        return per_item.sum()
    if weight is None:
        count = float(valid._data.sum())
    else:
        count = float(weight._data[target._data[valid._data]].sum())
    return per_item.sum() / count


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)**2``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.mse_loss(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0])).item()
        2.5
    """
    input, target = _pair("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.l1_loss(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0])).item()
        1.5
    """
    input, target = _pair("l1_loss", input, target, reduction)
    return _reduce(E.abs(input - target), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), reduction="none").tolist()
        [0.125, 2.5]
    """
    input, target = _pair("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    diff = input - target
    size = E.abs(diff)
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(E.where(size < beta, diff * diff * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.huber_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), reduction="none").tolist()
        [0.125, 2.5]
    """
    input, target = _pair("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    diff = input - target
    size = E.abs(diff)
    return _reduce(E.where(size < delta, diff * diff * 0.5, (size - 0.5 * delta) * delta), reduction)


def _safe_log(x: Tensor) -> Tensor:
    """``log(x)`` clamped below at -100 (PyTorch's BCE rule), with no NaN gradient at 0."""
    positive = x > 0
    return E.clip(E.where(positive, E.log(E.where(positive, x, 1.0)), -100.0), -100.0, None)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in ``[0, 1]``.

    Logs are clamped at -100 as in PyTorch, so ``p = 0`` or ``1`` gives a finite
    loss. Prefer :func:`binary_cross_entropy_with_logits`, which is exact.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.binary_cross_entropy(ember.tensor([0.8]), ember.tensor([1.0])).item(), 4)
        0.2231
    """
    name = "binary_cross_entropy"
    input, target = _pair(name, input, target, reduction)
    if input.numel() and (float(input._data.min()) < 0 or float(input._data.max()) > 1):
        raise ArgumentError(
            f"{name}: input must hold probabilities in [0, 1], got values in "
            f"[{float(input._data.min()):.4g}, {float(input._data.max()):.4g}]; "
            "use binary_cross_entropy_with_logits for logits"
        )
    losses = -(target * _safe_log(input) + (1.0 - target) * _safe_log(1.0 - input))
    if weight is not None:
        losses = losses * _broadcast_weight(name, weight, input)
    return _reduce(losses, reduction)


def _broadcast_weight(name: str, weight, input: Tensor) -> Tensor:
    from ..ops.movement import broadcast_shapes

    weight = float_operand(name, weight)
    try:
        shape = broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ArgumentError(f"{name}: weight of shape {weight.shape} does not broadcast to the input's {input.shape}")
    return weight if weight.dtype == input.dtype else weight.astype(input.dtype)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed from logits without overflow.

    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``: exact for logits of any
    size, where the composed ``sigmoid`` then ``log`` would give ``inf``.

    Args:
        input: logits.
        target: targets in ``[0, 1]``, the input's shape.
        weight: optional weight broadcast to the input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: optional weight of the positive term, broadcast along the last
            dimension (one per class).

    Example:
        >>> import ember, ember.functional as F
        >>> F.binary_cross_entropy_with_logits(ember.tensor([-200.0]), ember.tensor([1.0])).item()
        200.0
    """
    name = "binary_cross_entropy_with_logits"
    input, target = _pair(name, input, target, reduction)
    log_weight = None
    if pos_weight is not None:
        log_weight = (_broadcast_weight(name, pos_weight, input) - 1.0) * target + 1.0
    tail = softplus(-input, threshold=float("inf"))
    losses = (1.0 - target) * input + (tail if log_weight is None else log_weight * tail)
    if weight is not None:
        losses = losses * _broadcast_weight(name, weight, input)
    return _reduce(losses, reduction)


def _sign_target(name: str, input: Tensor, target) -> Tensor:
    """A target of 1 / -1 labels with the input's shape and dtype."""
    target = as_tensor(target)
    check_same_shape(name, input, target)
    if target.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected a numeric target of 1 and -1, got {target.dtype}")
    return target.astype(input.dtype)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.hinge_embedding_loss(ember.tensor([0.3, 0.3]), ember.tensor([1, -1]), reduction="none").tolist()
        [0.30000001192092896, 0.699999988079071]
    """
    name = "hinge_embedding_loss"
    check_reduction(name, reduction)
    input = float_operand(name, input)
    target = _sign_target(name, input, target)
    pulled = E.where(target != 1, E.clip(margin - input, 0.0, None), 0.0)
    kept = E.where(target != -1, input, 0.0)
    return _reduce(pulled + kept, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{i != y} max(0, margin - x[y] + x[i])**p / C``.

    Args:
        input: scores ``(N, C)`` or ``(C,)``.
        target: class indices ``(N,)`` or ``()``.
        p: 1 or 2.
        margin: the required score gap.
        weight: optional per-class weights ``(C,)``, applied by the true class.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.multi_margin_loss(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([3])).item(), 4)
        0.325
    """
    name = "multi_margin_loss"
    check_reduction(name, reduction)
    if p not in (1, 2):
        raise ArgumentError(f"{name}: p must be 1 or 2, got {p}")
    input, target = float_operand(name, input), as_tensor(target)
    if input.ndim not in (1, 2):
        raise ArgumentError(f"{name}: expected input of shape (N, C) or (C,), got {input.shape}")
    check_integer(name, target)
    _index_target(name, input, target, ignore_index=-(2 ** 62))
    weight = _class_weight(name, weight, input.shape[-1], input)
    single = input.ndim == 1
    scores = unsqueeze(input, 0) if single else input
    labels = reshape(target, (-1, 1))
    classes = scores.shape[1]
    margins = E.clip(scores - scores.gather(1, labels) + margin, 0.0, None)
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * unsqueeze(weight[labels[:, 0]], 1)
    # The true class's own term (always `margin`) is excluded from the sum.
    others = E.where(_one_hot_mask(labels, classes), 0.0, margins)
    losses = others.sum(axis=1) / classes
    if single:
        losses = reshape(losses, ())
    return _reduce(losses, reduction)


def _one_hot_mask(labels: Tensor, classes: int) -> Tensor:
    """``labels == arange(classes)``, in Ember ops so that ``ember.compile`` replays it."""
    from ..creation import arange

    return E.compare("equal", labels, arange(classes, device=labels.device))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: rank ``input1`` above ``input2`` where ``target == 1``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.margin_ranking_loss(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([1.0])).item()
        1.0
    """
    name = "margin_ranking_loss"
    check_reduction(name, reduction)
    input1, input2 = float_operand(name, input1), float_operand(name, input2)
    check_same_shape(name, input1, input2, "input2")
    target = _sign_target(name, input1, target)
    return _reduce(E.clip((input1 - input2) * -target + margin, 0.0, None), reduction)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` with ``input`` as log-probabilities.

    Args:
        input: log-probabilities.
        target: probabilities (or log-probabilities with ``log_target=True``), same shape.
        reduction: ``'batchmean'`` (sum divided by the batch size: the true KL
            divergence per sample), ``'sum'``, ``'mean'`` (over all elements, as in
            PyTorch, which is rarely what is meant) or ``'none'``.
        log_target: whether ``target`` holds log-probabilities.

    Terms with ``target == 0`` are 0 (``0 log 0 = 0``).

    Example:
        >>> import ember, ember.functional as F
        >>> p = ember.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean").item()
        0.0
    """
    name = "kl_div"
    check_reduction(name, reduction, ("none", "mean", "sum", "batchmean"))
    input, target = _pair(name, input, target, "none")
    if log_target:
        pointwise = E.exp(target) * (target - input)
    else:
        positive = target > 0
        entropy = E.where(positive, target * E.log(E.where(positive, target, 1.0)), 0.0)
        pointwise = entropy - target * input
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        return pointwise.sum() / batch
    return _reduce(pointwise, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    Args:
        input1, input2: ``(N, D)`` or ``(D,)``.
        target: ``(N,)`` or ``()`` of 1 and -1.

    Example:
        >>> import ember, ember.functional as F
        >>> x = ember.tensor([[1.0, 0.0]])
        >>> F.cosine_embedding_loss(x, x, ember.tensor([1])).item()
        0.0
    """
    name = "cosine_embedding_loss"
    check_reduction(name, reduction)
    input1, input2 = float_operand(name, input1), float_operand(name, input2)
    check_same_shape(name, input1, input2, "input2")
    if input1.ndim not in (1, 2):
        raise ArgumentError(f"{name}: expected inputs of shape (N, D) or (D,), got {input1.shape}")
    target = as_tensor(target)
    expected = input1.shape[:-1]
    if target.shape != expected:
        raise ArgumentError(f"{name}: expected target of shape {expected} for "
                            f"inputs {input1.shape}, got {target.shape}")
    target = target.astype(input1.dtype)
    eps = 1e-12  # PyTorch's EPSILON: keeps zero vectors finite
    dot = (input1 * input2).sum(axis=-1)
    norms = (((input1 * input1).sum(axis=-1) + eps) * ((input2 * input2).sum(axis=-1) + eps)).sqrt()
    cos = dot / norms
    losses = E.where(target == 1, 1.0 - cos, 0.0) + E.where(target == -1, E.clip(cos - margin, 0.0, None), 0.0)
    return _reduce(losses, reduction)
