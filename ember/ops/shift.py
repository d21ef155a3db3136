"""Cyclic shifts and quarter turns: roll and rot90.

``roll`` is one linear primitive whose vjp is the opposite roll; ``rot90`` is
composed from ``flip`` and a swap of two dimensions, as PyTorch defines it.
"""
from __future__ import annotations

from typing import Any

from ..autograd.function import LinearFunction, apply
from ..backend import array_module
from .checks import to_tensor
from .movement import Copy, _axis, flip, reshape, swapaxes
from ..errors import ArgumentError

__all__ = ["roll", "rot90"]


class Roll(LinearFunction):
    """Shift elements cyclically by ``shifts[i]`` along ``axes[i]``."""

    @staticmethod
    def forward(ctx, x, shifts, axes):
        return array_module(x).roll(x, shifts, axis=axes)

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return apply(Roll, (g,), {"shifts": tuple(-s for s in p["shifts"]), "axes": p["axes"]})


def _as_tuple(value) -> tuple:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),)


def roll(input: Any, shifts, dims=None):
    """Shift elements cyclically: those pushed past the end come back at the start.

    With ``dims=None`` the tensor is rolled as if flattened, then given its shape
    back. ``shifts`` and ``dims`` may be tuples of equal length (one shift per dim;
    a dim listed twice is shifted twice).

    Example:
        >>> import ember
        >>> from ember.ops.shift import roll
        >>> roll(ember.tensor([[0, 1, 2], [3, 4, 5]]), 1).tolist()
        [[5, 0, 1], [2, 3, 4]]
        >>> roll(ember.tensor([[0, 1, 2], [3, 4, 5]]), (1, 2), (0, 1)).tolist()
        [[4, 5, 3], [1, 2, 0]]
    """
    x = to_tensor(input)
    shift_list = _as_tuple(shifts)
    if dims is None:
        if len(shift_list) != 1:
            raise ArgumentError(f"roll: shifts and dims must align: got {len(shift_list)} shifts and no dims "
                                "(without dims, give a single shift)")
        flat = reshape(x, (-1,))
        return reshape(apply(Roll, (flat,), {"shifts": shift_list, "axes": (0,)}), x.shape)
    dim_list = _as_tuple(dims)
    if len(shift_list) != len(dim_list):
        raise ArgumentError(f"roll: shifts and dims must align: got {len(shift_list)} shifts and "
                            f"{len(dim_list)} dims")
    if x.ndim == 0:
        raise ArgumentError(f"roll: dims {dims} given for a 0-d tensor, which has no dimensions")
    axes = tuple(_axis("roll", d, x.ndim) for d in dim_list)
    return apply(Roll, (x,), {"shifts": shift_list, "axes": axes})


def rot90(input: Any, k: int = 1, dims=(0, 1)):
    """Rotate by ``k`` quarter turns in the plane of ``dims``, from the first dim towards the second.

    Example:
        >>> import ember
        >>> from ember.ops.shift import rot90
        >>> rot90(ember.tensor([[1, 2], [3, 4]])).tolist()
        [[2, 4], [1, 3]]
    """
    x = to_tensor(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ArgumentError(f"rot90: expected exactly 2 rotation dims, got {dims}")
    if x.ndim < 2:
        raise ArgumentError(f"rot90: expected a tensor with at least 2 dimensions, got shape {tuple(x.shape)}")
    d0, d1 = _axis("rot90", dims[0], x.ndim), _axis("rot90", dims[1], x.ndim)
    if d0 == d1:
        raise ArgumentError(f"rot90: expected rotation dims to be different, got {dims}")
    k = int(k) % 4
    if k == 1:
        return swapaxes(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return swapaxes(flip(x, d0), d0, d1)
    return apply(Copy, (x,), {})
