"""Flat views of parameters: PyTorch's vector helpers (``torch.nn.utils.convert_parameters``) and
Torch7's ``getParameters()``.

The lectures' optimisation code sees a network as one vector ``x`` of
parameters and one vector ``dl_dx`` of gradients. :func:`get_parameters` gives
exactly that: it moves every parameter into one contiguous buffer (each
parameter becomes a view into it) and returns a gradient vector that backward
fills, so that ``x -= lr * dl_dx`` trains the network.

Example:
    >>> import ember, ember.nn as nn
    >>> from ember.nn.utils import parameters_to_vector
    >>> parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    (8,)
"""
from __future__ import annotations

from collections.abc import Iterable

from ... import backend
from ...ops.movement import concat, reshape
from ...tensor import Tensor, constant
from ..module import Module, Parameter

__all__ = ["parameters_to_vector", "vector_to_parameters", "get_parameters"]


def _as_list(parameters) -> list:
    if isinstance(parameters, Module):
        return list(parameters.parameters())
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the parameters, flattened, into one 1-D tensor (differentiable).

    Example:
        >>> import ember
        >>> from ember.nn.utils import parameters_to_vector
        >>> parameters_to_vector([ember.ones(2, 2), ember.zeros(1)]).tolist()
        [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return concat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    Example:
        >>> import ember, ember.nn as nn
        >>> from ember.nn.utils import vector_to_parameters
        >>> layer = nn.Linear(2, 1)
        >>> vector_to_parameters(ember.tensor([1.0, 2.0, 3.0]), layer.parameters())
        >>> layer.weight.tolist(), layer.bias.tolist()
        ([[1.0, 2.0]], [3.0])
    """
    params = _as_list(parameters)
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got {getattr(vec, 'shape', type(vec).__name__)}")
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements but the parameters hold {total}")
    offset = 0
    for p in params:
        p._data[...] = vec._data[offset:offset + p.numel()].reshape(p.shape)
        p._version += 1
        offset += p.numel()


class _FlatGradHook:
    """A leaf hook that adds each gradient of one parameter into its slice of the flat vector."""

    __slots__ = ("view",)

    def __init__(self, view):
        self.view = view

    def __call__(self, grad: Tensor) -> None:
        self.view += grad._data.reshape(self.view.shape)


def get_parameters(module: Module | Iterable[Parameter]) -> tuple[Tensor, Tensor]:
    """Torch7's ``getParameters()``: one flat parameter vector and one flat gradient vector.

    Every parameter's data is moved into one contiguous buffer and becomes a view
    of it, so in-place changes to the returned ``params`` change the network (and
    the other way round). Every gradient that ``backward`` computes for a
    parameter is also *added* into its slice of ``grads``, which therefore
    accumulates like Torch7's ``gradParams`` until you zero it
    (``grads.zero_()``). Call it once, after building the network and before
    training; ``load_state_dict`` copies into the shared arrays, but ``.to()``
    replaces them and so ends the sharing (call it again after it).

    Returns:
        ``(params, grads)``: two 1-D tensors of the total parameter count.

    Example:
        >>> import ember, ember.nn as nn
        >>> from ember.nn.utils import get_parameters
        >>> net = nn.Linear(3, 1)
        >>> x, dl_dx = get_parameters(net)
        >>> loss = net(ember.ones(4, 3)).sum()
        >>> loss.backward()
        >>> dl_dx.tolist()
        [4.0, 4.0, 4.0, 4.0]
        >>> with ember.no_grad():
        ...     x -= 0.1 * dl_dx          # one SGD step on the whole network
        >>> dl_dx.zero_().tolist()
        [0.0, 0.0, 0.0, 0.0]
    """
    params = _as_list(module)
    if not params:
        raise ValueError("get_parameters: no parameters given")
    dtypes = {p.dtype for p in params}
    if len(dtypes) > 1:
        raise TypeError(f"get_parameters: parameters have several dtypes {sorted(map(str, dtypes))}; "
                        "convert the module to one dtype first")
    xp = backend.array_module(params[0]._data)
    total = sum(p.numel() for p in params)
    flat = xp.empty(total, dtype=params[0].dtype)
    flat_grad = xp.zeros(total, dtype=params[0].dtype)
    offset = 0
    for p in params:
        n = p.numel()
        flat[offset:offset + n] = p._data.reshape(-1)
        p._data = flat[offset:offset + n].reshape(p.shape)
        if p._hooks:
            p._hooks[:] = [h for h in p._hooks if not isinstance(h, _FlatGradHook)]
        if p.requires_grad:
            p.register_hook(_FlatGradHook(flat_grad[offset:offset + n]))
        offset += n
    return constant(flat), constant(flat_grad)
