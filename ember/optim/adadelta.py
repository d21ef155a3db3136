"""Adadelta (Zeiler, 2012): steps scaled by the ratio of running RMS of updates and of gradients."""
from __future__ import annotations

from typing import ClassVar

from ..kernels.optim import adadelta_update
from .optimizer import Optimizer, ParamsT
from .options import FLAG, IMPLEMENTATION_CHOICE, NONNEGATIVE, NOT_DIFFERENTIABLE, UNIT_INTERVAL, Rule

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta; PyTorch's update rule.

    :math:`v \leftarrow \rho v + (1-\rho) g^2`,
    :math:`\Delta = \sqrt{u + \epsilon} / \sqrt{v + \epsilon}\; g`,
    :math:`u \leftarrow \rho u + (1-\rho) \Delta^2`, :math:`p \leftarrow p - \mathrm{lr}\,\Delta`.

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: coefficient scaling the step (1.0 in the paper).
        rho: decay rate of both running averages.
        eps: added inside both square roots.
        weight_decay: L2 penalty coefficient, added to the gradient as ``weight_decay * p``.
        maximize: ascend the objective instead of descending it.
        foreach, capturable: PyTorch's implementation switches, accepted and kept in the groups;
            they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import Adadelta
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adadelta([w], lr=1.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.tolist()  # the first steps are tiny: sqrt(eps) / RMS(g)
        [0.9968377351760864, -1.9968377351760864]
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "rho": UNIT_INTERVAL, "eps": NONNEGATIVE, "weight_decay": NONNEGATIVE, "maximize": FLAG,
        "foreach": IMPLEMENTATION_CHOICE, "capturable": IMPLEMENTATION_CHOICE, "differentiable": NOT_DIFFERENTIABLE,
    }

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      capturable=capturable, maximize=maximize, differentiable=differentiable))

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _update(self, param, grad, state: dict, group: dict) -> None:
        state["step"] += 1
        adadelta_update(param, grad, state["square_avg"], state["acc_delta"], lr=group["lr"], rho=group["rho"],
                        eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])
