"""Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter, 2019: decoupled weight decay)."""
from __future__ import annotations

from typing import ClassVar

from ..kernels.optim import adam_update
from .optimizer import Optimizer, ParamsT
from .options import BETAS, FLAG, IMPLEMENTATION_CHOICE, NONNEGATIVE, NOT_DIFFERENTIABLE, Rule

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adaptive moment estimation; PyTorch's update rule.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`p \leftarrow p - \mathrm{lr}\,\hat m / (\sqrt{\hat v} + \epsilon)` with the bias
    corrections :math:`\hat m = m / (1-\beta_1^t)`, :math:`\hat v = v / (1-\beta_2^t)`.
    ``amsgrad`` divides by the running maximum of :math:`v` instead.

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: learning rate.
        betas: decay rates :math:`(\beta_1, \beta_2)` of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient (``weight_decay * p``), or, with
            ``decoupled_weight_decay``, the AdamW shrinkage ``p *= 1 - lr * weight_decay``.
        amsgrad: use the AMSGrad variant (Reddi et al., 2018).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: apply weight decay as AdamW does (see :class:`AdamW`).
        foreach, fused, capturable: PyTorch's implementation switches, accepted and kept in the
            groups; they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import Adam
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.9, -1.9], requires_grad=True)
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "betas": BETAS, "eps": NONNEGATIVE, "weight_decay": NONNEGATIVE,
        "amsgrad": FLAG, "maximize": FLAG, "decoupled_weight_decay": FLAG,
        "foreach": IMPLEMENTATION_CHOICE, "capturable": IMPLEMENTATION_CHOICE, "differentiable": NOT_DIFFERENTIABLE,
        "fused": IMPLEMENTATION_CHOICE,
    }

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                                      eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        keys = ("step", "exp_avg", "exp_avg_sq")
        return keys + ("max_exp_avg_sq",) if group["amsgrad"] else keys

    def _update(self, param, grad, state: dict, group: dict) -> None:
        step = state["step"] = state["step"] + 1
        beta1, beta2 = group["betas"]
        adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"), step=step,
                    lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    amsgrad=group["amsgrad"], maximize=group["maximize"],
                    decoupled=group["decoupled_weight_decay"])


class AdamW(Adam):
    r"""Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    Unlike an L2 penalty, the decay is not rescaled by Adam's per-coordinate step sizes, so
    every weight shrinks at the same relative rate (Loshchilov and Hutter, 2019).

    Args:
        params: tensors to optimize, or parameter groups (dicts).
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: decoupled weight decay coefficient (default 0.01, as in PyTorch).
        amsgrad: use the AMSGrad variant.
        maximize: ascend the objective instead of descending it.
        foreach, fused, capturable: PyTorch's implementation switches, accepted and kept in the
            groups; they change nothing (Ember has one in-place implementation of the update).
        differentiable: must be False (autograd through the step is not supported).

    Example:
        >>> import ember
        >>> from ember.optim import AdamW
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        tensor([ 0.85, -1.8 ], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
