"""Adagrad (Duchi, Hazan and Singer, 2011): per-coordinate steps shrinking with the summed squared gradients."""
from __future__ import annotations

from typing import ClassVar

from .. import backend
from ..kernels.optim import adagrad_update
from .optimizer import Optimizer, ParamsT
from .options import FLAG, IMPLEMENTATION_CHOICE, NONNEGATIVE, NOT_DIFFERENTIABLE, Rule

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad; PyTorch's update rule.

    :math:`s \leftarrow s + g^2`, :math:`p \leftarrow p - \mathrm{lr}_t\, g / (\sqrt{s} + \epsilon)`
    with :math:`\mathrm{lr}_t = \mathrm{lr} / (1 + (t - 1)\,\mathrm{lr\_decay})`.

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: learning rate.
        lr_decay: learning-rate decay per step.
        weight_decay: L2 penalty coefficient, added to the gradient as ``weight_decay * p``.
        initial_accumulator_value: starting value of the sum of squared gradients.
        eps: added to the denominator for numerical stability.
        maximize: ascend the objective instead of descending it.
        foreach, fused: PyTorch's implementation switches, accepted and kept in the groups;
            they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import Adagrad
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9, -1.9], requires_grad=True)
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "lr_decay": NONNEGATIVE, "weight_decay": NONNEGATIVE,
        "initial_accumulator_value": NONNEGATIVE, "eps": NONNEGATIVE, "maximize": FLAG,
        "foreach": IMPLEMENTATION_CHOICE, "differentiable": NOT_DIFFERENTIABLE, "fused": IMPLEMENTATION_CHOICE,
    }

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      fused=fused))

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ("step", "sum")

    def _init_state(self, param, group: dict) -> dict:
        xp = backend.array_module(param)
        return {"step": 0, "sum": xp.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state: dict, group: dict) -> None:
        step = state["step"] = state["step"] + 1
        lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        adagrad_update(param, grad, state["sum"], lr=lr, eps=group["eps"], weight_decay=group["weight_decay"],
                       maximize=group["maximize"])
