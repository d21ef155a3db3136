"""``ember.amp``: automatic mixed precision (autocast and gradient scaling), PyTorch's ``torch.amp``.

See ``docs/amp.md``. Example:
    >>> import ember, ember.amp
    >>> scaler = ember.amp.GradScaler("cpu")
    >>> scaler.get_scale()
    65536.0
"""
from .autocast_mode import (FLOAT32_OPS, LOWER_PRECISION_OPS, autocast, clear_autocast_cache,
                            get_autocast_cpu_dtype, get_autocast_dtype, is_autocast_active,
                            is_autocast_cache_enabled, is_autocast_cpu_enabled, is_autocast_enabled,
                            will_cast)
from .dtypes import bfloat16, float16, is_floating_dtype
from .grad_scaler import GradScaler
from . import cpu, cuda

__all__ = ["autocast", "GradScaler", "bfloat16", "float16", "is_floating_dtype", "is_autocast_enabled",
           "is_autocast_cpu_enabled", "get_autocast_dtype", "get_autocast_cpu_dtype", "is_autocast_cache_enabled",
           "clear_autocast_cache", "is_autocast_active", "will_cast", "LOWER_PRECISION_OPS", "FLOAT32_OPS", "cpu", "cuda"]
