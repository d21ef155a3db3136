"""``QuantizePropagation``: fixed-point activations forward, fixed-point gradients backward.

The paper (Courbariaux, David & Bengio, 2015) quantizes the *propagations*: the
values flowing forward and the gradients flowing back, each group with its own
dynamic scaling factor. Put this module after a layer: its forward quantizes the
activations with ``activation`` and its backward quantizes the gradient arriving
from above with ``gradient`` before it flows further down (both straight-through).

Example:
    >>> import ember, ember.nn as nn
    >>> from ember.quantization import DynamicFixedPoint, QuantizePropagation
    >>> q = QuantizePropagation(DynamicFixedPoint(10, integer_bits=3), DynamicFixedPoint(10, integer_bits=0))
    >>> x = ember.tensor([0.1234, 2.0], requires_grad=True)
    >>> y = q(x); y.tolist()                                 # steps of 2**-7
    [0.125, 2.0]
    >>> (y * ember.tensor([0.3, 5.0])).sum().backward()       # gradients saturate below 1
    >>> x.grad.tolist()
    [0.2998046875, 0.9990234375]
"""
from __future__ import annotations

from typing import Optional

from ..autograd.function import Function, apply
from ..nn.module import Module
from ..tensor import Tensor
from .dynamic import DynamicFixedPoint

__all__ = ["QuantizePropagation", "quantize_gradient"]


class QuantizeGradient(Function):
    """The identity forward; its vjp passes the gradient through ``format.quantize``."""

    name = "quantize_gradient"

    @staticmethod
    def forward(ctx, x, format):
        return x

    @staticmethod
    def vjp(ctx, g):
        return ctx.params["format"].quantize(g)

    @staticmethod
    def jvp(ctx, t):
        return t


def quantize_gradient(x: Tensor, format: DynamicFixedPoint) -> Tensor:
    """``x`` unchanged; the gradient flowing back through it is quantized by ``format``."""
    return apply(QuantizeGradient, (x,), {"format": format})


class QuantizePropagation(Module):
    """Quantize activations (forward) and their gradients (backward), each with its own format.

    Args:
        activation: the format of the values going forward (None: left in floating point).
        gradient: the format of the gradients going back (None: left in floating point).
    """

    def __init__(self, activation: Optional[DynamicFixedPoint] = None,
                 gradient: Optional[DynamicFixedPoint] = None) -> None:
        super().__init__()
        self.activation, self.gradient = activation, gradient

    def forward(self, x: Tensor) -> Tensor:
        if self.activation is not None:
            x = self.activation.quantize(x)
        if self.gradient is not None and x.requires_grad:
            x = quantize_gradient(x, self.gradient)
        return x

    def update_scales(self) -> None:
        """Apply the overflow rule to both formats (see :meth:`DynamicFixedPoint.update`)."""
        for fmt in (self.activation, self.gradient):
            if fmt is not None:
                fmt.update()

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}, gradient={self.gradient!r}"
