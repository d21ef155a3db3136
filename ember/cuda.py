"""``ember.cuda``: PyTorch's CUDA queries, answered truthfully through CuPy.

``is_available()`` is True only when CuPy imports and sees a working NVIDIA device;
the seeding functions seed the GPU generators (they are harmless without a GPU, as in
PyTorch, so seeded CPU programs run unchanged).
"""
from __future__ import annotations

from . import backend
from .amp import cuda as amp  # noqa: F401 - torch.cuda.amp's autocast / GradScaler spellings


def is_available() -> bool:
    """Whether a CUDA device can be used (CuPy installed and a device present)."""
    return backend.cupy_module() is not None


def device_count() -> int:
    """The number of CUDA devices (0 without CuPy or a GPU)."""
    cupy = backend.cupy_module()
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the current CUDA device."""
    cupy = _require("current_device")
    return int(cupy.cuda.runtime.getDevice())


def get_device_name(device=None) -> str:
    """The name of a CUDA device (the current one by default)."""
    cupy = _require("get_device_name")
    index = current_device() if device is None else int(str(device).rpartition(":")[2] or 0)
    return cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work to finish (a no-op without a GPU)."""
    cupy = backend.cupy_module()
    if cupy is not None:
        cupy.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed the GPU generators (Ember seeds every backend through :func:`ember.manual_seed`)."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed


def is_bf16_supported() -> bool:
    """Whether bfloat16 can be used on the GPU (Ember has no bfloat16 kernels: False)."""
    return False


def empty_cache() -> None:
    """Release cached GPU memory blocks back to the driver (a no-op without a GPU)."""
    cupy = backend.cupy_module()
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()


def _require(op: str):
    cupy = backend.cupy_module()
    if cupy is None:
        raise RuntimeError(f"cuda.{op}: no CUDA device is available (CuPy with a GPU is needed)")
    return cupy
