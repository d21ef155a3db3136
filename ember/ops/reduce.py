"""Reductions: sum, max, min, prod, cumsum as primitives; mean, var, std, logsumexp composed.

``max`` and ``min`` split the gradient evenly among tied extrema (the subgradient
that keeps ``max(x) == max(x, x)`` consistent), as the core issue asks.
"""
from __future__ import annotations

import builtins

from ..autograd.function import Function, LinearFunction, apply
from ..backend import array_module
from .checks import float_operand, to_tensor
from .movement import broadcast_to, flip, reshape, _axis


def _axes(op, axis, ndim):
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(sorted({_axis(op, a, ndim) for a in items}))
    if len(axes) != len(items):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return axes


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, ctx):
    """Broadcast a reduced gradient back to the input's shape."""
    shape = ctx.in_meta[0][0]
    axes = ctx.params["axis"]
    if not ctx.params["keepdims"]:
        g = reshape(g, _keep_shape(shape, axes))
    return broadcast_to(g, shape)


class Sum(LinearFunction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        return _expand_back(g, ctx)

class _Extremum(Function):
    save_inputs = (0,)
    save_output = True

    @staticmethod
    def share(ctx, x, out):
        """Weights that spread a unit gradient evenly over the tied extrema."""
        p = ctx.params
        if not p["keepdims"]:
            out = reshape(out, _keep_shape(x.shape, p["axis"]))
        hit = (x == out).astype(x.dtype)
        return hit / hit.sum(axis=p["axis"], keepdims=True)

    @classmethod
    def vjp(cls, ctx, g):
        (x,) = ctx.saved
        weights = cls.share(ctx, x, ctx.out.detach())
        return _expand_back(g, ctx) * weights

    @classmethod
    def jvp(cls, ctx, t):
        (x,) = ctx.inputs
        weights = cls.share(ctx, x, ctx.out.detach())
        return (t * weights).sum(axis=ctx.params["axis"], keepdims=ctx.params["keepdims"])


class Max(_Extremum):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)


class Min(_Extremum):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)


class Prod(Function):
    """Product; the gradient stays exact when inputs contain zeros."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def others(x, axis):
        # d prod / d x_i = product of the other entries. Dividing out/x fails at
        # zeros, so count them: none -> prod/x; exactly one -> at the zero, the
        # product of the non-zeros; two or more -> zero everywhere.
        from .elementwise import where

        is_zero = x == 0
        nonzero = where(is_zero, 1.0, x)
        prod_nonzero = prod(nonzero, axis=axis, keepdims=True)
        zeros = is_zero.astype(x.dtype).sum(axis=axis, keepdims=True)
        return where(zeros == 0, prod_nonzero / nonzero,
                     where((zeros == 1) & is_zero, prod_nonzero, 0.0))

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        return _expand_back(g, ctx) * Prod.others(x, ctx.params["axis"])

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        p = ctx.params
        return (t * Prod.others(x, p["axis"])).sum(axis=p["axis"], keepdims=p["keepdims"])


class Cumsum(LinearFunction):
    @staticmethod
    def forward(ctx, x, axis):
        return x.cumsum(axis=axis)

    @staticmethod
    def vjp(ctx, g):
        axis = ctx.params["axis"]
        return flip(cumsum(flip(g, axis), axis), axis)

class ArgExtremum(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, keepdims, op):
        xp = array_module(x)
        out = getattr(xp, op)(x, axis=axis)
        if keepdims:
            out = xp.expand_dims(out, axis) if axis is not None else out.reshape((1,) * x.ndim)
        return out


# ------------------------------------------------------------------ public functions
def _reduce(fn, x, axis, keepdims):
    x = to_tensor(x)
    axes = _axes(fn.name, axis, x.ndim)
    if fn in (Max, Min) and x.size == 0:
        raise ValueError(f"{fn.name}: cannot reduce an empty tensor of shape {x.shape}")
    for a in axes:
        if fn in (Max, Min) and x.shape[a] == 0:
            raise ValueError(f"{fn.name}: cannot reduce empty dimension {a} of shape {x.shape}")
    return apply(fn, (x,), {"axis": axes, "keepdims": bool(keepdims)})


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001 - mirrors numpy
    """Sum over ``axis`` (an int, a tuple, or None for all)."""
    return _reduce(Sum, x, axis, keepdims)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient."""
    return _reduce(Max, x, axis, keepdims)


def min(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient."""
    return _reduce(Min, x, axis, keepdims)


def prod(x, axis=None, keepdims: bool = False):
    """Product over ``axis``."""
    return _reduce(Prod, x, axis, keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Arithmetic mean over ``axis`` (integers are averaged in the default float dtype)."""
    x = float_operand("mean", x)
    axes = _axes("mean", axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return sum(x, axes, keepdims) / count if count else sum(x, axes, keepdims) * float("nan")


def var(x, axis=None, keepdims: bool = False, correction: int = 1):
    """Variance over ``axis``; ``correction=1`` (the default, as in PyTorch) is unbiased."""
    x = float_operand("var", x)
    axes = _axes("var", axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) / builtins.max(count - correction, 0)


def std(x, axis=None, keepdims: bool = False, correction: int = 1):
    """Standard deviation over ``axis`` (``correction=1``: unbiased, as in PyTorch)."""
    return var(x, axis, keepdims, correction).sqrt()


def logsumexp(x, axis=None, keepdims: bool = False):
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    Rows that are entirely ``-inf`` give ``-inf`` (not NaN).
    """
    from .checks import float_operand
    from .elementwise import where

    x = float_operand("logsumexp", x)
    axes = _axes("logsumexp", axis, x.ndim)
    # The shift is a constant for differentiation; a non-finite one (an all -inf
    # row) is replaced by 0 so that the row yields log(0) = -inf rather than NaN.
    shift = max(x.detach(), axes, keepdims=True)
    shift = where(shift.isfinite(), shift, 0.0)
    out = (x - shift).exp().sum(axis=axes, keepdims=True).log() + shift
    return out if keepdims else reshape(out, tuple(s for i, s in enumerate(out.shape) if i not in axes))


def cumsum(x, axis: int):
    """Cumulative sum along ``axis``."""
    x = to_tensor(x)
    return apply(Cumsum, (x,), {"axis": _axis("cumsum", axis, x.ndim)})


def argmax(x, axis=None, keepdims: bool = False):
    """Index of the maximum (first one on ties); over the flattened tensor when ``axis`` is None."""
    return _arg(x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims: bool = False):
    """Index of the minimum (first one on ties)."""
    return _arg(x, axis, keepdims, "argmin")


def _arg(x, axis, keepdims, op):
    x = to_tensor(x)
    if x.size == 0:
        raise ValueError(f"{op}: empty tensor of shape {x.shape}")
    if axis is not None:
        axis = _axis(op, axis, x.ndim)
    return apply(ArgExtremum, (x,), {"axis": axis, "keepdims": keepdims, "op": op})
