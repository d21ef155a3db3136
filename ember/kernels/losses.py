"""Loss kernels: the negative log-likelihood of class indices and the mask its vjp multiplies by.

NumPy (or CuPy) array code used by :class:`ember.ops.nll.Nll`. No numba version: it is one
gather and one reduction, which NumPy does in compiled loops already.

Example::

    >>> import numpy as np
    >>> from ember.kernels.losses import nll_forward
    >>> logp = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    >>> out, mask = nll_forward(logp, np.array([0, 1]), None, -100, "sum", want_mask=True)
    >>> round(float(out), 6), mask.tolist()
    (0.980829, [[-1.0, 0.0], [0.0, -1.0]])
"""
from __future__ import annotations

from ..backend import array_module, numpy_module

# Floating-point warnings are a host (NumPy) setting; CuPy never warns.
_quiet = numpy_module().errstate


def nll_forward(logp, target, weight, ignore_index: int, reduction: str, want_mask: bool):
    """``(loss, mask)``: ``-logp[n, target[n]] * weight[target[n]]`` reduced, and (when ``want_mask``)
    the constant ``d loss / d logp`` (``None`` otherwise). Class axis 1, or 0 for 1-D ``logp``.

    ``'mean'`` divides by the summed weights of the items not equal to ``ignore_index`` (NaN when
    every item is ignored, as in PyTorch).
    """
    xp = array_module(logp)
    axis = 1 if logp.ndim > 1 else 0
    valid = target != ignore_index
    safe = xp.expand_dims(xp.where(valid, target, 0), axis)
    item_weight = valid.astype(logp.dtype)
    if weight is not None:
        item_weight = item_weight * weight[safe.squeeze(axis)]
    losses = -xp.take_along_axis(logp, safe, axis=axis).squeeze(axis) * item_weight
    scale = None
    if reduction == "none":
        out = losses
    elif reduction == "sum":
        out = losses.sum()
    else:
        total_weight = item_weight.sum()
        with _quiet(invalid="ignore", divide="ignore"):
            scale = 1.0 / total_weight  # NaN loss when every item is ignored, as in PyTorch
            out = (losses.sum() * scale).astype(logp.dtype)
    if not want_mask:
        return out, None
    mask = xp.zeros(logp.shape, dtype=logp.dtype)
    values = -item_weight if scale is None else -item_weight * scale
    xp.put_along_axis(mask, safe, xp.expand_dims(values.astype(logp.dtype), axis), axis=axis)
    return out, mask


__all__ = ["nll_forward"]
