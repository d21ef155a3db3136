"""Where numba keeps compiled kernels: ``$EMBER_CACHE/numba``, else ``~/.cache/ember/numba``.

Kernels are compiled on their first call, once per argument type (so per dtype
and memory layout), and written to this directory; the next process loads them
instead of compiling again. ``NUMBA_CACHE_DIR``, when set, wins, as numba
documents.

Example::

    >>> from ember.kernels.cache import cache_dir
    >>> cache_dir().endswith("numba")
    True
"""
from __future__ import annotations

import os

#: The environment variable that moves Ember's caches (the numba kernels go in its ``numba`` folder).
CACHE_VARIABLE = "EMBER_CACHE"


def cache_dir() -> str:
    """The directory compiled kernels are cached in (not created here)."""
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        return explicit
    root = os.environ.get(CACHE_VARIABLE) or os.path.join(os.path.expanduser("~"), ".cache", "ember")
    return os.path.join(root, "numba")


def configure_numba_cache(numba) -> None:
    """Point numba's on-disk cache at :func:`cache_dir` (numba reads it whenever a kernel compiles)."""
    numba.config.CACHE_DIR = cache_dir()
