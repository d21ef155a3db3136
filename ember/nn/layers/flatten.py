"""Reshaping layers: ``Flatten`` and ``Unflatten``.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.Flatten()(ember.zeros(32, 1, 28, 28)).shape
    (32, 784)
"""
from __future__ import annotations

from ...ops.movement import _axis, flatten, reshape
from ...tensor import Tensor, as_tensor
from ..module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Flatten(0, -1)(ember.zeros(2, 3, 4)).shape
        (24,)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (which may contain one -1).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Unflatten(1, (1, 28, 28))(ember.zeros(32, 784)).shape
        (32, 1, 28, 28)
    """

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(int(s) for s in unflattened_size)
        if sum(1 for s in self.unflattened_size if s == -1) > 1:
            raise ValueError(f"Unflatten: at most one -1 in unflattened_size, got {self.unflattened_size}")

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        axis = _axis("Unflatten", self.dim, x.ndim)
        sizes = self.unflattened_size
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        size = x.shape[axis]
        if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
            raise ValueError(
                f"Unflatten: cannot split dimension {axis} of shape {x.shape} ({size} elements) into {sizes}"
            )
        return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
