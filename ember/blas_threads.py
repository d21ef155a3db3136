"""How many threads the BLAS library behind NumPy will use for one GEMM.

Kernels that cut their work into cache-sized blocks (the convolutions' im2col,
``ember/kernels/conv.py``) size a block per BLAS thread: OpenBLAS splits one
GEMM between its threads, so with two threads a block twice as large leaves each
thread the same cache-sized share, and each GEMM call is large enough to be worth
splitting. The count comes from ``threadpoolctl`` (asked once which BLAS library
is loaded, then asked for its current setting on every call, about a microsecond,
so a ``threadpool_limits`` block is honoured). Without ``threadpoolctl`` it falls
back to the environment variables BLAS libraries read at start-up, else the cores
this process may use.

Example::

    >>> from ember.blas_threads import blas_thread_count
    >>> blas_thread_count() >= 1
    True
"""
from __future__ import annotations

import contextlib
import os

#: The environment variables that size the BLAS library's threads, most specific first.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")

_controllers = None


@contextlib.contextmanager
def child_blas_threads(count: int):
    """Set the BLAS thread variables to ``count`` for processes started inside the block.

    A library reads them when it loads, so this sizes the BLAS pools of worker processes
    (search trials, Hogwild workers): two jobs on two cores, not four threads fighting.

    Example:
        >>> import os
        >>> with child_blas_threads(1):
        ...     os.environ["OMP_NUM_THREADS"]
        '1'
    """
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update({name: str(count) for name in BLAS_THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _environment_thread_count() -> int:
    for variable in BLAS_THREAD_VARIABLES:
        value = os.environ.get(variable, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _blas_controllers() -> list:
    global _controllers
    if _controllers is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controllers = []
        else:
            import numpy  # noqa: F401 - loads the BLAS library that threadpoolctl looks for

            _controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _controllers


def blas_thread_count() -> int:
    """The thread count of NumPy's BLAS library now (at least 1)."""
    controllers = _blas_controllers()
    if not controllers:
        return _environment_thread_count()
    return max(1, max(int(lib.num_threads) for lib in controllers))
