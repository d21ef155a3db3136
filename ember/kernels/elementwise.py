"""Elementwise kernels: the error function, GELU (exact and tanh) with its slope, small integral powers.

The NumPy references are whole-array chains evaluated on L2-sized slices
(:func:`chunked`); the numba versions make one pass per element over the
flattened array, in the input's precision:

* ``erf``: float64 is W. J. Cody's rational approximations in the reference and
  ``math.erf`` (libm, within an ulp of the true value) in numba; float32 is
  Eigen's single-precision rational ``x P(x^2) / Q(x^2)`` in both, evaluated in
  float32 in the same order, so the two give the same bits.
* ``gelu_forward`` returns ``gelu(x)`` and its *gate* (``Phi(x)``, or the tanh of
  the approximate form), which the backward reuses; ``gelu_slope`` and
  ``gelu_backward`` give ``gelu'(x)`` and ``v * gelu'(x)`` from it.
* ``power`` evaluates ``x ** p`` for ``p`` in :data:`SMALL_POWERS` by
  multiplication, division or ``sqrt`` instead of ``pow`` (as PyTorch does for
  2, 3, -1, -2 and 0.5; 4 is ``(x*x)*(x*x)``), about 10x faster than NumPy's
  general ``powf`` for ``x ** 3``.

Example::

    >>> import numpy as np
    >>> from ember.kernels.elementwise import erf, power
    >>> round(float(erf(np.array([0.5]))[0]), 12)
    0.520499877813
    >>> power(np.array([2.0, 3.0]), 3).tolist()
    [8.0, 27.0]
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange

#: The kernels whose numba version runs when numba is on: those measured faster than the reference
#: on W7's (1024, 512) float32 activations (docs/kernels.md, "Which version runs"). The rational erf
#: vectorizes (exact GELU's forward: 2.0 ms -> 0.3 ms on 2 threads); loops that call exp or tanh do not
#: (numba has no vector exp here, NumPy has), so those run their reference. ``power`` runs numba for
#: the exponents in :data:`NUMBA_POWERS`. The tests run every numba version regardless.
NUMBA_KERNELS = frozenset({"erf", "gelu_forward", "gelu_backward_tanh", "gelu_slope_tanh", "power"})

#: The exponents whose numba pass beat NumPy's (``x*x``, ``sqrt`` and ``reciprocal`` are one NumPy pass);
#: ``"power_all"`` in :data:`NUMBA_KERNELS` (the tests) runs every one of :data:`SMALL_POWERS` in numba.
NUMBA_POWERS = (3, 4, -2)

#: The exponents :func:`power` evaluates without ``pow``.
SMALL_POWERS = (2, 3, 4, -1, -2, 0.5)


def _numba(kernel: str, *arrays) -> bool:
    return kernel in NUMBA_KERNELS and engine.numba_runs(*arrays)


# ------------------------------------------------------------------ coefficients
# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-637, coefficients as in his CALERF routine (SPECFUN).
ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
         3.20937758913846947e03, 1.85777706184603153e-1)
ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
         2.84423683343917062e03)
ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
         2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
         2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
         1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
         3.43936767414372164e03, 1.23033935480374942e03)
ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
         1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
         6.05183413124413191e-2, 2.33520497626869185e-3)
RSQRT_PI = 0.5641895835477562869480794515607725858440

# Eigen's (and XLA's) single-precision erf: x * P(x^2) / Q(x^2) on [-4, 4], where
# erf(4) rounds to 1 in float32; a few ulp of error, no branches.
ERF32_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
           -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
ERF32_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
           -1.42647390514189e-02)

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TANH_C = math.sqrt(2.0 / math.pi)
TANH_K = 0.044715



# ------------------------------------------------------------------ NumPy reference
def horner(xp, z, coefficients):
    """``c0 z^n + ... + cn`` evaluated in place (one temporary for the whole polynomial)."""
    out = xp.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        out *= z
        out += c
    return out


def erf_single(xp, x):
    """Eigen's float32 rational erf of a float32 array (NaN stays NaN)."""
    clamped = xp.clip(x, -4.0, 4.0)
    z = clamped * clamped
    num = horner(xp, z, ERF32_P)
    num *= clamped
    num /= horner(xp, z, ERF32_Q)
    return num


def exp_neg_square(xp, y):
    """``exp(-y*y)`` without the rounding error of forming ``y*y`` (Cody's split)."""
    head = xp.trunc(y * 16.0) / 16.0
    tail = (y - head) * (y + head)
    return xp.exp(-head * head) * xp.exp(-tail)


