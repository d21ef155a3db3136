"""Activation functions (the stateless forms of ``ember.nn``'s activation layers).

Most are compositions of core primitives; ``gelu``, ``softmax`` and
``log_softmax`` are fused primitives from :mod:`ember.ops.nn`. Piecewise
functions avoid ``where`` where an exact formulation exists: NumPy's ``where``
on a data-dependent (unpredictable) mask runs at a few ns per element, far
slower than arithmetic, and ``where`` alone would still multiply an unused
branch's infinite derivative (``exp`` of a large number) by zero and give NaN.
Kink gradients follow PyTorch (LeakyReLU: the slope at 0; ELU: ``alpha``).

Example:
    >>> import ember
    >>> import ember.functional as F
    >>> F.leaky_relu(ember.tensor([-1.0, 2.0]), 0.1).tolist()
    [-0.10000000149011612, 2.0]
"""
from __future__ import annotations

from typing import Callable

from ..autograd.grad_mode import _State
from ..ops import elementwise as E
from ..ops import nn as N
from ..ops import special as S
from ..ops.checks import float_operand
from ..ops.movement import _axis, reshape
from ..tensor import Tensor
from ..errors import ArgumentError

__all__ = ["relu", "relu6", "leaky_relu", "prelu", "threshold", "elu", "selu", "celu", "gelu", "silu",
           "mish", "sigmoid", "hardsigmoid", "hardswish", "tanh", "softplus", "log_sigmoid", "logsigmoid",
           "softsign", "hardtanh", "softshrink", "hardshrink", "tanhshrink", "glu", "abs", "maxout",
           "softmax", "softmin", "log_softmax", "erf", "relu_", "elu_", "leaky_relu_", "hardtanh_",
           "threshold_", "celu_", "selu_"]

# SELU's constants (Klambauer et al. 2017), the same digits as PyTorch.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ------------------------------------------------------------------ in place (``inplace=True``)
def apply_inplace(op: str, x: Tensor, function: Callable[[Tensor], Tensor]) -> Tensor:
    """Write ``function(x)`` into ``x`` and return ``x`` (PyTorch's ``inplace=True``).

    As in PyTorch, a leaf that requires grad cannot be modified while gradients
    are recorded (RuntimeError). When ``x`` is part of a recorded graph the value
    is computed from a snapshot of ``x`` and ``x`` takes over the result's history
    (``Tensor._rebase``), so gradients flow through the in-place op and nodes that
    saved the old ``x`` refuse a stale value; otherwise the result is written into
    ``x``'s own memory, so views of ``x`` see it.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: inplace=True needs a Tensor input, got {type(x).__name__}")
    x._check_inplace(op)
    if (_State.enabled and x.requires_grad) or x._tangent:
        return x._rebase(function(x._snapshot()))
    result = function(x)
    if result.dtype != x.dtype:
        raise TypeError(f"{op}: the {result.dtype} result cannot be written in place into a {x.dtype} "
                        f"tensor of shape {x.shape}")
    x.copy_(result)
    return x


def _maybe_inplace(op: str, x: Tensor, inplace: bool, function: Callable[[Tensor], Tensor]) -> Tensor:
    return apply_inplace(op, x, function) if inplace else function(x)


# ------------------------------------------------------------------ rectifiers
def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0.

    Example:
        >>> import ember, ember.functional as F
        >>> F.relu(ember.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return _maybe_inplace("relu", x, inplace, E.relu)


def relu_(x: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(x, inplace=True)


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)`` (``hardtanh(x, 0, 6)``; zero gradient at 0 and 6, as PyTorch).

    Example:
        >>> import ember, ember.functional as F
        >>> F.relu6(ember.tensor([-1.0, 3.0, 8.0])).tolist()
        [0.0, 3.0, 6.0]
    """
    return hardtanh(x, 0.0, 6.0, inplace)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere (slope ``negative_slope`` at 0).

    Example:
        >>> import ember, ember.functional as F
        >>> F.leaky_relu(ember.tensor([-2.0, 3.0]), 0.5).tolist()
        [-1.0, 3.0]
    """
    def function(t):
        t = float_operand("leaky_relu", t)
        if negative_slope == 0:
            return E.relu(t)
        return t * _slope_factor(t, negative_slope)

    return _maybe_inplace("leaky_relu", x, inplace, function)


def leaky_relu_(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(x, negative_slope, inplace=True)


def _slope_factor(x: Tensor, negative_slope):
    """A constant tensor: 1 where ``x > 0``, ``negative_slope`` elsewhere (x * it is exact)."""
    positive = (x > 0).astype(x.dtype)
    return positive * (1.0 - negative_slope) + negative_slope


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope: one per channel (dimension 1) or one shared.

    Args:
        x: input of shape ``(N, C, ...)`` or ``(C,)``.
        weight: slopes of shape ``(1,)`` or ``(C,)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.prelu(ember.tensor([[-2.0, 3.0]]), ember.tensor([0.25])).tolist()
        [[-0.5, 3.0]]
    """
    x = float_operand("prelu", x)
    if weight.ndim != 1:
        raise ArgumentError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    count = weight.shape[0]
    if count != 1:
        channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
        if channels != count:
            raise ArgumentError(
                f"prelu: {count} slopes for an input of shape {x.shape} with {channels} channels "
                "(dimension 1)"
            )
        if x.ndim >= 2:
            weight = reshape(weight, (count,) + (1,) * (x.ndim - 2))
    positive = (x > 0).astype(x.dtype)
    # x * (1 where positive, else the slope): the slope's gradient is x where x <= 0.
    return x * (positive + (1.0 - positive) * weight)


