"""Pooling functions in 1-D, 2-D and 3-D: max, average, Lp, log-sum-exp, adaptive, global, unpooling.

Max and average pooling are primitives (``ember.ops.pool``); the others are
composed from them and from ordinary ops, so their gradients (of any order)
come from the rules of their parts:

* Lp pooling is PyTorch's formula ``(sum over the window of x**p) ** (1/p)``;
* log-sum-exp pooling is ``(1/beta) * log(mean over the window of exp(beta * x))``,
  which moves from average pooling (``beta -> 0``) to max pooling (``beta -> inf``);
* adaptive pooling uses PyTorch's bins (``start = floor(i * L / out)``,
  ``end = ceil((i + 1) * L / out)``): an ordinary pool when ``L`` divides evenly,
  otherwise one small averaging matrix per dimension (average) or a gather of
  every bin's maximum (max).

Example:
    >>> import ember
    >>> import ember.functional as F
    >>> F.max_pool2d(ember.ones(8, 16, 28, 28), 2).shape
    (8, 16, 14, 14)
"""
from __future__ import annotations

import math

from ..backend import array_module, numpy_module
from ..ops import elementwise as E
from ..ops import movement as M
from ..ops import reduce as R
from ..ops.conv import check_rank, make_geometry, unfold_windows
from ..kernels.pool import adaptive_bins as _bins
from ..ops.pool import adaptive_max_indices as _adaptive_max_indices
from ..ops.pool import avg_pool as _avg_pool
from ..ops.pool import max_pool as _max_pool
from ..tensor import Tensor, as_tensor, constant
from ..errors import ArgumentError

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d",
           "lp_pool2d", "lp_pool3d", "lse_pool1d", "lse_pool2d", "lse_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "global_avg_pool",
           "global_max_pool"]


def _sizes(op: str, value, d: int, name: str, allow_none: bool = False) -> tuple:
    values = (value,) * d if isinstance(value, int) or value is None else tuple(value)
    if len(values) != d:
        raise ArgumentError(f"{op}: {name} must be an int or {d} values, got {value!r}")
    for v in values:
        if v is None and allow_none:
            continue
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ArgumentError(f"{op}: {name} must hold positive ints, got {value!r}")
    return values


def _batched(op, x, d):
    from ..ops.checks import float_operand

    x = float_operand(op, x)
    if check_rank(op, x, d):
        return M.reshape(x, (1,) + tuple(x.shape)), True
    return x, False


def _unbatched(y, flag):
    return M.reshape(y, tuple(y.shape[1:])) if flag else y


# ------------------------------------------------------------------ N-d implementations
def lp_pool(x, norm_type: float, kernel_size, stride=None, ceil_mode=False, *, d: int, op: str):
    """``(sum over each window of x ** p) ** (1 / p)`` (PyTorch's formula and gradient)."""
    if not norm_type or norm_type <= 0:
        raise ArgumentError(f"{op}: norm_type must be positive, got {norm_type!r}")
    x, flag = _batched(op, x, d)
    kernel = _sizes(op, kernel_size, d, "kernel_size")
    out = _avg_pool(E.pow_scalar(x, norm_type), kernel, stride, 0, ceil_mode, d=d, op=op)
    # sign(out) * relu(|out|) is out itself, but (like PyTorch) with a zero gradient at 0.
    out = out.sign() * out.abs().relu() * float(math.prod(kernel))
    return _unbatched(E.pow_scalar(out, 1.0 / norm_type), flag)


def lse_pool(x, kernel_size, stride=None, beta: float = 1.0, *, d: int, op: str):
    """``(1/beta) * log(mean over each window of exp(beta * x))``, computed without overflow."""
    if not beta or beta <= 0:
        raise ArgumentError(f"{op}: beta must be positive, got {beta!r}")
    x, flag = _batched(op, x, d)
    kernel = _sizes(op, kernel_size, d, "kernel_size")
    strides = kernel if stride is None else _sizes(op, stride, d, "stride")
    geom = make_geometry(op, x.shape[2:], kernel, strides, (1,) * d, ((0, 0),) * d, 1)
    windows = unfold_windows(x * beta, geom)
    lse = R.logsumexp(windows, axis=tuple(range(2, 2 + d)))
    return _unbatched((lse - math.log(math.prod(kernel))) / beta, flag)


#: Above this many taps per window, pooling loops over offsets no more: with equal,
#: non-overlapping bins (global pooling, say) one reshaped reduction does the job.
_MANY_TAPS = 16


