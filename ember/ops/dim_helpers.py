"""Dimension arguments shared by the selection, scan and shift ops (sorting, scan, shift).

PyTorch lets a 0-d tensor take ``dim=0`` or ``dim=-1`` in these ops and treats it as
a one-element vector; these helpers give that rule one home.
"""
from __future__ import annotations

from .movement import _axis, reshape
from .reduce import dim_argument


def one_dim(op: str, dim, axis, ndim: int) -> int:
    """``dim`` (or its NumPy alias ``axis``) as a non-negative index; 0-d tensors accept 0 and -1.

    Example:
        >>> from ember.ops.dim_helpers import one_dim
        >>> one_dim("sort", -1, None, 3)
        2
    """
    dim = dim_argument(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}: missing the dim argument")
    return _axis(op, dim, max(ndim, 1))


def at_least_1d(x):
    """``x`` viewed as a 1-element vector when it is 0-d, and whether it was (to undo it)."""
    return (reshape(x, (1,)), True) if x.ndim == 0 else (x, False)
