"""``ember.backends.cudnn``: flags kept for PyTorch programs (Ember does not use cuDNN)."""
from __future__ import annotations

#: Accepted and recorded; Ember's kernels are deterministic whatever its value.
deterministic = False
#: Accepted and recorded; Ember does not autotune convolution algorithms.
benchmark = False
#: Accepted and recorded.
enabled = True
#: Accepted and recorded (Ember never computes in TF32).
allow_tf32 = False


def is_available() -> bool:
    """False: Ember does not use cuDNN."""
    return False
