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

from ..autograd.function import array_rule
from ..backend import array_module, numpy_module
from ..ops import elementwise as E
from ..ops import movement as M
from ..ops import reduce as R
from ..ops.conv import check_rank, make_geometry, unfold_windows
from ..ops.pool import avg_pool as _avg_pool
from ..ops.pool import max_pool as _max_pool
from ..tensor import Tensor, as_tensor
from ..errors import ArgumentError

__all__ = [f"{kind}{d}d" for kind in ("max_pool", "avg_pool", "lp_pool", "lse_pool", "adaptive_avg_pool",
                                      "adaptive_max_pool", "max_unpool") for d in (1, 2, 3)]
__all__ += ["global_avg_pool", "global_max_pool"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


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


def _bins(length: int, size: int):
    """PyTorch's adaptive bins: ``(start, end)`` host arrays for ``size`` outputs."""
    np = numpy_module()
    i = np.arange(size)
    return (i * length) // size, -((-(i + 1) * length) // size)


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
        matrix = Tensor._make(xp.asarray(weights.T, dtype=x.dtype), False, None, 0)
        moved = M.swapaxes(x, 2 + axis, -1)
        x = M.swapaxes(moved @ matrix, 2 + axis, -1)
    return _unbatched(x, flag)


def _adaptive_max_indices(data, out):
    """Per output, the flat index (in its input plane) of the first maximum of its bin."""
    np = numpy_module()
    xp = array_module(data)
    d = len(out)
    in_size = data.shape[2:]
    tables, index = [], []
    for i, (n, o) in enumerate(zip(in_size, out)):
        start, end = _bins(n, o)
        width = int((end - start).max())
        # Short bins repeat their last element: a repeat never changes the first maximum.
        table = xp.asarray(np.minimum(start[:, None] + np.arange(width), end[:, None] - 1))
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = o, width
        tables.append(table)
        index.append(table.reshape(shape))
    windows = data[(Ellipsis,) + tuple(index)]  # (N, C, *out, *widths)
    best = windows.reshape(windows.shape[:2 + d] + (-1,)).argmax(axis=-1)
    taps = xp.unravel_index(best, windows.shape[2 + d:])
    flat = 0
    for i, o in enumerate(out):
        grid = xp.arange(o).reshape((1,) * (2 + i) + (o,) + (1,) * (d - 1 - i))
        flat = flat * in_size[i] + tables[i][grid, taps[i]]
    return flat


def adaptive_max_pool(x, output_size, return_indices=False, *, d: int, op: str):
    """Maximum over PyTorch's adaptive bins (first maximum on ties), with optional indices."""
    x, flag = _batched(op, x, d)
    in_size = tuple(x.shape[2:])
    out = tuple(n if o is None else o for o, n in zip(_sizes(op, output_size, d, "output_size", True), in_size))
    kernel = tuple(n // o for n, o in zip(in_size, out))
    if all(n % o == 0 for n, o in zip(in_size, out)) and math.prod(kernel) <= _MANY_TAPS:
        result = _max_pool(x, kernel, return_indices=return_indices, d=d, op=op)
    else:  # uneven bins, or so many taps that a gather of each bin's argmax is cheaper
        flat = array_rule(_adaptive_max_indices, x, out=out)  # a kernel: ember.compile replays it
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
def _named(fn, name: str, doc: str):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _make(d: int):
    s, ones, halves = _SPATIAL[d], ", 8" * d, ", 4" * d
    example = "    Example:\n        >>> import ember\n        >>> import ember.functional as F\n"

    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 return_indices=False):
        return _integer_preserving_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                                            return_indices, d=d, op=f"max_pool{d}d")

    def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override, d=d, op=f"avg_pool{d}d")

    def lp_pool_nd(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        return lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d=d, op=f"lp_pool{d}d")

    def lse_pool_nd(input, kernel_size, stride=None, beta=1.0):
        return lse_pool(input, kernel_size, stride, beta, d=d, op=f"lse_pool{d}d")

    def adaptive_avg(input, output_size):
        return adaptive_avg_pool(input, output_size, d=d, op=f"adaptive_avg_pool{d}d")

    def adaptive_max(input, output_size, return_indices=False):
        return adaptive_max_pool(input, output_size, return_indices, d=d, op=f"adaptive_max_pool{d}d")

    def unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        return max_unpool(input, indices, kernel_size, stride, padding, output_size, d=d, op=f"max_unpool{d}d")

    return {
        f"max_pool{d}d": _named(max_pool, f"max_pool{d}d", f"""{d}-D max pooling of ``(N, C, {s})`` (padding counts as -inf).

    Args:
        input: ``(N, C, {s})`` or unbatched ``(C, {s})``.
        kernel_size: window size, an int or {d} ints.
        stride: window step (default: ``kernel_size``).
        padding: implicit -inf on both sides, at most half the kernel.
        dilation: spacing between window taps.
        ceil_mode: round the output size up (a partial last window counts).
        return_indices: also return the flat index of each maximum in its plane.

{example}        >>> F.max_pool{d}d(ember.ones(1, 2{ones}), 2).shape
        (1, 2{halves})
    """),
        f"avg_pool{d}d": _named(avg_pool, f"avg_pool{d}d", f"""{d}-D average pooling of ``(N, C, {s})``.

    Args:
        input: ``(N, C, {s})`` or unbatched ``(C, {s})``.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        padding: implicit zeros on both sides, at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padding zeros in the divisor (default True).
        divisor_override: divide by this number instead.

{example}        >>> F.avg_pool{d}d(ember.ones(1, 2{ones}), 2).shape
        (1, 2{halves})
    """),
        f"lp_pool{d}d": _named(lp_pool_nd, f"lp_pool{d}d", f"""{d}-D power-average pooling: ``(sum of x**p over each window) ** (1/p)``.

    ``p = 1`` is sum pooling, ``p -> inf`` max pooling. Follows PyTorch's formula
    (no padding; negative window sums give NaN for fractional ``1/p``).

    Args:
        input: ``(N, C, {s})`` or unbatched.
        norm_type: the power ``p`` (positive).
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        ceil_mode: round the output size up.

{example}        >>> F.lp_pool{d}d(ember.ones(1, 2{ones}), 2, 2).shape
        (1, 2{halves})
    """),
        f"lse_pool{d}d": _named(lse_pool_nd, f"lse_pool{d}d", f"""{d}-D log-sum-exp pooling: ``(1/beta) * log(mean of exp(beta * x) over each window)``.

    A smooth maximum: ``beta -> 0`` gives average pooling, large ``beta`` max
    pooling; computed with the max-shift so large inputs do not overflow.

    Args:
        input: ``(N, C, {s})`` or unbatched.
        kernel_size: window size; stride: window step (default: ``kernel_size``).
        beta: sharpness (positive).

{example}        >>> F.lse_pool{d}d(ember.ones(1, 2{ones}), 2).shape
        (1, 2{halves})
    """),
        f"adaptive_avg_pool{d}d": _named(adaptive_avg, f"adaptive_avg_pool{d}d", f"""{d}-D average pooling to a fixed output size, whatever the input size.

    Bins follow PyTorch (``start = floor(i * L / out)``, ``end = ceil((i + 1) * L / out)``).

    Args:
        input: ``(N, C, {s})`` or unbatched.
        output_size: an int or {d} values (None keeps that dimension).

{example}        >>> F.adaptive_avg_pool{d}d(ember.ones(1, 2{ones}), 3).shape
        (1, 2{', 3' * d})
    """),
        f"adaptive_max_pool{d}d": _named(adaptive_max, f"adaptive_max_pool{d}d", f"""{d}-D max pooling to a fixed output size.

    Args:
        input: ``(N, C, {s})`` or unbatched.
        output_size: an int or {d} values (None keeps that dimension).
        return_indices: also return the flat index of each maximum in its plane.

{example}        >>> F.adaptive_max_pool{d}d(ember.ones(1, 2{ones}), 3).shape
        (1, 2{', 3' * d})
    """),
        f"max_unpool{d}d": _named(unpool, f"max_unpool{d}d", f"""{d}-D partial inverse of max pooling: values return to their ``indices``, zeros elsewhere.

    Args:
        input: pooled values ``(N, C, {s})``.
        indices: from ``max_pool{d}d(..., return_indices=True)``.
        kernel_size, stride, padding: those of the pooling (they give the default size).
        output_size: the size to restore (needed when pooling floored an odd size).

{example}        >>> y, i = F.max_pool{d}d(ember.ones(1, 2{ones}), 2, return_indices=True)
        >>> F.max_unpool{d}d(y, i, 2).shape
        (1, 2{ones})
    """),
    }


for _d in (1, 2, 3):
    globals().update(_make(_d))
del _d
