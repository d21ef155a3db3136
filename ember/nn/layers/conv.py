"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Parameters use PyTorch's names, layouts and default initialisation, so a
``state_dict`` moves between the two frameworks unchanged: ``weight`` is
``(out_channels, in_channels / groups, *kernel)`` for a convolution and
``(in_channels, out_channels / groups, *kernel)`` for a transposed one; ``bias``
is ``(out_channels,)``. Both start from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
with ``fan_in = weight.shape[1] * prod(kernel)``.

Example:
    >>> import ember, ember.nn as nn
    >>> conv = nn.Conv2d(3, 16, kernel_size=5, padding="same")
    >>> conv(ember.zeros(8, 3, 32, 32)).shape
    (8, 16, 32, 32)
"""
from __future__ import annotations


from ...creation import empty
from ...functional._checks import check_dtype
from ...ops import movement as M
from ...ops.checks import float_operand
from ...ops.conv import as_tuple, check_rank, conv, conv_padding, conv_transpose
from ...tensor import Tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def pad_by_mode(x: Tensor, pads, mode: str, op: str) -> Tensor:
    """Non-zero padding (``'reflect'``, ``'replicate'``, ``'circular'``) of the spatial axes.

    ``pads`` holds ``(before, after)`` per spatial axis, first axis first; ``F.pad`` does the
    work (it takes the last axis first, as PyTorch's ``pad`` tuple does).
    """
    from ...functional.vision import pad

    flat = tuple(width for before, after in reversed(pads) for width in (before, after))
    try:
        return pad(x, flat, mode=mode)
    except (ValueError, RuntimeError) as error:
        raise type(error)(f"{op}: {error}") from None


class _ConvBase(Module):
    """What convolutions and transposed convolutions share: arguments, parameters, repr."""

    _d = 0
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, dtype=None, device: str = "cpu") -> None:
        super().__init__()
        name, d = type(self).__name__, self._d
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, d)
        self.stride = as_tuple(name, "stride", stride, d)
        self.dilation = as_tuple(name, "dilation", dilation, d)
        self.padding = padding if isinstance(padding, str) else as_tuple(name, "padding", padding, d, 0)
        # Validates 'same' against the stride now, as PyTorch does at construction.
        self._pads = conv_padding(name, self.padding, self.kernel_size, self.dilation, self.stride)
        self.output_padding = as_tuple(name, "output_padding", output_padding, d, 0)
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the parameters with PyTorch's defaults."""
        init.default_layer_init_(self.weight, self.bias)

    def _input(self, x) -> Tensor:
        name = type(self).__name__
        x = float_operand(name, x)
        check_rank(name, x, self._d)
        check_dtype(name, x, self.weight)
        return x

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}",
                 f"stride={self.stride}"]
        if self.padding != (0,) * self._d:
            parts.append(f"padding={self.padding!r}" if isinstance(self.padding, str) else f"padding={self.padding}")
        if self.dilation != (1,) * self._d:
            parts.append(f"dilation={self.dilation}")
        if self._transposed and self.output_padding != (0,) * self._d:
            parts.append(f"output_padding={self.output_padding}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode!r}")
        return ", ".join(parts)


class _ConvNd(_ConvBase):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None, device: str = "cpu") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        x = self._input(x)
        padding = self.padding
        if self.padding_mode != "zeros":
            unbatched = x.ndim == self._d + 1
            if unbatched:
                x = M.reshape(x, (1,) + tuple(x.shape))
            x = pad_by_mode(x, self._pads, self.padding_mode, name)
            if unbatched:
                x = M.reshape(x, tuple(x.shape[1:]))
            padding = 0
        return conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups, op=name)


class _ConvTransposeNd(_ConvBase):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=None, device: str = "cpu") -> None:
        name = type(self).__name__
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype, device)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        """Transposed convolution; ``output_size`` picks ``output_padding`` to reach that size."""
        name = type(self).__name__
        x = self._input(x)
        extra = self.output_padding
        if output_size is not None:
            extra = self._output_padding_for(x, tuple(output_size)[-self._d:])
        return conv_transpose(x, self.weight, self.bias, self.stride, self.padding, extra, self.groups,
                              self.dilation, op=name)

    def _output_padding_for(self, x, size):
        name = type(self).__name__
        spatial = tuple(x.shape[-self._d:])
        if len(size) != self._d:
            raise ValueError(f"{name}: output_size must give {self._d} spatial sizes, got {size}")
        smallest = tuple((n - 1) * s - 2 * p + dil * (k - 1) + 1 for n, s, p, dil, k in
                         zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size))
        extra = tuple(o - m for o, m in zip(size, smallest))
        if any(e < 0 or e >= max(s, dil) for e, s, dil in zip(extra, self.stride, self.dilation)):
            largest = tuple(m + max(s, dil) - 1 for m, s, dil in zip(smallest, self.stride, self.dilation))
            raise ValueError(f"{name}: output_size {size} is not reachable from input shape {tuple(x.shape)}; "
                             f"expected sizes between {smallest} and {largest}")
        return extra


_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _conv_doc(d: int) -> str:
    s = _SPATIAL[d]
    return f"""{d}-D convolution layer over inputs ``(N, C_in, {s})`` (or unbatched ``(C_in, {s})``).

    Args:
        in_channels, out_channels: channel counts.
        kernel_size: an int or {d} ints.
        stride: an int or {d} ints, positive.
        padding: an int, {d} ints, ``'valid'`` or ``'same'`` (stride 1 only).
        dilation: spacing between kernel taps.
        groups: independent channel groups (``groups == in_channels``: depthwise).
        bias: learn an additive bias per output channel.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        dtype, device: of the parameters.

    Attributes:
        weight: ``(out_channels, in_channels / groups, *kernel_size)``.
        bias: ``(out_channels,)`` or None.

    Example:
        >>> import ember, ember.nn as nn
        >>> layer = nn.Conv{d}d(4, 8, 3, padding=1)
        >>> layer(ember.zeros(2, 4{', 10' * d})).shape
        (2, 8{', 10' * d})
    """


def _conv_transpose_doc(d: int) -> str:
    s = _SPATIAL[d]
    return f"""{d}-D transposed convolution layer (decoders, GAN generators) over ``(N, C_in, {s})``.

    Call it as ``layer(x)`` or ``layer(x, output_size=...)`` to pick among the sizes
    a strided convolution could have come from.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding, dilation: those of the convolution being transposed.
        output_padding: extra size on one side of the output (below stride or dilation).
        groups: channel groups.
        bias: learn an additive bias.
        dtype, device: of the parameters.

    Attributes:
        weight: ``(in_channels, out_channels / groups, *kernel_size)``.
        bias: ``(out_channels,)`` or None.

    Example:
        >>> import ember, ember.nn as nn
        >>> up = nn.ConvTranspose{d}d(8, 4, 4, stride=2, padding=1)
        >>> up(ember.zeros(2, 8{', 5' * d})).shape
        (2, 4{', 10' * d})
    """


def _dimensioned(base, name: str, d: int, doc: str):
    return type(name, (base,), {"_d": d, "__doc__": doc, "__module__": __name__})


Conv1d, Conv2d, Conv3d = (_dimensioned(_ConvNd, f"Conv{d}d", d, _conv_doc(d)) for d in (1, 2, 3))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    _dimensioned(_ConvTransposeNd, f"ConvTranspose{d}d", d, _conv_transpose_doc(d)) for d in (1, 2, 3))
