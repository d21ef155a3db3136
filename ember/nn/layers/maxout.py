"""Maxout layers (Goodfellow et al., 2013): ``MaxoutLinear`` and ``MaxoutConv2d``.

A maxout unit is the maximum of ``pieces`` affine functions of its input. ``MaxoutLinear``
computes ``out_features * pieces`` linear features and keeps the largest of each group of
``pieces`` consecutive ones; ``MaxoutConv2d`` does the same over groups of consecutive
output channels of a convolution. (``nn.Maxout(pool_size)`` is the bare activation, to put
after a layer of your own.)

Example:
    >>> import ember, ember.nn as nn
    >>> nn.MaxoutLinear(784, 240, pieces=5)(ember.zeros(32, 784)).shape
    (32, 240)
    >>> nn.MaxoutConv2d(1, 48, pieces=2, kernel_size=8)(ember.zeros(2, 1, 28, 28)).shape
    (2, 48, 21, 21)
"""
from __future__ import annotations

from ...errors import ArgumentError
from ...functional.activation import maxout
from ...tensor import Tensor
from ..module import Module
from .conv import Conv2d
from .linear import Linear

__all__ = ["MaxoutLinear", "MaxoutConv2d"]


def _check_pieces(name: str, pieces: int) -> int:
    if int(pieces) != pieces or pieces < 1:
        raise ArgumentError(f"{name}: pieces must be a positive integer, got {pieces!r}")
    return int(pieces)


class MaxoutLinear(Module):
    """``out_features`` maxout units of ``pieces`` linear pieces each, over the last dimension.

    The parameters are those of ``self.linear = Linear(in_features, out_features * pieces)``:
    rows ``k*pieces`` to ``(k+1)*pieces - 1`` of ``linear.weight`` are unit ``k``'s pieces.

    Args:
        in_features: size of each input's last dimension.
        out_features: number of maxout units (the output's last dimension).
        pieces: linear pieces per unit.
        bias: whether the pieces have biases.

    Example:
        >>> import ember, ember.nn as nn
        >>> layer = nn.MaxoutLinear(3, 2, pieces=4)
        >>> layer.linear.weight.shape, layer(ember.zeros(5, 3)).shape
        ((8, 3), (5, 2))
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.pieces = _check_pieces("MaxoutLinear", pieces)
        self.linear = Linear(self.in_features, self.out_features * self.pieces, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return maxout(self.linear(x), self.pieces, dim=-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


class MaxoutConv2d(Module):
    """A convolution to ``out_channels * pieces`` maps, then the maximum over groups of ``pieces`` maps.

    Channels ``k*pieces`` to ``(k+1)*pieces - 1`` of ``self.conv`` form output channel ``k``.
    The remaining arguments are those of :class:`~ember.nn.Conv2d`.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MaxoutConv2d(3, 4, pieces=2, kernel_size=3, padding=1)(ember.zeros(1, 3, 5, 5)).shape
        (1, 4, 5, 5)
    """

    def __init__(self, in_channels: int, out_channels: int, pieces: int, kernel_size, stride=1, padding=0,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.pieces = _check_pieces("MaxoutConv2d", pieces)
        self.conv = Conv2d(self.in_channels, self.out_channels * self.pieces, kernel_size, stride=stride,
                           padding=padding, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return maxout(self.conv(x), self.pieces, dim=1)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_channels={self.out_channels}, pieces={self.pieces}"