def _tiles(x, out, kernel):
    """``(N, C, *out, *kernel)``: equal non-overlapping windows as axes (a view when possible)."""
    d = len(out)
    split = tuple(size for pair in zip(out, kernel) for size in pair)
    order = (0, 1) + tuple(2 + 2 * i for i in range(d)) + tuple(3 + 2 * i for i in range(d))
    return M.transpose(M.reshape(x, tuple(x.shape[:2]) + split), order)


def adaptive_avg_pool(x, output_size, *, d: int, op: str):
    """Average over PyTorch's adaptive bins; exact, with one small matrix per uneven dimension."""
    x, flag = _batched(op, x, d)
    in_size = tuple(x.shape[2:])
    out = tuple(n if o is None else o for o, n in zip(_sizes(op, output_size, d, "output_size", True), in_size))
    if all(n % o == 0 for n, o in zip(in_size, out)):
        kernel = tuple(n // o for n, o in zip(in_size, out))
        if math.prod(kernel) > _MANY_TAPS:
            return _unbatched(R.mean(_tiles(x, out, kernel), axis=tuple(range(2 + d, 2 + 2 * d))), flag)
        return _unbatched(x if all(k == 1 for k in kernel) else _avg_pool(x, kernel, d=d, op=op), flag)
    np = numpy_module()
    xp = array_module(x._data)
    for axis, (n, o) in enumerate(zip(in_size, out)):
        if n == o:
            continue
        start, end = _bins(n, o)
        columns = np.arange(n)
        weights = ((columns >= start[:, None]) & (columns < end[:, None])) / (end - start)[:, None]
        matrix = constant(xp.asarray(weights.T, dtype=x.dtype))
        moved = M.swapaxes(x, 2 + axis, -1)
        x = M.swapaxes(moved @ matrix, 2 + axis, -1)
    return _unbatched(x, flag)


def adaptive_max_pool(x, output_size, return_indices=False, *, d: int, op: str):
    """Maximum over PyTorch's adaptive bins (first maximum on ties), with optional indices."""
    x, flag = _batched(op, x, d)
    in_size = tuple(x.shape[2:])
    out = tuple(n if o is None else o for o, n in zip(_sizes(op, output_size, d, "output_size", True), in_size))
    kernel = tuple(n // o for n, o in zip(in_size, out))
    if all(n % o == 0 for n, o in zip(in_size, out)) and math.prod(kernel) <= _MANY_TAPS:
        result = _max_pool(x, kernel, return_indices=return_indices, d=d, op=op)
    else:  # uneven bins, or so many taps that a gather of each bin's argmax is cheaper
        flat = _adaptive_max_indices(x, out)
        index = M.reshape(flat, tuple(flat.shape[:2]) + (-1,))
        planes = M.reshape(x, tuple(x.shape[:2]) + (-1,))
        values = M.reshape(M.gather(planes, 2, index), tuple(x.shape[:2]) + out)
        result = (values, flat) if return_indices else values
    if return_indices:
        return _unbatched(result[0], flag), _unbatched(result[1], flag)
    return _unbatched(result, flag)


def max_unpool(x, indices, kernel_size, stride=None, padding=0, output_size=None, *, d: int, op: str):
    """Put each value back at its ``indices`` position in a zero plane (inverse of max pooling)."""
    from ..tensor import as_tensor

    x, flag = _batched(op, x, d)
    indices = as_tensor(indices)
    if flag:
        indices = M.reshape(indices, (1,) + tuple(indices.shape))
    if indices.shape != x.shape:
        raise ArgumentError(f"{op}: indices shape {tuple(indices.shape)} must equal the input shape {tuple(x.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got {indices.dtype}")
    kernel = _sizes(op, kernel_size, d, "kernel_size")
    strides = kernel if stride is None else _sizes(op, stride, d, "stride")
    pads = (padding,) * d if isinstance(padding, int) else tuple(padding)
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], strides, pads, kernel))
    else:
        size = tuple(output_size)[-d:]
        if len(size) != d:
            raise ArgumentError(f"{op}: output_size must give {d} spatial sizes, got {output_size!r}")
    plane = math.prod(size)
    n, c = x.shape[:2]
    flat = M.reshape(indices, (n, c, -1))  # an op, so that ember.compile re-reads the indices
    if flat.numel() and (int(flat._data.min()) < 0 or int(flat._data.max()) >= plane):
        raise ArgumentError(f"{op}: indices must lie in [0, {plane}) for output size {size}, "
                         f"got values in [{int(flat._data.min())}, {int(flat._data.max())}]")
    xp = array_module(flat._data)
    rows = (xp.arange(n).reshape(n, 1, 1), xp.arange(c).reshape(1, c, 1), flat._data)
    zeros = x.new_zeros((n, c, plane))
    out = M.setitem(zeros, rows, M.reshape(x, (n, c, -1)))
    return _unbatched(M.reshape(out, (n, c) + size), flag)


