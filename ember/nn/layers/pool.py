"""Pooling layers in 1-D, 2-D and 3-D: max, average, Lp, log-sum-exp, adaptive, global, unpooling.

Each layer stores its arguments and calls the N-dimensional function of
``ember.functional.pool`` with its own name, so errors say which layer was fed
the wrong shape. Pooling layers have no parameters.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.MaxPool2d(2)(ember.zeros(8, 16, 28, 28)).shape
    (8, 16, 14, 14)
"""
from __future__ import annotations

from ...functional import pool as P
from ...ops.pool import avg_pool, max_pool
from ...tensor import Tensor
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d",
           "LPPool2d", "LPPool3d", "LSEPool1d", "LSEPool2d", "LSEPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "GlobalAvgPool1d",
           "GlobalAvgPool2d", "GlobalAvgPool3d", "GlobalMaxPool1d", "GlobalMaxPool2d", "GlobalMaxPool3d"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


class _Pool(Module):
    """Stores constructor arguments by name; ``extra_repr`` lists them."""

    _d = 0
    _fields: tuple = ()

    def __init__(self, **options) -> None:
        super().__init__()
        for key, value in options.items():
            setattr(self, key, value)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)


class _MaxPool(_Pool):
    _fields = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                         return_indices=return_indices, ceil_mode=ceil_mode)

    def forward(self, x: Tensor):
        return max_pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                        self.return_indices, d=self._d, op=self._name)


class _AvgPool(_Pool):
    _fields = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor_override)

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                        self.count_include_pad, self.divisor_override, d=self._d, op=self._name)


class _LPPool(_Pool):
    _fields = ("norm_type", "kernel_size", "stride", "ceil_mode")

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode=False):
        super().__init__(norm_type=norm_type, kernel_size=kernel_size, stride=stride, ceil_mode=ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        return P.lp_pool(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode, d=self._d,
                         op=self._name)


class _LSEPool(_Pool):
    _fields = ("kernel_size", "stride", "beta")

    def __init__(self, kernel_size, stride=None, beta: float = 1.0):
        super().__init__(kernel_size=kernel_size, stride=stride, beta=beta)

    def forward(self, x: Tensor) -> Tensor:
        return P.lse_pool(x, self.kernel_size, self.stride, self.beta, d=self._d, op=self._name)


class _AdaptiveAvgPool(_Pool):
    _fields = ("output_size",)

    def __init__(self, output_size):
        super().__init__(output_size=output_size)

    def forward(self, x: Tensor) -> Tensor:
        return P.adaptive_avg_pool(x, self.output_size, d=self._d, op=self._name)


class _AdaptiveMaxPool(_Pool):
    _fields = ("output_size", "return_indices")

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size=output_size, return_indices=return_indices)

    def forward(self, x: Tensor):
        return P.adaptive_max_pool(x, self.output_size, self.return_indices, d=self._d, op=self._name)


class _MaxUnpool(_Pool):
    _fields = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__(kernel_size=kernel_size, stride=stride, padding=padding)

    def forward(self, x: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return P.max_unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size,
                            d=self._d, op=self._name)


class _GlobalPool(_Pool):
    _fields = ("keepdim",)
    _reduce = None

    def __init__(self, keepdim: bool = False):
        super().__init__(keepdim=keepdim)

    def forward(self, x: Tensor) -> Tensor:
        if getattr(x, "ndim", None) != self._d + 2:
            raise ValueError(f"{self._name}: expected a {self._d + 2}-D input (N, C, {_SPATIAL[self._d]}), "
                             f"got shape {tuple(getattr(x, 'shape', ()))}")
        return type(self)._reduce(x, self.keepdim)


class _GlobalAvgPool(_GlobalPool):
    _reduce = staticmethod(P.global_avg_pool)


class _GlobalMaxPool(_GlobalPool):
    _reduce = staticmethod(P.global_max_pool)


# ------------------------------------------------------------------ the 1-D/2-D/3-D layers
class MaxPool1d(_MaxPool):
    """1-D max pooling over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit -inf, at most half the kernel.
        dilation: spacing between window taps.
        return_indices: also return each maximum's flat index (for MaxUnpool).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MaxPool1d(2)(ember.zeros(1, 2, 8)).shape
        (1, 2, 4)
    """

    _d = 1


class AvgPool1d(_AvgPool):
    """1-D average pooling over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit zeros, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor.
        divisor_override: divide by this number instead.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AvgPool1d(2)(ember.zeros(1, 2, 8)).shape
        (1, 2, 4)
    """

    _d = 1


class LPPool1d(_LPPool):
    """1-D power-average pooling ``(sum x**p) ** (1/p)`` over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        norm_type: the power p.
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LPPool1d(2, 2)(ember.zeros(1, 2, 8)).shape
        (1, 2, 4)
    """

    _d = 1


class LSEPool1d(_LSEPool):
    """1-D log-sum-exp pooling ``(1/beta) log(mean exp(beta x))`` over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        beta: sharpness; large values approach max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LSEPool1d(2)(ember.zeros(1, 2, 8)).shape
        (1, 2, 4)
    """

    _d = 1


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """1-D average pooling to a fixed output size over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveAvgPool1d(3)(ember.zeros(1, 2, 8)).shape
        (1, 2, 3)
    """

    _d = 1


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """1-D max pooling to a fixed output size over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).
        return_indices: also return each maximum's flat index.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveMaxPool1d(3)(ember.zeros(1, 2, 8)).shape
        (1, 2, 3)
    """

    _d = 1