def erf_double(xp, x):
    """Cody's three rational approximations: ``|x| <= 0.46875``, ``<= 4`` and beyond."""
    y = xp.abs(x)
    out = xp.empty_like(x)
    small = y <= 0.46875
    ys = y[small]
    z = ys * ys
    num, den = horner(xp, z, (ERF_A[4],) + ERF_A[:3]) * z, horner(xp, z, (1.0,) + ERF_B[:3]) * z
    out[small] = ys * (num + ERF_A[3]) / (den + ERF_B[3])
    middle = ~small & (y <= 4.0)
    ym = y[middle]
    num = horner(xp, ym, (ERF_C[8],) + ERF_C[:7]) * ym
    den = horner(xp, ym, (1.0,) + ERF_D[:7]) * ym
    out[middle] = (0.5 - exp_neg_square(xp, ym) * (num + ERF_C[7]) / (den + ERF_D[7])) + 0.5
    large = ~small & ~middle & ~xp.isnan(y)
    yl = xp.minimum(y[large], 1e8)  # past ~6 erfc underflows anyway; avoid inf / inf
    z = 1.0 / (yl * yl)
    num = horner(xp, z, (ERF_P[5],) + ERF_P[:4]) * z
    den = horner(xp, z, (1.0,) + ERF_Q[:4]) * z
    ratio = (RSQRT_PI - z * (num + ERF_P[4]) / (den + ERF_Q[4])) / yl
    out[large] = (0.5 - exp_neg_square(xp, yl) * ratio) + 0.5
    out[xp.isnan(y)] = xp.nan
    return xp.copysign(out, x)


# Elementwise chains of a dozen NumPy passes run ~4x faster on slices that stay
# in the L2 cache than on whole megabyte-sized arrays (measured on erf: 1.3 ms
# against 5.3 ms for 2**19 float32 values).
_CHUNK = 65536


def chunked(fn, *arrays):
    """``fn(*arrays)`` for same-shaped arrays, evaluated slice by slice on the CPU.

    ``fn`` maps same-shaped arrays to one array (or a tuple of arrays) elementwise.
    """
    first = arrays[0]
    xp = array_module(first)
    if first.size <= _CHUNK or xp.__name__ != "numpy":
        return fn(*arrays)
    flats = [xp.ascontiguousarray(a).reshape(-1) for a in arrays]
    outs = None
    for start in range(0, first.size, _CHUNK):
        pieces = fn(*(f[start:start + _CHUNK] for f in flats))
        single = not isinstance(pieces, tuple)
        pieces = (pieces,) if single else pieces
        if outs is None:
            outs = [xp.empty(first.size, dtype=p.dtype) for p in pieces]
        for out, piece in zip(outs, pieces):
            out[start:start + _CHUNK] = piece
    outs = tuple(o.reshape(first.shape) for o in outs)
    return outs[0] if single else outs


def erf_piece(x):
    """The reference erf of one array: Cody's in float64, Eigen's float32 rational otherwise."""
    xp = array_module(x)
    if x.dtype.itemsize >= 8:
        return erf_double(xp, x)
    work = x if x.dtype.itemsize == 4 else x.astype("float32")
    out = erf_single(xp, work)
    out[xp.isnan(work)] = xp.nan
    return out.astype(x.dtype, copy=False)


def erf_reference(x):
    """The error function of a backend array, NumPy reference (see the module docstring)."""
    return chunked(erf_piece, x)


def _gate_piece(x, approximate):
    xp = array_module(x)
    if approximate == "tanh":
        inner = x * x
        inner *= TANH_K * x
        inner += x
        inner *= TANH_C
        return xp.tanh(inner, out=inner)
    gate = erf_piece(x * SQRT_HALF)
    gate += 1.0
    gate *= 0.5
    return gate


def _from_gate(x, gate, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + gate)
    return x * gate


def _slope_piece(x, gate, approximate):
    xp = array_module(x)
    if approximate == "tanh":
        du = x * x
        du *= 3.0 * TANH_K * TANH_C
        du += TANH_C
        out = 1.0 - gate * gate
        out *= du
        out *= 0.5 * x
        out += 0.5 * (1.0 + gate)
        return out
    pdf = x * x
    pdf *= -0.5
    xp.exp(pdf, out=pdf)
    pdf *= x
    pdf *= INV_SQRT_2PI
    pdf += gate
    return pdf


def gelu_forward_reference(x, approximate: str):
    """``(gelu(x), gate)``, NumPy reference; ``approximate`` is ``"none"`` or ``"tanh"``."""
    gate = chunked(lambda piece: _gate_piece(piece, approximate), x)
    return _from_gate(x, gate, approximate).astype(x.dtype, copy=False), gate


