"""Flat buffers: many tensors of one dtype laid end to end, so one MPI call moves them all.

A collective per tensor would pay MPI's latency once per parameter (a convnet
has a dozen, a transformer hundreds); one contiguous buffer pays it once.
:func:`flat_buffers` groups tensors into such buffers (one per dtype, or smaller
buckets of at most ``cap_bytes``); a :class:`FlatBuffer` copies values or
gradients in and out of its slots.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..tensor import Tensor

__all__ = ["FlatBuffer", "flat_buffers"]


class FlatBuffer:
    """One contiguous array with a slot (a reshaped view) per tensor.

    Args:
        tensors: tensors of a single dtype, on the CPU.

    Example:
        >>> import ember
        >>> a, b = ember.ones(2), ember.zeros(2, 2)
        >>> flat = FlatBuffer([a, b])
        >>> flat.pack_data().tolist()
        [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, tensors: Sequence[Tensor]) -> None:
        if not tensors:
            raise ValueError("FlatBuffer: needs at least one tensor")
        dtypes = {t.dtype for t in tensors}
        if len(dtypes) != 1:
            raise ValueError(f"FlatBuffer: all tensors must share one dtype, got {sorted(map(str, dtypes))}")
        for t in tensors:
            if not isinstance(t._data, np.ndarray):
                raise TypeError(f"FlatBuffer: tensors must live on the CPU (NumPy arrays); a tensor of shape "
                                f"{t.shape} is on {t.device}")
        self.tensors = list(tensors)
        self.dtype = tensors[0].dtype
        self.data = np.empty(sum(t.numel() for t in tensors), dtype=self.dtype)
        self.slots = []
        offset = 0
        for t in tensors:
            self.slots.append(self.data[offset: offset + t.numel()].reshape(t.shape))
            offset += t.numel()

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    def pack_data(self) -> np.ndarray:
        """Copy the tensors' values into the buffer; returns the buffer."""
        for t, slot in zip(self.tensors, self.slots):
            np.copyto(slot, t._data)
        return self.data

    def unpack_data(self) -> None:
        """Copy the buffer back into the tensors' values (in place)."""
        for t, slot in zip(self.tensors, self.slots):
            np.copyto(t._data, slot)
            t._version += 1  # graphs that saved the old values must not silently use the new ones

    def pack_grad(self, index: int) -> None:
        """Copy tensor ``index``'s gradient (zeros when it has none) into its slot."""
        grad = self.tensors[index].grad
        if grad is None:
            self.slots[index].fill(0)
        else:
            np.copyto(self.slots[index], grad._data)

    def pack_grads(self) -> np.ndarray:
        """Copy every gradient into the buffer; returns the buffer."""
        for i in range(len(self.tensors)):
            self.pack_grad(i)
        return self.data

    def unpack_grad(self, index: int) -> None:
        """Make tensor ``index``'s gradient equal to its slot."""
        set_grad(self.tensors[index], self.slots[index])

    def unpack_grads(self) -> None:
        """Make every gradient equal to its slot."""
        for i in range(len(self.tensors)):
            self.unpack_grad(i)


def set_grad(tensor: Tensor, values: np.ndarray) -> None:
    """``tensor.grad = values``, reusing the gradient's own array when it can be written."""
    grad = tensor.grad
    if grad is not None and grad.node is None and grad._data.flags.writeable and grad._data.shape == values.shape:
        np.copyto(grad._data, values)
        grad._version += 1
    else:
        tensor.grad = Tensor(values.copy())


def flat_buffers(tensors: Iterable[Tensor], cap_bytes: float | None = None) -> list[FlatBuffer]:
    """Group ``tensors``, in order, into flat buffers of one dtype and at most ``cap_bytes`` each.

    A tensor larger than the cap gets a buffer of its own. Without a cap, all the
    tensors of a dtype share one buffer.

    Example:
        >>> import ember
        >>> ts = [ember.zeros(100), ember.zeros(100), ember.zeros(3, dtype="float64")]
        >>> [len(b.tensors) for b in flat_buffers(ts)]
        [2, 1]
        >>> [len(b.tensors) for b in flat_buffers(ts, cap_bytes=400)]
        [1, 1, 1]
    """
    groups: list[list[Tensor]] = []
    open_group: dict = {}  # dtype -> (group, bytes so far)
    for t in tensors:
        entry = open_group.get(t.dtype)
        size = t._data.nbytes
        if entry is None or (cap_bytes is not None and entry[1] + size > cap_bytes):
            group: list[Tensor] = []
            groups.append(group)
            entry = open_group[t.dtype] = [group, 0]
        entry[0].append(t)
        entry[1] += size
    return [FlatBuffer(g) for g in groups]
