"""Which implementation the array kernels run: the NumPy reference or numba.

Every kernel in ``ember/kernels/`` exists twice, side by side: a NumPy
*reference* (the oracle in tests, and what runs on CuPy arrays) and a numba
``prange`` loop nest that spreads the work over the cores. This module holds the
choice between them:

* ``EMBER_KERNELS=numpy|numba`` in the environment, read at ``import ember``
  (default ``numba``);
* :func:`use` to change it at run time, :func:`current` to read it.

numba itself is imported lazily, by the first kernel call that needs it, so that
``import ember`` costs nothing extra. When it cannot be imported, the kernels fall
back to the NumPy reference and say so with exactly one warning.

Example::

    >>> import ember.kernels
    >>> previous = ember.kernels.current()
    >>> ember.kernels.use("numpy")
    >>> ember.kernels.current()
    'numpy'
    >>> ember.kernels.use(previous)
"""
from __future__ import annotations

import os
import warnings

#: The implementations a kernel can run.
ENGINES = ("numpy", "numba")

#: The environment variable that picks the engine at import.
ENGINE_VARIABLE = "EMBER_KERNELS"

_numba = None  # the numba module once imported, False when the import failed
_requested = "numba"


def _engine_name(name: str, where: str) -> str:
    engine = str(name).strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"{where}: the kernel engine must be one of {ENGINES}, got {name!r}")
    return engine


def use(name: str) -> None:
    """Run the kernels with ``name``: ``"numba"`` (multi-core) or ``"numpy"`` (the reference).

    Asking for numba where it cannot be imported warns once and keeps NumPy.
    """
    global _requested
    _requested = _engine_name(name, "ember.kernels.use")


def current() -> str:
    """The engine the kernels run now: ``"numba"`` or ``"numpy"`` (numba requested but missing)."""
    if _requested == "numba" and load_numba() is None:
        return "numpy"
    return _requested


def numba_active() -> bool:
    """Whether the next kernel call runs its numba version (imports numba on first call)."""
    return _requested == "numba" and load_numba() is not None


#: The dtypes the numba kernels are compiled for; other arrays (float16, CuPy's) take the reference.
NUMBA_DTYPES = ("float32", "float64")


def numba_runs(*arrays) -> bool:
    """Whether a kernel on ``arrays`` runs its numba version: numba on, NumPy arrays of a compiled dtype."""
    if _requested != "numba":
        return False
    import numpy

    for a in arrays:
        if type(a) is not numpy.ndarray or a.dtype.char not in "fd":  # float32/float64; .name costs 2 us
            return False
    return load_numba() is not None


def load_numba():
    """The numba module, imported on first use with Ember's cache and thread settings; None if missing.

    The first failed import warns (once per process); later calls return None quietly.
    """
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError as error:  # includes numba built for another NumPy
            _numba = False
            warnings.warn(f"ember.kernels: numba cannot be imported ({error}); the kernels run their "
                          "NumPy reference, on one core. Install numba, or set EMBER_KERNELS=numpy "
                          "to silence this warning.", RuntimeWarning, stacklevel=3)
        else:
            from .cache import configure_numba_cache
            from .threads import configure_numba_threads

            configure_numba_cache(numba)
            configure_numba_threads(numba)
            _numba = numba
    return _numba or None


def _reset_for_tests(requested: str | None = None) -> None:
    """Forget the import attempt (tests simulate a missing numba with it)."""
    global _numba, _requested
    _numba = None
    if requested is not None:
        _requested = _engine_name(requested, "ember.kernels")


_requested = _engine_name(os.environ.get(ENGINE_VARIABLE, "numba") or "numba", ENGINE_VARIABLE)
