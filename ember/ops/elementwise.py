"""Elementwise primitives: arithmetic, transcendental functions, comparisons, where.

Each primitive's forward, vjp and jvp stand together. Vjps return gradients in
the *output's* broadcast shape; the engine sums them back to each input's shape
in one shared place (``engine._sum_to_shape``).
"""
from __future__ import annotations

import builtins

from ..autograd.function import Function, LinearFunction, apply
from ..backend import array_module, default_dtype, numpy_module
from ..errors import ArgumentError, DTypeError
from ..kernels import activation as activation_kernels
from .checks import binary_operands, float_operand, to_tensor


# Floating-point warnings are a host (NumPy) setting; CuPy never warns.
_quiet = numpy_module().errstate


def _needs(ctx, i):
    return ctx.edges[i] is not None


def zeros_like(t):
    """A constant tensor of zeros with ``t``'s shape and dtype (a gradient that is exactly 0)."""
    from ..tensor import constant

    return constant(array_module(t._data).zeros_like(t._data))


# ------------------------------------------------------------------ binary arithmetic
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def vjp(ctx, g):
        return g, g

    @staticmethod
    def jvp(ctx, ta, tb):
        if ta is None:
            return tb
        return ta if tb is None else ta + tb


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def vjp(ctx, g):
        return g, (-g if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        if tb is None:
            return ta
        return -tb if ta is None else ta - tb


class Mul(Function):
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return (g * b if _needs(ctx, 0) else None), (g * a if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = None if ta is None else ta * b
        if tb is not None:
            out = a * tb if out is None else out + a * tb
        return out


class Div(Function):
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        ga = g / b if _needs(ctx, 0) else None
        gb = -g * a / (b * b) if _needs(ctx, 1) else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = None if ta is None else ta / b
        if tb is not None:
            term = -tb * a / (b * b)
            out = term if out is None else out + term
        return out


class Pow(Function):
    """``a ** b`` with both operands tensors, with PyTorch's rules at the edges.

    d/da is 0 wherever ``b == 0`` (even at ``a == 0``); d/db is 0 where ``a == 0``
    and ``b >= 0``, and ``a ** b * log(a)`` elsewhere (NaN for a negative base,
    ``-inf`` at ``a == 0, b < 0``), as ``torch.pow``'s backward defines them.
    """

    save_inputs = (0, 1)
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        with _quiet(divide="ignore", invalid="ignore", over="ignore"):  # 0 ** -1 is inf, as in PyTorch
            return a ** b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        with _quiet(divide="ignore", invalid="ignore"):
            ga = g * _pow_base_slope(a, b) if _needs(ctx, 0) else None
            gb = g * _pow_exponent_slope(a, b, ctx.out) if _needs(ctx, 1) else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        with _quiet(divide="ignore", invalid="ignore"):
            out = None if ta is None else ta * _pow_base_slope(a, b)
            if tb is not None:
                term = tb * _pow_exponent_slope(a, b, ctx.out)
                out = term if out is None else out + term
        return out


def _pow_base_slope(a, b):
    return where(b == 0, 0.0, b * a ** (b - 1))


def _pow_exponent_slope(a, b, out):
    return where((a == 0) & (b >= 0), 0.0, out * log(a))


class PowScalar(Function):
    """``x ** p`` for a Python number ``p`` (the common case, kept cheap)."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, exponent):
        from ..kernels.elementwise import power

        # 2, 3, 4, -1, -2 and 0.5 by multiplication or sqrt (as PyTorch), not NumPy's general powf.
        with _quiet(divide="ignore", invalid="ignore", over="ignore"):
            return power(x, exponent)

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        p = ctx.params["exponent"]
        if p == 0:
            return zeros_like(g)  # PyTorch: d/dx x**0 is 0 everywhere, even at x == 0
        if p == 2:
            return g * (x * 2.0)
        return g * (p * pow_scalar(x, p - 1))

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        p = ctx.params["exponent"]
        if p == 0:
            return zeros_like(t)
        return t * (p * pow_scalar(x, p - 1))


class Maximum(Function):
    """Elementwise maximum; where the operands tie, each gets half the gradient."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).maximum(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return _select_vjp(ctx, g, a > b, a == b)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        return _select_jvp(ta, tb, a > b, a == b)


class Minimum(Function):
    """Elementwise minimum; ties split the gradient evenly."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).minimum(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return _select_vjp(ctx, g, a < b, a == b)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        return _select_jvp(ta, tb, a < b, a == b)


def _select_weights(first_wins, tie):
    # 1 where the first operand is selected, 0.5 on ties, 0 otherwise.
    weight = first_wins.astype(default_dtype()) + tie.astype(default_dtype()) * 0.5
    return weight


def _select_vjp(ctx, g, first_wins, tie):
    w = _select_weights(first_wins, tie).astype(g.dtype)
    ga = g * w if _needs(ctx, 0) else None
    gb = g * (1.0 - w) if _needs(ctx, 1) else None
    return ga, gb


def _select_jvp(ta, tb, first_wins, tie):
    w = _select_weights(first_wins, tie)
    out = None if ta is None else ta * w.astype(ta.dtype)
    if tb is not None:
        term = tb * (1.0 - w.astype(tb.dtype))
        out = term if out is None else out + term
    return out


class Where(Function):
    """``where(condition, a, b)``; the condition is a boolean tensor (no gradient)."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, condition, a, b):
        return array_module(a).where(condition, a, b)

    @staticmethod
    def vjp(ctx, g):
        (condition,) = ctx.saved
        ga = where(condition, g, 0.0) if _needs(ctx, 1) else None
        gb = where(condition, 0.0, g) if _needs(ctx, 2) else None
        return None, ga, gb

    @staticmethod
    def jvp(ctx, tc, ta, tb):
        condition = ctx.inputs[0]
        return where(condition, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


# ------------------------------------------------------------------ unary
class Neg(LinearFunction):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def vjp(ctx, g):
        return -g

class Exp(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).exp(x)

    @staticmethod
    def vjp(ctx, g):
        return g * ctx.out

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.out


class Log(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        with _quiet(divide="ignore", invalid="ignore"):  # log(0) = -inf, log(-1) = nan, quietly as PyTorch
            return array_module(x).log(x)

    @staticmethod
    def vjp(ctx, g):
        return g / ctx.saved[0]

    @staticmethod
    def jvp(ctx, t):
        return t / ctx.inputs[0]


class Log1p(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return array_module(x).log1p(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.saved[0] + 1.0)

    @staticmethod
    def jvp(ctx, t):
        return t / (ctx.inputs[0] + 1.0)


class Sqrt(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).sqrt(x)

    @staticmethod
    def vjp(ctx, g):
        return g / (ctx.out * 2.0)

    @staticmethod
    def jvp(ctx, t):
        return t / (ctx.out * 2.0)


class Tanh(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).tanh(x)

    @staticmethod
    def vjp(ctx, g):
        return apply(TanhBackward, (g, ctx.out), {})

    @staticmethod
    def jvp(ctx, t):
        return apply(TanhBackward, (t, ctx.out), {})


class TanhBackward(Function):
    """``g * (1 - y * y)``, tanh's derivative from its output ``y``, as a primitive: one kernel
    forward (:func:`ember.kernels.activation.tanh_backward`), and a vjp of its own, so that
    gradients of gradients need no second code path."""

    name = "tanh_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, y):
        return activation_kernels.tanh_backward(g, y)

    @staticmethod
    def vjp(ctx, u):
        g, y = ctx.saved
        return apply(TanhBackward, (u, y), {}), u * g * y * -2.0

    @staticmethod
    def jvp(ctx, tg, ty):
        g, y = ctx.inputs
        out = None if tg is None else apply(TanhBackward, (tg, y), {})
        if ty is not None:
            term = g * y * ty * -2.0
            out = term if out is None else out + term
        return out


class Sigmoid(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        # Two-branch form: never exponentiates a large positive number.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g):
        return apply(SigmoidBackward, (g, ctx.out), {})

    @staticmethod
    def jvp(ctx, t):
        return apply(SigmoidBackward, (t, ctx.out), {})


class SigmoidBackward(Function):
    """``g * y * (1 - y)``, the sigmoid's derivative from its output ``y`` (see :class:`TanhBackward`)."""

    name = "sigmoid_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, g, y):
        return activation_kernels.sigmoid_backward(g, y)

    @staticmethod
    def vjp(ctx, u):
        g, y = ctx.saved
        return apply(SigmoidBackward, (u, y), {}), u * g * (1.0 - 2.0 * y)

    @staticmethod
    def jvp(ctx, tg, ty):
        g, y = ctx.inputs
        out = None if tg is None else apply(SigmoidBackward, (tg, y), {})
        if ty is not None:
            term = g * (1.0 - 2.0 * y) * ty
            out = term if out is None else out + term
        return out


class Relu(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).maximum(x, 0)

    @staticmethod
    def vjp(ctx, g):
        return apply(ReluBackward, (g, ctx.out), {})

    @staticmethod
    def jvp(ctx, t):
        return apply(ReluBackward, (t, ctx.out), {})


class ReluBackward(Function):
    """``g * (y > 0)``, ReLU's derivative from its output ``y`` (see :class:`TanhBackward`).

    Its derivative in ``y`` is zero almost everywhere, so only ``g`` gets a gradient."""

    name = "relu_backward"
    save_inputs = (1,)

    @staticmethod
    def forward(ctx, g, y):
        return activation_kernels.relu_backward(g, y)

    @staticmethod
    def vjp(ctx, u):
        return apply(ReluBackward, (u, ctx.saved[0]), {}), None

    @staticmethod
    def jvp(ctx, tg, ty):
        return None if tg is None else apply(ReluBackward, (tg, ctx.inputs[1]), {})


class Sin(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return array_module(x).sin(x)

    @staticmethod
    def vjp(ctx, g):
        return g * cos(ctx.saved[0])

    @staticmethod
    def jvp(ctx, t):
        return t * cos(ctx.inputs[0])


class Cos(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return array_module(x).cos(x)

    @staticmethod
    def vjp(ctx, g):
        return -g * sin(ctx.saved[0])

    @staticmethod
    def jvp(ctx, t):
        return -t * sin(ctx.inputs[0])


class Abs(Function):
    """``|x|``; the gradient at 0 is 0 (sign(0) = 0), as in PyTorch."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return array_module(x).abs(x)

    @staticmethod
    def vjp(ctx, g):
        return g * sign(ctx.saved[0]).astype(g.dtype)

    @staticmethod
    def jvp(ctx, t):
        return t * sign(ctx.inputs[0]).astype(t.dtype)


class Clip(Function):
    """Clamp to ``[low, high]`` (either may be None); gradient 1 inside, 0 outside."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, low, high):
        return array_module(x).clip(x, low, high)

    @staticmethod
    def vjp(ctx, g):
        return g * _inside(ctx.saved[0], ctx.params).astype(g.dtype)

    @staticmethod
    def jvp(ctx, t):
        return t * _inside(ctx.inputs[0], ctx.params).astype(t.dtype)


class ClampTensor(Function):
    """``minimum(maximum(x, low), high)`` with tensor bounds and PyTorch's gradient masks.

    ``x`` gets the gradient where ``low <= x <= high``; ``low`` where ``x < low <
    high``; ``high`` where ``x > high`` or ``low > high`` (then the result is
    ``high``). A NaN ``x`` sends it nowhere, and neither does ``x < low == high``:
    PyTorch's rules, kept as they are.
    """

    name = "clamp"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, x, low, high):
        xp = array_module(x)
        return xp.minimum(xp.maximum(x, low), high)

    @staticmethod
    def vjp(ctx, g):
        masks = _clamp_masks(*ctx.saved)
        return tuple(where(m, g, 0.0) if _needs(ctx, i) else None for i, m in enumerate(masks))

    @staticmethod
    def jvp(ctx, *tangents):
        out = None
        for t, m in zip(tangents, _clamp_masks(*ctx.inputs)):
            if t is not None:
                term = where(m, t, 0.0)
                out = term if out is None else out + term
        return out


def _clamp_masks(x, low, high):
    return ((x >= low) & (x <= high), (x < low) & (low < high), (x > high) | (low > high))


def _inside(x, params):
    low, high = params["low"], params["high"]
    mask = None
    if low is not None:
        mask = x >= low
    if high is not None:
        upper = x <= high
        mask = upper if mask is None else mask & upper
    return mask


class Cast(LinearFunction):
    """Change dtype; the gradient is cast back to the input's dtype by the engine."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def vjp(ctx, g):
        return g

class _NonDifferentiable(Function):
    differentiable = False

    @staticmethod
    def vjp(ctx, g):  # pragma: no cover - never recorded
        raise RuntimeError("non-differentiable op has no vjp")

    @staticmethod
    def jvp(ctx, *t):  # pragma: no cover - never propagated
        raise RuntimeError("non-differentiable op has no jvp")


class Compare(_NonDifferentiable):
    """Comparisons and logical ops: boolean results, never differentiated."""

    @staticmethod
    def forward(ctx, a, b, op):
        return getattr(array_module(a), op)(a, b)


class UnaryNonDiff(_NonDifferentiable):
    """sign, floor, isnan, logical_not ...: results with no useful gradient."""

    @staticmethod
    def forward(ctx, x, op):
        return getattr(array_module(x), op)(x)


# ------------------------------------------------------------------ public functions
def _binary(fn, a, b):
    a, b = binary_operands(fn.name, a, b)
    try:
        return apply(fn, (a, b), {})
    except ValueError:
        if a.ndim and b.ndim:
            from .checks import broadcast_error

            raise broadcast_error(fn.name, a.shape, b.shape) from None
        raise


def add(a, b):
    """Elementwise ``a + b`` with broadcasting."""
    return _binary(Add, a, b)


def sub(a, b):
    """Elementwise ``a - b`` with broadcasting."""
    return _binary(Sub, a, b)


def mul(a, b):
    """Elementwise ``a * b`` with broadcasting."""
    return _binary(Mul, a, b)


def pow(a, b):  # noqa: A001 - mirrors the operator
    """``a ** b``; a Python-number exponent takes a cheaper path."""
    from ..tensor import Tensor

    if not isinstance(b, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return pow_scalar(a, b)
    return _binary(Pow, a, b)


def pow_scalar(x, exponent: float):
    """``x ** exponent`` for a Python number ``exponent``."""
    x = to_tensor(x)
    if isinstance(exponent, int) and exponent < 0 and x.dtype.kind in "iu":
        raise RuntimeError(f"pow: Integers to negative integer powers are not allowed "
                           f"(a {x.dtype} tensor of shape {x.shape} to the power {exponent})")
    x = float_operand("pow", x) if isinstance(exponent, float) or exponent < 0 else float_operand(
        "pow", x, allow_int=True)
    return apply(PowScalar, (x,), {"exponent": exponent})


def maximum(a, b):
    """Elementwise maximum (ties share the gradient equally)."""
    return _binary(Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum (ties share the gradient equally)."""
    return _binary(Minimum, a, b)


def where(condition, a=None, b=None):
    """Pick ``a`` where ``condition`` is true, else ``b`` (broadcasting all three).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as in PyTorch.

    Example:
        >>> import ember
        >>> x = ember.tensor([-1.0, 2.0])
        >>> ember.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
    """
    if a is None and b is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: expected where(condition) or where(condition, input, other)")
    condition = to_tensor(condition)
    if condition.dtype.kind != "b":
        condition = condition.astype(bool)
    a, b = binary_operands("where", a, b)
    try:
        return apply(Where, (condition, a, b), {})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error("where", condition.shape, a.shape, b.shape) from None


def _unary(fn, x, **params):
    return apply(fn, (float_operand(fn.name, x),), params)


def neg(x):
    """``-x``."""
    return apply(Neg, (to_tensor(x),), {})


def exp(x):
    """Elementwise ``e ** x``."""
    return _unary(Exp, x)


def log(x):
    """Elementwise natural logarithm."""
    return _unary(Log, x)


def log1p(x):
    """Elementwise ``log(1 + x)``, accurate for small ``x``."""
    return _unary(Log1p, x)


def sqrt(x):
    """Elementwise square root."""
    return _unary(Sqrt, x)


def tanh(x):
    """Elementwise hyperbolic tangent."""
    return _unary(Tanh, x)


def sigmoid(x):
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return _unary(Sigmoid, x)


def relu(x):
    """Elementwise ``max(x, 0)``."""
    return _unary(Relu, x)


def sin(x):
    """Elementwise sine."""
    return _unary(Sin, x)


def cos(x):
    """Elementwise cosine."""
    return _unary(Cos, x)


def abs(x):  # noqa: A001 - mirrors the builtin
    """Elementwise absolute value."""
    return apply(Abs, (to_tensor(x),), {})


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """Clamp every element into ``[min, max]``; each bound is a number, a tensor or None.

    As ``torch.clamp``: the result is ``minimum(maximum(input, min), max)`` (so
    ``min > max`` gives ``max`` everywhere), NaN stays NaN, and the gradient reaches
    ``input`` where ``min <= input <= max``, a tensor ``min`` where ``input < min``
    and a tensor ``max`` where ``input > max``.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.clamp(ember.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
        [-1.0, 0.5, 1.0]
    """
    from ..tensor import Tensor

    if min is None and max is None:
        raise ArgumentError("clamp: at least one of 'min' or 'max' must not be None")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return apply(Clip, (to_tensor(input),), {"low": min, "high": max})
    x = to_tensor(input)
    low = -float("inf") if min is None else min
    high = float("inf") if max is None else max
    x, low = binary_operands("clamp", x, low)
    x, high = binary_operands("clamp", x, high)
    low, high = low.astype(x.dtype), high.astype(x.dtype)
    try:
        return apply(ClampTensor, (x, low, high), {})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error("clamp", x.shape, low.shape, high.shape) from None


def clip(input, min=None, max=None):  # noqa: A002
    """Alias of :func:`clamp` (``torch.clip``)."""
    return clamp(input, min, max)


def compare(op: str, a, b):
    """Apply a comparison ufunc by name (``'less'``, ``'equal'`` ...) returning a bool tensor."""
    a, b = binary_operands(op, a, b)
    try:
        return apply(Compare, (a, b), {"op": op})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error(op, a.shape, b.shape) from None


# ------------------------------------------------------------------ more smooth unary functions
class _Smooth(Function):
    """A differentiable unary function ``y = f(x)`` declared by its slope ``f'(x)``.

    Subclasses give ``forward`` and ``slope(x, y)`` (written with Ember ops, so
    higher-order gradients follow); the vjp is ``g * slope`` and the jvp ``t * slope``.
    ``y`` is None unless the subclass sets ``save_output``; ``x`` is None in the vjp
    of subclasses that need only ``y`` (``save_inputs = ()``).
    """

    save_inputs = (0,)

    @staticmethod
    def slope(x, y):
        raise NotImplementedError

    @staticmethod
    def vjp(ctx, g):
        x = ctx.saved[0] if ctx.saved else None
        with _quiet(divide="ignore", invalid="ignore", over="ignore"):  # inf/NaN slopes are the answer
            return g * ctx.fn.slope(x, ctx.out if ctx.fn.save_output else None)

    @staticmethod
    def jvp(ctx, t):
        with _quiet(divide="ignore", invalid="ignore", over="ignore"):
            return t * ctx.fn.slope(ctx.inputs[0], ctx.out if ctx.fn.save_output else None)


_LN2 = 0.6931471805599453094172321214581766
_LN10 = 2.3025850929940456840179914546843642


class Tan(_Smooth):
    save_inputs = ()
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).tan(x)

    @staticmethod
    def slope(x, y):
        return y * y + 1.0


class Asin(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arcsin(x)

    @staticmethod
    def slope(x, y):
        return rsqrt(1.0 - x * x)


class Acos(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arccos(x)

    @staticmethod
    def slope(x, y):
        return -rsqrt(1.0 - x * x)


class Atan(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arctan(x)

    @staticmethod
    def slope(x, y):
        return 1.0 / (x * x + 1.0)


class Sinh(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).sinh(x)

    @staticmethod
    def slope(x, y):
        return cosh(x)


class Cosh(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).cosh(x)

    @staticmethod
    def slope(x, y):
        return sinh(x)


class Asinh(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arcsinh(x)

    @staticmethod
    def slope(x, y):
        return rsqrt(x * x + 1.0)


class Acosh(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arccosh(x)

    @staticmethod
    def slope(x, y):
        return rsqrt(x * x - 1.0)


class Atanh(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).arctanh(x)

    @staticmethod
    def slope(x, y):
        return 1.0 / (1.0 - x * x)


class Log2(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).log2(x)

    @staticmethod
    def slope(x, y):
        return 1.0 / (x * _LN2)


class Log10(_Smooth):
    @staticmethod
    def forward(ctx, x):
        return array_module(x).log10(x)

    @staticmethod
    def slope(x, y):
        return 1.0 / (x * _LN10)


class Exp2(_Smooth):
    save_inputs = ()
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).exp2(x)

    @staticmethod
    def slope(x, y):
        return y * _LN2


class Expm1(_Smooth):
    save_inputs = ()
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).expm1(x)

    @staticmethod
    def slope(x, y):
        return y + 1.0


class Rsqrt(_Smooth):
    save_inputs = ()
    save_output = True

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        return xp.reciprocal(xp.sqrt(x))

    @staticmethod
    def slope(x, y):
        return y * y * y * -0.5


class Reciprocal(_Smooth):
    save_inputs = ()
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).reciprocal(x)

    @staticmethod
    def slope(x, y):
        return -(y * y)


def _unary_quiet(fn, x):
    # Outside the domain (log of a negative, asin(2) ...) the answer is NaN or inf, as in
    # PyTorch; NumPy's warnings about it are noise.
    with _quiet(divide="ignore", invalid="ignore", over="ignore"):
        return _unary(fn, x)


def tan(x):
    """Elementwise tangent."""
    return _unary_quiet(Tan, x)


def asin(x):
    """Elementwise inverse sine (NaN outside ``[-1, 1]``)."""
    return _unary_quiet(Asin, x)


def acos(x):
    """Elementwise inverse cosine (NaN outside ``[-1, 1]``)."""
    return _unary_quiet(Acos, x)


def atan(x):
    """Elementwise inverse tangent."""
    return _unary_quiet(Atan, x)


def sinh(x):
    """Elementwise hyperbolic sine."""
    return _unary_quiet(Sinh, x)


def cosh(x):
    """Elementwise hyperbolic cosine."""
    return _unary_quiet(Cosh, x)


def asinh(x):
    """Elementwise inverse hyperbolic sine."""
    return _unary_quiet(Asinh, x)


def acosh(x):
    """Elementwise inverse hyperbolic cosine (NaN below 1)."""
    return _unary_quiet(Acosh, x)


def atanh(x):
    """Elementwise inverse hyperbolic tangent (``±inf`` at ``±1``, NaN beyond)."""
    return _unary_quiet(Atanh, x)


def log2(x):
    """Elementwise base-2 logarithm."""
    return _unary_quiet(Log2, x)


def log10(x):
    """Elementwise base-10 logarithm."""
    return _unary_quiet(Log10, x)


def exp2(x):
    """Elementwise ``2 ** x``."""
    return _unary_quiet(Exp2, x)


def expm1(x):
    """Elementwise ``exp(x) - 1``, accurate for small ``x``."""
    return _unary_quiet(Expm1, x)


def rsqrt(x):
    """Elementwise ``1 / sqrt(x)``."""
    return _unary_quiet(Rsqrt, x)


def reciprocal(x):
    """Elementwise ``1 / x`` (integers become the default float, as in PyTorch)."""
    return _unary_quiet(Reciprocal, x)


def square(x):
    """Elementwise ``x * x`` (integers stay integers, as in PyTorch).

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.square(ember.tensor([-3, 2])).tolist()
        [9, 4]
    """
    return pow_scalar(x, 2)


# ------------------------------------------------------------------ rounding: zero gradients
class _Piecewise(Function):
    """Piecewise-constant functions (floor, sign, rounding division ...).

    PyTorch differentiates them with an exactly zero gradient, not an error: the
    result requires grad and every input gets zeros.
    """

    @staticmethod
    def vjp(ctx, *grads):
        return tuple(zeros_like(grads[0]) if e is not None else None for e in ctx.edges)

    @staticmethod
    def jvp(ctx, *tangents):
        return zeros_like(ctx.outputs[0])


class Rounding(_Piecewise):
    """``floor``, ``ceil``, ``trunc``, ``rint`` (half to even) by NumPy name."""

    name = "rounding"

    @staticmethod
    def forward(ctx, x, op):
        return getattr(array_module(x), op)(x)


class RoundDecimals(_Piecewise):
    """Half-to-even rounding to ``decimals`` places, in the input's precision as PyTorch does."""

    name = "round"

    @staticmethod
    def forward(ctx, x, decimals):
        xp = array_module(x)
        scale = x.dtype.type(10.0 ** builtins.abs(decimals))
        with _quiet(over="ignore", invalid="ignore"):
            if decimals > 0:
                return (xp.rint(x * scale) / scale).astype(x.dtype, copy=False)
            return (xp.rint(x / scale) * scale).astype(x.dtype, copy=False)


class Sign(_Piecewise):
    @staticmethod
    def forward(ctx, x):
        xp = array_module(x)
        if x.dtype.kind == "b":
            return x.copy()
        out = xp.sign(x)
        if x.dtype.kind in "fc":
            out = xp.where(xp.isnan(x), 0, out).astype(x.dtype, copy=False)  # PyTorch: sign(nan) == 0
        return out


def _copy(x):
    from .movement import Copy  # movement imports this module: resolved at call time

    return apply(Copy, (x,), {})


def _rounding(op, x):
    x = to_tensor(x)
    if x.dtype.kind in "iub":
        return _copy(x)
    return apply(Rounding, (x,), {"op": op})


def floor(x):
    """Round down; gradient 0 (integers are returned unchanged, as a copy)."""
    return _rounding("floor", x)


def ceil(x):
    """Round up; gradient 0."""
    return _rounding("ceil", x)


def trunc(x):
    """Round toward zero; gradient 0."""
    return _rounding("trunc", x)


def round(x, decimals: int = 0):  # noqa: A001 - torch.round
    """Round half to even (``torch.round``), to ``decimals`` places; gradient 0.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.round(ember.tensor([0.5, 1.5, 2.5])).tolist()
        [0.0, 2.0, 2.0]
        >>> E.round(ember.tensor([1250.0, 1350.0]), decimals=-2).tolist()
        [1200.0, 1400.0]
    """
    if decimals == 0:
        return _rounding("rint", x)
    x = to_tensor(x)
    if x.dtype.kind in "iub":
        if decimals > 0:
            return _copy(x)
        raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got {x.dtype}")
    return apply(RoundDecimals, (x,), {"decimals": int(decimals)})


def frac(x):
    """The fractional part ``x - trunc(x)`` (sign of ``x``); gradient 1."""
    x = float_operand("frac", x)
    return x - trunc(x)


def sign(x):
    """Elementwise sign (-1, 0 or 1; 0 for NaN as in PyTorch); gradient 0."""
    return apply(Sign, (to_tensor(x),), {})


# ------------------------------------------------------------------ tests and logic (no gradient)
def isnan(x):
    """Elementwise NaN test (a bool tensor)."""
    return apply(UnaryNonDiff, (to_tensor(x),), {"op": "isnan"})


def isinf(x):
    """Elementwise test for ``±inf`` (a bool tensor)."""
    return apply(UnaryNonDiff, (to_tensor(x),), {"op": "isinf"})


def isfinite(x):
    """Elementwise: neither infinite nor NaN (a bool tensor)."""
    return apply(UnaryNonDiff, (to_tensor(x),), {"op": "isfinite"})


def logical_and(a, b):
    """Elementwise ``a and b`` of the truth values (nonzero is true); a bool tensor."""
    return compare("logical_and", a, b)


def logical_or(a, b):
    """Elementwise ``a or b`` of the truth values; a bool tensor."""
    return compare("logical_or", a, b)


def logical_xor(a, b):
    """Elementwise exclusive or of the truth values; a bool tensor."""
    return compare("logical_xor", a, b)


def logical_not(x):
    """Elementwise ``not x`` (nonzero is true); a bool tensor."""
    return apply(UnaryNonDiff, (to_tensor(x),), {"op": "logical_not"})


def _integer_operands(op, a, b):
    a, b = binary_operands(op, a, b)
    for t in (a, b):
        if t.dtype.kind not in "iub":
            raise DTypeError(f"{op}: expected integer or boolean tensors, got {a.dtype} and {b.dtype}")
    return a, b


def _bitwise(op, ufunc, a, b):
    a, b = _integer_operands(op, a, b)
    try:
        return apply(Compare, (a, b), {"op": ufunc})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error(op, a.shape, b.shape) from None


def bitwise_and(a, b):
    """Elementwise bitwise AND of integer or boolean tensors."""
    return _bitwise("bitwise_and", "bitwise_and", a, b)


def bitwise_or(a, b):
    """Elementwise bitwise OR of integer or boolean tensors."""
    return _bitwise("bitwise_or", "bitwise_or", a, b)


def bitwise_xor(a, b):
    """Elementwise bitwise XOR of integer or boolean tensors."""
    return _bitwise("bitwise_xor", "bitwise_xor", a, b)


def bitwise_not(x):
    """Elementwise bitwise NOT (logical NOT for booleans)."""
    x = to_tensor(x)
    if x.dtype.kind not in "iub":
        raise TypeError(f"bitwise_not: expected an integer or boolean tensor, got {x.dtype}")
    return apply(UnaryNonDiff, (x,), {"op": "invert"})


class Shift(_NonDifferentiable):
    """Bit shifts with PyTorch's rule for shift counts outside ``[0, bits)``.

    A left shift by such a count gives 0; a right shift gives ``a >> (bits - 1)``
    (0 or -1 for signed types), where C leaves both undefined.
    """

    @staticmethod
    def forward(ctx, a, b, left):
        xp = array_module(a)
        out_dtype = xp.result_type(a, b)
        if out_dtype.kind == "b":
            out_dtype = xp.dtype("int64")
        a = a.astype(out_dtype, copy=False)
        bits = out_dtype.itemsize * 8
        bad = (b < 0) | (b >= bits)
        safe = xp.where(bad, 0, b).astype(out_dtype, copy=False)
        if left:
            return xp.where(bad, 0, xp.left_shift(a, safe)).astype(out_dtype, copy=False)
        return xp.where(bad, xp.right_shift(a, out_dtype.type(bits - 1)),
                        xp.right_shift(a, safe)).astype(out_dtype, copy=False)


def bitwise_left_shift(a, b):
    """``a << b`` elementwise for integer tensors (counts outside ``[0, bits)`` give 0)."""
    a, b = _integer_operands("bitwise_left_shift", a, b)
    return apply(Shift, (a, b), {"left": True})


def bitwise_right_shift(a, b):
    """Arithmetic ``a >> b`` elementwise for integer tensors."""
    a, b = _integer_operands("bitwise_right_shift", a, b)
    return apply(Shift, (a, b), {"left": False})


# ------------------------------------------------------------------ division and remainders
def _check_integer_divisor(op, a, b):
    if a.dtype.kind in "iub" and b.dtype.kind in "iub" and bool((b._data == 0).any()):
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero, shapes {a.shape} "
                           f"and {b.shape})")


class DivRounded(_Piecewise):
    """``a / b`` rounded toward zero (``'trunc'``) or down (``'floor'``); gradients 0."""

    name = "div_rounded"

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        xp = array_module(a)
        with _quiet(divide="ignore", invalid="ignore"):
            if rounding_mode == "floor":
                return xp.floor_divide(a, b)
            if a.dtype.kind == "f":
                return xp.trunc(a / b).astype(a.dtype, copy=False)
            q = xp.floor_divide(a, b)
            return q + ((q < 0) & (q * b != a))  # integers: floor to trunc


class Fmod(Function):
    """C's ``fmod``: the remainder has the sign of the dividend."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        with _quiet(divide="ignore", invalid="ignore"):
            return array_module(a).fmod(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return g, (-g * div(a, b, rounding_mode="trunc") if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = ta
        if tb is not None:
            term = -tb * div(a, b, rounding_mode="trunc")
            out = term if out is None else out + term
        return out


class Remainder(Function):
    """Python's ``%``: the remainder has the sign of the divisor."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        with _quiet(divide="ignore", invalid="ignore"):
            return array_module(a).remainder(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return g, (-g * div(a, b, rounding_mode="floor") if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = ta
        if tb is not None:
            term = -tb * div(a, b, rounding_mode="floor")
            out = term if out is None else out + term
        return out


def _binary_checked(fn, op, a, b, params=None):
    a, b = binary_operands(op, a, b)
    _check_integer_divisor(op, a, b)
    try:
        return apply(fn, (a, b), params or {})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error(op, a.shape, b.shape) from None


def div(a, b, rounding_mode: str | None = None):
    """Elementwise division ``a / b``, as ``torch.div``.

    Args:
        rounding_mode: None for true division (integers are promoted to the
            default float), ``'trunc'`` to round toward zero, ``'floor'`` to round
            down. The rounded forms keep integer dtypes and have zero gradients.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.div(ember.tensor([-7, 7]), 2, rounding_mode="trunc").tolist()
        [-3, 3]
        >>> E.div(ember.tensor([-7, 7]), 2, rounding_mode="floor").tolist()
        [-4, 3]
    """
    if rounding_mode is None:
        a, b = binary_operands("div", a, b)
        if a.dtype.kind not in "fc":
            a = a.astype(default_dtype())
        if b.dtype.kind not in "fc":
            b = b.astype(a.dtype)
        return _binary(Div, a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return _binary_checked(DivRounded, "div", a, b, {"rounding_mode": rounding_mode})


def true_divide(a, b):
    """Alias of ``div(a, b)`` (true division)."""
    return div(a, b)


def floor_divide(a, b):
    """``a // b`` rounded down (Python's ``//``); zero gradients."""
    return div(a, b, rounding_mode="floor")


def fmod(a, b):
    """C's ``fmod``: ``a - trunc(a / b) * b``, with the sign of ``a``.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.fmod(ember.tensor([-3.0, 3.0]), 2.0).tolist()
        [-1.0, 1.0]
    """
    return _binary_checked(Fmod, "fmod", a, b)


def remainder(a, b):
    """Python's ``%``: ``a - floor(a / b) * b``, with the sign of ``b``.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.remainder(ember.tensor([-3.0, 3.0]), 2.0).tolist()
        [1.0, 1.0]
    """
    return _binary_checked(Remainder, "remainder", a, b)


# ------------------------------------------------------------------ two-argument smooth functions
class Atan2(Function):
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).arctan2(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        r2 = a * a + b * b
        return (g * b / r2 if _needs(ctx, 0) else None), (-g * a / r2 if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        r2 = a * a + b * b
        out = None if ta is None else ta * b / r2
        if tb is not None:
            term = -tb * a / r2
            out = term if out is None else out + term
        return out


class Hypot(Function):
    save_inputs = (0, 1)
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).hypot(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        h = ctx.out
        return (g * a / h if _needs(ctx, 0) else None), (g * b / h if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        h = ctx.out
        out = None if ta is None else ta * a / h
        if tb is not None:
            term = tb * b / h
            out = term if out is None else out + term
        return out


class Logaddexp(Function):
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).logaddexp(a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        return (g * sigmoid(a - b) if _needs(ctx, 0) else None), (g * sigmoid(b - a) if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = None if ta is None else ta * sigmoid(a - b)
        if tb is not None:
            term = tb * sigmoid(b - a)
            out = term if out is None else out + term
        return out


class Xlogy(Function):
    """``x * log(y)``, with 0 where ``x == 0`` (unless ``y`` is NaN)."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, x, y):
        xp = array_module(x)
        with _quiet(divide="ignore", invalid="ignore"):
            return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y)).astype(xp.result_type(x, y), copy=False)

    @staticmethod
    def vjp(ctx, g):
        x, y = ctx.saved
        with _quiet(divide="ignore", invalid="ignore"):
            gx = _xlogy_x_slope(g, x, y) if _needs(ctx, 0) else None
            gy = g * x / y if _needs(ctx, 1) else None
        return gx, gy

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.inputs
        with _quiet(divide="ignore", invalid="ignore"):
            out = None if tx is None else _xlogy_x_slope(tx, x, y)
            if ty is not None:
                term = ty * x / y
                out = term if out is None else out + term
        return out


def _xlogy_x_slope(v, x, y):
    # PyTorch: xlogy(v, y), masked to 0 where x == 0 and y <= 0.
    return where((x == 0) & (y <= 0), 0.0, xlogy(v, y))


def _float_binary(fn, op, a, b):
    a, b = binary_operands(op, a, b)
    if a.dtype.kind not in "fc":
        a = a.astype(default_dtype())
    if b.dtype.kind not in "fc":
        b = b.astype(a.dtype)
    with _quiet(divide="ignore", invalid="ignore", over="ignore"):
        try:
            return apply(fn, (a, b), {})
        except ValueError:
            from .checks import broadcast_error

            raise broadcast_error(op, a.shape, b.shape) from None


def atan2(a, b):
    """The angle of the point ``(b, a)``: ``atan(a / b)`` in the right quadrant."""
    return _float_binary(Atan2, "atan2", a, b)


arctan2 = atan2


def hypot(a, b):
    """``sqrt(a**2 + b**2)`` without overflow."""
    return _float_binary(Hypot, "hypot", a, b)


def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow."""
    return _float_binary(Logaddexp, "logaddexp", a, b)


def xlogy(x, y):
    """``x * log(y)``, defined as 0 where ``x == 0`` (as ``torch.xlogy``).

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.xlogy(ember.tensor([0.0, 2.0]), ember.tensor([0.0, 1.0])).tolist()
        [0.0, 0.0]
    """
    return _float_binary(Xlogy, "xlogy", x, y)


class Copysign(Function):
    """``|a|`` with the sign of ``b`` (``-0.0`` counts as negative, as in C and PyTorch).

    d/da is ``copysign(1, a) * copysign(1, b)`` (0 where ``a == 0``, as PyTorch
    defines it); ``b`` only selects a sign, so d/db is 0.
    """

    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        return array_module(a).copysign(a, b)

    @staticmethod
    def vjp(ctx, g):
        (a,) = ctx.saved
        ga = g * _copysign_slope(a, ctx.out) if _needs(ctx, 0) else None
        return ga, (zeros_like(g) if _needs(ctx, 1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        (a, _) = ctx.inputs
        return zeros_like(ctx.outputs[0]) if ta is None else ta * _copysign_slope(a, ctx.out)


def _copysign_slope(a, out):
    with _quiet(divide="ignore", invalid="ignore"):
        return where(a == 0, 0.0, out / a)


def copysign(input, other):
    """The magnitude of ``input`` with the sign of ``other`` (``torch.copysign``); integers give floats.

    Example:
        >>> import ember
        >>> ember.copysign(ember.tensor([1.0, -2.0]), -1.0).tolist()
        [-1.0, -2.0]
    """
    return _float_binary(Copysign, "copysign", input, other)


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (``torch.isclose``), a bool tensor.

    Infinities are close only to themselves; NaNs only when ``equal_nan``.

    Example:
        >>> import ember
        >>> ember.isclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0 + 1e-9, 2.1])).tolist()
        [True, False]
    """
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be non-negative, got rtol={rtol} and atol={atol}")
    a, b = binary_operands("isclose", input, other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose: expected both tensors to have the same dtype, got {a.dtype} and {b.dtype}")
    return apply(IsClose, (a, b), {"rtol": float(rtol), "atol": float(atol), "equal_nan": bool(equal_nan)})


class IsClose(_NonDifferentiable):
    """``isclose`` as one primitive, so that ``ember.compile`` replays it."""

    name = "isclose"

    @staticmethod
    def forward(ctx, x, y, rtol, atol, equal_nan):
        xp = array_module(x)
        with _quiet(invalid="ignore", over="ignore"):
            if x.dtype.kind in "fc":
                close = (x == y) | (xp.isfinite(x) & xp.isfinite(y) & (xp.abs(x - y) <= atol + rtol * xp.abs(y)))
                if equal_nan:
                    close = close | (xp.isnan(x) & xp.isnan(y))
            else:
                diff = xp.abs(x.astype(xp.float64) - y.astype(xp.float64))
                close = (x == y) | (diff <= atol + rtol * xp.abs(y.astype(xp.float64)))
        return xp.asarray(close)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def lerp(start, end, weight):
    """Linear interpolation ``start + weight * (end - start)`` (``torch.lerp``).

    Like PyTorch, it is computed from ``end`` when ``|weight| >= 0.5``, so that
    ``weight == 1`` gives ``end`` exactly.

    Example:
        >>> import ember
        >>> from ember.ops import elementwise as E
        >>> E.lerp(ember.tensor([0.0, 10.0]), ember.tensor([10.0, 20.0]), 0.5).tolist()
        [5.0, 15.0]
    """
    from ..tensor import Tensor

    start, end = binary_operands("lerp", start, end)
    diff = end - start
    if not isinstance(weight, Tensor):
        weight = float(weight)
        return start + diff * weight if builtins.abs(weight) < 0.5 else end - diff * (1.0 - weight)
    return where(abs(weight) < 0.5, start + diff * weight, end - diff * (1.0 - weight))