def threshold(x: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (gradient 0 where replaced).

    Example:
        >>> import ember, ember.functional as F
        >>> F.threshold(ember.tensor([0.5, 2.0]), 1.0, -1.0).tolist()
        [-1.0, 2.0]
    """
    def function(t):
        t = float_operand("threshold", t)
        return E.where(t <= threshold, value, t)  # NaN stays NaN, as in PyTorch

    return _maybe_inplace("threshold", x, inplace, function)


_threshold = threshold  # the in-place form's argument of the same name hides the function


def threshold_(x: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _threshold(x, threshold, value, inplace=True)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``; the gradient is 0 at and beyond the bounds (PyTorch's rule).

    Example:
        >>> import ember, ember.functional as F
        >>> F.hardtanh(ember.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")

    def function(t):
        t = float_operand("hardtanh", t)
        # Not `clamp`: PyTorch gives a zero gradient *at* the bounds, and so does this form.
        return E.where(t <= min_val, min_val, E.where(t >= max_val, max_val, t))

    return _maybe_inplace("hardtanh", x, inplace, function)


def hardtanh_(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(x, min_val, max_val, inplace=True)


# ------------------------------------------------------------------ exponential units
def _elu(x: Tensor, alpha: float, input_scale: float) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x * input_scale) - 1)`` elsewhere.

    ``relu(x) + alpha * (exp(min(x, 0) * s) - 1)``: clip passes the gradient at 0
    (so the slope there is ``alpha * s``, as in PyTorch) and relu does not; ``exp``
    never sees a positive argument. (``exp - 1`` rather than ``expm1``, which the
    ONNX exporter has no operator for.)
    """
    negative = E.clip(x, None, 0.0)
    if input_scale != 1.0:
        negative = negative * input_scale
    return E.relu(x) + (E.exp(negative) - 1.0) * alpha


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.elu(ember.tensor([-1.0])).item(), 4)
        -0.6321
    """
    return _maybe_inplace("elu", x, inplace, lambda t: _elu(float_operand("elu", t), alpha, 1.0))


def elu_(x: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`."""
    return elu(x, alpha, inplace=True)


