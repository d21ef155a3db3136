"""Elementwise primitives: arithmetic, transcendental functions, comparisons, where.

Each primitive's forward, vjp and jvp stand together. Vjps return gradients in
the *output's* broadcast shape; the engine sums them back to each input's shape
in one shared place (``engine._sum_to_shape``).
"""
from __future__ import annotations

from ..autograd.function import Function, LinearFunction, apply, array_rule, rule_is_differentiated
from ..backend import array_module, default_dtype
from .checks import binary_operands, float_operand, to_tensor


def _needs(ctx, i):
    return ctx.edges[i] is not None


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
    """``a ** b`` with both operands tensors (the gradient in ``b`` uses log(a))."""

    save_inputs = (0, 1)
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        return a ** b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        ga = g * b * a ** (b - 1) if _needs(ctx, 0) else None
        gb = g * ctx.out * _safe_log(a) if _needs(ctx, 1) else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = None if ta is None else ta * b * a ** (b - 1)
        if tb is not None:
            term = tb * ctx.out * _safe_log(a)
            out = term if out is None else out + term
        return out


def _safe_log(a):
    # d(a**b)/db = a**b log(a); at a == 0 the product is 0 (for b > 0), not nan.
    return where(a > 0, log(where(a > 0, a, 1.0)), 0.0)


class PowScalar(Function):
    """``x ** p`` for a Python number ``p`` (the common case, kept cheap)."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, exponent):
        if exponent == 2:
            return x * x
        return x ** exponent

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        p = ctx.params["exponent"]
        if p == 2:
            return g * (x * 2.0)
        return g * (p * pow_scalar(x, p - 1))

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        p = ctx.params["exponent"]
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
        if not rule_is_differentiated():
            return array_rule(_tanh_vjp, g, ctx.out)
        y = ctx.out
        return g * (1.0 - y * y)

    @staticmethod
    def jvp(ctx, t):
        y = ctx.out
        return t * (1.0 - y * y)


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
        if not rule_is_differentiated():
            return array_rule(_sigmoid_vjp, g, ctx.out)
        y = ctx.out
        return g * (y * (1.0 - y))

    @staticmethod
    def jvp(ctx, t):
        y = ctx.out
        return t * (y * (1.0 - y))


class Relu(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return array_module(x).maximum(x, 0)

    @staticmethod
    def vjp(ctx, g):
        if not rule_is_differentiated():
            return array_rule(_relu_vjp, g, ctx.out)
        return g * (ctx.out > 0).astype(g.dtype)

    @staticmethod
    def jvp(ctx, t):
        return t * (ctx.out > 0).astype(t.dtype)


# First-order vjps of the common activations as single array kernels (the hot path);
# the composed forms above are used when the rule itself is differentiated.
def _tanh_vjp(g, y):
    out = y * y
    array_module(y).subtract(1.0, out, out=out)
    out *= g
    return out


def _sigmoid_vjp(g, y):
    out = 1.0 - y
    out *= y
    out *= g
    return out


def _relu_vjp(g, y):
    return g * (y > 0)


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


def div(a, b):
    """Elementwise true division ``a / b`` (integers are promoted to the default float)."""
    a, b = binary_operands("div", a, b)
    if a.dtype.kind not in "fc":
        a = a.astype(default_dtype())
    if b.dtype.kind not in "fc":
        b = b.astype(a.dtype)
    return _binary(Div, a, b)


def pow(a, b):  # noqa: A001 - mirrors the operator
    """``a ** b``; a Python-number exponent takes a cheaper path."""
    from ..tensor import Tensor

    if not isinstance(b, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return pow_scalar(a, b)
    return _binary(Pow, a, b)


def pow_scalar(x, exponent: float):
    """``x ** exponent`` for a Python number ``exponent``."""
    x = float_operand("pow", x) if isinstance(exponent, float) or exponent < 0 else float_operand(
        "pow", x, allow_int=True)
    return apply(PowScalar, (x,), {"exponent": exponent})


def maximum(a, b):
    """Elementwise maximum (ties share the gradient equally)."""
    return _binary(Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum (ties share the gradient equally)."""
    return _binary(Minimum, a, b)


def where(condition, a, b):
    """Pick ``a`` where ``condition`` is true, else ``b`` (broadcasting all three).

    Example:
        >>> import ember
        >>> x = ember.tensor([-1.0, 2.0])
        >>> ember.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
    """
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


def clip(x, low=None, high=None):
    """Clamp every element into ``[low, high]``; either bound may be None."""
    if low is None and high is None:
        raise ValueError("clip: at least one of low and high must be given")
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip: low ({low}) must not exceed high ({high})")
    return apply(Clip, (to_tensor(x),), {"low": low, "high": high})


def sign(x):
    """Elementwise sign (-1, 0 or 1), not differentiable."""
    return apply(UnaryNonDiff, (to_tensor(x),), {"op": "sign"})


def compare(op: str, a, b):
    """Apply a comparison ufunc by name (``'less'``, ``'equal'`` ...) returning a bool tensor."""
    a, b = binary_operands(op, a, b)
    try:
        return apply(Compare, (a, b), {"op": op})
    except ValueError:
        from .checks import broadcast_error

        raise broadcast_error(op, a.shape, b.shape) from None
