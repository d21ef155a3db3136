"""``numba_kernel``: a loop nest compiled by numba on its first call, cached on disk.

Decorating a plain Python function with :func:`numba_kernel` costs nothing at
import: numba is imported, and the function compiled (``cache=True`` into
:func:`ember.kernels.cache.cache_dir`), only when the kernel is first called.
numba compiles once per argument types, so float32 and float64 (and each memory
layout) get their own machine code.

Each kernel has two compiled forms, each made on first need: a serial one and a
``parallel=True`` one whose ``prange`` loops run on numba's thread pool. Calls
on little data (below :data:`PARALLEL_MIN_ELEMENTS` in the largest array) or
with one thread take the serial form: starting the pool costs tens of
microseconds, and far more when the cores are busy, which is more than such a
kernel's work. Parallel launches are serialized by a lock, because numba's
``workqueue`` pool (the layer Ember picks, see :mod:`ember.kernels.threads`)
must not be entered from two threads at once.

Undecorated, the same function runs as ordinary Python (``prange`` is then
``range``), which is how a kernel can be stepped through in a debugger.

Example::

    >>> import numpy as np
    >>> from ember.kernels.jit import numba_kernel, prange
    >>> @numba_kernel
    ... def total(values):
    ...     out = 0.0
    ...     for i in prange(len(values)):
    ...         out += values[i]
    ...     return out
    >>> total.python_function([1.0, 2.0])  # the uncompiled loop
    3.0
    >>> total(np.array([1.0, 2.0]))  # compiled now, by numba (serial: a small array)
    3.0
"""
from __future__ import annotations

import functools
import sys
import threading
import types

from .threads import get_num_threads

#: ``range`` in plain Python; inside a compiled kernel numba reads it as ``numba.prange``.
prange = range

#: Elements (of the largest array argument) from which a kernel runs on the thread pool.
PARALLEL_MIN_ELEMENTS = 1 << 15

_parallel_launch = threading.Lock()


class LazyKernel:
    """A numba kernel compiled on first call (see :func:`numba_kernel`)."""

    def __init__(self, function, error_model: str = "numpy"):
        self.python_function = function
        self.error_model = error_model
        self._serial = None
        self._parallel = None
        functools.update_wrapper(self, function)

    def _compile(self, parallel: bool):
        from . import engine
        from .cache import configure_numba_cache

        numba = engine.load_numba()
        if numba is None:
            raise RuntimeError(f"ember.kernels: {self.__name__} needs numba, which cannot be imported")
        configure_numba_cache(numba)
        function = self.python_function
        # The module global ``prange`` is resolved at compile time: point it at numba's.
        function.__globals__["prange"] = numba.prange
        if parallel:
            # numba's cache index ignores ``parallel``: a copy under its own name gets its own entry.
            function = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                                          function.__defaults__, function.__closure__)
            function.__qualname__ = self.python_function.__qualname__ + "_parallel"
        return numba.njit(parallel=parallel, cache=_cacheable(function), nogil=True,
                          error_model=self.error_model)(function)

    def serial(self):
        """The single-threaded dispatcher (compiled on first call)."""
        if self._serial is None:
            self._serial = self._compile(parallel=False)
        return self._serial

    def parallel(self):
        """The ``prange``-parallel dispatcher (compiled on first call)."""
        if self._parallel is None:
            self._parallel = self._compile(parallel=True)
        return self._parallel

    def __call__(self, *args):
        # The hot path of every kernel call, kept to a few attribute reads: small kernels take
        # microseconds, and a generator over the arguments here once cost as much.
        if get_num_threads() > 1:
            for a in args:
                if getattr(a, "size", 0) >= PARALLEL_MIN_ELEMENTS:
                    kernel = self._parallel or self.parallel()
                    with _parallel_launch:
                        return kernel(*args)
        return (self._serial or self.serial())(*args)


def _cacheable(function) -> bool:
    """numba caches functions of real modules only (not of ``exec``'d text or doctests)."""
    module = sys.modules.get(function.__module__ or "")
    return getattr(module, "__file__", None) == function.__code__.co_filename


def numba_kernel(function=None, *, error_model: str = "numpy"):
    """Mark ``function`` (a loop nest over arrays, ``prange`` for parallel loops) as a numba kernel.

    Kernels compile with NumPy's error model by default: a float division by zero gives inf/NaN,
    as the NumPy reference does, unchecked, so the loop can vectorize. numba's own default
    (``error_model="python"``) checks every divisor to raise ``ZeroDivisionError``, which kept the
    serial float32 erf loop at 1.77 ms against 0.30 ms, and the optimizer updates 4-5x slower.
    """
    if function is None:
        return lambda f: LazyKernel(f, error_model)
    return LazyKernel(function, error_model)