class MaxUnpool1d(_MaxUnpool):
    """1-D partial inverse of max pooling, called as ``layer(x, indices, output_size=None)``, over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        kernel_size, stride, padding: those of the max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> y, i = nn.MaxPool1d(2, return_indices=True)(ember.zeros(1, 2, 8)); nn.MaxUnpool1d(2)(y, i).shape
        (1, 2, 8)
    """

    _d = 1


class GlobalAvgPool1d(_GlobalAvgPool):
    """1-D global average pooling to ``(N, C)`` (Keras' GlobalAveragePooling) over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalAvgPool1d()(ember.zeros(1, 2, 8)).shape
        (1, 2)
    """

    _d = 1


class GlobalMaxPool1d(_GlobalMaxPool):
    """1-D global max pooling to ``(N, C)`` over ``(N, C, L)`` (or unbatched ``(C, L)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalMaxPool1d()(ember.zeros(1, 2, 8)).shape
        (1, 2)
    """

    _d = 1


class MaxPool2d(_MaxPool):
    """2-D max pooling over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit -inf, at most half the kernel.
        dilation: spacing between window taps.
        return_indices: also return each maximum's flat index (for MaxUnpool).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MaxPool2d(2)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 4, 4)
    """

    _d = 2


class AvgPool2d(_AvgPool):
    """2-D average pooling over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit zeros, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor.
        divisor_override: divide by this number instead.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AvgPool2d(2)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 4, 4)
    """

    _d = 2


class LPPool2d(_LPPool):
    """2-D power-average pooling ``(sum x**p) ** (1/p)`` over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        norm_type: the power p.
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LPPool2d(2, 2)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 4, 4)
    """

    _d = 2


class LSEPool2d(_LSEPool):
    """2-D log-sum-exp pooling ``(1/beta) log(mean exp(beta x))`` over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        beta: sharpness; large values approach max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LSEPool2d(2)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 4, 4)
    """

    _d = 2


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """2-D average pooling to a fixed output size over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveAvgPool2d(3)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 3, 3)
    """

    _d = 2


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """2-D max pooling to a fixed output size over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).
        return_indices: also return each maximum's flat index.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveMaxPool2d(3)(ember.zeros(1, 2, 8, 8)).shape
        (1, 2, 3, 3)
    """

    _d = 2


class MaxUnpool2d(_MaxUnpool):
    """2-D partial inverse of max pooling, called as ``layer(x, indices, output_size=None)``, over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        kernel_size, stride, padding: those of the max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> y, i = nn.MaxPool2d(2, return_indices=True)(ember.zeros(1, 2, 8, 8)); nn.MaxUnpool2d(2)(y, i).shape
        (1, 2, 8, 8)
    """

    _d = 2


class GlobalAvgPool2d(_GlobalAvgPool):
    """2-D global average pooling to ``(N, C)`` (Keras' GlobalAveragePooling) over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalAvgPool2d()(ember.zeros(1, 2, 8, 8)).shape
        (1, 2)
    """

    _d = 2


class GlobalMaxPool2d(_GlobalMaxPool):
    """2-D global max pooling to ``(N, C)`` over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalMaxPool2d()(ember.zeros(1, 2, 8, 8)).shape
        (1, 2)
    """

    _d = 2


class MaxPool3d(_MaxPool):
    """3-D max pooling over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit -inf, at most half the kernel.
        dilation: spacing between window taps.
        return_indices: also return each maximum's flat index (for MaxUnpool).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.MaxPool3d(2)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

    _d = 3


class AvgPool3d(_AvgPool):
    """3-D average pooling over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        padding: implicit zeros, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor.
        divisor_override: divide by this number instead.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AvgPool3d(2)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

    _d = 3


class LPPool3d(_LPPool):
    """3-D power-average pooling ``(sum x**p) ** (1/p)`` over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        norm_type: the power p.
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        ceil_mode: round the output size up.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LPPool3d(2, 2)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

    _d = 3


class LSEPool3d(_LSEPool):
    """3-D log-sum-exp pooling ``(1/beta) log(mean exp(beta x))`` over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        kernel_size: window size, an int or one per dimension.
        stride: window step (default: kernel_size).
        beta: sharpness; large values approach max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LSEPool3d(2)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 4, 4, 4)
    """

    _d = 3


class AdaptiveAvgPool3d(_AdaptiveAvgPool):
    """3-D average pooling to a fixed output size over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveAvgPool3d(3)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 3, 3, 3)
    """

    _d = 3


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """3-D max pooling to a fixed output size over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        output_size: an int or one per dimension (None keeps a size).
        return_indices: also return each maximum's flat index.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.AdaptiveMaxPool3d(3)(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2, 3, 3, 3)
    """

    _d = 3


class MaxUnpool3d(_MaxUnpool):
    """3-D partial inverse of max pooling, called as ``layer(x, indices, output_size=None)``, over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        kernel_size, stride, padding: those of the max pooling.

    Example:
        >>> import ember, ember.nn as nn
        >>> y, i = nn.MaxPool3d(2, return_indices=True)(ember.zeros(1, 2, 8, 8, 8)); nn.MaxUnpool3d(2)(y, i).shape
        (1, 2, 8, 8, 8)
    """

    _d = 3


class GlobalAvgPool3d(_GlobalAvgPool):
    """3-D global average pooling to ``(N, C)`` (Keras' GlobalAveragePooling) over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalAvgPool3d()(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2)
    """

    _d = 3


class GlobalMaxPool3d(_GlobalMaxPool):
    """3-D global max pooling to ``(N, C)`` over ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``).

    Args:
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GlobalMaxPool3d()(ember.zeros(1, 2, 8, 8, 8)).shape
        (1, 2)
    """

    _d = 3