def selu(x: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalising ELU: ``scale * elu(x, alpha)`` with Klambauer et al.'s constants.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.selu(ember.tensor([1.0])).item(), 4)
        1.0507
    """
    return _maybe_inplace("selu", x, inplace,
                          lambda t: _elu(float_operand("selu", t), SELU_ALPHA, 1.0) * SELU_SCALE)


def selu_(x: Tensor) -> Tensor:
    """In-place :func:`selu`."""
    return selu(x, inplace=True)


def celu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (continuously differentiable ELU).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.celu(ember.tensor([-1.0]), alpha=2.0).item(), 4)
        -0.7869
    """
    if alpha == 0:
        raise ArgumentError("celu: alpha must not be 0 (the input is divided by it)")
    return _maybe_inplace("celu", x, inplace, lambda t: _elu(float_operand("celu", t), alpha, 1.0 / alpha))


def celu_(x: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return celu(x, alpha, inplace=True)


# ------------------------------------------------------------------ smooth gates
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (exact via ``erf``, or ``approximate='tanh'``).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.gelu(ember.tensor([1.0])).item(), 4)
        0.8413
    """
    return N.gelu(x, approximate)


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise (see :func:`ember.ops.special.erf`).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.erf(ember.tensor([0.5])).item(), 4)
        0.5205
    """
    return S.erf(x)


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.silu(ember.tensor([1.0])).item(), 4)
        0.7311
    """
    def function(t):
        t = float_operand("silu", t)
        return t * E.sigmoid(t)

    return _maybe_inplace("silu", x, inplace, function)


def mish(x: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra 2019).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.mish(ember.tensor([1.0])).item(), 4)
        0.8651
    """
    def function(t):
        t = float_operand("mish", t)
        return t * E.tanh(softplus(t, threshold=float("inf")))

    return _maybe_inplace("mish", x, inplace, function)


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.sigmoid(ember.tensor([0.0])).tolist()
        [0.5]
    """
    return E.sigmoid(x)


def hardsigmoid(x: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3 (gradient 1/6 strictly between).

    Example:
        >>> import ember, ember.functional as F
        >>> F.hardsigmoid(ember.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    def function(t):
        t = float_operand("hardsigmoid", t)
        return E.where(t <= -3.0, 0.0, E.where(t >= 3.0, 1.0, (t + 3.0) / 6.0))

    return _maybe_inplace("hardsigmoid", x, inplace, function)


def hardswish(x: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (MobileNetV3); PyTorch's slopes: 0 at -3, 1 at 3.

    Example:
        >>> import ember, ember.functional as F
        >>> F.hardswish(ember.tensor([-4.0, 1.0, 4.0])).tolist()
        [0.0, 0.6666666865348816, 4.0]
    """
    def function(t):
        t = float_operand("hardswish", t)
        # The outer branches own the points -3 and 3, so the slopes there are PyTorch's.
        return E.where(t <= -3.0, 0.0, E.where(t < 3.0, t * (t + 3.0) / 6.0, t))

    return _maybe_inplace("hardswish", x, inplace, function)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> import ember, ember.functional as F
        >>> F.tanh(ember.tensor([0.0])).tolist()
        [0.0]
    """
    return E.tanh(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Computed as ``max(z, 0) + log1p(exp(-|z|))`` with ``z = beta * x``, which never
    overflows; ``maximum`` shares its gradient at 0, so the slope there is 1/2.
    Above the threshold the ``log1p`` term is masked off, leaving ``z / beta``.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.softplus(ember.tensor([0.0])).item(), 4)
        0.6931
    """
    x = float_operand("softplus", x)
    z = x * beta if beta != 1 else x
    tail = E.log1p(E.exp(-E.abs(z)))  # finite for every z, so masking it by a product is exact
    if threshold != float("inf"):
        tail = tail * (z <= threshold).astype(x.dtype)
    out = E.maximum(z, 0.0) + tail
    if threshold < 0:  # then the linear piece reaches below 0, where max(z, 0) is not z
        out = E.where(z > threshold, z, out)
    return out / beta if beta != 1 else out


def log_sigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.log_sigmoid(ember.tensor([-200.0])).tolist()
        [-200.0]
    """
    x = float_operand("log_sigmoid", x)
    return -softplus(-x, threshold=float("inf"))


def logsigmoid(x: Tensor) -> Tensor:
    """PyTorch's name for :func:`log_sigmoid`.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.logsigmoid(ember.tensor([0.0])).item(), 4)
        -0.6931
    """
    return log_sigmoid(x)


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.softsign(ember.tensor([1.0])).tolist()
        [0.5]
    """
    x = float_operand("softsign", x)
    return x / (E.abs(x) + 1.0)


