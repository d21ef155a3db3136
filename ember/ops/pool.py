"""Pooling primitives: max pooling as a gather/scatter pair, average pooling as a sum/spread pair.

Max pooling (:class:`MaxPool`) finds, per window, the kernel offset of the
maximum (ties: the first; NaN wins, as in PyTorch) and keeps those offsets for
its rules. Given the offsets, pooling is linear: its jvp is the gather
:class:`MaxPoolGather` and its vjp the scatter :class:`MaxPoolScatter` (each
window's gradient goes back to its maximum, one strided write per kernel offset,
never ``add.at``); the two are each other's adjoints, so higher-order gradients
come for free. Average pooling is the same
story with :class:`AvgPool` (window sums over a divisor) and
:class:`AvgPoolSpread`.

The functions here take N-dimensional input ``(N, C, *spatial)``; ``ember.functional``
builds the 1-D/2-D/3-D forms and the composed pools (Lp, log-sum-exp, adaptive)
on top of them.
"""
from __future__ import annotations

from ..autograd.function import Function, LinearFunction, apply
from ..backend import array_module
from ..kernels import pool as K
from ..kernels.geometry import ConvGeometry
from ..kernels.geometry import prod as _prod
from .conv import as_tuple, check_rank

__all__ = ["max_pool", "avg_pool", "pool_geometry", "adaptive_max_indices"]


# ------------------------------------------------------------------ geometry
def pool_geometry(op: str, in_size, kernel_size, stride, padding, dilation, ceil_mode: bool) -> ConvGeometry:
    """PyTorch's pooling output size, with the extra ``ceil_mode`` padding made explicit.

    Padding may be at most half the kernel size, as in PyTorch. The after-pad
    of each dimension grows so that every ``ceil_mode`` window lies inside the
    padded array.
    """
    d = len(in_size)
    kernel = as_tuple(op, "kernel_size", kernel_size, d)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else as_tuple(op, "stride", stride, d)
    pad = as_tuple(op, "padding", padding, d, minimum=0)
    dilation = as_tuple(op, "dilation", dilation, d)
    pads, out = [], []
    for n, k, s, p, dil in zip(in_size, kernel, stride, pad, dilation):
        extent = dil * (k - 1) + 1
        if p > k / 2:
            raise ValueError(f"{op}: padding {pad} must be at most half of the kernel size {kernel}")
        size = (n + 2 * p - extent + ((s - 1) if ceil_mode else 0)) // s + 1
        if ceil_mode and (size - 1) * s >= n + p:
            size -= 1  # the last window would start in the right padding
        if size < 1:
            raise ValueError(
                f"{op}: kernel size {kernel} (dilation {dilation}) is larger than the padded input: "
                f"input spatial size {tuple(in_size)}, padding {pad}, output size would be {size}"
            )
        needed = (size - 1) * s + extent
        pads.append((p, max(p, needed - n - p)))
        out.append(size)
    return ConvGeometry(tuple(in_size), kernel, stride, dilation, tuple(pads), 1, tuple(out))


# ------------------------------------------------------------------ max pooling
class MaxPool(Function):
    """Window maxima; the winning offsets go to ``ctx.stash`` for the rules (param ``geom``).

    The search itself is not differentiated: given the winners, max pooling is the
    linear :class:`MaxPoolGather`, whose adjoint :class:`MaxPoolScatter` is the vjp.
    """

    name = "max_pool"

    @staticmethod
    def forward(ctx, x, geom):
        values, arg = K.max_pool(x, geom)
        if ctx is not None:
            ctx.stash = arg
        return values

    @staticmethod
    def vjp(ctx, g):
        return apply(MaxPoolScatter, (g,), {"geom": ctx.params["geom"], "arg": ctx.stash})

    @staticmethod
    def jvp(ctx, t):
        return apply(MaxPoolGather, (t,), {"geom": ctx.params["geom"], "arg": ctx.stash})


class MaxPoolGather(LinearFunction):
    """Pick from ``x`` the elements at the winning offsets ``arg`` (params ``geom``, ``arg``)."""

    name = "max_pool_gather"

    @staticmethod
    def forward(ctx, x, geom, arg):
        return K.max_pool_gather(x, arg, geom)

    @staticmethod
    def vjp(ctx, g):
        return apply(MaxPoolScatter, (g,), ctx.params)


class MaxPoolScatter(LinearFunction):
    """Route each window's gradient to its maximum: the adjoint of :class:`MaxPoolGather`."""

    name = "max_pool_backward"

    @staticmethod
    def forward(ctx, g, geom, arg):
        return K.max_pool_scatter(g, arg, geom)

    @staticmethod
    def vjp(ctx, v):
        return apply(MaxPoolGather, (v,), ctx.params)


class MaxPoolIndices(Function):
    """Flat indices of the window maxima in each input plane (``return_indices``)."""

    name = "max_pool_indices"
    differentiable = False

    @staticmethod
    def forward(ctx, x, geom):
        return K.max_pool_indices(K.max_pool(x, geom)[1], geom)


