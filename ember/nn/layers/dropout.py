"""Dropout layers: active in training mode only (``module.train()`` / ``module.eval()``).

Example:
    >>> import ember, ember.nn as nn
    >>> drop = nn.Dropout(0.5).eval()
    >>> drop(ember.ones(3)).tolist()
    [1.0, 1.0, 1.0]
"""
from __future__ import annotations

from ...functional.dropout import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d,
                                  feature_alpha_dropout)
from ...tensor import Tensor
from ..module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutBase(Module):
    """What every dropout layer shares: ``p``, ``inplace`` and PyTorch's repr."""

    function = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self).function(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


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


class Dropout1d(_DropoutBase):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` inputs.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Dropout1d(0.5).eval()(ember.ones(2, 3, 4)).shape
        (2, 3, 4)
    """

    function = staticmethod(dropout1d)


class Dropout2d(_DropoutBase):
    """Zero whole channels of ``(N, C, H, W)`` inputs (a 3-D input is read as ``(N, C, L)``).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Dropout2d(0.5).eval()(ember.ones(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    function = staticmethod(dropout2d)


class Dropout3d(_DropoutBase):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Dropout3d(0.5).eval()(ember.ones(1, 2, 2, 2, 2)).shape
        (1, 2, 2, 2, 2)
    """

    function = staticmethod(dropout3d)


class AlphaDropout(_DropoutBase):
    """Dropout that keeps SELU activations standardised (Klambauer et al. 2017).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AlphaDropout(0.2).eval()(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutBase):
    """Alpha dropout of whole channels of ``(N, C, *)`` inputs.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.FeatureAlphaDropout(0.2).eval()(ember.ones(2, 3)).shape
        (2, 3)
    """

    function = staticmethod(feature_alpha_dropout)
