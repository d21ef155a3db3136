"""``ember.accelerator``: PyTorch's device-neutral accelerator queries (CUDA through CuPy here)."""
from __future__ import annotations

from . import cuda
from .device import device


def is_available() -> bool:
    """Whether an accelerator (a CUDA GPU) can be used."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """The accelerator device, or None when there is none."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """The number of accelerator devices."""
    return cuda.device_count()
