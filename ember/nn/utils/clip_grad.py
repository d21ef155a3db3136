"""Gradient clipping (``torch.nn.utils.clip_grad``): by the total norm of all gradients, or elementwise by value.

Both work in place on ``p.grad`` after ``backward()`` and before ``optimizer.step()``,
with PyTorch's semantics, including what happens to non-finite gradients:

* a NaN anywhere makes the total norm NaN, and ``clip_grad_norm_`` then multiplies every
  gradient by NaN (as PyTorch does: the step is poisoned rather than silently skipped);
* an infinite gradient makes the total norm inf, the scale ``max_norm / (inf + 1e-6)`` is 0,
  so finite entries become 0 and infinite ones NaN;
* ``error_if_nonfinite=True`` raises instead, before any gradient is touched, so that
  a training loop can skip the batch (check the returned norm with ``isfinite`` to do the
  same without an exception).

``foreach`` is accepted for PyTorch's signatures and changes nothing: the norms and the
scaling already run as one array operation per gradient. :mod:`ember.optim` re-exports
these functions under the same names.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

from ... import backend
from ...autograd.tracing import opaque
from ...tensor import Tensor, constant

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorsT = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorsT) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters: TensorsT) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _opaque_over_tensors(function):
    """Mark ``function`` opaque for ``ember.compile`` (it works on arrays directly, so a compiled
    step replays the call whole), listing its first argument first: a generator such as
    ``model.parameters()`` would otherwise be empty when the call is replayed."""
    marked = opaque(function)

    @functools.wraps(function)
    def wrapper(tensors, *args, **kwargs):
        return marked(_as_list(tensors), *args, **kwargs)

    return wrapper


def _vector_norm(array, norm_type: float):
    xp = backend.array_module(array)
    flat = array.reshape(-1)
    if flat.dtype.itemsize < 4:  # accumulate half precision in float32, as PyTorch does
        flat = flat.astype(xp.float32)
    return xp.linalg.norm(flat, ord=norm_type)


@_opaque_over_tensors
def get_total_norm(tensors: TensorsT, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together, as if concatenated into one vector.

    Args:
        tensors: a tensor or tensors (usually gradients: ``[p.grad for p in params]``).
        norm_type: the p of the p-norm; ``float('inf')`` (or ``'inf'``) for the max-abs norm.
        error_if_nonfinite: raise RuntimeError when the norm is NaN or infinite.

    Returns:
        A 0-d tensor of the tensors' dtype (float32 0 when there are none).

    Example:
        >>> import ember
        >>> from ember.nn.utils import get_total_norm
        >>> get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])])
        tensor(5.)
    """
    norm_type = float(norm_type)
    arrays = [t._data for t in _as_list(tensors) if t._data.size]
    if not arrays:
        return Tensor(0.0, dtype="float32")
    xp = backend.array_module(arrays[0])
    device = backend.device_of(arrays[0])
    norms = [backend.to_device(_vector_norm(a, norm_type), device) for a in arrays]
    total = _vector_norm(xp.stack(norms), norm_type).astype(xp.result_type(*arrays))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}, "
            "so it cannot be clipped; set error_if_nonfinite=False to scale the gradients by it anyway"
        )
    return constant(xp.asarray(total))


@_opaque_over_tensors
def clip_grads_with_norm_(parameters: TensorsT, max_norm: float, total_norm: Tensor | float,
                          foreach: bool | None = None) -> None:
    """Scale the gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    Use it with :func:`get_total_norm` when the norm is needed first (e.g. to sum it across
    workers or to log it); :func:`clip_grad_norm_` does both steps.

    Example:
        >>> import ember
        >>> from ember.nn.utils import clip_grads_with_norm_
        >>> p = ember.zeros(2, requires_grad=True); p.grad = ember.tensor([3.0, 4.0])
        >>> clip_grads_with_norm_([p], max_norm=1.0, total_norm=5.0)
        >>> p.grad
        tensor([0.6, 0.8])
    """
    if not float(max_norm) >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number >= 0, got {max_norm!r}")
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else total_norm
    xp = backend.array_module(grads[0]._data)
    total = xp.asarray(total, dtype=getattr(total, "dtype", grads[0]._data.dtype))
    scale = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    if backend.device_of(scale) == "cpu" and scale == 1.0:
        return  # nothing to scale; NaN never equals 1, so NaN still propagates
    # inf * 0 gives NaN, as documented above: the warning would only repeat that.
    with backend.numpy_module().errstate(invalid="ignore"):
        for g in grads:
            data = g._data
            xp.multiply(data, backend.to_device(scale, backend.device_of(data)), out=data)
            g._version += 1


@_opaque_over_tensors
def clip_grad_norm_(parameters: TensorsT, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``; return the norm before.

    The norm is taken over all gradients together, as if concatenated; gradients are scaled
    by ``min(max_norm / (norm + 1e-6), 1)`` in place. See the module docstring for NaN and inf.

    Args:
        parameters: a tensor or tensors whose ``.grad`` is clipped (tensors without one are skipped).
        max_norm: the largest allowed total norm.
        norm_type: the p of the p-norm; ``float('inf')`` for the max-abs norm.
        error_if_nonfinite: raise RuntimeError, leaving the gradients alone, when the total
            norm is NaN or infinite.
        foreach: PyTorch's implementation switch; accepted, without effect.

    Returns:
        The total norm of the gradients before clipping, as a 0-d tensor.

    Example:
        >>> import ember
        >>> from ember.nn.utils import clip_grad_norm_
        >>> w = ember.zeros(2, requires_grad=True)
        >>> (w * ember.tensor([3.0, 4.0])).sum().backward()
        >>> clip_grad_norm_([w], max_norm=1.0)
        tensor(5.)
        >>> w.grad
        tensor([0.6, 0.8])
    """
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


@_opaque_over_tensors
def clip_grad_value_(parameters: TensorsT, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place (NaN stays NaN).

    Example:
        >>> import ember
        >>> from ember.nn.utils import clip_grad_value_
        >>> p = ember.zeros(3, requires_grad=True); p.grad = ember.tensor([-3.0, 0.5, 7.0])
        >>> clip_grad_value_([p], 1.0)
        >>> p.grad
        tensor([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value!r}")
    for g in _grads(parameters):
        data = g._data
        backend.array_module(data).clip(data, -clip_value, clip_value, out=data)
        g._version += 1
