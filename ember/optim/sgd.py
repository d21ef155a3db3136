"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import ClassVar

from ..kernels.optim import sgd_update
from .optimizer import Optimizer, ParamsT
from .options import FLAG, IMPLEMENTATION_CHOICE, NONNEGATIVE, NOT_DIFFERENTIABLE, REAL, Rule

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum; PyTorch's update rule.

    With gradient :math:`g_t` (plus ``weight_decay * p``), momentum :math:`\mu` and
    dampening :math:`\tau`: :math:`b_1 = g_1`, :math:`b_t = \mu b_{t-1} + (1 - \tau) g_t`,
    then :math:`p \leftarrow p - \mathrm{lr}\,(g_t + \mu b_t)` with Nesterov momentum or
    :math:`p \leftarrow p - \mathrm{lr}\, b_t` without; plain SGD when momentum is 0.

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: learning rate.
        momentum: momentum factor :math:`\mu` (0 disables momentum and its state).
        dampening: dampening :math:`\tau` of the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient, added to the gradient as ``weight_decay * p``.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.
        foreach, fused: PyTorch's implementation switches, accepted and kept in the groups;
            they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.46, -0.92], requires_grad=True)
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "momentum": NONNEGATIVE, "dampening": REAL,
        "weight_decay": NONNEGATIVE, "nesterov": FLAG, "maximize": FLAG,
        "foreach": IMPLEMENTATION_CHOICE, "differentiable": NOT_DIFFERENTIABLE, "fused": IMPLEMENTATION_CHOICE,
    }

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable, fused=fused))

    def _check_group(self, group: dict, where: str) -> None:
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True{where} needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] else ()

    def _init_state(self, param, group: dict) -> dict:
        # The momentum buffer starts as a copy of the first gradient (not as zeros, which
        # would dampen the first step), so it is made by the first update.
        return {}

    def _update(self, param, grad, state: dict, group: dict) -> None:
        sgd_update(param, grad, state, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                   weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"])
