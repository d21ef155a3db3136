"""RMSprop (Tieleman and Hinton's lecture 6e), optionally centered and with momentum."""
from __future__ import annotations

from typing import ClassVar

from ..kernels.optim import rmsprop_update
from .optimizer import Optimizer, ParamsT
from .options import FLAG, IMPLEMENTATION_CHOICE, NONNEGATIVE, NOT_DIFFERENTIABLE, Rule

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Divide the gradient by a running root mean square of recent gradients; PyTorch's update rule.

    :math:`v \leftarrow \alpha v + (1 - \alpha) g^2`; the step is
    :math:`\mathrm{lr}\; g / (\sqrt{v} + \epsilon)`. ``centered`` also tracks the mean
    gradient :math:`\bar g` and uses :math:`\sqrt{v - \bar g^2}` (an estimate of the variance);
    ``momentum`` accumulates the normalised steps in a buffer.

    Note:
        Keras puts :math:`\epsilon` inside the square root (:math:`\sqrt{v + \epsilon}`,
        with :math:`\epsilon = 10^{-7}`); Ember follows PyTorch. The two differ only while
        :math:`v` is tiny.

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: learning rate.
        alpha: smoothing constant of the squared-gradient average.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient, added to the gradient as ``weight_decay * p``.
        momentum: momentum factor (0 disables the buffer).
        centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend the objective instead of descending it.
        capturable, foreach: PyTorch's implementation switches, accepted and kept in the groups;
            they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import RMSprop
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9, -1.9], requires_grad=True)
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "alpha": NONNEGATIVE, "eps": NONNEGATIVE, "weight_decay": NONNEGATIVE,
        "momentum": NONNEGATIVE, "centered": FLAG, "maximize": FLAG,
        "capturable": IMPLEMENTATION_CHOICE, "foreach": IMPLEMENTATION_CHOICE, "differentiable": NOT_DIFFERENTIABLE,
    }

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, capturable=capturable,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable))

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        keys = ("step", "square_avg")
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _update(self, param, grad, state: dict, group: dict) -> None:
        state["step"] += 1
        rmsprop_update(param, grad, state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer"),
                       lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                       momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"])
