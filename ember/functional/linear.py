"""Affine maps: ``linear`` (one fused GEMM) and ``bilinear`` (multiplicative interactions).

Example:
    >>> import ember, ember.functional as F
    >>> F.linear(ember.ones(2, 3), ember.ones(4, 3)).shape
    (2, 4)
"""
from __future__ import annotations

from ..ops import nn as N
from ..ops.checks import float_operand
from ..ops.linalg import einsum
from ..tensor import Tensor
from ._checks import check_dtype, check_last_dim
from ..errors import ArgumentError

__all__ = ["linear", "bilinear"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` over the last dimension of ``x``.

    Args:
        x: input of shape ``(..., in_features)``.
        weight: ``(out_features, in_features)``, PyTorch's layout.
        bias: ``(out_features,)`` or None.

    Returns:
        A tensor of shape ``(..., out_features)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.linear(ember.ones(1, 2), ember.tensor([[1.0, 2.0]]), ember.tensor([0.5])).tolist()
        [[3.5]]
    """
    x = float_operand("linear", x)
    if weight.ndim != 2:
        raise ArgumentError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    check_last_dim("linear", x, weight.shape[1])
    check_dtype("linear", x, weight)
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ArgumentError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return N.linear(x, weight, bias)


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = x1[..., i] * weight[o, i, j] * x2[..., j] + bias[o]``.

    The three-way multiplicative interaction of the lectures: every output unit
    is a bilinear form in the two inputs.

    Args:
        x1: ``(..., in1_features)``.
        x2: ``(..., in2_features)`` with the same leading dimensions as ``x1``.
        weight: ``(out_features, in1_features, in2_features)``.
        bias: ``(out_features,)`` or None.

    Example:
        >>> import ember, ember.functional as F
        >>> F.bilinear(ember.ones(5, 2), ember.ones(5, 3), ember.ones(4, 2, 3)).shape
        (5, 4)
    """
    x1, x2 = float_operand("bilinear", x1), float_operand("bilinear", x2)
    if weight.ndim != 3:
        raise ArgumentError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {weight.shape}")
    check_last_dim("bilinear", x1, weight.shape[1], "first input")
    check_last_dim("bilinear", x2, weight.shape[2], "second input")
    if x1.shape[:-1] != x2.shape[:-1]:
        raise ArgumentError(f"bilinear: inputs must share their leading dimensions, got {x1.shape} and {x2.shape}")
    check_dtype("bilinear", x1, weight)
    out = einsum("...i,oij,...j->...o", x1, weight, x2)
    return out if bias is None else out + bias
