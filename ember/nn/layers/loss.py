"""Loss layers: the module form of each function in :mod:`ember.functional.loss`.

Class weights (``weight``, ``pos_weight``) are buffers, so they follow the
module to another device or dtype and appear in ``state_dict`` as in PyTorch.

Example:
    >>> import ember, ember.nn as nn
    >>> criterion = nn.CrossEntropyLoss()
    >>> round(criterion(ember.zeros(2, 4), ember.tensor([0, 3])).item(), 4)
    1.3863
"""
from __future__ import annotations

from ...functional import loss as F
from ...functional._checks import check_reduction
from ...tensor import Tensor, as_tensor
from ..module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MarginRankingLoss", "KLDivLoss",
           "CosineEmbeddingLoss"]


class _Loss(Module):
    """A loss with a ``reduction`` (``'mean'``, ``'sum'`` or ``'none'``) and optional settings.

    ``function`` is the functional form; ``settings`` name the attributes passed
    to it as keywords after ``reduction``.
    """

    function = None
    settings: tuple = ()
    reductions: tuple = ("none", "mean", "sum")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(type(self).__name__, reduction, self.reductions)
        self.reduction = reduction

    def _options(self) -> dict:
        return {name: getattr(self, name) for name in self.settings}

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return type(self).function(input, target, reduction=self.reduction, **self._options())

    def extra_repr(self) -> str:
        return ", ".join([f"reduction={self.reduction!r}"] +
                         [f"{k}={v!r}" for k, v in self._options().items() if not isinstance(v, Tensor)])


def _weight_buffer(module: Module, name: str, value) -> None:
    module.register_buffer(name, None if value is None else as_tensor(value))


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or class probabilities.

    Args:
        weight: optional per-class weights ``(C,)``.
        ignore_index: class-index target value to skip.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: in ``[0, 1]``.

    Example:
        >>> import ember, ember.nn as nn
        >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> loss(ember.randn(8, 5, requires_grad=True), ember.randint(0, 5, (8,))).shape
        ()
    """

    function = staticmethod(F.cross_entropy)
    settings = ("weight", "ignore_index", "label_smoothing")

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities (put after ``LogSoftmax``).

    Example:
        >>> import ember, ember.nn as nn
        >>> logp = nn.LogSoftmax(dim=1)(ember.zeros(2, 4))
        >>> round(nn.NLLLoss()(logp, ember.tensor([0, 1])).item(), 4)
        1.3863
    """

    function = staticmethod(F.nll_loss)
    settings = ("weight", "ignore_index")

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)
        self.ignore_index = ignore_index


class MSELoss(_Loss):
    """Mean squared error.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MSELoss()(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0])).item()
        2.5
    """

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.L1Loss()(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0])).item()
        1.5
    """

    function = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """Quadratic for ``|d| < beta``, linear beyond (Fast R-CNN's box loss).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.SmoothL1Loss()(ember.tensor([3.0]), ember.tensor([0.0])).item()
        2.5
    """

    function = staticmethod(F.smooth_l1_loss)
    settings = ("beta",)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta


class HuberLoss(_Loss):
    """Quadratic for ``|d| < delta``, ``delta``-sloped linear beyond.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.HuberLoss(delta=2.0)(ember.tensor([3.0]), ember.tensor([0.0])).item()
        4.0
    """

    function = staticmethod(F.huber_loss)
    settings = ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (prefer ``BCEWithLogitsLoss``).

    Example:
        >>> import ember, ember.nn as nn
        >>> round(nn.BCELoss()(ember.tensor([0.8]), ember.tensor([1.0])).item(), 4)
        0.2231
    """

    function = staticmethod(F.binary_cross_entropy)
    settings = ("weight",)

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, stable for logits of any size.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.BCEWithLogitsLoss()(ember.tensor([100.0]), ember.tensor([0.0])).item()
        100.0
    """

    function = staticmethod(F.binary_cross_entropy_with_logits)
    settings = ("weight", "pos_weight")

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(reduction)
        _weight_buffer(self, "weight", weight)
        _weight_buffer(self, "pos_weight", pos_weight)


class HingeEmbeddingLoss(_Loss):
    """``x`` for similar pairs (``target == 1``), ``max(0, margin - x)`` for dissimilar ones (``-1``).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.HingeEmbeddingLoss()(ember.tensor([0.25]), ember.tensor([-1])).item()
        0.75
    """

    function = staticmethod(F.hinge_embedding_loss)
    settings = ("margin",)

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss (Weston & Watkins / Crammer-Singer style sum over wrong classes).

    Example:
        >>> import ember, ember.nn as nn
        >>> round(nn.MultiMarginLoss()(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([3])).item(), 4)
        0.325
    """

    function = staticmethod(F.multi_margin_loss)
    settings = ("p", "margin", "weight")

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin = p, margin
        _weight_buffer(self, "weight", weight)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (x1 - x2) + margin)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MarginRankingLoss(margin=0.5)(ember.tensor([2.0]), ember.tensor([1.0]), ember.tensor([1.0])).item()
        0.0
    """

    function = staticmethod(F.margin_ranking_loss)
    settings = ("margin",)

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of ``target`` from ``exp(input)`` (``input`` holds log-probabilities).

    Use ``reduction='batchmean'`` for the per-sample divergence.

    Example:
        >>> import ember, ember.nn as nn
        >>> p = ember.tensor([[0.25, 0.75]])
        >>> nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
        0.0
    """

    function = staticmethod(F.kl_div)
    settings = ("log_target",)
    reductions = ("none", "mean", "sum", "batchmean")

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` for similar pairs, ``max(0, cos(x1, x2) - margin)`` for dissimilar ones.

    Example:
        >>> import ember, ember.nn as nn
        >>> x = ember.tensor([[1.0, 0.0]])
        >>> nn.CosineEmbeddingLoss()(x, -x, ember.tensor([1])).item()
        2.0
    """

    function = staticmethod(F.cosine_embedding_loss)
    settings = ("margin",)

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)
