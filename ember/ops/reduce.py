"""Reductions: sum, max, min, prod, cumsum as primitives; mean, var, std, logsumexp composed.

``max`` and ``min`` split the gradient evenly among tied extrema (the subgradient
that keeps ``max(x) == max(x, x)`` consistent), as the core issue asks.
"""
from __future__ import annotations

import builtins

from ..autograd.function import Function, LinearFunction, apply
from ..backend import array_module
from ..errors import ArgumentError, ShapeError
from .checks import float_operand, to_tensor
from .movement import broadcast_to, flip, reshape, _axis


def _axes(op, axis, ndim):
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(sorted({_axis(op, a, ndim) for a in items}))
    if len(axes) != len(items):
        raise ArgumentError(f"{op}: repeated axis in {axis}")
    return axes if ndim else ()  # reducing a 0-d tensor over dim 0 (or -1) leaves it as it is


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, ctx):
    """Broadcast a reduced gradient back to the input's shape."""
    shape = ctx.in_meta[0][0]
    axes = ctx.params["axis"]
    if not ctx.params["keepdims"]:
        g = reshape(g, _keep_shape(shape, axes))
    return broadcast_to(g, shape)


class Sum(LinearFunction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(ctx, g):
        return _expand_back(g, ctx)

class _Extremum(Function):
    save_inputs = (0,)
    save_output = True

    @staticmethod
    def share(ctx, x, out):
        """Weights that spread a unit gradient evenly over the tied extrema."""
        p = ctx.params
        if not p["keepdims"]:
            out = reshape(out, _keep_shape(x.shape, p["axis"]))
        hit = (x == out).astype(x.dtype)
        return hit / hit.sum(axis=p["axis"], keepdims=True)

    @classmethod
    def vjp(cls, ctx, g):
        (x,) = ctx.saved
        weights = cls.share(ctx, x, ctx.out.detach())
        return _expand_back(g, ctx) * weights

    @classmethod
    def jvp(cls, ctx, t):
        (x,) = ctx.inputs
        weights = cls.share(ctx, x, ctx.out.detach())
        return (t * weights).sum(axis=ctx.params["axis"], keepdims=ctx.params["keepdims"])


class Max(_Extremum):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)


class Min(_Extremum):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)


class Prod(Function):
    """Product; the gradient stays exact when inputs contain zeros."""

    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.prod(axis=axis, keepdims=keepdims)

    @staticmethod
    def others(x, axis):
        # d prod / d x_i = product of the other entries. Dividing out/x fails at
        # zeros, so count them: none -> prod/x; exactly one -> at the zero, the
        # product of the non-zeros; two or more -> zero everywhere.
        from .elementwise import where

        is_zero = x == 0
        nonzero = where(is_zero, 1.0, x)
        prod_nonzero = prod(nonzero, axis=axis, keepdims=True)
        zeros = is_zero.astype(x.dtype).sum(axis=axis, keepdims=True)
        return where(zeros == 0, prod_nonzero / nonzero,
                     where((zeros == 1) & is_zero, prod_nonzero, 0.0))

    @staticmethod
    def vjp(ctx, g):
        (x,) = ctx.saved
        return _expand_back(g, ctx) * Prod.others(x, ctx.params["axis"])

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.inputs
        p = ctx.params
        return (t * Prod.others(x, p["axis"])).sum(axis=p["axis"], keepdims=p["keepdims"])


class Cumsum(LinearFunction):
    @staticmethod
    def forward(ctx, x, axis):
        return x.cumsum(axis=axis)

    @staticmethod
    def vjp(ctx, g):
        axis = ctx.params["axis"]
        return flip(cumsum(flip(g, axis), axis), axis)

class ArgExtremum(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, keepdims, op):
        xp = array_module(x)
        out = getattr(xp, op)(x, axis=axis)
        if keepdims:
            out = xp.expand_dims(out, axis) if axis is not None else out.reshape((1,) * x.ndim)
        return out


# ------------------------------------------------------------------ public functions
def dim_argument(op: str, dim, axis):
    """PyTorch's ``dim=`` with NumPy's ``axis=`` accepted as an alias (not both)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and its alias axis={axis!r}; pass one")
    return axis


def keepdim_argument(keepdim: bool, keepdims) -> bool:
    """PyTorch's ``keepdim=`` with NumPy's ``keepdims=`` accepted as an alias."""
    return bool(keepdim if keepdims is None else keepdims)


def _reduce(fn, x, axis, keepdims):
    x = to_tensor(x)
    axes = _axes(fn.name, axis, x.ndim)
    if fn in (Max, Min) and x.numel() == 0:
        raise ShapeError(f"{fn.name}: cannot reduce an empty tensor of shape {x.shape}")
    for a in axes:
        if fn in (Max, Min) and x.shape[a] == 0:
            raise ShapeError(f"{fn.name}: cannot reduce empty dimension {a} of shape {x.shape}")
    return apply(fn, (x,), {"axis": axes, "keepdims": bool(keepdims)})


def _with_dtype(x, dtype):
    return x if dtype is None else to_tensor(x).to(dtype)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or None for all); ``dtype`` converts first.

    Example:
        >>> ember.tensor([[1., 2.], [3., 4.]]).sum(dim=0)
        tensor([4., 6.])
    """
    x = to_tensor(input)
    if dtype is None and (x.dtype.kind in "bu" or x.dtype.kind == "i" and x.dtype.itemsize < 8):
        dtype = "int64"  # PyTorch sums bools and small integers as int64
    return _reduce(Sum, _with_dtype(x, dtype), dim_argument("sum", dim, axis), keepdim_argument(keepdim, keepdims))


