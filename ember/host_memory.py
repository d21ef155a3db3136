"""Keep freed host memory in the process, so that a training step's large temporaries do not page-fault.

A training step allocates the same large arrays every time: activations,
gradients, im2col blocks, optimizer temporaries. With glibc's default settings,
malloc serves blocks above a threshold (128 KiB at first; it adapts, but a
step's mix of sizes keeps it low) with fresh ``mmap`` pages, unmaps them when
they are freed, and trims free memory at the top of the heap. Every fresh page
costs a page fault and a zero fill on first touch. Measured with back-to-back
training steps on one thread (the way a training loop runs; process CPU time,
two runs each):

========  ==============================  =====================  ====================
workload  glibc defaults                  settings below         PyTorch, defaults
========  ==============================  =====================  ====================
W2 LeNet  1,396 faults, 12.6-12.9 ms      1 fault, 8.4-9.7 ms    0-591 faults, 8.5-10.5
W3 CIFAR  3,052-3,359 faults, 85-94 ms    0 faults, 78-87 ms     5,257-6,283, 76-84
W5 GPT    7,617 faults, 67.8-69.0 ms      1 fault, 49.4-49.8 ms  1,108 faults, 46.7-46.9
========  ==============================  =====================  ====================

So :func:`keep_freed_memory` sets ``M_MMAP_THRESHOLD`` to 32 MiB (smaller blocks
come from the heap, where freed ones are reused) and ``M_TRIM_THRESHOLD`` to 256
MiB (free memory at the heap's top goes back to the operating system only beyond
that). Both settings are needed: either one alone switches off glibc's adaptive
threshold and faults more, not less. The cost is a resident size that stays near
its peak instead of shrinking between steps.

It is an **opt-in**, because the settings apply to the whole process (NumPy,
PyTorch and anything else that uses malloc), which importing a library should not
change behind its user's back. Call ``ember.host_memory.keep_freed_memory()`` at
the top of a training script, or set ``EMBER_KEEP_FREED_MEMORY=1`` before
importing Ember. Ember's own training programs opt in: the ``ember train`` and
``ember evaluate`` commands, and Ember's process in the benchmark suite (unless
``EMBER_KEEP_FREED_MEMORY=0``). Other platforms and C libraries are left alone.
"""
from __future__ import annotations

import ctypes
import os
import platform

#: ``mallopt`` parameter numbers from glibc's ``malloc.h``.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: glibc's largest allowed ``M_MMAP_THRESHOLD`` on 64-bit systems.
MMAP_THRESHOLD_BYTES = 32 << 20
TRIM_THRESHOLD_BYTES = 256 << 20

_applied = False


def keep_freed_memory(mmap_threshold: int = MMAP_THRESHOLD_BYTES,
                      trim_threshold: int = TRIM_THRESHOLD_BYTES) -> bool:
    """Make glibc's malloc keep freed blocks for reuse; returns whether the settings took effect.

    An opt-in (see the module docstring): applied when Ember is imported only with
    ``EMBER_KEEP_FREED_MEMORY=1``; call it again to choose other thresholds. A
    no-op returning False on platforms without glibc.

    Example:
        >>> from ember.host_memory import keep_freed_memory
        >>> isinstance(keep_freed_memory(), bool)
        True
    """
    global _applied
    _applied = _set_malloc_thresholds(int(mmap_threshold), int(trim_threshold))
    return _applied


def _set_malloc_thresholds(mmap_threshold: int, trim_threshold: int) -> bool:
    if not _is_glibc():
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 and mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1


def _is_glibc() -> bool:
    # confstr answers at once; platform.libc_ver() scans the interpreter binary (milliseconds).
    try:
        return platform.system() == "Linux" and os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` has taken effect in this process."""
    return _applied


def _setting() -> str:
    return os.environ.get("EMBER_KEEP_FREED_MEMORY", "").strip().lower()


def _apply_at_import() -> None:
    """At import: keep freed memory only when ``EMBER_KEEP_FREED_MEMORY=1`` asks for it."""
    if _setting() in ("1", "true", "yes", "on"):
        keep_freed_memory()


def keep_freed_memory_unless_declined() -> bool:
    """For Ember's own training programs (``ember train``, the benchmarks): opt in, unless
    ``EMBER_KEEP_FREED_MEMORY=0`` declines; returns whether the settings are in effect."""
    if _setting() in ("0", "false", "no", "off"):
        return _applied
    return keep_freed_memory()


__all__ = ["keep_freed_memory", "keeps_freed_memory", "keep_freed_memory_unless_declined"]