class AdaptiveMaxIndices(Function):
    """Flat indices of the first maximum of each of PyTorch's adaptive bins (uneven bins)."""

    name = "adaptive_max_indices"
    differentiable = False

    @staticmethod
    def forward(ctx, x, out):
        return K.adaptive_max_indices(x, out)


def adaptive_max_indices(x, out: tuple):
    """The flat index, in its ``(N, C)`` plane, of each adaptive bin's first maximum (a primitive,
    so that ``ember.compile`` replays it)."""
    return apply(AdaptiveMaxIndices, (x,), {"out": tuple(out)})


def _prepare(op, x, d):
    from .checks import float_operand
    from .movement import reshape

    x = float_operand(op, x)
    unbatched = check_rank(op, x, d)
    if unbatched:
        x = reshape(x, (1,) + tuple(x.shape))
    return x, unbatched


def _finish(y, unbatched):
    from .movement import reshape

    return reshape(y, tuple(y.shape[1:])) if unbatched else y


def max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
             return_indices: bool = False, *, d: int, op: str = "max_pool"):
    """N-dimensional max pooling over the last ``d`` axes (padding counts as -inf).

    Args:
        x: ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``.
        kernel_size, stride (default: ``kernel_size``), padding, dilation: an int or
            one per spatial dimension.
        ceil_mode: round the output size up, so a partial window at the end counts.
        return_indices: also return, per output, the flat index of the maximum in its
            input plane (what :func:`ember.functional.max_unpool2d` takes).
        d: the number of spatial dimensions.

    Example:
        >>> import ember
        >>> from ember.ops.pool import max_pool
        >>> max_pool(ember.arange(16.0).reshape(1, 1, 4, 4), 2, d=2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    x, unbatched = _prepare(op, x, d)
    geom = pool_geometry(op, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    y = _finish(apply(MaxPool, (x,), {"geom": geom}), unbatched)
    if not return_indices:
        return y
    # A second search (only when indices are asked for) keeps max_pool one primitive.
    return y, _finish(apply(MaxPoolIndices, (x,), {"geom": geom}), unbatched)


# ------------------------------------------------------------------ average pooling
class AvgPool(LinearFunction):
    """Window sums divided by ``divisor`` (a number or an array over the output positions)."""

    name = "avg_pool"

    @staticmethod
    def forward(ctx, x, geom, divisor):
        out = K.window_sum(x, geom)
        out /= divisor
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(AvgPoolSpread, (g,), ctx.params)


class AvgPoolSpread(LinearFunction):
    """The adjoint of :class:`AvgPool`: each input receives its windows' values over their divisors."""

    name = "avg_pool_backward"

    @staticmethod
    def forward(ctx, g, geom, divisor):
        return K.window_spread(g / divisor, geom)

    @staticmethod
    def vjp(ctx, v):
        return apply(AvgPool, (v,), ctx.params)


def _divisor(geom: ConvGeometry, count_include_pad: bool, divisor_override, xp, dtype):
    """Per output position, the number PyTorch divides the window sum by.

    Window sizes are products of per-dimension counts, so the divisor is an outer
    product of small vectors (or a plain number when every window is full).
    """
    if divisor_override is not None:
        return float(divisor_override)
    counts = []
    for n, k, s, (p, _), o in zip(geom.in_size, geom.kernel, geom.stride, geom.pads, geom.out_size):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if not count_include_pad:
            end = xp.minimum(end, n)
            start = xp.maximum(start, 0)
        counts.append(end - start)
    if all(bool((c == c[0]).all()) for c in counts):
        return float(_prod(int(c[0]) for c in counts))
    divisor = xp.ones((1, 1) + geom.out_size, dtype=dtype)
    for i, c in enumerate(counts):
        shape = [1] * divisor.ndim
        shape[2 + i] = -1
        divisor = divisor * c.reshape(shape).astype(dtype)
    return divisor


def avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
             count_include_pad: bool = True, divisor_override=None, *, d: int, op: str = "avg_pool"):
    """N-dimensional average pooling over the last ``d`` axes (PyTorch's divisor rules).

    Args:
        x: ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``.
        kernel_size, stride (default: ``kernel_size``), padding: an int or one per dimension.
        ceil_mode: round the output size up (partial windows at the end count).
        count_include_pad: divide by the window size including zero padding (default)
            rather than by the number of real inputs in the window.
        divisor_override: divide every window sum by this number instead.
        d: the number of spatial dimensions.

    Example:
        >>> import ember
        >>> from ember.ops.pool import avg_pool
        >>> avg_pool(ember.ones(1, 1, 4, 4), 2, d=2).shape
        (1, 1, 2, 2)
    """
    x, unbatched = _prepare(op, x, d)
    geom = pool_geometry(op, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must not be zero")
    xp = array_module(x._data)
    divisor = _divisor(geom, count_include_pad, divisor_override, xp, x.dtype)
    return _finish(apply(AvgPool, (x,), {"geom": geom, "divisor": divisor}), unbatched)
