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

__all__ = [f"{kind}{d}d" for kind in ("MaxPool", "AvgPool", "LPPool", "LSEPool", "AdaptiveAvgPool",
                                      "AdaptiveMaxPool", "MaxUnpool", "GlobalAvgPool", "GlobalMaxPool")
           for d in (1, 2, 3)]

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


def _doc(summary: str, args: str, call: str, out: str, d: int) -> str:
    s = _SPATIAL[d]
    return f"""{summary} over ``(N, C, {s})`` (or unbatched ``(C, {s})``).

    Args:
{args}

    Example:
        >>> import ember, ember.nn as nn
        >>> {call}
        {out}
    """


def _docs(d: int) -> dict:
    x = f"ember.zeros(1, 2{', 8' * d})"
    half = f"(1, 2{', 4' * d})"
    window = "        kernel_size: window size, an int or one per dimension.\n" \
             "        stride: window step (default: kernel_size)."
    return {
        "MaxPool": _doc(f"{d}-D max pooling", window + "\n        padding: implicit -inf, at most half the kernel.\n"
                        "        dilation: spacing between window taps.\n"
                        "        return_indices: also return each maximum's flat index (for MaxUnpool).\n"
                        "        ceil_mode: round the output size up.",
                        f"nn.MaxPool{d}d(2)({x}).shape", half, d),
        "AvgPool": _doc(f"{d}-D average pooling", window + "\n        padding: implicit zeros, at most half the kernel.\n"
                        "        ceil_mode: round the output size up.\n"
                        "        count_include_pad: count padding zeros in the divisor.\n"
                        "        divisor_override: divide by this number instead.",
                        f"nn.AvgPool{d}d(2)({x}).shape", half, d),
        "LPPool": _doc(f"{d}-D power-average pooling ``(sum x**p) ** (1/p)``",
                       "        norm_type: the power p.\n" + window + "\n        ceil_mode: round the output size up.",
                       f"nn.LPPool{d}d(2, 2)({x}).shape", half, d),
        "LSEPool": _doc(f"{d}-D log-sum-exp pooling ``(1/beta) log(mean exp(beta x))``",
                        window + "\n        beta: sharpness; large values approach max pooling.",
                        f"nn.LSEPool{d}d(2)({x}).shape", half, d),
        "AdaptiveAvgPool": _doc(f"{d}-D average pooling to a fixed output size",
                                "        output_size: an int or one per dimension (None keeps a size).",
                                f"nn.AdaptiveAvgPool{d}d(3)({x}).shape", f"(1, 2{', 3' * d})", d),
        "AdaptiveMaxPool": _doc(f"{d}-D max pooling to a fixed output size",
                                "        output_size: an int or one per dimension (None keeps a size).\n"
                                "        return_indices: also return each maximum's flat index.",
                                f"nn.AdaptiveMaxPool{d}d(3)({x}).shape", f"(1, 2{', 3' * d})", d),
        "MaxUnpool": _doc(f"{d}-D partial inverse of max pooling, called as ``layer(x, indices, output_size=None)``,",
                          "        kernel_size, stride, padding: those of the max pooling.",
                          f"y, i = nn.MaxPool{d}d(2, return_indices=True)({x}); "
                          f"nn.MaxUnpool{d}d(2)(y, i).shape", f"(1, 2{', 8' * d})", d),
        "GlobalAvgPool": _doc(f"{d}-D global average pooling to ``(N, C)`` (Keras' GlobalAveragePooling)",
                              "        keepdim: keep the spatial dimensions with size 1.",
                              f"nn.GlobalAvgPool{d}d()({x}).shape", "(1, 2)", d),
        "GlobalMaxPool": _doc(f"{d}-D global max pooling to ``(N, C)``",
                              "        keepdim: keep the spatial dimensions with size 1.",
                              f"nn.GlobalMaxPool{d}d()({x}).shape", "(1, 2)", d),
    }


_BASES = {"MaxPool": _MaxPool, "AvgPool": _AvgPool, "LPPool": _LPPool, "LSEPool": _LSEPool,
          "AdaptiveAvgPool": _AdaptiveAvgPool, "AdaptiveMaxPool": _AdaptiveMaxPool, "MaxUnpool": _MaxUnpool,
          "GlobalAvgPool": _GlobalAvgPool, "GlobalMaxPool": _GlobalMaxPool}

for _d in (1, 2, 3):
    for _kind, _text in _docs(_d).items():
        _name = f"{_kind}{_d}d"
        globals()[_name] = type(_name, (_BASES[_kind],), {"_d": _d, "__doc__": _text, "__module__": __name__})
del _d, _kind, _text, _name
