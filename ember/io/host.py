"""Leaves of saved state as host NumPy arrays: Ember tensors, NumPy/CuPy arrays, torch tensors.

Every writer in :mod:`ember.io` turns its array leaves into host NumPy arrays
through :func:`to_host_array`, so GPU data is copied to the host in one place.
PyTorch tensors are recognised by duck typing (nothing here imports torch), which
lets ``ember.save(torch.load(path, weights_only=True), out)`` convert a PyTorch
file once, where both frameworks are installed.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor


def is_torch_tensor(value) -> bool:
    """True for a ``torch.Tensor`` (or ``torch.nn.Parameter``), without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach") \
        and hasattr(value, "numpy")


def torch_to_numpy(value) -> np.ndarray:
    """A NumPy copy of a torch tensor; ``bfloat16`` is widened (exactly) to ``float32``."""
    value = value.detach().cpu()
    if str(getattr(value, "dtype", "")) == "torch.bfloat16":
        value = value.float()  # NumPy has no bfloat16; float32 holds every bfloat16 exactly
    return np.array(value.numpy(), copy=True)


def is_gpu_array(value) -> bool:
    """True for a CuPy array (checked by its type's module, so CuPy need not be imported)."""
    return type(value).__module__.split(".")[0] == "cupy"


def device_of_leaf(value) -> str:
    """``'cpu'`` or ``'cuda:N'`` for an Ember tensor, a torch tensor or an array."""
    if isinstance(value, Tensor):
        return backend.device_of(value._data)
    if is_torch_tensor(value):
        device = str(value.device)
        return "cpu" if device == "cpu" else device if ":" in device else device + ":0"
    return backend.device_of(value)


def to_host_array(value, name: str = "value") -> np.ndarray:
    """The NumPy array behind a Tensor, NumPy/CuPy array, NumPy scalar or torch tensor.

    GPU data is copied to the host; NumPy arrays are returned as they are (the
    writers make them contiguous).

    Example:
        >>> import ember
        >>> to_host_array(ember.ones(2)).dtype
        dtype('float32')
    """
    if isinstance(value, Tensor):
        value = value._data
    elif is_torch_tensor(value):
        return torch_to_numpy(value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return value
    if is_gpu_array(value):
        return backend.to_device(value, "cpu")
    raise TypeError(f"ember.save: {name} is a {type(value).__name__}; only tensors and arrays can be "
                    "saved as tensors")
