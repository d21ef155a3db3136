"""``torch.cpu.amp``'s spellings: ``autocast`` fixed to the CPU (bfloat16 by default) and ``GradScaler``.

Example:
    >>> import ember, ember.amp.cpu
    >>> with ember.amp.cpu.autocast():
    ...     (ember.ones(2, 2) @ ember.ones(2, 2)).dtype.name
    'bfloat16'
"""
from __future__ import annotations

from . import autocast_mode
from .grad_scaler import GradScaler


class autocast(autocast_mode.autocast):
    """``ember.autocast("cpu", ...)`` under PyTorch's older name ``torch.cpu.amp.autocast``."""

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool | None = None):
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


__all__ = ["autocast", "GradScaler"]
