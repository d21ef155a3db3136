"""``normalize``: ``(x - mean) / sqrt(var + eps) * weight + bias``, the core of batch, layer
and group norm, as one primitive whose composed backward would make ten passes.

The array math is in :mod:`ember.kernels.normalization` (NumPy references, numba rows for
layer norm's trailing axes). The backward is built from two primitives of its own, so that the first-order
pass runs a few array operations in place and gradients of every order come
from the same rules:

* :class:`NormalizeStatistics` hands the forward's saved ``xhat`` and ``1/std``
  on as tensors that are differentiable functions of ``x`` (its forward returns
  the saved arrays, its vjp is the derivative of standardisation);
* :class:`NormalizeBackward` is the vjp map ``invstd * (v - mean(v) - xhat *
  mean(v * xhat))`` (one kernel forward, a vjp written with Ember ops).
"""
from __future__ import annotations

import math

from ..autograd.function import Function, apply
from ..kernels import normalization as kernels
from .checks import float_operand
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum


class Normalize(Function):
    """``(x - mean) * invstd * weight + bias`` with the biased statistics of ``x`` over ``axes``.

    ``weight`` and ``bias`` are optional extra inputs (``affine`` names which are
    present), already shaped to broadcast against ``x``. Folding them in saves two
    nodes and two passes over the activations in each direction.
    """

    save_inputs = "all"

    @staticmethod
    def forward(ctx, x, *params, axes, eps, stats, affine):
        weight, bias = _affine_inputs(params, affine)
        out, xhat, invstd = kernels.normalize(x, axes, eps, stats, weight, bias, need_xhat=ctx is not None)
        if ctx is not None:
            ctx.stash = (xhat, invstd)
        return out

    @staticmethod
    def vjp(ctx, g):
        from ..tensor import constant

        p = ctx.params
        x, (weight, bias) = ctx.saved[0], _affine_inputs(ctx.saved[1:], p["affine"])
        saved_xhat, saved_invstd = ctx.stash
        xhat, invstd = apply(NormalizeStatistics, (x, constant(saved_xhat), constant(saved_invstd)),
                             {"axes": p["axes"]})
        gx = None
        if ctx.edges[0] is not None:
            gxhat = g * weight if weight is not None else g
            gx = apply(NormalizeBackward, (gxhat, xhat, invstd), {"axes": p["axes"]})
        grads = [gx]
        if weight is not None:
            grads.append(g * xhat if ctx.edges[len(grads)] is not None else None)
        if bias is not None:
            grads.append(g if ctx.edges[len(grads)] is not None else None)
        return tuple(grads) if len(grads) > 1 else grads[0]

    @staticmethod
    def jvp(ctx, tx, *tparams):
        p = ctx.params
        x, (weight, _) = ctx.inputs[0], _affine_inputs(ctx.inputs[1:], p["affine"])
        tweight, tbias = _affine_inputs(tparams, p["affine"])
        xhat = _plain_normalize(x, p)
        out = None
        if tx is not None:
            out = _normalize_map(tx, xhat, _invstd_of(x, p), p["axes"])
            if weight is not None:
                out = out * weight
        for term in (None if tweight is None else xhat * tweight, tbias):
            if term is not None:
                out = term if out is None else out + term
        return out


class NormalizeStatistics(Function):
    """``(xhat, invstd)`` of ``x`` over ``axes``, handed on from arrays the forward pass saved.

    Inputs ``(x, xhat, invstd)``: the last two are constants holding the values;
    the outputs are them, as functions of ``x``: ``xhat = (x - mean) * invstd`` and
    ``invstd = (var + eps) ** -0.5``, whose derivatives the vjp writes out.
    """

    name = "normalize_statistics"
    n_outputs = 2
    save_output = True

    @staticmethod
    def forward(ctx, x, xhat, invstd, axes):
        return xhat, invstd

    @staticmethod
    def vjp(ctx, g_xhat, g_invstd):
        xhat, invstd = ctx.output(0), ctx.output(1)
        axes = ctx.params["axes"]
        shape = ctx.in_meta[0][0]
        count = math.prod(shape[a] for a in axes)
        # d invstd / dx = -invstd**3 * (x - mean) / n = -invstd**2 * xhat / n
        gx = apply(NormalizeBackward, (g_xhat, xhat, invstd), {"axes": axes})
        gx = gx - g_invstd * invstd * invstd * xhat * (1.0 / count)
        return gx, None, None

    @staticmethod
    def jvp(ctx, tx, *constants):
        xhat, invstd = ctx.output(0), ctx.output(1)
        axes = ctx.params["axes"]
        if tx is None:
            return None, None
        return (apply(NormalizeBackward, (tx, xhat, invstd), {"axes": axes}),
                -(invstd * invstd) * reduce_mean(xhat * tx, axes, keepdims=True))


