"""``torch.cuda.amp``'s spellings: ``autocast`` fixed to CUDA (float16 by default) and a CUDA ``GradScaler``.

Example:
    >>> import ember.amp.cuda
    >>> ember.amp.cuda.autocast().device_type
    'cuda'
"""
from __future__ import annotations

from . import autocast_mode, grad_scaler


class autocast(autocast_mode.autocast):
    """``ember.autocast("cuda", ...)`` under PyTorch's older name ``torch.cuda.amp.autocast``."""

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool | None = None):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """``GradScaler("cuda", ...)`` under PyTorch's older name ``torch.cuda.amp.GradScaler``."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


__all__ = ["autocast", "GradScaler"]