# ------------------------------------------------------------------ shrinkage
def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between (gradient 0 at ``±lambd``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.softshrink(ember.tensor([-2.0, 0.25, 2.0]), 1.0).tolist()
        [-1.0, 0.0, 1.0]
    """
    if lambd < 0:
        raise ArgumentError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}")
    x = float_operand("softshrink", x)
    outside = E.where(x > lambd, x - lambd, x + lambd)
    return E.where((x >= -lambd) & (x <= lambd), 0.0, outside)  # NaN takes the outside branch


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import ember, ember.functional as F
        >>> F.hardshrink(ember.tensor([-2.0, 0.25, 2.0]), 1.0).tolist()
        [-2.0, 0.0, 2.0]
    """
    x = float_operand("hardshrink", x)
    return E.where((x >= -lambd) & (x <= lambd), 0.0, x)  # NaN stays NaN


def tanhshrink(x: Tensor) -> Tensor:
    """``x - tanh(x)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.tanhshrink(ember.tensor([0.0])).tolist()
        [0.0]
    """
    x = float_operand("tanhshrink", x)
    return x - E.tanh(x)


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` into halves ``a, b`` and return ``a * sigmoid(b)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.glu(ember.tensor([[2.0, 0.0]]), dim=1).tolist()
        [[1.0]]
    """
    from ..errors import ShapeError
    from ..ops.movement import getitem

    x = float_operand("glu", x)
    if x.ndim == 0:
        raise ShapeError("glu: does not support scalars because halving size must be even")
    axis = _axis("glu", dim, x.ndim)
    size = x.shape[axis]
    if size % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {axis} is size {size} "
                         f"(input shape {tuple(x.shape)})")
    lead = (slice(None),) * axis
    a = getitem(x, lead + (slice(0, size // 2),))
    b = getitem(x, lead + (slice(size // 2, size),))
    return a * E.sigmoid(b)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - Torch7's nn.Abs
    """``|x|`` (gradient 0 at 0).

    Example:
        >>> import ember, ember.functional as F
        >>> F.abs(ember.tensor([-2.0])).tolist()
        [2.0]
    """
    return E.abs(x)


def maxout(x: Tensor, pool_size: int, dim: int = -1) -> Tensor:
    """Maximum over groups of ``pool_size`` consecutive features along ``dim``.

    Goodfellow et al.'s maxout unit: feed it ``pool_size * units`` linear
    features and it returns ``units`` values; features ``k*pool_size`` to
    ``(k+1)*pool_size - 1`` form unit ``k``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.maxout(ember.tensor([[1.0, 5.0, 3.0, 2.0]]), 2).tolist()
        [[5.0, 3.0]]
    """
    x = float_operand("maxout", x)
    if x.ndim == 0:
        raise ArgumentError("maxout: expected a tensor with at least one dimension, got a scalar")
    axis = _axis("maxout", dim, x.ndim)
    if pool_size < 1 or x.shape[axis] % pool_size:
        raise ArgumentError(
            f"maxout: dimension {axis} of shape {x.shape} ({x.shape[axis]} features) is not a "
            f"multiple of pool_size {pool_size}"
        )
    grouped = reshape(x, x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:])
    return grouped.amax(axis + 1)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Probabilities along ``dim``; an all ``-inf`` row gives zeros (see :func:`ember.ops.nn.softmax`).

    Example:
        >>> import ember, ember.functional as F
        >>> F.softmax(ember.tensor([[0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    return N.softmax(x, dim)


def softmin(x: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``; without ``dim``, PyTorch's implicit choice (0 for 0-, 1- and
    3-D inputs, else 1).

    Example:
        >>> import ember, ember.functional as F
        >>> F.softmin(ember.tensor([[0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    x = float_operand("softmin", x)
    if dtype is not None:
        x = x.astype(dtype)
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return N.softmax(-x, dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log-probabilities along ``dim``, stable for any finite logits (all ``-inf`` rows give ``-inf``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.log_softmax(ember.tensor([[1e4, 0.0]]), dim=1).tolist()
        [[0.0, -10000.0]]
    """
    return N.log_softmax(x, dim)
