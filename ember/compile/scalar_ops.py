"""The elementwise primitives fusion understands: each as one scalar expression.

:data:`SCALAR_OPS` maps a primitive class (from :mod:`ember.ops.elementwise`) to a
:class:`ScalarOp`: how its operands must be typed, whether the scalar code gives
NumPy's bits, and an ``emit`` function that writes the primitive's forward as
Python statements on scalars (the body of a generated numba loop, see
:mod:`ember.compile.codegen`). A primitive missing from the table, or whose
parameters ``emit`` declines (it returns None), is not fused: it keeps its own kernel.

*Exact* ops give NumPy's results bit for bit: IEEE arithmetic, ``sqrt``,
comparisons and selections, with NumPy's NaN and signed-zero rules written out
(``maximum`` returns its second operand on ties and propagates NaN from either
side, as NumPy's loops do). *Approximate* ops (``exp``, ``log``, ``log1p``,
``tanh``, the sigmoid) call numba's libm, which differs from NumPy's SIMD
implementations by up to one unit in the last place: they fuse only when asked
(``ember.compile(fn, fuse="all")``).

Constants are written as ``T(1)`` where ``T`` is the group's float type
(``np.float32``): a bare ``1.0`` would make numba compute float32 data in float64.

Example::

    >>> from ember.ops.elementwise import Mul
    >>> SCALAR_OPS[Mul].emit("t2", ["a", "b"], {}, "T")
    ['t2 = a * b']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..ops import elementwise as E

Emitter = Callable[[str, list, dict, str], Optional[list]]


@dataclass(frozen=True)
class ScalarOp:
    """How one primitive fuses.

    ``operands`` says how its inputs are typed: ``"float"`` (every input and the
    result are the group's float dtype), ``"where"`` (a bool condition, then two
    floats), ``"compare"`` (float inputs of the group's dtype, a bool result),
    ``"cast"`` (a float or bool input, a float or bool result).
    """

    emit: Emitter
    operands: str
    exact: bool = True


def _add(out, ins, params, T):
    return [f"{out} = {ins[0]} + {ins[1]}"]


def _sub(out, ins, params, T):
    return [f"{out} = {ins[0]} - {ins[1]}"]


def _mul(out, ins, params, T):
    return [f"{out} = {ins[0]} * {ins[1]}"]


def _div(out, ins, params, T):
    return [f"{out} = {ins[0]} / {ins[1]}"]


def _neg(out, ins, params, T):
    return [f"{out} = -{ins[0]}"]


def _abs(out, ins, params, T):
    return [f"{out} = abs({ins[0]})"]


def _sqrt(out, ins, params, T):
    return [f"{out} = np.sqrt({ins[0]})"]


def _maximum(out, ins, params, T):
    a, b = ins
    # NumPy: NaN from either operand wins; on ties (0.0 and -0.0 too) the second operand.
    return [f"{out} = {a} if ({a} > {b} or {a} != {a}) else {b}"]


def _minimum(out, ins, params, T):
    a, b = ins
    return [f"{out} = {a} if ({a} < {b} or {a} != {a}) else {b}"]


def _relu(out, ins, params, T):
    (x,) = ins
    # np.maximum(x, 0): NaN stays NaN, -0.0 becomes +0.0 (the tie returns the second operand).
    return [f"{out} = {x} if ({x} > {T}(0) or {x} != {x}) else {T}(0)"]


def _relu_backward(out, ins, params, T):
    g, y = ins
    # g * (y > 0): where y <= 0 the product g * 0 keeps NaN and the sign of zero.
    return [f"{out} = {g} if {y} > {T}(0) else {g} * {T}(0)"]


def _tanh_backward(out, ins, params, T):
    g, y = ins
    return [f"{out} = ({T}(1) - {y} * {y}) * {g}"]


def _sigmoid_backward(out, ins, params, T):
    g, y = ins
    return [f"{out} = (({T}(1) - {y}) * {y}) * {g}"]


def _where(out, ins, params, T):
    c, a, b = ins
    return [f"{out} = {a} if {c} else {b}"]


def _pow_scalar(out, ins, params, T):
    (x,) = ins
    p = params.get("exponent")
    # The exponents ember.kernels.elementwise.power computes without pow, in the same order.
    if isinstance(p, bool):
        return None
    if p == 2:
        return [f"{out} = {x} * {x}"]
    if p == 3:
        return [f"{out} = ({x} * {x}) * {x}"]
    if p == 4:
        return [f"{out} = {x} * {x}", f"{out} = {out} * {out}"]
    if p == -1:
        return [f"{out} = {T}(1) / {x}"]
    if p == -2:
        return [f"{out} = {T}(1) / ({x} * {x})"]
    if p == 0.5:
        return [f"{out} = np.sqrt({x})"]
    return None


_COMPARISONS = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
                "equal": "==", "not_equal": "!="}


def _compare(out, ins, params, T):
    op = params.get("op")
    a, b = ins
    if op in _COMPARISONS:
        return [f"{out} = {a} {_COMPARISONS[op]} {b}"]
    return None


def _unary_nondiff(out, ins, params, T):
    op = params.get("op")
    (x,) = ins
    if op in ("isnan", "isinf", "isfinite"):
        return [f"{out} = np.{op}({x})"]
    return None


def _cast(out, ins, params, T):
    # The target dtype is checked by the grouping (the group's float dtype or bool).
    to_bool = getattr(params.get("dtype"), "kind", None) == "b"
    return [f"{out} = {ins[0]} != 0" if to_bool else f"{out} = {T}({ins[0]})"]


def _exp(out, ins, params, T):
    return [f"{out} = np.exp({ins[0]})"]


def _log(out, ins, params, T):
    return [f"{out} = np.log({ins[0]})"]


def _log1p(out, ins, params, T):
    return [f"{out} = np.log1p({ins[0]})"]


def _tanh(out, ins, params, T):
    return [f"{out} = np.tanh({ins[0]})"]


def _sigmoid(out, ins, params, T):
    (x,) = ins
    # The primitive's two-branch form: exp(-|x|), never of a large positive number.
    return [f"{out} = np.exp(-abs({x}))",
            f"{out} = ({T}(1) / ({T}(1) + {out})) if {x} >= {T}(0) else ({out} / ({T}(1) + {out}))"]


#: Primitive class -> how it fuses. Anything else breaks a group.
SCALAR_OPS: dict = {
    E.Add: ScalarOp(_add, "float"),
    E.Sub: ScalarOp(_sub, "float"),
    E.Mul: ScalarOp(_mul, "float"),
    E.Div: ScalarOp(_div, "float"),
    E.Neg: ScalarOp(_neg, "float"),
    E.Abs: ScalarOp(_abs, "float"),
    E.Sqrt: ScalarOp(_sqrt, "float"),
    E.Maximum: ScalarOp(_maximum, "float"),
    E.Minimum: ScalarOp(_minimum, "float"),
    E.Relu: ScalarOp(_relu, "float"),
    E.ReluBackward: ScalarOp(_relu_backward, "float"),
    E.TanhBackward: ScalarOp(_tanh_backward, "float"),
    E.SigmoidBackward: ScalarOp(_sigmoid_backward, "float"),
    E.PowScalar: ScalarOp(_pow_scalar, "float"),
    E.Where: ScalarOp(_where, "where"),
    E.Compare: ScalarOp(_compare, "compare"),
    E.UnaryNonDiff: ScalarOp(_unary_nondiff, "compare"),
    E.Cast: ScalarOp(_cast, "cast"),
    E.Exp: ScalarOp(_exp, "float", exact=False),
    E.Log: ScalarOp(_log, "float", exact=False),
    E.Log1p: ScalarOp(_log1p, "float", exact=False),
    E.Tanh: ScalarOp(_tanh, "float", exact=False),
    E.Sigmoid: ScalarOp(_sigmoid, "float", exact=False),
}

__all__ = ["SCALAR_OPS", "ScalarOp"]
