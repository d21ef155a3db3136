"""DLPack: exchange arrays with NumPy, PyTorch, CuPy, JAX... without copying.

``ember.from_dlpack(x)`` wraps any object with ``__dlpack__`` (a PyTorch tensor,
a NumPy or CuPy array, a JAX array) as an Ember tensor sharing its memory, and
``Tensor.__dlpack__`` lets ``torch.from_dlpack(t)`` or ``numpy.from_dlpack(t)``
do the same with an Ember tensor. A write through one shows in the other.
Only the data crosses: the result does not require grad and carries no graph.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor, constant

# Device codes of the DLPack standard (DLDeviceType).
_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13


def from_dlpack(x) -> Tensor:
    """Wrap an object that supports DLPack as a tensor, sharing its memory.

    Args:
        x: an object with ``__dlpack__`` and ``__dlpack_device__`` on the CPU or
            an NVIDIA GPU (the GPU needs CuPy).

    Returns:
        A :class:`~ember.Tensor` viewing the same memory (no copy).

    Example:
        >>> import numpy as np, ember
        >>> a = np.zeros(3, dtype=np.float32)
        >>> t = ember.from_dlpack(a)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 0., 0.])
    """
    if isinstance(x, Tensor):
        return x.detach()
    if not hasattr(x, "__dlpack__") or not hasattr(x, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ and __dlpack_device__ (a PyTorch "
                        f"tensor, a NumPy/CuPy/JAX array), got {type(x).__name__}")
    device_type, _ = x.__dlpack_device__()
    if device_type in (_CPU, _CUDA_HOST):
        array = backend.numpy_module().from_dlpack(x)
    elif device_type in (_CUDA, _CUDA_MANAGED):
        cupy = backend.module_for_device("cuda")
        array = cupy.from_dlpack(x)
    else:
        raise TypeError(f"from_dlpack: the object lives on DLPack device type {int(device_type)}; "
                        "Ember supports the CPU (1) and CUDA (2)")
    # _make: Tensor() would accept the array too, but _make guarantees no conversion or copy.
    return constant(array)


def tensor_dlpack(tensor: Tensor, stream=None, max_version=None, dl_device=None, copy=None):
    """What ``Tensor.__dlpack__`` returns: the DLPack capsule of the tensor's array.

    The keywords are those of the array API standard; only the ones given are
    passed on, so older NumPy (without ``max_version``) keeps working.
    """
    kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                ("dl_device", dl_device), ("copy", copy)) if v is not None}
    return tensor._data.__dlpack__(**kwargs)


def tensor_dlpack_device(tensor: Tensor) -> tuple:
    """What ``Tensor.__dlpack_device__`` returns: ``(device_type, device_id)``."""
    return tensor._data.__dlpack_device__()