def amax(input, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
    """Maximum over ``dim`` (an int or a tuple; all dims by default); tied maxima share the gradient."""
    dim = dim_argument("amax", None if dim == () else dim, axis)
    return _reduce(Max, input, dim, keepdim_argument(keepdim, keepdims))


def amin(input, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
    """Minimum over ``dim`` (an int or a tuple; all dims by default); tied minima share the gradient."""
    dim = dim_argument("amin", None if dim == () else dim, axis)
    return _reduce(Min, input, dim, keepdim_argument(keepdim, keepdims))


def _extremum_with_index(op: str, fn, arg: str, input, dim, keepdim, axis, keepdims, other):
    """PyTorch's ``max``/``min``: the value of all elements, ``(values, indices)`` along ``dim``,
    or the elementwise extremum with a second tensor."""
    from .. import return_types
    from ..autograd.function import _tensor_class
    from .elementwise import maximum, minimum

    if isinstance(dim, _tensor_class()) or other is not None:
        second = other if other is not None else dim
        return (maximum if op == "max" else minimum)(input, second)
    dim = dim_argument(op, dim, axis)
    keepdim = keepdim_argument(keepdim, keepdims)
    if dim is None:
        return _reduce(fn, input, None, keepdim)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}; use amax/amin to reduce several dims")
    x = to_tensor(input)
    indices = _arg(x, dim, True, arg)
    # Gathering the values gives the gradient to the reported index only, as PyTorch does.
    from .movement import gather

    values = gather(x, dim, indices) if x.ndim else x
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return getattr(return_types, op)(values, indices)


def max(input, dim=None, keepdim: bool = False, *, other=None, axis=None, keepdims=None):  # noqa: A001
    """PyTorch's ``max``: over all elements a value (tied maxima share the gradient);
    with ``dim`` a named tuple ``(values, indices)`` (the first maximum's index); with a
    tensor as second argument, the elementwise maximum.

    Example:
        >>> values, indices = ember.tensor([[1., 5.], [7., 2.]]).max(dim=1)
        >>> indices
        tensor([1, 0])
    """
    return _extremum_with_index("max", Max, "argmax", input, dim, keepdim, axis, keepdims, other)


def min(input, dim=None, keepdim: bool = False, *, other=None, axis=None, keepdims=None):  # noqa: A001
    """PyTorch's ``min``: a value, ``(values, indices)`` along ``dim``, or the elementwise minimum."""
    return _extremum_with_index("min", Min, "argmin", input, dim, keepdim, axis, keepdims, other)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Product over ``dim`` (exact gradients at zeros)."""
    return _reduce(Prod, _with_dtype(input, dtype), dim_argument("prod", dim, axis),
                   keepdim_argument(keepdim, keepdims))


def _count(x, axes) -> int:
    count = 1
    for a in axes:
        count *= x.shape[a]
    return count


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Arithmetic mean over ``dim``. Integer tensors raise as in PyTorch unless ``dtype`` is given."""
    x = to_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fcV":  # "V": ml_dtypes' bfloat16
        raise TypeError(f"mean: input dtype should be floating point or complex, got {x.dtype}; "
                        "pass dtype= or convert with .float()")
    axes = _axes("mean", dim_argument("mean", dim, axis), x.ndim)
    keepdim = keepdim_argument(keepdim, keepdims)
    count = _count(x, axes)
    return sum(x, axes, keepdim) / count if count else sum(x, axes, keepdim) * float("nan")


def _correction(op: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass unbiased= or correction=, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
        keepdims=None):
    """Variance over ``dim``; Bessel-corrected by default (``correction=1``), as in PyTorch.

    ``var(x, dim, unbiased, keepdim)`` and ``var(x, dim, correction=0)`` are both accepted.
    """
    x = float_operand("var", input)
    if isinstance(unbiased, (int, float)) and not isinstance(unbiased, bool):
        raise TypeError("var: the third positional argument is unbiased (a bool); pass correction= by keyword")
    axes = _axes("var", dim_argument("var", dim, axis), x.ndim)
    keepdim = keepdim_argument(keepdim, keepdims)
    count = _count(x, axes)
    centered = x - mean(x, axes, keepdim=True)
    return sum(centered * centered, axes, keepdim) / builtins.max(count - _correction("var", unbiased, correction), 0)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
        keepdims=None):
    """Standard deviation over ``dim`` (``correction=1`` by default, as in PyTorch)."""
    return var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """``(var, mean)`` over ``dim``, as ``torch.var_mean``."""
    from .. import return_types

    dim = dim_argument("var_mean", dim, axis)
    keepdim = keepdim_argument(keepdim, keepdims)
    return return_types.var_mean(var(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """``(std, mean)`` over ``dim``, as ``torch.std_mean``."""
    from .. import return_types

    dim = dim_argument("std_mean", dim, axis)
    keepdim = keepdim_argument(keepdim, keepdims)
    return return_types.std_mean(std(input, dim, unbiased, keepdim, correction=correction),
                                 mean(input, dim, keepdim))


def logsumexp(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow.

    Rows that are entirely ``-inf`` give ``-inf`` (not NaN).
    """
    from .elementwise import where

    x = float_operand("logsumexp", input)
    axes = _axes("logsumexp", dim_argument("logsumexp", dim, axis), x.ndim)
    keepdim = keepdim_argument(keepdim, keepdims)
    # The shift is a constant for differentiation; a non-finite one (an all -inf
    # row) is replaced by 0 so that the row yields log(0) = -inf rather than NaN.
    shift = amax(x.detach(), axes, keepdim=True)
    shift = where(shift.isfinite(), shift, 0.0)
    out = sum((x - shift).exp(), axes, True).log() + shift
    return out if keepdim else reshape(out, tuple(s for i, s in enumerate(out.shape) if i not in axes))


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """Cumulative sum along ``dim``."""
    x = _with_dtype(to_tensor(input), dtype)
    dim = dim_argument("cumsum", dim, axis)
    if dim is None:
        raise TypeError("cumsum: missing the dim argument")
    axis = _axis("cumsum", dim, x.ndim)
    if x.ndim == 0:
        return apply(Cumsum, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(Cumsum, (x,), {"axis": axis})


def argmax(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Index of the maximum (first one on ties); over the flattened tensor when ``dim`` is None."""
    return _arg(input, dim_argument("argmax", dim, axis), keepdim_argument(keepdim, keepdims), "argmax")


def argmin(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Index of the minimum (first one on ties); over the flattened tensor when ``dim`` is None."""
    return _arg(input, dim_argument("argmin", dim, axis), keepdim_argument(keepdim, keepdims), "argmin")


def _arg(x, axis, keepdims, op):
    x = to_tensor(x)
    if x.numel() == 0:
        raise ShapeError(f"{op}: empty tensor of shape {x.shape}")
    if axis is not None:
        axis = _axis(op, axis, x.ndim)
    return apply(ArgExtremum, (x,), {"axis": axis, "keepdims": keepdims, "op": op})


class _Truth(Function):
    """``any``/``all`` as a primitive, so that ``ember.compile`` replays them rather than freezing them."""

    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, keepdims, op):
        return getattr(x, op)(axis=axis, keepdims=keepdims)


def any(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001
    """Whether any element (along ``dim``) is true (a bool tensor)."""
    x = to_tensor(input)
    axes = _axes("any", dim_argument("any", dim, axis), x.ndim)
    return apply(_Truth, (x,), {"axis": axes, "keepdims": keepdim_argument(keepdim, keepdims), "op": "any"})


def all(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001
    """Whether every element (along ``dim``) is true (a bool tensor)."""
    x = to_tensor(input)
    axes = _axes("all", dim_argument("all", dim, axis), x.ndim)
    return apply(_Truth, (x,), {"axis": axes, "keepdims": keepdim_argument(keepdim, keepdims), "op": "all"})


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``), int64."""
    x = to_tensor(input)
    return sum(x != 0, dim)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """Vector p-norm over ``dim`` (``torch.norm``): ``p`` a number, ``inf``, ``-inf`` or ``"fro"`` (2-norm).

    A zero vector gets PyTorch's zero gradient: ``sqrt`` and ``s ** (1/p)`` have infinite
    slopes at 0, so their argument is replaced by 1 there (and the result by 0).
    """
    from .elementwise import pow_scalar, where

    x = float_operand("norm", _with_dtype(input, dtype))
    if p == "fro":
        p = 2
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        raise ArgumentError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r}")
    if p == float("inf"):
        return amax(x.abs(), () if dim is None else dim, keepdim)
    if p == float("-inf"):
        return amin(x.abs(), () if dim is None else dim, keepdim)
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    if p == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    total = sum(x * x, dim, keepdim) if p == 2 else sum(pow_scalar(x.abs(), p), dim, keepdim)
    nonzero = total > 0
    safe = where(nonzero, total, 1.0)
    return where(nonzero, safe.sqrt() if p == 2 else pow_scalar(safe, 1.0 / p), 0.0)
