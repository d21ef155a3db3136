"""Special functions: ``erf``, ``erfc`` and ``erfinv`` (``torch.special``'s error functions).

NumPy has none of them. The arithmetic is W. J. Cody's rational approximations
(the coefficients and the ``exp(-y*y)`` split live in :mod:`ember.kernels.elementwise`,
whose ``erf`` is the error function the GELU kernels also use), so one erf serves
the whole package:

* ``erf`` and ``erfc`` are evaluated in float64 and rounded once to the input's
  dtype, which makes float32 results correctly rounded in all but rare ties.
  ``erfc`` is computed directly (not as ``1 - erf``) for ``|x| > 0.46875``, so it
  keeps full relative accuracy in the far tail (``erfc(10) = 2.1e-45``).
* ``erfinv`` starts from PyTorch's rational guess and takes Newton steps on
  ``erf`` (or, near ``±1``, on ``erfc`` of the exactly computed ``1 - |y|``).

Gradients are PyTorch's: ``erf' = 2/sqrt(pi) exp(-x^2)``, ``erfc' = -erf'``,
``erfinv'(y) = sqrt(pi)/2 exp(erfinv(y)^2)``.

Example:
    >>> import ember
    >>> from ember.ops.special import erf, erfc, erfinv
    >>> round(erf(ember.tensor(0.5, dtype="float64")).item(), 12)
    0.520499877813
    >>> round(erfinv(erf(ember.tensor(0.3, dtype="float64"))).item(), 12)
    0.3
"""
from __future__ import annotations

import math

from ..autograd.function import Function, apply
from ..backend import array_module, numpy_module
from ..kernels import elementwise as _erf_math
from .checks import float_operand
from .elementwise import exp

__all__ = ["erf", "erfc", "erfinv"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)
_quiet = numpy_module().errstate


def _in_float64(fn, x):
    """``fn`` of ``x`` computed in float64 and rounded once to ``x``'s dtype."""
    wide = (x if x.dtype.itemsize >= 8 else x.astype("float64")).reshape(-1)  # 1-D: masks assign
    with _quiet(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        return fn(array_module(x), wide).astype(x.dtype, copy=False).reshape(x.shape)


def _erf64(xp, x):
    return _erf_math.erf_double(xp, x)


def _erfc_tail(xp, y):
    """``erfc(y)`` for ``y > 0.46875`` (Cody's second and third approximations)."""
    out = xp.empty_like(y)
    middle = y <= 4.0
    ym = y[middle]
    num = _erf_math.horner(xp, ym, (_erf_math.ERF_C[8],) + _erf_math.ERF_C[:7]) * ym
    den = _erf_math.horner(xp, ym, (1.0,) + _erf_math.ERF_D[:7]) * ym
    out[middle] = _erf_math.exp_neg_square(xp, ym) * (num + _erf_math.ERF_C[7]) / (den + _erf_math.ERF_D[7])
    large = ~middle
    yl = xp.minimum(y[large], 1e8)  # erfc underflows long before; avoids inf / inf
    z = 1.0 / (yl * yl)
    num = _erf_math.horner(xp, z, (_erf_math.ERF_P[5],) + _erf_math.ERF_P[:4]) * z
    den = _erf_math.horner(xp, z, (1.0,) + _erf_math.ERF_Q[:4]) * z
    ratio = (_erf_math.RSQRT_PI - z * (num + _erf_math.ERF_P[4]) / (den + _erf_math.ERF_Q[4])) / yl
    out[large] = _erf_math.exp_neg_square(xp, yl) * ratio
    return out


def _erfc64(xp, x):
    y = xp.abs(x)
    out = 1.0 - _erf64(xp, x)  # exact enough where |x| <= 0.46875, overwritten elsewhere
    tail = y > 0.46875  # false for NaN, which 1 - erf already gives
    tail_values = _erfc_tail(xp, y[tail])
    out[tail] = xp.where(x[tail] < 0, 2.0 - tail_values, tail_values)
    return out


# PyTorch's initial guess for erfinv (calc_erfinv), refined below by Newton steps.
_ERFINV_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_ERFINV_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_ERFINV_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_ERFINV_D = (3.543889200, 1.637067800)


def _erfinv64(xp, y):
    a = xp.abs(y)
    z = y * y
    central = y * (((_ERFINV_A[3] * z + _ERFINV_A[2]) * z + _ERFINV_A[1]) * z + _ERFINV_A[0]) / \
        ((((_ERFINV_B[3] * z + _ERFINV_B[2]) * z + _ERFINV_B[1]) * z + _ERFINV_B[0]) * z + 1.0)
    w = xp.sqrt(-xp.log((1.0 - xp.minimum(a, 1.0)) / 2.0))
    tail = xp.copysign(((_ERFINV_C[3] * w + _ERFINV_C[2]) * w + _ERFINV_C[1]) * w + _ERFINV_C[0], y) / \
        ((_ERFINV_D[1] * w + _ERFINV_D[0]) * w + 1.0)
    x = xp.where(a <= 0.7, central, tail)
    x = xp.where(a < 1.0, x, 0.0)  # keep the Newton steps finite; the edges are set below
    # Near |y| = 1 the residual erf(x) - y cancels; erfc(|x|) - (1 - |y|) does not
    # (1 - |y| is exact for |y| >= 0.5).
    near_one = a >= 0.5
    complement = 1.0 - a
    sign = xp.sign(y)
    for _ in range(3):
        slope = _TWO_OVER_SQRT_PI * xp.exp(-x * x)
        residual = xp.where(near_one, sign * (complement - _erfc64(xp, xp.abs(x))), _erf64(xp, x) - y)
        x = x - residual / slope
    x = xp.where(a == 1.0, xp.copysign(xp.inf, y), x)
    return xp.where((a > 1.0) | xp.isnan(y), xp.nan, x)


class Erf(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return _in_float64(_erf64, x)

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        return g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        return t * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Erfc(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return _in_float64(_erfc64, x)

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        return g * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        return t * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class Erfinv(Function):
    save_output = True

    @staticmethod
    def forward(ctx, y):
        return _in_float64(_erfinv64, y)

    @staticmethod
    def vjp(ctx, g):
        x = ctx.out
        return g * (exp(x * x) * _HALF_SQRT_PI)

    @staticmethod
    def jvp(ctx, t):
        x = ctx.out
        return t * (exp(x * x) * _HALF_SQRT_PI)


def erf(x):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise.

    Example:
        >>> import ember
        >>> from ember.ops.special import erf
        >>> round(erf(ember.tensor(1.0, dtype="float64")).item(), 12)
        0.84270079295
    """
    return apply(Erf, (float_operand("erf", x),), {})


def erfc(x):
    """The complementary error function ``1 - erf(x)``, accurate in the tail.

    Example:
        >>> import ember
        >>> from ember.ops.special import erfc
        >>> f"{erfc(ember.tensor(10.0, dtype='float64')).item():.6e}"
        '2.088488e-45'
    """
    return apply(Erfc, (float_operand("erfc", x),), {})


def erfinv(x):
    """The inverse error function on ``[-1, 1]`` (``±inf`` at ``±1``, NaN outside).

    Example:
        >>> import ember
        >>> from ember.ops.special import erfinv
        >>> erfinv(ember.tensor([0.0, 1.0, 2.0])).tolist()
        [0.0, inf, nan]
    """
    return apply(Erfinv, (float_operand("erfinv", x),), {})
