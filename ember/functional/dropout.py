"""Dropout: inverted (scaled at training time, the identity at evaluation time).

Masks come from the seeded global generator (:func:`ember.backend.generator`),
so ``ember.manual_seed`` makes them reproducible.

Example:
    >>> import ember, ember.functional as F
    >>> F.dropout(ember.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
"""
from __future__ import annotations

from ..ops.checks import float_operand
from ..tensor import Tensor

__all__ = ["dropout", "alpha_dropout"]

# -SELU_SCALE * SELU_ALPHA: the value SELU saturates to, which alpha dropout drops to.
_SELU_SATURATION = 1.7580993408473766


def _check_p(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: p must lie in [0, 1], got {p}")


def _keep_mask(x: Tensor, p: float) -> Tensor:
    """A boolean tensor, true with probability ``1 - p``, from the global generator.

    Drawn with ``ember.rand`` so that a compiled step draws a fresh mask every time.
    """
    from ..creation import rand

    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"
    return rand(*x.shape, dtype=draw_dtype, device=x.device) >= p


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The expected value is unchanged, so nothing needs rescaling at evaluation
    time, when (``training=False``) the input is returned as is.

    Example:
        >>> import ember, ember.functional as F
        >>> ember.manual_seed(0)
        >>> y = F.dropout(ember.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    _check_p("dropout", p)
    x = float_operand("dropout", x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    mask = _keep_mask(x, p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * mask


def alpha_dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Dropout for SELU networks: keeps the mean and variance of standardised inputs.

    Dropped elements are set to SELU's negative saturation value, then an affine
    map restores zero mean and unit variance (Klambauer et al. 2017), exactly as
    PyTorch's ``alpha_dropout``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.alpha_dropout(ember.ones(2), p=0.2, training=False).tolist()
        [1.0, 1.0]
    """
    _check_p("alpha_dropout", p)
    x = float_operand("alpha_dropout", x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    alpha = _SELU_SATURATION
    a = ((alpha * alpha * p + 1.0) * (1.0 - p)) ** -0.5
    keep = _keep_mask(x, p).astype(x.dtype)
    return x * (keep * a) + ((keep - 1.0) * (alpha * a) + alpha * a * p)
