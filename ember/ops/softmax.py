"""Softmax and log-softmax along one axis, and their backward passes, as primitives.

Both are one pass with the max-shift, exact at logits of magnitude 1e4, with a
defined answer for rows that are entirely ``-inf`` (see :func:`log_softmax`).
Composing them from ``exp``/``sum``/``log`` would record five nodes and overflow
without the shift. The array math (NumPy reference and numba rows) lives in
:mod:`ember.kernels.softmax`.

Each backward is a primitive of its own (:class:`SoftmaxBackward`,
:class:`LogSoftmaxBackward`): its forward is one kernel, its vjp is written with
Ember ops, so the first-order backward is fast and gradients of every order come
from the same rule.
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..kernels import softmax as softmax_kernels
from .checks import float_operand
from .elementwise import exp
from .reduce import sum as reduce_sum


class LogSoftmax(Function):
    name = "log_softmax"
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return softmax_kernels.log_softmax(x, axis)

    @staticmethod
    def vjp(ctx, g):
        return apply(LogSoftmaxBackward, (g, ctx.out), ctx.params)

    @staticmethod
    def jvp(ctx, t):
        axis = ctx.params["axis"]
        return t - reduce_sum(exp(ctx.out) * t, axis, keepdims=True)


class LogSoftmaxBackward(Function):
    """``g - exp(out) * sum(g)`` along ``axis``: log-softmax's vjp from its output ``out``."""

    name = "log_softmax_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, out, axis):
        return softmax_kernels.log_softmax_backward(g, out, axis)

    @staticmethod
    def vjp(ctx, u):
        g, out = ctx.saved
        axis = ctx.params["axis"]
        p = exp(out)
        return (u - reduce_sum(u * p, axis, keepdims=True),
                u * p * -reduce_sum(g, axis, keepdims=True))

    @staticmethod
    def jvp(ctx, tg, tout):
        g, out = ctx.inputs
        axis = ctx.params["axis"]
        result = None if tg is None else apply(LogSoftmaxBackward, (tg, out), ctx.params)
        if tout is not None:
            term = exp(out) * tout * -reduce_sum(g, axis, keepdims=True)
            result = term if result is None else result + term
        return result


class Softmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return softmax_kernels.softmax(x, axis)

    @staticmethod
    def vjp(ctx, g):
        return apply(SoftmaxBackward, (g, ctx.out), ctx.params)

    @staticmethod
    def jvp(ctx, t):
        return apply(SoftmaxBackward, (t, ctx.out), ctx.params)


class SoftmaxBackward(Function):
    """``y * (g - sum(g * y))`` along ``axis``: softmax's vjp (and jvp) from its output ``y``."""

    name = "softmax_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, y, axis):
        return softmax_kernels.softmax_backward(g, y, axis)

    @staticmethod
    def vjp(ctx, u):
        g, y = ctx.saved
        axis = ctx.params["axis"]
        # The map is symmetric in g: its vjp in g is itself.
        grad_y = u * (g - reduce_sum(g * y, axis, keepdims=True)) - g * reduce_sum(u * y, axis, keepdims=True)
        return apply(SoftmaxBackward, (u, y), ctx.params), grad_y

    @staticmethod
    def jvp(ctx, tg, ty):
        g, y = ctx.inputs
        axis = ctx.params["axis"]
        result = None if tg is None else apply(SoftmaxBackward, (tg, y), ctx.params)
        if ty is not None:
            term = ty * (g - reduce_sum(g * y, axis, keepdims=True)) - y * reduce_sum(g * ty, axis, keepdims=True)
            result = term if result is None else result + term
        return result


def _softmax_axis(op, x, axis):
    from .movement import _axis

    x = float_operand(op, x)
    return x, _axis(op, axis, x.ndim)


def log_softmax(x, axis: int = -1):
    """``x - logsumexp(x)`` along ``axis``, computed stably in one primitive.

    Logits of any finite magnitude are exact (the row maximum is subtracted
    first). A row that is entirely ``-inf`` gives ``-inf`` everywhere (no NaN),
    and the gradient passes through it unchanged, as for a constant shift.

    Example:
        >>> import ember
        >>> from ember.ops.softmax import log_softmax
        >>> log_softmax(ember.tensor([1e4, 0.0])).tolist()
        [0.0, -10000.0]
    """
    x, axis = _softmax_axis("log_softmax", x, axis)
    if x.ndim == 0:  # PyTorch treats a scalar as a row of one
        return apply(LogSoftmax, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(LogSoftmax, (x,), {"axis": axis})


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably in one primitive.

    A row that is entirely ``-inf`` (say, a fully masked attention row) gives
    zeros, not NaN, and a zero gradient.

    Example:
        >>> import ember
        >>> from ember.ops.softmax import softmax
        >>> softmax(ember.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x, axis = _softmax_axis("softmax", x, axis)
    if x.ndim == 0:  # PyTorch treats a scalar as a row of one
        return apply(Softmax, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(Softmax, (x,), {"axis": axis})


__all__ = ["log_softmax", "softmax", "LogSoftmax", "LogSoftmaxBackward", "Softmax", "SoftmaxBackward"]