def gelu_slope_reference(x, gate, approximate: str):
    """``gelu'(x)`` from the forward's gate, NumPy reference."""
    out = chunked(lambda xs, gs: _slope_piece(xs, gs, approximate), x, gate)
    return out.astype(x.dtype, copy=False)


def gelu_backward_reference(v, x, gate, approximate: str):
    """``v * gelu'(x)`` from the forward's gate, NumPy reference."""
    slope = chunked(lambda xs, gs: _slope_piece(xs, gs, approximate), x, gate)
    slope *= v
    return slope.astype(x.dtype, copy=False)


def power_reference(x, exponent):
    """``x ** exponent`` by multiplication for :data:`SMALL_POWERS` (``pow`` for other exponents)."""
    xp = array_module(x)
    if exponent == 2:
        return x * x
    if x.dtype.kind == "b":  # NumPy's bool ** 3 is an integer
        return x ** exponent
    if exponent == 3:
        out = x * x
        out *= x
        return out
    if exponent == 4:
        out = x * x
        out *= out
        return out
    if exponent == -1 and x.dtype.kind == "f":
        return xp.reciprocal(x)
    if exponent == -2 and x.dtype.kind == "f":
        out = x * x
        return xp.reciprocal(out, out=out)
    if exponent == 0.5 and x.dtype.kind == "f":
        return xp.sqrt(x)
    return x ** exponent


# ------------------------------------------------------------------ numba loop nests (flat arrays)
# Constants travel as an array of the input's dtype (a Python float literal would turn float32 math
# into float64 math inside numba): see _constants.
_HALF, _ONE, _K, _C, _KC3, _INV_SQRT_2PI, _MINUS_HALF, _SQRT_HALF = range(8)


def _constants(dtype):
    values = (0.5, 1.0, TANH_K, TANH_C, 3.0 * TANH_K * TANH_C, INV_SQRT_2PI, -0.5, SQRT_HALF)
    return np.array(values, dtype=dtype)


@numba_kernel
def _erf64_flat(x, out):
    for i in prange(x.shape[0]):
        out[i] = math.erf(x[i])


# Eigen's float32 coefficients as float32 constants (numba freezes global scalars into the code, so
# the polynomial is unrolled and the loop vectorizes).
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (np.float32(c) for c in ERF32_P)
_Q0, _Q1, _Q2, _Q3, _Q4 = (np.float32(c) for c in ERF32_Q)
_FOUR = np.float32(4.0)


