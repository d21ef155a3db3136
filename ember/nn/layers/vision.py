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
           "LocalResponseNorm", "LocalContrastNorm"]


class Upsample(Module):
    """Resize ``(N, C, *spatial)`` by a factor or to a size (see :func:`ember.functional.interpolate`).

    Args:
        size: output spatial size (an int or one per dimension), or
        scale_factor: a multiplier (one, or one per dimension).
        mode: ``'nearest'``, ``'linear'``, ``'bilinear'`` or ``'trilinear'``.
        align_corners: for the linear modes (default False).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Upsample(size=(4, 6), mode="bilinear")(ember.zeros(1, 1, 2, 3)).shape
        (1, 1, 4, 6)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of size and scale_factor")
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return V.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

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
