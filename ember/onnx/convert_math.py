"""ONNX rules for the elementwise math of PyTorch's API: the trigonometric and
hyperbolic family, logarithms and exponentials in other bases, rounding, signs,
division with rounding, remainders, tensor-bounded ``clamp``, ``any``/``all`` and
sorting (``sort``, ``argsort``, ``topk``).

Where ONNX has no operator (``trunc``, ``atan2``, ``expm1``, float ``remainder``)
the rule composes one from operators that exist in every opset from 13 on, and
says in a comment how it matches NumPy (and therefore Ember).
"""
from __future__ import annotations

import math

import numpy as np

from .convert_basic import reduce
from .graph import converts

_UNARY = {"tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "asinh": "Asinh", "acosh": "Acosh", "atanh": "Atanh", "reciprocal": "Reciprocal"}


def _is_float(array) -> bool:
    return np.dtype(array.dtype).kind == "f"


def _out_dtype(call):
    return call.outputs[0].dtype


def _inputs(g, call, dtype=None):
    """ONNX names of the call's inputs, cast to ``dtype`` (default: the output's)."""
    dtype = _out_dtype(call) if dtype is None else dtype
    return [g.value(a, dtype) for a in call.inputs]


@converts(*_UNARY)
def unary(g, call):
    """One ONNX operator of the same name."""
    return [g.node(_UNARY[call.fn.name], _inputs(g, call))]


@converts("log2", "log10")
def log_base(g, call):
    """``log(x) / log(base)``, a rounding away from NumPy's ``log2``/``log10``."""
    (x,) = _inputs(g, call)
    base = math.log(2.0) if call.fn.name == "log2" else math.log(10.0)
    return [g.node("Div", [g.node("Log", [x]), g.constant(base, _out_dtype(call))])]


@converts("exp2")
def exp2(g, call):
    (x,) = _inputs(g, call)
    return [g.node("Pow", [g.constant(2.0, _out_dtype(call)), x])]


@converts("expm1")
def expm1(g, call):
    """Kahan's ``expm1``: ``(u - 1) * x / log(u)`` with ``u = exp(x)``, exact to a few ulps near 0.

    ``exp(x) - 1`` would lose every digit for tiny ``x``. The cases where the
    quotient breaks down are taken apart: ``u == 1`` gives ``x``, ``u - 1 == -1``
    (very negative ``x``) gives -1, ``u`` infinite gives ``u``.
    """
    (x,) = _inputs(g, call)
    dtype = _out_dtype(call)
    one = g.constant(1.0, dtype)
    u = g.node("Exp", [x])
    um1 = g.node("Sub", [u, one])
    quotient = g.node("Div", [g.node("Mul", [um1, x]), g.node("Log", [u])])
    out = g.node("Where", [g.node("IsInf", [u]), u, quotient])
    out = g.node("Where", [g.node("Equal", [um1, g.constant(-1.0, dtype)]), um1, out])
    return [g.node("Where", [g.node("Equal", [u, one]), x, out])]


@converts("rsqrt")
def rsqrt(g, call):
    (x,) = _inputs(g, call)
    return [g.node("Reciprocal", [g.node("Sqrt", [x])])]


@converts("erfc")
def erfc(g, call):
    """``1 - erf(x)`` (absolute, not relative, accuracy in the far tail, where erfc underflows)."""
    (x,) = _inputs(g, call)
    return [g.node("Sub", [g.constant(1.0, _out_dtype(call)), g.node("Erf", [x])])]


# ------------------------------------------------------------------ signs and rounding
@converts("sign")
def sign(g, call):
    """ONNX ``Sign``, with PyTorch's ``sign(nan) == 0``; booleans pass through."""
    (x,) = call.inputs
    name = g.value(x)
    if x.dtype == np.bool_:
        return [g.node("Identity", [name])]
    out = g.node("Sign", [name])
    if _is_float(x):
        out = g.node("Where", [g.node("IsNaN", [name]), g.constant(0.0, x.dtype), out])
    return [out]


def _trunc(g, name: str, dtype) -> str:
    """Round toward zero: ``ceil`` below zero, ``floor`` elsewhere (ONNX has no ``Trunc``)."""
    negative = g.node("Less", [name, g.constant(0.0, dtype)])
    return g.node("Where", [negative, g.node("Ceil", [name]), g.node("Floor", [name])])


_ROUNDING = {"floor": "Floor", "ceil": "Ceil", "rint": "Round"}  # ONNX Round is half to even, as rint


@converts("rounding")
def rounding(g, call):
    (x,) = call.inputs
    op = call.params["op"]
    if op == "trunc":
        return [_trunc(g, g.value(x), x.dtype)]
    return [g.node(_ROUNDING[op], [g.value(x)])]


@converts("round")
def round_decimals(g, call):
    """``rint(x * 10**d) / 10**d`` (``d > 0``) or ``rint(x / 10**-d) * 10**-d``, in the input's precision."""
    (x,) = call.inputs
    decimals = call.params["decimals"]
    scale = g.constant(10.0 ** abs(decimals), x.dtype)
    if decimals > 0:
        return [g.node("Div", [g.node("Round", [g.node("Mul", [g.value(x), scale])]), scale])]
    return [g.node("Mul", [g.node("Round", [g.node("Div", [g.value(x), scale])]), scale])]


@converts("clamp")
def clamp(g, call):
    """Tensor bounds: ``min(max(x, low), high)`` with broadcasting, as the primitive computes it."""
    x, low, high = _inputs(g, call)
    return [g.node("Min", [g.node("Max", [x, low]), high])]


# ------------------------------------------------------------------ division and remainders
@converts("div_rounded")
def div_rounded(g, call):
    """Floats: ``floor``/``trunc`` of the quotient. Integers: ONNX ``Div`` truncates; floor
    division is ``(a - r) / b`` with the floored remainder ``r`` (exact, no rounding)."""
    a, b = _inputs(g, call)
    mode = call.params["rounding_mode"]
    if _is_float(call.outputs[0]):
        quotient = g.node("Div", [a, b])
        return [g.node("Floor", [quotient]) if mode == "floor" else _trunc(g, quotient, _out_dtype(call))]
    if mode == "trunc":
        return [g.node("Div", [a, b])]
    remainder = g.node("Mod", [a, b], fmod=0)
    return [g.node("Div", [g.node("Sub", [a, remainder]), b])]


@converts("fmod")
def fmod(g, call):
    """C's ``fmod`` (sign of the dividend): ONNX ``Mod`` with ``fmod=1``."""
    return [g.node("Mod", _inputs(g, call), fmod=1)]


@converts("remainder")
def remainder(g, call):
    """Python's ``%`` (sign of the divisor). Integers: ``Mod`` with ``fmod=0``. Floats (where
    ONNX allows only ``fmod=1``): NumPy's own recipe, ``r = fmod(a, b)``, plus ``b`` where
    ``r`` is non-zero and its sign differs from ``b``'s."""
    a, b = _inputs(g, call)
    if not _is_float(call.outputs[0]):
        return [g.node("Mod", [a, b], fmod=0)]
    zero = g.constant(0.0, _out_dtype(call))
    r = g.node("Mod", [a, b], fmod=1)
    differs = g.node("Xor", [g.node("Less", [r, zero]), g.node("Less", [b, zero])])
    fix = g.node("And", [g.node("Not", [g.node("Equal", [r, zero])]), differs])
    return [g.node("Where", [fix, g.node("Add", [r, b]), r])]


# ------------------------------------------------------------------ two-argument smooth functions
@converts("atan2")
def atan2(g, call):
    """``atan(a / b)``, moved by ±pi when ``b < 0`` (by the sign of ``a``), 0 at ``a == b == 0``.

    ``b == 0`` needs no case: ``a / 0`` is ±inf and ``atan`` gives ±pi/2. Signed
    zeros are not told apart (NumPy gives ``atan2(0, -0) == pi``; this gives 0).
    """
    a, b = _inputs(g, call)
    dtype = _out_dtype(call)
    zero = g.constant(0.0, dtype)
    base = g.node("Atan", [g.node("Div", [a, b])])
    turn = g.node("Where", [g.node("Less", [a, zero]), g.constant(-math.pi, dtype), g.constant(math.pi, dtype)])
    out = g.node("Where", [g.node("Less", [b, zero]), g.node("Add", [base, turn]), base])
    both_zero = g.node("And", [g.node("Equal", [a, zero]), g.node("Equal", [b, zero])])
    return [g.node("Where", [both_zero, zero, out])]


@converts("hypot")
def hypot(g, call):
    """``sqrt(a*a + b*b)`` (overflows where ``a*a`` does, about 1.8e19 in float32; NumPy scales)."""
    a, b = _inputs(g, call)
    return [g.node("Sqrt", [g.node("Add", [g.node("Mul", [a, a]), g.node("Mul", [b, b])])])]


@converts("logaddexp")
def logaddexp(g, call):
    """``m + log(exp(a - m) + exp(b - m))`` with ``m = max(a, b)``; ``m`` itself where it is infinite."""
    a, b = _inputs(g, call)
    m = g.node("Max", [a, b])
    shifted = [g.node("Exp", [g.node("Sub", [v, m])]) for v in (a, b)]
    out = g.node("Add", [m, g.node("Log", [g.node("Add", shifted)])])
    return [g.node("Where", [g.node("IsInf", [m]), m, out])]


@converts("xlogy")
def xlogy(g, call):
    """``x * log(y)``, 0 where ``x == 0`` unless ``y`` is NaN (SciPy's and PyTorch's rule)."""
    x, y = _inputs(g, call)
    zero = g.constant(0.0, _out_dtype(call))
    product = g.node("Mul", [x, g.node("Log", [y])])
    quiet = g.node("And", [g.node("Equal", [x, zero]), g.node("Not", [g.node("IsNaN", [y])])])
    return [g.node("Where", [quiet, zero, product])]


# ------------------------------------------------------------------ any / all
@converts("_truth")
def truth(g, call):
    """``any``: the count of true elements is positive; ``all``: the count of false ones is zero.

    Counting with ``ReduceSum`` (over ``int64``) works in every opset, on every
    dtype, and gives NumPy's answers on empty slices (``any`` False, ``all`` True).
    """
    (x,) = call.inputs
    axes, keepdims, op = call.params["axis"], call.params["keepdims"], call.params["op"]
    truth_value = g.cast(g.value(x), np.bool_)
    counted = truth_value if op == "any" else g.node("Not", [truth_value])
    ones = g.cast(counted, np.int64)
    axes = list(range(x.ndim)) if axes is None else list(axes)
    count = reduce(g, "ReduceSum", ones, axes, keepdims) if axes else ones
    zero = g.constant(np.int64(0))
    out = g.node("Greater", [count, zero]) if op == "any" else g.node("Equal", [count, zero])
    return [g.node("Reshape", [out, g.ints(call.outputs[0].shape)])]


# ------------------------------------------------------------------ sorting
@converts("argsort")
def argsort(g, call):
    """``TopK`` with ``k`` the whole axis: ONNX breaks ties by the lower index, as Ember's
    stable sort does (ascending and descending alike). ``sort``/``topk`` add a slice and a
    ``gather``, which have their own rules."""
    (x,) = call.inputs
    axis = int(call.params["axis"]) % x.ndim
    k = g.constant(np.array([x.shape[axis]], dtype=np.int64))
    _, indices = g.node("TopK", [g.value(x), k], outputs=2, axis=axis, largest=int(call.params["descending"]),
                        sorted=1)
    return [indices]
