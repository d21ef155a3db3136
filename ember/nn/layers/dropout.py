"""Dropout layers: active in training mode only (``module.train()`` / ``module.eval()``).

Example:
    >>> import ember, ember.nn as nn
    >>> drop = nn.Dropout(0.5).eval()
    >>> drop(ember.ones(3)).tolist()
    [1.0, 1.0, 1.0]
"""
from __future__ import annotations

from ...functional.dropout import alpha_dropout, dropout
from ...tensor import Tensor
from ..module import Module

__all__ = ["Dropout", "AlphaDropout"]


class _DropoutBase(Module):
    function = None

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must lie in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).function(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_DropoutBase):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    In evaluation mode it is the identity.

    Example:
        >>> import ember, ember.nn as nn
        >>> ember.manual_seed(0)
        >>> y = nn.Dropout(0.25)(ember.ones(4000))
        >>> sorted(set(round(v, 4) for v in y.tolist()))
        [0.0, 1.3333]
    """

    function = staticmethod(dropout)


class AlphaDropout(_DropoutBase):
    """Dropout that keeps SELU activations standardised (Klambauer et al. 2017).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AlphaDropout(0.2).eval()(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    function = staticmethod(alpha_dropout)
