"""One thread knob for the numba kernels and the BLAS library together.

``set_num_threads(n)`` sets numba's ``prange`` pool and NumPy's BLAS pool
(through ``threadpoolctl``) to ``n``; ``get_num_threads()`` reads it back. By
default the count is ``OMP_NUM_THREADS`` when set (the variable PyTorch and the
BLAS libraries read), else every core this process may use. numba is only told
once it is loaded (the first numba kernel call), so setting the count never
imports numba.

Example::

    >>> import ember.kernels
    >>> n = ember.kernels.get_num_threads()
    >>> ember.kernels.set_num_threads(n)  # numba's pool and the BLAS pool, together
    >>> ember.kernels.get_num_threads() == n
    True
"""
from __future__ import annotations

import os

_threads: int | None = None  # None until set: then the default below applies


_default: tuple = (None, 1)  # (the OMP_NUM_THREADS text it was computed from, the count)


def default_num_threads() -> int:
    """``OMP_NUM_THREADS`` (its outer level) when set and positive, else the usable cores.

    Every kernel call asks (to choose its serial or parallel form), so the answer is kept
    until the variable changes: computing it took 1.1 us, a third of a small kernel's call.
    """
    global _default
    text = os.environ.get("OMP_NUM_THREADS", "")
    if text == _default[0]:
        return _default[1]
    value = text.split(",")[0].strip()
    if value.isdigit() and int(value) > 0:
        count = int(value)
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    _default = (text, count)
    return count


def get_num_threads() -> int:
    """The thread count the kernels and BLAS are set to."""
    return _threads if _threads is not None else default_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the numba kernels and in NumPy's BLAS library.

    Raises:
        ValueError: when ``n`` is not a positive int.
    """
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"ember.kernels.set_num_threads: expected a positive int, got {n!r}")
    _threads = n
    _set_blas_threads(n)
    from . import engine

    if engine._numba:  # loaded already: tell it now; otherwise configure_numba_threads will
        configure_numba_threads(engine._numba)


def _set_blas_threads(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no way to change a loaded BLAS library's pool; the kernels still follow n
        return
    import numpy  # noqa: F401 - loads the BLAS library threadpoolctl looks for

    threadpool_limits(limits=n, user_api="blas")


#: numba's thread pool unless ``NUMBA_THREADING_LAYER`` says otherwise: ``workqueue`` threads sleep
#: between kernels, where OpenMP's spin and take the cores from the BLAS threads (on 2 busy cores a
#: small parallel kernel took 0.5 ms with OpenMP against 0.07 ms; see docs/kernels.md).
THREADING_LAYER = "workqueue"


def configure_numba_threads(numba) -> None:
    """Pick numba's threading layer (before its pool starts) and size the pool to :func:`get_num_threads`."""
    import os

    if not os.environ.get("NUMBA_THREADING_LAYER"):
        numba.config.THREADING_LAYER = THREADING_LAYER
    numba.set_num_threads(max(1, min(get_num_threads(), numba.config.NUMBA_NUM_THREADS)))