@numba_kernel
def _erf32_flat(x, out):
    """Eigen's float32 rational erf, in the reference's order of operations (NaN stays NaN)."""
    for i in prange(x.shape[0]):
        v = x[i]
        c = min(max(v, -_FOUR), _FOUR)
        z = c * c
        num = ((((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4) * z + _P5) * z + _P6) * c
        den = (((_Q0 * z + _Q1) * z + _Q2) * z + _Q3) * z + _Q4
        out[i] = num / den if v == v else v


@numba_kernel
def _gelu_exact32_flat(x, out, gate, consts):
    half, one, root_half = consts[_HALF], consts[_ONE], consts[_SQRT_HALF]
    for i in prange(x.shape[0]):
        v = x[i]
        s = v * root_half
        c = min(max(s, -_FOUR), _FOUR)
        z = c * c
        num = ((((((_P0 * z + _P1) * z + _P2) * z + _P3) * z + _P4) * z + _P5) * z + _P6) * c
        den = (((_Q0 * z + _Q1) * z + _Q2) * z + _Q3) * z + _Q4
        e = num / den if s == s else s
        g = (e + one) * half
        gate[i] = g
        out[i] = v * g


@numba_kernel
def _gelu_exact64_flat(x, out, gate):
    for i in prange(x.shape[0]):
        v = x[i]
        g = (math.erf(v * SQRT_HALF) + 1.0) * 0.5
        gate[i] = g
        out[i] = v * g


@numba_kernel
def _gelu_tanh_flat(x, out, gate, consts):
    half, one, k, c = consts[_HALF], consts[_ONE], consts[_K], consts[_C]
    for i in prange(x.shape[0]):
        v = x[i]
        g = math.tanh(((v * v) * (k * v) + v) * c)
        gate[i] = g
        out[i] = (half * v) * (one + g)


@numba_kernel
def _gelu_slope_flat(x, gate, v, out, tanh, scale, consts):
    """``v * gelu'(x)`` (with ``scale`` false: ``gelu'(x)``, ``v`` unread) from the gate."""
    half, one, c, kc3 = consts[_HALF], consts[_ONE], consts[_C], consts[_KC3]
    inv_root, minus_half = consts[_INV_SQRT_2PI], consts[_MINUS_HALF]
    for i in prange(x.shape[0]):
        a = x[i]
        g = gate[i]
        if tanh:
            s = (one - g * g) * ((a * a) * kc3 + c) * (half * a) + half * (one + g)
        else:
            s = math.exp((a * a) * minus_half) * a * inv_root + g
        out[i] = s * v[i] if scale else s


@numba_kernel
def _power_flat(x, out, code, consts):
    """``x ** p`` for ``p`` = ``code`` in (2, 3, 4, -1, -2), ``sqrt`` for ``code == 0``."""
    one = consts[_ONE]
    inf = np.inf
    for i in prange(x.shape[0]):
        v = x[i]
        if code == 2:
            out[i] = v * v
        elif code == 3:
            out[i] = v * v * v
        elif code == 4:
            s = v * v
            out[i] = s * s
        elif code == -1:  # numba raises on a division by zero: 1/±0 is ±inf by hand
            out[i] = one / v if v != 0 else math.copysign(inf, v)
        elif code == -2:
            s = v * v
            out[i] = one / s if s != 0 else inf
        else:
            out[i] = math.sqrt(v)  # -NaN below 0, as NumPy's and PyTorch's sqrt


def _flat(x):
    return np.ascontiguousarray(x).reshape(-1)


# ------------------------------------------------------------------ dispatch
def erf(x):
    """The error function of an array (NumPy reference, or one numba pass where it runs)."""
    if x.size and _numba("erf", x):
        flat = _flat(x)
        out = np.empty_like(flat)
        if x.dtype == np.float64:
            _erf64_flat(flat, out)
        else:
            _erf32_flat(flat, out)
        return out.reshape(x.shape)
    return erf_reference(x)


def gelu_forward(x, approximate: str = "none"):
    """``(gelu(x), gate)``: the activation and the part of it the backward reuses."""
    if x.size and _numba("gelu_forward_tanh" if approximate == "tanh" else "gelu_forward", x):
        flat = _flat(x)
        out, gate = np.empty_like(flat), np.empty_like(flat)
        if approximate == "tanh":
            _gelu_tanh_flat(flat, out, gate, _constants(x.dtype))
        elif x.dtype == np.float64:
            _gelu_exact64_flat(flat, out, gate)
        else:
            _gelu_exact32_flat(flat, out, gate, _constants(x.dtype))
        return out.reshape(x.shape), gate.reshape(x.shape)
    return gelu_forward_reference(x, approximate)


def gelu_slope(x, gate, approximate: str = "none"):
    """``gelu'(x)`` from the gate :func:`gelu_forward` returned."""
    if x.size and _numba("gelu_slope_tanh" if approximate == "tanh" else "gelu_slope", x, gate):
        flat = _flat(x)
        out = np.empty_like(flat)
        _gelu_slope_flat(flat, _flat(gate).astype(x.dtype, copy=False), flat, out, approximate == "tanh", False,
                         _constants(x.dtype))
        return out.reshape(x.shape)
    return gelu_slope_reference(x, gate, approximate)


def gelu_backward(v, x, gate, approximate: str = "none"):
    """``v * gelu'(x)`` (the first-order backward) from the gate :func:`gelu_forward` returned."""
    kernel = "gelu_backward_tanh" if approximate == "tanh" else "gelu_backward"
    if x.size and v.shape == x.shape and v.dtype == x.dtype and _numba(kernel, v, x, gate):
        flat = _flat(x)
        out = np.empty_like(flat)
        _gelu_slope_flat(flat, _flat(gate).astype(x.dtype, copy=False), _flat(v), out,
                         approximate == "tanh", True, _constants(x.dtype))
        return out.reshape(x.shape)
    return gelu_backward_reference(v, x, gate, approximate)


def power(x, exponent):
    """``x ** exponent``; :data:`SMALL_POWERS` on float arrays without ``pow`` (one numba pass where it runs)."""
    if (exponent in SMALL_POWERS and x.size and x.dtype.kind == "f" and not isinstance(exponent, bool)
            and (exponent in NUMBA_POWERS or "power_all" in NUMBA_KERNELS) and _numba("power", x)):
        flat = _flat(x)
        out = np.empty_like(flat)
        _power_flat(flat, out, 0 if exponent == 0.5 else int(exponent), _constants(x.dtype))
        return out.reshape(x.shape)
    return power_reference(x, exponent)


__all__ = ["erf", "erf_reference", "gelu_forward", "gelu_forward_reference", "gelu_slope",
           "gelu_slope_reference", "gelu_backward", "gelu_backward_reference", "power", "power_reference",
           "SMALL_POWERS", "NUMBA_POWERS", "NUMBA_KERNELS"]
