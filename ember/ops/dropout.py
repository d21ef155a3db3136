"""``dropout`` as a primitive: a mask from given uniform draws applied in one kernel pass.

:class:`Dropout` takes the input and the uniform draws (a tensor that never
carries a gradient, drawn by :func:`ember.functional.dropout` from the global
generator, so a compiled step replays a fresh draw), and stashes the boolean
keep-mask for its rules. Given the mask, dropout is linear: its vjp and jvp are
:class:`DropoutBackward` (``g * keep / (1 - p)``), which is its own adjoint, so
gradients of every order use the same kernel (:mod:`ember.kernels.dropout`).
"""
from __future__ import annotations

from ..autograd.function import Function, LinearFunction, apply
from ..kernels import dropout as K


class Dropout(Function):
    """``x * (uniform >= p) / (1 - p)`` for ``p < 1`` (inputs ``x``, ``uniform``; param ``p``)."""

    name = "dropout"

    @staticmethod
    def forward(ctx, x, uniform, p):
        out, keep = K.dropout_apply(x, uniform, p)
        if ctx is not None:
            ctx.stash = keep
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(DropoutBackward, (g,), {"keep": ctx.stash, "p": ctx.params["p"]}), None

    @staticmethod
    def jvp(ctx, tx, tu):
        if tx is None:
            return None
        return apply(DropoutBackward, (tx,), {"keep": ctx.stash, "p": ctx.params["p"]})


class DropoutBackward(LinearFunction):
    """``g * keep / (1 - p)`` for a fixed boolean ``keep`` (params ``keep``, ``p``); self-adjoint."""

    name = "dropout_backward"

    @staticmethod
    def forward(ctx, g, keep, p):
        return K.dropout_backward(g, keep, p)

    @staticmethod
    def vjp(ctx, v):
        return apply(DropoutBackward, (v,), ctx.params)


def dropout(x, uniform, p: float):
    """Zero the elements of ``x`` whose draw in ``uniform`` is below ``p``; scale the rest by ``1/(1-p)``.

    ``uniform`` has ``x``'s shape or one that broadcasts to it (one draw per channel);
    ``0 <= p < 1``. :func:`ember.functional.dropout` draws it and checks ``p``.

    Example:
        >>> import ember
        >>> from ember.ops.dropout import dropout
        >>> dropout(ember.tensor([1.0, 2.0]), ember.tensor([0.7, 0.2]), 0.5).tolist()
        [2.0, 0.0]
    """
    return apply(Dropout, (x, uniform), {"p": p})


__all__ = ["dropout", "Dropout", "DropoutBackward"]
