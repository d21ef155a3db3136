"""Negative log-likelihood of class indices, with class weights and an ignored index.

The gather it replaces has a scatter-add (``add.at``) backward; NLL is linear in
the log-probabilities, so its vjp is one product with a constant mask the
forward pass builds (the array code: :func:`ember.kernels.losses.nll_forward`).
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..kernels import losses
from .movement import unsqueeze


class Nll(Function):
    """``-logp[n, target[n]] * weight[target[n]]``, reduced; class axis 1 (or 0 for 1-D input)."""

    name = "nll"

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        out, coef = losses.nll_forward(logp, target, weight, ignore_index, reduction, want_mask=ctx is not None)
        if ctx is not None:
            ctx.stash = coef  # NLL is linear in logp: its vjp multiplies by this constant mask
        return out

    @staticmethod
    def vjp(ctx, g):
        if ctx.params["reduction"] == "none" and g.ndim:
            g = unsqueeze(g, 1)
        from ..tensor import constant

        return g * constant(ctx.stash)

    @staticmethod
    def jvp(ctx, t):
        return apply(Nll, (t,), ctx.params)


def nll(logp, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of integer class ``target`` under log-probabilities ``logp``.

    ``logp`` is ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; ``target`` holds class
    indices of shape ``(N,)``, ``(N, d1, ...)`` or ``()``. Entries equal to
    ``ignore_index`` contribute nothing; ``'mean'`` divides by the summed weights
    of the other entries (NaN when every entry is ignored, as in PyTorch).
    The shapes are checked by :func:`ember.functional.nll_loss`.

    Example:
        >>> import ember
        >>> from ember.ops.softmax import log_softmax
        >>> from ember.ops.nll import nll
        >>> logp = log_softmax(ember.zeros(2, 4))
        >>> round(nll(logp, ember.tensor([0, 3])).item(), 4)
        1.3863
    """
    from ..tensor import as_tensor

    target = as_tensor(target)._data
    w = None if weight is None else as_tensor(weight)._data
    if w is not None and w.dtype != logp.dtype:
        w = w.astype(logp.dtype)
    return apply(Nll, (logp,), {"target": target, "weight": w, "ignore_index": int(ignore_index),
                                "reduction": reduction})


__all__ = ["nll", "Nll"]
