"""Automatic differentiation: the tape, primitives, transforms and gradient checks.

Example:
    >>> import ember
    >>> from ember.autograd import grad, jvp
    >>> f = lambda x: (x.tanh() ** 2).sum()
    >>> g = grad(f)(ember.tensor([0.5, -1.0]))
"""
from .engine import Node
from .function import Function, apply
from .functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False) -> None:
    """Accumulate gradients of several tensors at once (PyTorch's ``autograd.backward``)."""
    from ..tensor import Tensor, as_tensor
    from .engine import run_backward

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    seeds = []
    for t, g in zip(tensors, grad_tensors):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"backward: grad_tensors needed for output of shape {t.shape}")
            g = t.detach().zeros_like() + 1
        seeds.append(as_tensor(g))
    run_backward(tensors, seeds, create_graph if retain_graph is None else retain_graph, create_graph)


__all__ = [
    "Function", "Node", "apply", "backward", "grad", "gradients", "value_and_grad", "vjp", "jvp",
    "hvp", "jacobian", "hessian", "gradcheck", "gradgradcheck", "GradcheckError", "no_grad",
    "enable_grad", "set_grad_enabled", "is_grad_enabled",
]