def _global_pool_input(op: str, x) -> Tensor:
    """A float ``(N, C, *spatial)`` tensor, or a ValueError naming ``op`` and the shape."""
    from ..ops.checks import float_operand

    x = float_operand(op, x)
    if x.ndim < 3:
        raise ArgumentError(f"{op}: expected (N, C, *spatial), got shape {tuple(x.shape)}")
    return x


def global_avg_pool(x: Tensor, keepdim: bool = False) -> Tensor:
    """The mean over every spatial position: ``(N, C, *S)`` -> ``(N, C)`` (Keras' global pooling).

    Args:
        x: ``(N, C, *spatial)`` with at least one spatial dimension.
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.global_avg_pool(ember.ones(2, 3, 4, 4)).shape
        (2, 3)
    """
    x = _global_pool_input("global_avg_pool", x)
    return R.mean(x, axis=tuple(range(2, x.ndim)), keepdims=keepdim)


def global_max_pool(x: Tensor, keepdim: bool = False) -> Tensor:
    """The maximum over every spatial position (gradient to the first maximum, like max pooling).

    Args:
        x: ``(N, C, *spatial)`` with at least one spatial dimension.
        keepdim: keep the spatial dimensions with size 1.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.global_max_pool(ember.ones(2, 3, 4, 4)).shape
        (2, 3)
    """
    x = _global_pool_input("global_max_pool", x)
    d = x.ndim - 2
    out = adaptive_max_pool(x, (1,) * d, d=d, op="global_max_pool")
    return out if keepdim else M.reshape(out, tuple(x.shape[:2]))


def _integer_preserving_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                                 *, d: int, op: str):
    """Max pooling that keeps an integer input's dtype, as PyTorch does.

    A maximum selects one of its inputs, so pooling integers in float64 (exact up to
    2**53) and casting back gives the integers PyTorch gives.
    """
    x = as_tensor(input)
    if x.dtype.kind not in "iu":
        return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d=d, op=op)
    result = _max_pool(x.astype("float64"), kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       d=d, op=op)
    if return_indices:
        return result[0].astype(x.dtype), result[1]
    return result.astype(x.dtype)


# ------------------------------------------------------------------ the 1-D/2-D/3-D names
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of ``(N, C, L)`` (padding counts as -inf).

    Args:
        input: ``(N, C, L)`` or unbatched ``(C, L)``.
        kernel_size: window size, an int or 1 ints.
        stride: window step (default: ``kernel_size``).
        padding: implicit -inf on both sides, at most half the kernel.
        dilation: spacing between window taps.
        ceil_mode: round the output size up (a partial last window counts).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.max_pool1d(ember.ones(1, 2, 8), 2).shape
        (1, 2, 4)
    """
    return _integer_preserving_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                                        d=1, op="max_pool1d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """1-D average pooling of ``(N, C, L)``.

    Args:
        input: ``(N, C, L)`` or unbatched ``(C, L)``.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        padding: implicit zeros on both sides, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor (default True).
        divisor_override: divide by this number instead.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.avg_pool1d(ember.ones(1, 2, 8), 2).shape
        (1, 2, 4)
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     d=1, op="avg_pool1d")


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """1-D power-average pooling: ``(sum of x**p over each window) ** (1/p)``.

    ``p = 1`` is sum pooling, ``p -> inf`` max pooling. Follows PyTorch's formula
    (no padding; negative window sums give NaN for fractional ``1/p``).

    Args:
        input: ``(N, C, L)`` or unbatched.
        norm_type: the power ``p`` (positive).
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        ceil_mode: round the output size up.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lp_pool1d(ember.ones(1, 2, 8), 2, 2).shape
        (1, 2, 4)
    """
    return lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d=1, op="lp_pool1d")