class NormalizeBackward(Function):
    """``invstd * (v - mean(v) - xhat * mean(v * xhat))`` over ``axes``: the vjp (and jvp) of
    standardisation. The Jacobian of ``xhat`` is symmetric, so this one map is both."""

    name = "normalize_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, v, xhat, invstd, axes):
        return kernels.normalize_backward(v, xhat, invstd, axes)

    @staticmethod
    def vjp(ctx, u):
        v, xhat, invstd = ctx.saved
        axes = ctx.params["axes"]
        w = u * invstd
        mean_vh = reduce_mean(v * xhat, axes, keepdims=True)
        inner = v - reduce_mean(v, axes, keepdims=True) - xhat * mean_vh
        return (apply(NormalizeBackward, (u, xhat, invstd), ctx.params),
                -(w * mean_vh + v * reduce_mean(w * xhat, axes, keepdims=True)),
                reduce_sum(u * inner, axes, keepdims=True))

    @staticmethod
    def jvp(ctx, tv, txhat, tinvstd):
        v, xhat, invstd = ctx.inputs
        axes = ctx.params["axes"]
        out = None if tv is None else apply(NormalizeBackward, (tv, xhat, invstd), ctx.params)
        terms = []
        if txhat is not None:
            terms.append(-invstd * (txhat * reduce_mean(v * xhat, axes, keepdims=True)
                                    + xhat * reduce_mean(v * txhat, axes, keepdims=True)))
        if tinvstd is not None:
            inner = v - reduce_mean(v, axes, keepdims=True) - xhat * reduce_mean(v * xhat, axes, keepdims=True)
            terms.append(tinvstd * inner)
        for term in terms:
            out = term if out is None else out + term
        return out


def _affine_inputs(values, affine):
    """``(weight, bias)`` from the extra inputs, None for the absent ones."""
    values = list(values)
    weight = values.pop(0) if "weight" in affine else None
    bias = values.pop(0) if "bias" in affine else None
    return weight, bias


def _plain_normalize(x, params):
    """``xhat`` as a differentiable function of ``x`` (for the jvp rule)."""
    return apply(Normalize, (x,), {"axes": params["axes"], "eps": params["eps"], "stats": None, "affine": ()})


def _invstd_of(x, params):
    axes = params["axes"]
    centered = x - reduce_mean(x, axes, keepdims=True)
    return (reduce_mean(centered * centered, axes, keepdims=True) + params["eps"]) ** -0.5


def _normalize_map(v, xhat, invstd, axes):
    """:class:`NormalizeBackward`'s map composed from Ember ops (the jvp rule's form)."""
    inner = v - reduce_mean(v, axes, keepdims=True) - xhat * reduce_mean(v * xhat, axes, keepdims=True)
    return inner * invstd


def normalize(x, axes, eps: float = 1e-5, stats=None, weight=None, bias=None):
    """Standardise ``x`` over ``axes``: ``(x - mean) / sqrt(var + eps)`` (biased variance),
    then optionally scale by ``weight`` and shift by ``bias``.

    Args:
        x: a floating tensor.
        axes: the axes the statistics are taken over (an int or a tuple).
        eps: added to the variance.
        stats: optional ``(mean, var)`` arrays already computed over ``axes`` (with
            kept dimensions), so that a caller who needs them too (batch norm's
            running averages) does not compute them twice.
        weight, bias: optional tensors that broadcast against ``x`` (shaped by the
            caller: ``(C, 1, 1)`` for batch norm, the trailing shape for layer norm).

    Example:
        >>> import ember
        >>> from ember.ops.normalization import normalize
        >>> normalize(ember.tensor([[1.0, 3.0]]), axes=1, eps=0.0).tolist()
        [[-1.0, 1.0]]
    """
    from .reduce import _axes

    x = float_operand("normalize", x)
    axes = _axes("normalize", axes, x.ndim)
    affine = tuple(name for name, t in (("weight", weight), ("bias", bias)) if t is not None)
    inputs = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return apply(Normalize, inputs, {"axes": axes, "eps": float(eps), "stats": stats, "affine": affine})


class Moments(Function):
    """Mean and biased variance over ``axes`` (kept dimensions), as statistics: no gradient."""

    n_outputs = 2
    differentiable = False

    @staticmethod
    def forward(ctx, x, axes):
        return kernels.moments(x, axes)


def moments(x, axes):
    """The mean and biased variance of tensor ``x`` over ``axes`` (kept dimensions), not differentiated.

    A primitive rather than array code, so that ``ember.compile`` replays it.
    """
    return apply(Moments, (x,), {"axes": tuple(axes)})


__all__ = ["normalize", "moments", "Normalize", "NormalizeStatistics", "NormalizeBackward", "Moments"]
