"""Scans (running reductions along one dimension): cumprod, cummax, cummin, logcumsumexp.

``cumsum`` lives with the other sums in ``ember.ops.reduce``. The rules here are
written with Ember ops, so they differentiate again:

* ``cumprod``'s gradient stays exact where the input holds zeros (the naive
  ``reverse_cumsum(g * out) / x`` divides by them): before a slice's first zero the
  quotient is safe; at the first zero the gradient is the reverse cumsum of
  ``g * cumprod(x with that zero replaced by 1)``; after it, every product still
  holds the zero, so the gradient is 0. This is PyTorch's ``cumprod_backward``.
* ``logcumsumexp`` runs as ``logaddexp.accumulate`` (stable at any magnitude);
  its rules split a cotangent into positive and negative parts and add them in
  log space, as PyTorch's ``logcumsumexp_backward`` does, so they never overflow.
* ``cummax`` / ``cummin`` find indices (PyTorch's tie rule: the *last* index of an
  equal extremum; NaN propagates and is indexed at the latest NaN), and their
  values are ``gather(input, dim, indices)``, so gradients go to those indices.
"""
from __future__ import annotations

from typing import Any

from .. import return_types
from ..autograd.function import Function, apply
from ..backend import array_module, numpy_module
from ..kernels import scan as K
from .checks import to_tensor
from .dim_helpers import at_least_1d, one_dim
from .movement import flip, gather, reshape

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp"]


def _reverse_cumsum(x, axis: int):
    """``out[i] = sum_{j >= i} x[j]`` along ``axis``."""
    from .reduce import cumsum

    return flip(cumsum(flip(x, axis), axis), axis)


# ------------------------------------------------------------------ cumprod
class Cumprod(Function):
    """Running product along ``axis``; its rules are exact where the input has zeros."""

    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return array_module(x).cumprod(x, axis=axis)

    @staticmethod
    def zero_masks(x, axis):
        """(before the slice's first zero, at the first zero, product with that zero set to 1)."""
        from .elementwise import where
        from .reduce import cumsum

        is_zero = x.detach() == 0
        zeros_so_far = cumsum(is_zero.astype("int64"), axis)
        before = zeros_so_far == 0
        first = is_zero & (zeros_so_far == 1)
        return before, first, cumprod(where(first, 1.0, x), axis)

    @staticmethod
    def vjp(ctx, g):
        from .elementwise import where

        (x,) = ctx.saved
        axis = ctx.params["axis"]
        before, first, without_first_zero = Cumprod.zero_masks(x, axis)
        safe_x = where(before, x, 1.0)
        grad_before = _reverse_cumsum(g * ctx.out, axis) / safe_x
        grad_first = _reverse_cumsum(g * without_first_zero, axis)
        return where(before, grad_before, where(first, grad_first, 0.0))

    @staticmethod
    def jvp(ctx, t):
        from .elementwise import where
        from .reduce import cumsum, sum as reduce_sum

        (x,) = ctx.inputs
        axis = ctx.params["axis"]
        before, first, without_first_zero = Cumprod.zero_masks(x, axis)
        no_zero_yet = ctx.out * cumsum(t / where(before, x, 1.0), axis)
        # Once the first zero is met, only its own tangent survives the product rule.
        tangent_at_zero = reduce_sum(where(first, t, 0.0), axis, True)
        return where(before, no_zero_yet, without_first_zero * tangent_at_zero)


def cumprod(input: Any, dim: int | None = None, *, dtype=None, axis: int | None = None):
    """Running product along ``dim``: ``out[i] = input[0] * ... * input[i]``.

    Integer and bool inputs give int64 (as in PyTorch) unless ``dtype`` is given.
    The gradient is exact where the input holds zeros.

    Example:
        >>> import ember
        >>> from ember.ops.scan import cumprod
        >>> cumprod(ember.tensor([1, 2, 3, 4]), 0).tolist()
        [1, 2, 6, 24]
    """
    x = to_tensor(input)
    if dtype is not None:
        x = x.astype(dtype)
    elif x.dtype.kind in "biu":
        x = x.astype("int64")
    x, was_0d = at_least_1d(x)
    out = apply(Cumprod, (x,), {"axis": one_dim("cumprod", dim, axis, x.ndim)})
    return reshape(out, ()) if was_0d else out