def lse_pool1d(input, kernel_size, stride=None, beta=1.0) -> Tensor:
    """1-D log-sum-exp pooling: ``(1/beta) * log(mean of exp(beta * x) over each window)``.

    A smooth maximum: ``beta -> 0`` gives average pooling, large ``beta`` max
    pooling; computed with the max-shift so large inputs do not overflow.

    Args:
        input: ``(N, C, L)`` or unbatched.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        beta: sharpness (positive).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lse_pool1d(ember.ones(1, 2, 8), 2).shape
        (1, 2, 4)
    """
    return lse_pool(input, kernel_size, stride, beta, d=1, op="lse_pool1d")


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """1-D average pooling to a fixed output size, whatever the input size.

    Bins follow PyTorch (``start = floor(i * L / out)``, ``end = ceil((i + 1) * L / out)``).

    Args:
        input: ``(N, C, L)`` or unbatched.
        output_size: an int or 1 values (None keeps that dimension).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_avg_pool1d(ember.ones(1, 2, 8), 3).shape
        (1, 2, 3)
    """
    return adaptive_avg_pool(input, output_size, d=1, op="adaptive_avg_pool1d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D max pooling to a fixed output size.

    Args:
        input: ``(N, C, L)`` or unbatched.
        output_size: an int or 1 values (None keeps that dimension).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_max_pool1d(ember.ones(1, 2, 8), 3).shape
        (1, 2, 3)
    """
    return adaptive_max_pool(input, output_size, return_indices, d=1, op="adaptive_max_pool1d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """1-D partial inverse of max pooling: values return to their ``indices``, zeros elsewhere.

    Args:
        input: pooled values ``(N, C, L)``.
        indices: from ``max_pool1d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the pooling (they give the default size).
        output_size: the size to restore (needed when pooling floored an odd size).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> y, i = F.max_pool1d(ember.ones(1, 2, 8), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2).shape
        (1, 2, 8)
    """
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, d=1, op="max_unpool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling of ``(N, C, H, W)`` (padding counts as -inf).

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size, an int or 2 ints.
        stride: window step (default: ``kernel_size``).
        padding: implicit -inf on both sides, at most half the kernel.
        dilation: spacing between window taps.
        ceil_mode: round the output size up (a partial last window counts).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.max_pool2d(ember.ones(1, 2, 8, 8), 2).shape
        (1, 2, 4, 4)
    """
    return _integer_preserving_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                                        d=2, op="max_pool2d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """2-D average pooling of ``(N, C, H, W)``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        padding: implicit zeros on both sides, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor (default True).
        divisor_override: divide by this number instead.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.avg_pool2d(ember.ones(1, 2, 8, 8), 2).shape
        (1, 2, 4, 4)
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     d=2, op="avg_pool2d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """2-D power-average pooling: ``(sum of x**p over each window) ** (1/p)``.

    ``p = 1`` is sum pooling, ``p -> inf`` max pooling. Follows PyTorch's formula
    (no padding; negative window sums give NaN for fractional ``1/p``).

    Args:
        input: ``(N, C, H, W)`` or unbatched.
        norm_type: the power ``p`` (positive).
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        ceil_mode: round the output size up.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lp_pool2d(ember.ones(1, 2, 8, 8), 2, 2).shape
        (1, 2, 4, 4)
    """
    return lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d=2, op="lp_pool2d")


def lse_pool2d(input, kernel_size, stride=None, beta=1.0) -> Tensor:
    """2-D log-sum-exp pooling: ``(1/beta) * log(mean of exp(beta * x) over each window)``.

    A smooth maximum: ``beta -> 0`` gives average pooling, large ``beta`` max
    pooling; computed with the max-shift so large inputs do not overflow.

    Args:
        input: ``(N, C, H, W)`` or unbatched.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        beta: sharpness (positive).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lse_pool2d(ember.ones(1, 2, 8, 8), 2).shape
        (1, 2, 4, 4)
    """
    return lse_pool(input, kernel_size, stride, beta, d=2, op="lse_pool2d")


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """2-D average pooling to a fixed output size, whatever the input size.

    Bins follow PyTorch (``start = floor(i * L / out)``, ``end = ceil((i + 1) * L / out)``).

    Args:
        input: ``(N, C, H, W)`` or unbatched.
        output_size: an int or 2 values (None keeps that dimension).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_avg_pool2d(ember.ones(1, 2, 8, 8), 3).shape
        (1, 2, 3, 3)
    """
    return adaptive_avg_pool(input, output_size, d=2, op="adaptive_avg_pool2d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D max pooling to a fixed output size.

    Args:
        input: ``(N, C, H, W)`` or unbatched.
        output_size: an int or 2 values (None keeps that dimension).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_max_pool2d(ember.ones(1, 2, 8, 8), 3).shape
        (1, 2, 3, 3)
    """
    return adaptive_max_pool(input, output_size, return_indices, d=2, op="adaptive_max_pool2d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """2-D partial inverse of max pooling: values return to their ``indices``, zeros elsewhere.

    Args:
        input: pooled values ``(N, C, H, W)``.
        indices: from ``max_pool2d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the pooling (they give the default size).
        output_size: the size to restore (needed when pooling floored an odd size).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> y, i = F.max_pool2d(ember.ones(1, 2, 8, 8), 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2).shape
        (1, 2, 8, 8)
    """
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, d=2, op="max_unpool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling of ``(N, C, D, H, W)`` (padding counts as -inf).

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``.
        kernel_size: window size, an int or 3 ints.
        stride: window step (default: ``kernel_size``).
        padding: implicit -inf on both sides, at most half the kernel.
        dilation: spacing between window taps.
        ceil_mode: round the output size up (a partial last window counts).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.max_pool3d(ember.ones(1, 2, 8, 8, 8), 2).shape
        (1, 2, 4, 4, 4)
    """
    return _integer_preserving_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                                        d=3, op="max_pool3d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """3-D average pooling of ``(N, C, D, H, W)``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        padding: implicit zeros on both sides, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor (default True).
        divisor_override: divide by this number instead.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.avg_pool3d(ember.ones(1, 2, 8, 8, 8), 2).shape
        (1, 2, 4, 4, 4)
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     d=3, op="avg_pool3d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """3-D power-average pooling: ``(sum of x**p over each window) ** (1/p)``.

    ``p = 1`` is sum pooling, ``p -> inf`` max pooling. Follows PyTorch's formula
    (no padding; negative window sums give NaN for fractional ``1/p``).

    Args:
        input: ``(N, C, D, H, W)`` or unbatched.
        norm_type: the power ``p`` (positive).
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        ceil_mode: round the output size up.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lp_pool3d(ember.ones(1, 2, 8, 8, 8), 2, 2).shape
        (1, 2, 4, 4, 4)
    """
    return lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d=3, op="lp_pool3d")


def lse_pool3d(input, kernel_size, stride=None, beta=1.0) -> Tensor:
    """3-D log-sum-exp pooling: ``(1/beta) * log(mean of exp(beta * x) over each window)``.

    A smooth maximum: ``beta -> 0`` gives average pooling, large ``beta`` max
    pooling; computed with the max-shift so large inputs do not overflow.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        beta: sharpness (positive).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.lse_pool3d(ember.ones(1, 2, 8, 8, 8), 2).shape
        (1, 2, 4, 4, 4)
    """
    return lse_pool(input, kernel_size, stride, beta, d=3, op="lse_pool3d")


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """3-D average pooling to a fixed output size, whatever the input size.

    Bins follow PyTorch (``start = floor(i * L / out)``, ``end = ceil((i + 1) * L / out)``).

    Args:
        input: ``(N, C, D, H, W)`` or unbatched.
        output_size: an int or 3 values (None keeps that dimension).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_avg_pool3d(ember.ones(1, 2, 8, 8, 8), 3).shape
        (1, 2, 3, 3, 3)
    """
    return adaptive_avg_pool(input, output_size, d=3, op="adaptive_avg_pool3d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D max pooling to a fixed output size.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched.
        output_size: an int or 3 values (None keeps that dimension).
        return_indices: also return the flat index of each maximum in its plane.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.adaptive_max_pool3d(ember.ones(1, 2, 8, 8, 8), 3).shape
        (1, 2, 3, 3, 3)
    """
    return adaptive_max_pool(input, output_size, return_indices, d=3, op="adaptive_max_pool3d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """3-D partial inverse of max pooling: values return to their ``indices``, zeros elsewhere.

    Args:
        input: pooled values ``(N, C, D, H, W)``.
        indices: from ``max_pool3d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the pooling (they give the default size).
        output_size: the size to restore (needed when pooling floored an odd size).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> y, i = F.max_pool3d(ember.ones(1, 2, 8, 8, 8), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).shape
        (1, 2, 8, 8, 8)
    """
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, d=3, op="max_unpool3d")
