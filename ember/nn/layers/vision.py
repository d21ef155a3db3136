"""Image layers without parameters: resizing, pixel shuffling, local normalisations.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.Upsample(scale_factor=2, mode="nearest")(ember.zeros(1, 3, 8, 8)).shape
    (1, 3, 16, 16)
"""
from __future__ import annotations

from ...functional import vision as V
from ...tensor import Tensor
from ..module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
           "LocalResponseNorm", "LocalContrastNorm",
           "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class Upsample(Module):
    """Resize ``(N, C, *spatial)`` by a factor or to a size (see :func:`ember.functional.interpolate`).

    Args:
        size: output spatial size (an int or one per dimension), or
        scale_factor: a multiplier (one, or one per dimension).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
            ``'bicubic'``, ``'trilinear'`` or ``'area'``.
        align_corners: for the interpolating modes (default False).
        recompute_scale_factor: compute coordinates from the output size.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Upsample(size=(4, 6), mode="bilinear")(ember.zeros(1, 1, 2, 3)).shape
        (1, 1, 4, 6)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of size and scale_factor")
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return V.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        which = f"size={self.size!r}" if self.size is not None else f"scale_factor={self.scale_factor!r}"
        return f"{which}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D upsampling (PyTorch's legacy layer).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ember.zeros(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with ``align_corners=True`` (PyTorch's legacy layer).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.UpsamplingBilinear2d(scale_factor=2)(ember.zeros(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", True)


class PixelShuffle(Module):
    """``(*, C * r**2, H, W)`` -> ``(*, C, H * r, W * r)``: the sub-pixel upsampling layer.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.PixelShuffle(3)(ember.zeros(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x: Tensor) -> Tensor:
        return V.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r)`` -> ``(*, C * r**2, H, W)``, the inverse of :class:`PixelShuffle`.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.PixelUnshuffle(2)(ember.zeros(1, 1, 4, 4)).shape
        (1, 4, 2, 2)
    """

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = int(downscale_factor)

    def forward(self, x: Tensor) -> Tensor:
        return V.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class LocalResponseNorm(Module):
    """AlexNet's across-channel normalisation ``a / (k + alpha/size * sum a**2) ** beta``.

    Args:
        size: neighbouring channels summed over.
        alpha, beta, k: the formula's constants (PyTorch's defaults).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LocalResponseNorm(5)(ember.ones(2, 8, 4, 4)).shape
        (2, 8, 4, 4)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = int(size), float(alpha), float(beta), float(k)

    def forward(self, x: Tensor) -> Tensor:
        return V.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalContrastNorm(Module):
    """Subtractive and divisive local normalisation over a Gaussian window (Jarrett et al. 2009).

    See :func:`ember.functional.local_contrast_norm`.

    Args:
        kernel_size: odd window size.
        sigma: the Gaussian's standard deviation (default ``kernel_size / 4``).
        eps: lower bound of the divisor.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LocalContrastNorm(5)(ember.randn(1, 3, 12, 12)).shape
        (1, 3, 12, 12)
    """

    def __init__(self, kernel_size=9, sigma=None, eps: float = 1e-4):
        super().__init__()
        self.kernel_size, self.sigma, self.eps = kernel_size, sigma, float(eps)

    def forward(self, x: Tensor) -> Tensor:
        return V.local_contrast_norm(x, self.kernel_size, self.sigma, self.eps)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, sigma={self.sigma}, eps={self.eps}"


# ------------------------------------------------------------------ padding layers
class _Pad(Module):
    """``F.pad`` over the last ``_d`` dimensions with a fixed mode (PyTorch's padding layers)."""

    _d = 0
    mode = "constant"

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        name, count = type(self).__name__, 2 * self._d
        widths = (padding,) * count if isinstance(padding, int) else tuple(padding)
        if len(widths) != count or not all(isinstance(w, int) for w in widths):
            raise ValueError(f"{name}: padding must be an int or {count} ints, got {padding!r}")
        self.padding = widths
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "constant":
            return V.pad(x, self.padding, "constant", self.value)
        return V.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}, value={self.value}" if self.mode == "constant" else f"{self.padding}"


class ConstantPad1d(_Pad):
    """Pad the last dimension with ``value``: ``padding`` is an int or ``(left, right)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ConstantPad1d((1, 2), 9.0)(ember.zeros(1, 1)).tolist()
        [[9.0, 0.0, 9.0, 9.0]]
    """

    _d = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_Pad):
    """Pad the last two dimensions with ``value``: ``(left, right, top, bottom)`` or an int."""

    _d = 2

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad3d(_Pad):
    """Pad the last three dimensions with ``value``: six widths (last dimension first) or an int."""

    _d = 3

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ZeroPad1d(_Pad):
    """Pad the last dimension with zeros."""

    _d = 1

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(_Pad):
    """Pad the last two dimensions with zeros.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ZeroPad2d(1)(ember.ones(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    _d = 2

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ZeroPad3d(_Pad):
    """Pad the last three dimensions with zeros."""

    _d = 3

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ReflectionPad1d(_Pad):
    """Mirror the last dimension at its edges (without repeating the edge).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ReflectionPad1d(2)(ember.tensor([[0.0, 1.0, 2.0]])).tolist()
        [[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]
    """

    _d = 1
    mode = "reflect"


class ReflectionPad2d(_Pad):
    """Mirror the last two dimensions at their edges."""

    _d = 2
    mode = "reflect"


class ReflectionPad3d(_Pad):
    """Mirror the last three dimensions at their edges."""

    _d = 3
    mode = "reflect"


class ReplicationPad1d(_Pad):
    """Repeat the edge values of the last dimension."""

    _d = 1
    mode = "replicate"


class ReplicationPad2d(_Pad):
    """Repeat the edge values of the last two dimensions."""

    _d = 2
    mode = "replicate"


class ReplicationPad3d(_Pad):
    """Repeat the edge values of the last three dimensions."""

    _d = 3
    mode = "replicate"


class CircularPad1d(_Pad):
    """Wrap the last dimension around (periodic padding)."""

    _d = 1
    mode = "circular"


class CircularPad2d(_Pad):
    """Wrap the last two dimensions around."""

    _d = 2
    mode = "circular"


class CircularPad3d(_Pad):
    """Wrap the last three dimensions around."""

    _d = 3
    mode = "circular"
