"""Intra-op parallelism: a kernel's independent pieces of work spread over a few threads.

BLAS already runs a large GEMM on every core, but the rest of a convolution (the
im2col copies, the col2im slice-adds) and of a recurrent scan (a small GEMM and a
dozen elementwise calls per time step) runs on one core. PyTorch spreads such
work with OpenMP; Ember does it with Python threads, because NumPy releases the
GIL inside its copies, ufunc loops and BLAS calls, which is where the time goes.

A kernel splits its work into independent parts (batch blocks of a convolution,
halves of a recurrent batch) and calls :func:`parallel_map`. While the parts run,
BLAS is limited to one thread, so that two parts each calling a GEMM do not ask
for four threads on two cores; the previous limit is restored afterwards.

The thread count defaults to ``EMBER_NUM_THREADS``, else ``OMP_NUM_THREADS``, else
the cores this process may use, and is changed with :func:`set_num_threads`. One
exception: if NumPy was imported before Ember and ``OPENBLAS_THREAD_TIMEOUT`` is
unset, OpenBLAS's idle workers spin on the cores for ~0.1 s after every call and
the default is one thread (see ``ember/_blas_env.py``; import Ember first). One thread runs every part in
the caller, in order, exactly as before: results are the same numbers either way
whenever the parts write disjoint outputs; parts whose results are summed (a
weight gradient over batch blocks) may differ in the last bits.

Example:
    >>> import ember
    >>> ember.parallel.parallel_map(lambda part: part * 2, [1, 2, 3])
    [2, 4, 6]
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from ._blas_env import BLAS_SPIN_IS_SHORT

_lock = threading.Lock()
_state = {"threads": None, "pool": None, "pool_size": 0, "blas": None}
_local = threading.local()


def _default_threads() -> int:
    value = os.environ.get("EMBER_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if not BLAS_SPIN_IS_SHORT:  # NumPy came first: OpenBLAS's spinning workers would take our cores
        return 1
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads Ember's kernels split their work over."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(threads: int) -> None:
    """Use ``threads`` threads for Ember's own parallel kernels (BLAS keeps its own setting).

    Example:
        >>> import ember
        >>> ember.parallel.set_num_threads(1)   # everything on the calling thread
        >>> ember.parallel.get_num_threads()
        1
        >>> ember.parallel.set_num_threads(None)  # back to the default (OMP_NUM_THREADS or the cores)
    """
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ValueError(f"set_num_threads: expected a positive int (or None for the default), got {threads!r}")
    _state["threads"] = threads


def split(n: int, parts: int) -> list:
    """``(start, stop)`` ranges cutting ``range(n)`` into at most ``parts`` near-equal pieces.

    Example:
        >>> split(10, 3)
        [(0, 4), (4, 7), (7, 10)]
    """
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _blas_limiter():
    """threadpoolctl's handle on the loaded BLAS libraries (None where threadpoolctl is missing)."""
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional: without it BLAS keeps its threads and may oversubscribe
            _state["blas"] = False
        else:
            _state["blas"] = ThreadpoolController().select(user_api="blas")
    return _state["blas"] or None


def _pool(size: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool_size"] < size:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(size, thread_name_prefix="ember-parallel")
            _state["pool_size"] = size
        return _state["pool"]


def _run_marked(fn, part):
    _local.inside = True
    try:
        return fn(part)
    finally:
        _local.inside = False


def parallel_map(fn: Callable, parts: Sequence) -> list:
    """``[fn(part) for part in parts]``, the parts run concurrently on Ember's threads.

    The caller's thread runs the first part itself. Calls nested inside a part run
    sequentially (no pool within the pool). Exceptions propagate to the caller.
    """
    parts = list(parts)
    threads = get_num_threads()
    if threads == 1 or len(parts) <= 1 or getattr(_local, "inside", False):
        return [fn(part) for part in parts]
    pool = _pool(threads - 1)
    limiter = _blas_limiter()
    context = limiter.limit(limits=1) if limiter is not None else nullcontext()
    with context:
        futures = [pool.submit(_run_marked, fn, part) for part in parts[1:]]
        first = _run_marked(fn, parts[0])
        return [first] + [f.result() for f in futures]


def parallel_for(fn: Callable, n: int, min_per_part: int = 1) -> list:
    """Run ``fn(start, stop)`` over :func:`split` ranges of ``range(n)``, one per thread.

    ``min_per_part`` keeps parts from getting too small to be worth a thread.
    """
    parts = max(1, min(get_num_threads(), n // max(1, min_per_part)))
    return parallel_map(lambda bounds: fn(*bounds), split(n, parts))


__all__ = ["get_num_threads", "set_num_threads", "parallel_map", "parallel_for", "split"]
