"""GELU, exact (``x * Phi(x)``) and tanh-approximated, with its derivatives as primitives.

NumPy has no ``erf``; W. J. Cody's rational approximations give it to float64
accuracy (~1e-16 relative), which float64 gradchecks need; float32 uses Eigen's
single-precision rational. The array math, NumPy reference and numba loop, is in
:mod:`ember.kernels.elementwise`.

The forward keeps its *gate* (``Phi(x)``, or the tanh of the approximate form),
the costly part, for the backward. The backward :class:`GeluBackward` is a
primitive (one kernel that reuses the gate) whose own vjp is written with Ember
ops through :class:`GeluSlope` and :func:`_gelu_curvature`, so first-order
backward passes and gradients of every order share one rule.
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..errors import ArgumentError
from ..kernels import elementwise as elementwise_kernels
from .checks import float_operand
from .elementwise import exp

_INV_SQRT_2PI = elementwise_kernels.INV_SQRT_2PI
_TANH_C = elementwise_kernels.TANH_C
_TANH_K = elementwise_kernels.TANH_K


def erf_array(x):
    """The error function of a backend array.

    float64 is accurate to float64 rounding (Cody's rational approximations, or libm's
    ``erf`` in the numba kernel), as float64 gradchecks need; float32 and float16 use
    Eigen's single-precision rational (a few ulp, several times faster). The public
    ``erf`` (a primitive, accurate to PyTorch's rounding) is :func:`ember.ops.special.erf`.
    """
    return elementwise_kernels.erf(x)


def _gelu_curvature(x, approximate):
    """d^2 gelu / dx^2 composed from Ember ops (read only by higher-order derivatives)."""
    if approximate == "tanh":
        th = (_TANH_C * (x + _TANH_K * x * x * x)).tanh()
        du = _TANH_C * (1.0 + 3.0 * _TANH_K * x * x)
        ddu = (6.0 * _TANH_C * _TANH_K) * x
        return (1.0 - th * th) * (du - x * th * du * du + 0.5 * x * ddu)
    return exp(-0.5 * x * x) * _INV_SQRT_2PI * (2.0 - x * x)


class Gelu(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, approximate):
        out, gate = elementwise_kernels.gelu_forward(x, approximate)
        if ctx is not None:
            ctx.stash = gate  # the backward needs it too: erf is the costly part
        return out

    @staticmethod
    def vjp(ctx, g):
        return _times_gelu_slope(ctx, g, ctx.saved[0])

    @staticmethod
    def jvp(ctx, t):
        return _times_gelu_slope(ctx, t, ctx.inputs[0])


def _times_gelu_slope(ctx, v, x):
    """``v * gelu'(x)`` as a :class:`GeluBackward`, reusing the forward's gate when it was kept."""
    from ..tensor import constant

    inputs = (v, x) if ctx.stash is None else (v, x, constant(ctx.stash))
    return apply(GeluBackward, inputs, ctx.params)


class GeluBackward(Function):
    """``v * gelu'(x)``: GELU's vjp and jvp. An optional third input is the forward's gate
    (a constant), which saves recomputing ``erf``; without it the gate is computed here."""

    name = "gelu_backward"
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, v, x, *gate, approximate):
        gate = gate[0] if gate else elementwise_kernels.gelu_forward(x, approximate)[1]
        return elementwise_kernels.gelu_backward(v, x, gate, approximate)

    @staticmethod
    def vjp(ctx, u):
        v, x = ctx.saved
        approximate = ctx.params["approximate"]
        grads = (u * apply(GeluSlope, (x,), ctx.params), u * v * _gelu_curvature(x, approximate))
        return grads if len(ctx.edges) == 2 else grads + (None,)

    @staticmethod
    def jvp(ctx, tv, tx, *tgate):
        v, x = ctx.inputs[:2]
        out = None if tv is None else apply(GeluBackward, (tv,) + tuple(ctx.inputs[1:]), ctx.params)
        if tx is not None:
            term = v * _gelu_curvature(x, ctx.params["approximate"]) * tx
            out = term if out is None else out + term
        return out


class GeluSlope(Function):
    """d gelu / dx as a primitive, so that the derivative itself can be differentiated."""

    name = "gelu_slope"
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, approximate):
        _, gate = elementwise_kernels.gelu_forward(x, approximate)
        return elementwise_kernels.gelu_slope(x, gate, approximate)

    @staticmethod
    def vjp(ctx, g):
        return g * _gelu_curvature(ctx.saved[0], ctx.params["approximate"])

    @staticmethod
    def jvp(ctx, t):
        return t * _gelu_curvature(ctx.inputs[0], ctx.params["approximate"])


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh formula.

    Example:
        >>> import ember
        >>> from ember.ops.gelu import gelu
        >>> round(gelu(ember.tensor(1.0)).item(), 4)
        0.8413
    """
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(Gelu, (float_operand("gelu", x),), {"approximate": approximate})


__all__ = ["gelu", "erf_array", "Gelu", "GeluBackward", "GeluSlope"]
