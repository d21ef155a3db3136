"""``ember.backends.mps``: Apple's Metal backend, which Ember does not have."""
from __future__ import annotations


def is_available() -> bool:
    """False: Ember has no Metal (MPS) backend."""
    return False


def is_built() -> bool:
    """False: Ember has no Metal (MPS) backend."""
    return False