# ------------------------------------------------------------------ cummax / cummin
class RunningExtremumIndex(Function):
    """Index of the running maximum (``largest``) or minimum along ``axis``."""

    name = "cummax"
    differentiable = False

    @staticmethod
    def forward(ctx, x, axis, largest):
        return K.running_extremum_indices(x, axis, largest)


def _running_extremum(op, input, dim, axis, largest):
    x, was_0d = at_least_1d(to_tensor(input))
    axis = one_dim(op, dim, axis, x.ndim)
    indices = apply(RunningExtremumIndex, (x,), {"axis": axis, "largest": largest})
    values = gather(x, axis, indices)
    if was_0d:
        values, indices = reshape(values, ()), reshape(indices, ())
    return values, indices


def cummax(input: Any, dim: int | None = None, *, axis: int | None = None) -> return_types.cummax:
    """Running maximum along ``dim`` and, for each position, the index it was last seen at.

    Ties report the latest index (PyTorch's rule); NaN propagates. Gradients of
    the values go to those indices.

    Example:
        >>> import ember
        >>> from ember.ops.scan import cummax
        >>> values, indices = cummax(ember.tensor([1, 3, 3, 2]), 0)
        >>> values.tolist(), indices.tolist()
        ([1, 3, 3, 3], [0, 1, 2, 2])
    """
    return return_types.cummax(*_running_extremum("cummax", input, dim, axis, True))


def cummin(input: Any, dim: int | None = None, *, axis: int | None = None) -> return_types.cummin:
    """Running minimum along ``dim`` and the index it was last seen at (ties: the latest).

    Example:
        >>> import ember
        >>> from ember.ops.scan import cummin
        >>> cummin(ember.tensor([3, 1, 1, 2]), 0).indices.tolist()
        [0, 1, 2, 2]
    """
    return return_types.cummin(*_running_extremum("cummin", input, dim, axis, False))


# ------------------------------------------------------------------ logcumsumexp
def _log_parts(v):
    """``(log max(v, 0), log max(-v, 0))``, with a huge negative number standing for log 0.

    The stand-in is finite (a quarter of the dtype's lowest value): ``exp`` of it
    is exactly 0, as ``exp(-inf)`` would be, but subtracting it from ``-inf`` or
    adding ``inf`` to it gives no NaN when these rules are differentiated again.
    """
    from .elementwise import where

    log_zero = float(numpy_module().finfo(v.dtype).min) / 4
    positive, negative = v > 0, v < 0
    log_pos = where(positive, where(positive, v, 1.0).log(), log_zero)
    log_neg = where(negative, where(negative, -v, 1.0).log(), log_zero)
    return log_pos, log_neg


class LogCumSumExp(Function):
    """``log(cumsum(exp(x)))`` along ``axis``, computed as a running ``logaddexp``."""

    name = "logcumsumexp"
    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return K.accumulate("logaddexp", x, axis)

    @staticmethod
    def vjp(ctx, g):
        # grad[k] = sum_{i >= k} g[i] exp(x[k] - out[i]), each sign summed in log space.
        (x,) = ctx.saved
        axis = ctx.params["axis"]
        log_pos, log_neg = _log_parts(g)
        out = ctx.out

        def reverse_lcse(v):
            return flip(logcumsumexp(flip(v, axis), axis), axis)

        return (x + reverse_lcse(log_pos - out)).exp() - (x + reverse_lcse(log_neg - out)).exp()

    @staticmethod
    def jvp(ctx, t):
        # tangent[i] = sum_{k <= i} t[k] exp(x[k] - out[i]).
        (x,) = ctx.inputs
        axis = ctx.params["axis"]
        log_pos, log_neg = _log_parts(t)
        out = ctx.out
        return ((logcumsumexp(log_pos + x, axis) - out).exp()
                - (logcumsumexp(log_neg + x, axis) - out).exp())


def logcumsumexp(input: Any, dim: int | None = None, *, axis: int | None = None):
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow or underflow.

    Example:
        >>> import ember
        >>> from ember.ops.scan import logcumsumexp
        >>> logcumsumexp(ember.tensor([-1000.0, 0.0]), 0).tolist()
        [-1000.0, 0.0]
    """
    x = to_tensor(input)
    if x.dtype.kind not in "fc":
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {x.dtype} "
                        "(convert it with .float() first)")
    x, was_0d = at_least_1d(x)
    out = apply(LogCumSumExp, (x,), {"axis": one_dim("logcumsumexp", dim, axis, x.ndim)})
    return reshape(out, ()) if was_0d else out
