"""Dropout: inverted (scaled at training time, the identity at evaluation time).

Masks come from the seeded global generator (:func:`ember.backend.generator`),
so ``ember.manual_seed`` makes them reproducible. Dropout and channel dropout
draw uniform numbers here and hand them to the :class:`ember.ops.dropout.Dropout`
primitive, which compares, masks and scales in one kernel pass.

Example:
    >>> import ember, ember.functional as F
    >>> F.dropout(ember.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
"""
from __future__ import annotations

from ..ops import dropout as D
from ..ops.checks import float_operand
from ..tensor import Tensor
from ..errors import ArgumentError

__all__ = ["dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]

# -SELU_SCALE * SELU_ALPHA: the value SELU saturates to, which alpha dropout drops to.
_SELU_SATURATION = 1.7580993408473766


def _check_p(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _draws(x: Tensor, shape=None) -> Tensor:
    """Uniform numbers in ``[0, 1)`` of ``shape`` (default ``x.shape``), one per mask entry.

    Drawn with ``ember.rand`` from the global generator, so that a compiled step
    draws a fresh mask every time; in ``x``'s dtype, float32 for half precision.
    """
    from ..creation import rand

    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"
    return rand(*(x.shape if shape is None else shape), dtype=draw_dtype, device=x.device)


def _keep_mask(x: Tensor, p: float, shape=None) -> Tensor:
    """A boolean tensor of ``shape`` (default ``x.shape``), true with probability ``1 - p``."""
    return _draws(x, shape) >= p


def _channel_shape(x: Tensor) -> tuple:
    """The mask shape of channel dropout: one draw per (sample, channel), ``(N, C, 1, ...)``."""
    return tuple(x.shape[:2]) + (1,) * (x.ndim - 2)


def _scaled_dropout(x: Tensor, p: float, shape=None) -> Tensor:
    if p == 1.0:
        return x * 0.0
    return D.dropout(x, _draws(x, shape), p)


def _alpha_dropout(x: Tensor, p: float, shape=None) -> Tensor:
    if p == 1.0:
        return x * 0.0
    alpha = _SELU_SATURATION
    a = ((alpha * alpha * p + 1.0) * (1.0 - p)) ** -0.5
    keep = _keep_mask(x, p, shape).astype(x.dtype)
    return x * (keep * a) + ((keep - 1.0) * (alpha * a) + alpha * a * p)


def _run(name: str, x, p: float, training: bool, inplace: bool, function) -> Tensor:
    """Shared tail of every dropout: checks, the identity at evaluation, in place or not."""
    from .activation import apply_inplace

    _check_p(name, p)
    if not inplace:
        x = float_operand(name, x)
    if not training or p == 0.0:
        return x
    return apply_inplace(name, x, function) if inplace else function(x)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
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
    return _run("dropout", x, p, training, inplace, lambda t: _scaled_dropout(t, p))


def alpha_dropout(x: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the mean and variance of standardised inputs.

    Dropped elements are set to SELU's negative saturation value, then an affine
    map restores zero mean and unit variance (Klambauer et al. 2017), exactly as
    PyTorch's ``alpha_dropout`` (whose ``training`` also defaults to False).

    Example:
        >>> import ember, ember.functional as F
        >>> F.alpha_dropout(ember.ones(2), p=0.2, training=False).tolist()
        [1.0, 1.0]
    """
    return _run("alpha_dropout", x, p, training, inplace, lambda t: _alpha_dropout(t, p))


def _channel_dropout(name: str, x, p: float, training: bool, inplace: bool, batched_ndim: int,
                     strict: bool, always_batched: bool = False) -> Tensor:
    """Dropout of whole channels, PyTorch's ``feature_dropout`` with its rank rules.

    The expected input is ``(N, C, *spatial)`` (``batched_ndim`` dimensions) or
    ``(C, *spatial)``. Other ranks are an error when ``strict`` (dropout1d) and
    give a warning otherwise, as in PyTorch. ``always_batched`` reads dimension 0
    as the batch whatever the rank (dropout2d's historical rule).
    """
    import warnings

    from ..errors import ShapeError

    shape = tuple(getattr(x, "shape", ()))
    ndim = len(shape)
    if ndim not in (batched_ndim - 1, batched_ndim):
        message = (f"{name}: expected a {batched_ndim - 1}-D (C, *spatial) or {batched_ndim}-D "
                   f"(N, C, *spatial) input, got shape {shape}")
        if strict:
            raise ShapeError(message)
        warnings.warn(message + "; dropping channels as PyTorch does", stacklevel=3)
    batched = always_batched or ndim == batched_ndim
    if ndim + (0 if batched else 1) < 2:
        raise ShapeError(f"{name}: feature dropout requires at least 2 dimensions in the input, got shape {shape}")

    def drop_channels(t):
        mask_shape = _channel_shape(t) if batched else (t.shape[0],) + (1,) * (t.ndim - 1)
        return _scaled_dropout(t, p, mask_shape)

    return _run(name, x, p, training, inplace, drop_channels)


def dropout1d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` with probability ``p`` (scaled by ``1/(1-p)``).

    Example:
        >>> import ember, ember.functional as F
        >>> ember.manual_seed(0)
        >>> y = F.dropout1d(ember.ones(2, 64, 5), p=0.5)
        >>> bool(((y == 0).all(2) | (y == 2).all(2)).all())
        True
    """
    return _channel_dropout("dropout1d", x, p, training, inplace, 3, strict=True)


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` (scaled by ``1/(1-p)``).

    As PyTorch, a 3-D input is read as ``(N, C, L)`` (channel-wise 1-D dropout),
    and other ranks give a warning and drop channels of dimension 1.

    Example:
        >>> import ember, ember.functional as F
        >>> F.dropout2d(ember.ones(1, 2, 3, 3), training=False).shape
        (1, 2, 3, 3)
    """
    return _channel_dropout("dropout2d", x, p, training, inplace, 4, strict=False, always_batched=True)


def dropout3d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.dropout3d(ember.ones(2, 1, 2, 2), training=False).shape
        (2, 1, 2, 2)
    """
    return _channel_dropout("dropout3d", x, p, training, inplace, 5, strict=False)


def feature_alpha_dropout(x: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of ``(N, C, *)`` (PyTorch's ``feature_alpha_dropout``).

    Example:
        >>> import ember, ember.functional as F
        >>> F.feature_alpha_dropout(ember.ones(2, 3, 4), training=False).shape
        (2, 3, 4)
    """
    from ..errors import ShapeError

    if getattr(x, "ndim", 0) < 2:
        raise ShapeError(f"feature_alpha_dropout: feature dropout requires at least 2 dimensions in "
                         f"the input, got shape {tuple(getattr(x, 'shape', ()))}")
    return _run("feature_alpha_dropout", x, p, training, inplace,
                lambda t: _alpha_dropout(t, p, _channel_shape(t)))
