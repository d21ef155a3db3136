"""``linear``: ``x @ weight.T + bias`` as one primitive, and its backward GEMMs as primitives.

The composed form records a transpose, a matmul and an add, then sums the bias
gradient over the batch and copies the transposed weight gradient into a fresh
buffer; fused, the weight gradient is one GEMM written straight into its own
array. The two backward products are primitives of their own
(:class:`LinearInputBackward`, :class:`LinearWeightBackward`): each forward is
one 2-D GEMM over all leading dimensions, each vjp is written with the three
primitives here, so first-order backward passes run BLAS directly and gradients
of every order come from the same rules.
"""
from __future__ import annotations

import math

from ..autograd.function import Function, apply
from .reduce import Sum


def _rows(a):
    """``a`` as a 2-D ``(rows, last)`` array (a view when it can be)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])   # -1 cannot be inferred when a is empty


class Linear(Function):
    """``x @ weight.T + bias`` with ``weight`` stored as ``(out, in)`` (PyTorch's layout)."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, *bias):
        if x.ndim > 2:
            # One 2-D GEMM over all leading dimensions beats a batched 3-D matmul.
            out = (_rows(x) @ weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = x @ weight.T  # BLAS reads the transposed view directly: no copy
        if bias:
            out += bias[0]
        return out

    @staticmethod
    def vjp(ctx, g):
        x, weight = ctx.saved
        edges = ctx.edges
        gx = apply(LinearInputBackward, (g, weight), {}) if edges[0] is not None else None
        gw = apply(LinearWeightBackward, (g, x), {}) if edges[1] is not None else None
        if len(edges) == 2:
            return gx, gw
        gb = None
        if edges[2] is not None:
            # The Sum primitive itself: the public sum's argument handling costs more than the sum here.
            gb = apply(Sum, (g,), {"axis": tuple(range(g.ndim - 1)), "keepdims": False}) if g.ndim > 1 else g
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, *tb):
        x, weight = ctx.inputs[:2]
        out = None if tx is None else apply(Linear, (tx, weight), {})
        if tw is not None:
            term = apply(Linear, (x, tw), {})
            out = term if out is None else out + term
        if tb and tb[0] is not None:
            out = tb[0] if out is None else out + tb[0]
        return out


class LinearInputBackward(Function):
    """``g @ weight``: the gradient of ``linear``'s input (``g`` is ``(..., out)``, ``weight`` ``(out, in)``)."""

    name = "linear_input_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, weight):
        if g.ndim > 2:  # one 2-D GEMM over the leading dimensions beats a batched matmul
            return (_rows(g) @ weight).reshape(g.shape[:-1] + (weight.shape[-1],))
        return g @ weight

    @staticmethod
    def vjp(ctx, u):
        g, weight = ctx.saved
        return apply(Linear, (u, weight), {}), apply(LinearWeightBackward, (g, u), {})

    @staticmethod
    def jvp(ctx, tg, tw):
        g, weight = ctx.inputs
        out = None if tg is None else apply(LinearInputBackward, (tg, weight), {})
        if tw is not None:
            term = apply(LinearInputBackward, (g, tw), {})
            out = term if out is None else out + term
        return out


class LinearWeightBackward(Function):
    """``g.T @ x`` over all leading dimensions: the gradient of ``linear``'s ``(out, in)`` weight."""

    name = "linear_weight_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, x):
        return _rows(g).T @ _rows(x)

    @staticmethod
    def vjp(ctx, u):
        g, x = ctx.saved
        return apply(Linear, (x, u), {}), apply(LinearInputBackward, (g, u), {})

    @staticmethod
    def jvp(ctx, tg, tx):
        g, x = ctx.inputs
        out = None if tg is None else apply(LinearWeightBackward, (tg, x), {})
        if tx is not None:
            term = apply(LinearWeightBackward, (g, tx), {})
            out = term if out is None else out + term
        return out


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` as one primitive (``weight`` is ``(out_features, in_features)``).

    Shapes are not checked here (see :func:`ember.functional.linear`).

    Example:
        >>> import ember
        >>> from ember.ops.linear import linear
        >>> linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4)).shape
        (2, 4)
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return apply(Linear, inputs, {})


__all__ = ["linear", "Linear", "LinearInputBackward", "LinearWeightBackward"]
