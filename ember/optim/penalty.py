r"""L1 and L2 penalties: regularisers added to the loss, differentiable like any Ember expression.

The L2 penalty :math:`\lambda \sum_i w_i^2` ("weight decay" in the lectures) pulls every
weight towards zero in proportion to its size; the L1 penalty :math:`\lambda \sum_i |w_i|`
pulls with a constant force and so drives many weights exactly to zero (sparse weights).
Add them to the data loss; the gradient of ``l2_penalty(params, lam)`` is ``2 * lam * w``,
so SGD on ``loss + l2_penalty(params, lam)`` is SGD with ``weight_decay=2 * lam``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from ..tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty"]


def _penalty(name: str, params, weight: float, term: Callable[[Tensor], Tensor]) -> Tensor:
    if not float(weight) >= 0:
        raise ValueError(f"{name}: weight must be a number >= 0, got {weight!r}")
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    elif isinstance(params, Tensor):
        params = [params]
    total = None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}; expected an ember.Tensor")
        value = term(p)
        total = value if total is None else total + value
    if total is None:
        return Tensor(0.0)
    return total * weight


def l1_penalty(params: Iterable[Tensor] | Tensor, weight: float) -> Tensor:
    r"""``weight * sum(|p|)`` over all elements of all ``params``: the L1 (lasso) regulariser.

    Args:
        params: tensors, a single tensor, or a module (its ``parameters()`` are used).
        weight: the regularisation strength :math:`\lambda` (>= 0).

    Returns:
        A scalar tensor that carries gradients back to ``params`` (``weight * sign(p)``).

    Example:
        >>> import ember
        >>> from ember.optim import l1_penalty
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> penalty = l1_penalty([w], 0.1)
        >>> penalty.backward(); w.grad
        tensor([ 0.1, -0.1])
    """
    return _penalty("l1_penalty", params, weight, lambda p: p.abs().sum())


def l2_penalty(params: Iterable[Tensor] | Tensor, weight: float) -> Tensor:
    r"""``weight * sum(p ** 2)`` over all elements of all ``params``: the L2 (ridge) regulariser.

    The convention is Keras's (no factor 1/2): the gradient is ``2 * weight * p``, so this
    penalty equals ``weight_decay = 2 * weight`` in :class:`~ember.optim.SGD`.

    Args:
        params: tensors, a single tensor, or a module (its ``parameters()`` are used).
        weight: the regularisation strength :math:`\lambda` (>= 0).

    Returns:
        A scalar tensor that carries gradients back to ``params``.

    Example:
        >>> import ember
        >>> from ember.optim import l2_penalty
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> l2_penalty([w], 0.5)
        tensor(2.5, grad_fn=<mul>)
    """
    return _penalty("l2_penalty", params, weight, lambda p: (p * p).sum())
