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

from ..ops import elementwise as E
from ..ops import nn as N
from ..ops.checks import float_operand
from ..ops.movement import _axis, reshape
from ..tensor import Tensor

__all__ = ["relu", "leaky_relu", "prelu", "threshold", "elu", "selu", "gelu", "silu", "sigmoid",
           "tanh", "softplus", "log_sigmoid", "softsign", "hardtanh", "abs", "maxout", "softmax",
           "log_softmax", "erf"]

# SELU's constants (Klambauer et al. 2017), the same digits as PyTorch.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0.

    Example:
        >>> import ember, ember.functional as F
        >>> F.relu(ember.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return E.relu(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import ember, ember.functional as F
        >>> F.leaky_relu(ember.tensor([-2.0, 3.0]), 0.5).tolist()
        [-1.0, 3.0]
    """
    x = float_operand("leaky_relu", x)
    if negative_slope == 0:
        return E.relu(x)
    return x * _slope_factor(x, negative_slope)


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
        raise ValueError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    count = weight.shape[0]
    if count != 1:
        channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
        if channels != count:
            raise ValueError(
                f"prelu: {count} slopes for an input of shape {x.shape} with {channels} channels "
                "(dimension 1)"
            )
        if x.ndim >= 2:
            weight = reshape(weight, (count,) + (1,) * (x.ndim - 2))
    positive = (x > 0).astype(x.dtype)
    # x * (1 where positive, else the slope): the slope's gradient is x where x <= 0.
    return x * (positive + (1.0 - positive) * weight)


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (Torch7's ``nn.Threshold``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.threshold(ember.tensor([0.5, 2.0]), 1.0, -1.0).tolist()
        [-1.0, 2.0]
    """
    x = float_operand("threshold", x)
    return E.where(x > threshold, x, value)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.elu(ember.tensor([-1.0])).item(), 4)
        -0.6321
    """
    x = float_operand("elu", x)
    # relu(x) + alpha (exp(min(x, 0)) - 1): clip passes the gradient at 0 (slope alpha,
    # as in PyTorch), relu does not; exp never sees a positive argument.
    return E.relu(x) + (E.exp(E.clip(x, None, 0.0)) - 1.0) * alpha


def selu(x: Tensor) -> Tensor:
    """Self-normalising ELU: ``scale * elu(x, alpha)`` with Klambauer et al.'s constants.

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.selu(ember.tensor([1.0])).item(), 4)
        1.0507
    """
    return elu(x, SELU_ALPHA) * SELU_SCALE


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (exact via ``erf``, or ``approximate='tanh'``).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.gelu(ember.tensor([1.0])).item(), 4)
        0.8413
    """
    return N.gelu(x, approximate)


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise (float64-accurate).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.erf(ember.tensor([0.5])).item(), 4)
        0.5205
    """
    return N.erf(x)


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    Example:
        >>> import ember, ember.functional as F
        >>> round(F.silu(ember.tensor([1.0])).item(), 4)
        0.7311
    """
    x = float_operand("silu", x)
    return x * E.sigmoid(x)


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.sigmoid(ember.tensor([0.0])).tolist()
        [0.5]
    """
    return E.sigmoid(x)


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


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.softsign(ember.tensor([1.0])).tolist()
        [0.5]
    """
    x = float_operand("softsign", x)
    return x / (E.abs(x) + 1.0)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Clamp to ``[min_val, max_val]``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.hardtanh(ember.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    x = float_operand("hardtanh", x)
    # Not `clip`: PyTorch gives a zero gradient *at* the bounds, and so does this form.
    return E.where(x <= min_val, min_val, E.where(x >= max_val, max_val, x))


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
        raise ValueError("maxout: expected a tensor with at least one dimension, got a scalar")
    axis = _axis("maxout", dim, x.ndim)
    if pool_size < 1 or x.shape[axis] % pool_size:
        raise ValueError(
            f"maxout: dimension {axis} of shape {x.shape} ({x.shape[axis]} features) is not a "
            f"multiple of pool_size {pool_size}"
        )
    grouped = reshape(x, x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:])
    return grouped.max(axis=axis + 1)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Probabilities along ``dim``; an all ``-inf`` row gives zeros (see :func:`ember.ops.nn.softmax`).

    Example:
        >>> import ember, ember.functional as F
        >>> F.softmax(ember.tensor([[0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    return N.softmax(x, dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Log-probabilities along ``dim``, stable for any finite logits (all ``-inf`` rows give ``-inf``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.log_softmax(ember.tensor([[1e4, 0.0]]), dim=1).tolist()
        [[0.0, -10000.0]]
    """
    return N.log_softmax(x, dim)
