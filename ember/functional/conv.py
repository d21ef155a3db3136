"""Convolution functions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold``, ``fold``.

One N-dimensional implementation (``ember.ops.conv``) serves every rank; the
functions here only fix the number of spatial dimensions, so that a wrong rank
is reported under the name the user called.

Example:
    >>> import ember
    >>> import ember.functional as F
    >>> F.conv2d(ember.ones(8, 3, 32, 32), ember.ones(16, 3, 5, 5)).shape
    (8, 16, 28, 28)
"""
from __future__ import annotations

from ..ops.conv import conv as _conv
from ..ops.conv import conv_transpose as _conv_transpose
from ..ops.conv import fold, unfold
from ..tensor import Tensor
from ..errors import ArgumentError

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "unfold", "fold"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check_weight(op: str, weight, d: int, what: str) -> None:
    shape = getattr(weight, "shape", None)
    if shape is None or len(shape) != d + 2:
        raise ArgumentError(f"{op}: expected a {d + 2}-D weight ({what}, {_SPATIAL[d]} kernel), "
                            f"got shape {None if shape is None else tuple(shape)}")


def _make_conv(d: int):
    op = f"conv{d}d"

    def convolution(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                    dilation=1, groups: int = 1) -> Tensor:
        _check_weight(op, weight, d, "out_channels, in_channels/groups")
        return _conv(input, weight, bias, stride, padding, dilation, groups, op=op)

    convolution.__name__ = convolution.__qualname__ = op
    convolution.__doc__ = f"""{d}-D convolution of ``input`` (N, C_in, {_SPATIAL[d]}) with ``weight``.

    Args:
        input: ``(N, C_in, {_SPATIAL[d]})`` or unbatched ``(C_in, {_SPATIAL[d]})``.
        weight: ``(C_out, C_in / groups, {', '.join('k' + c for c in _SPATIAL[d].replace(', ', ''))})``.
        bias: optional ``(C_out,)``.
        stride: an int or {d} ints, positive.
        padding: an int, {d} ints, ``'valid'`` or ``'same'`` (stride 1).
        dilation: spacing between kernel taps, an int or {d} ints.
        groups: independent channel groups; ``groups == C_in`` is depthwise.

    Returns:
        ``(N, C_out, *out)`` with ``out = (in + 2 * padding - dilation * (k - 1) - 1) // stride + 1``.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.{op}(ember.ones(2, 4{', 9' * d}), ember.ones(6, 4{', 3' * d}), padding='same').shape
        (2, 6{', 9' * d})
    """
    return convolution


def _make_conv_transpose(d: int):
    op = f"conv_transpose{d}d"

    def transposed(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                   output_padding=0, groups: int = 1, dilation=1) -> Tensor:
        _check_weight(op, weight, d, "in_channels, out_channels/groups")
        return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, op=op)

    transposed.__name__ = transposed.__qualname__ = op
    transposed.__doc__ = f"""{d}-D transposed convolution ("deconvolution"): the gradient of ``conv{d}d``.

    Used to upsample in decoders and GAN generators.

    Args:
        input: ``(N, C_in, {_SPATIAL[d]})`` or unbatched.
        weight: ``(C_in, C_out / groups, *kernel)`` (PyTorch's layout).
        bias: optional ``(C_out,)``.
        stride, padding, dilation: those of the convolution being transposed.
        output_padding: extra size on one side of the output (smaller than stride or dilation).
        groups: channel groups.

    Returns:
        ``(N, C_out, *out)`` with ``out = (in - 1) * stride - 2 * padding + dilation * (k - 1)
        + output_padding + 1``.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.{op}(ember.ones(1, 8{', 4' * d}), ember.ones(8, 3{', 4' * d}), stride=2, padding=1).shape
        (1, 3{', 8' * d})
    """
    return transposed


conv1d, conv2d, conv3d = (_make_conv(d) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (_make_conv_transpose(d) for d in (1, 2, 3))
