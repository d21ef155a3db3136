"""Scan kernels: ``ufunc.accumulate`` on any array module, and the running-extremum indices.

NumPy (or CuPy) array code used by the primitives of :mod:`ember.ops.scan`. No
numba version: ``ufunc.accumulate`` is one compiled pass already.

Example::

    >>> import numpy as np
    >>> from ember.kernels.scan import running_extremum_indices
    >>> running_extremum_indices(np.array([1.0, 3.0, 2.0, 3.0]), 0, True).tolist()
    [0, 1, 1, 3]
"""
from __future__ import annotations

from ..backend import array_module, device_of, numpy_module, to_device


def accumulate(ufunc: str, x, axis: int):
    """``xp.<ufunc>.accumulate(x, axis)``, on the host for array modules without it."""
    xp = array_module(x)
    try:
        return getattr(xp, ufunc).accumulate(x, axis=axis)
    except (AttributeError, NotImplementedError, TypeError):
        # Some CuPy versions lack ufunc.accumulate: scan on the host, then move back.
        host = getattr(numpy_module(), ufunc).accumulate(to_device(x, "cpu"), axis=axis)
        return to_device(host, device_of(x))


def running_extremum_indices(x, axis: int, largest: bool):
    """For each position, the index of the running max (min) so far.

    PyTorch updates the running extremum when ``x[i] >= best`` (``<=`` for the
    minimum) or ``x[i]`` is NaN, so ties report the latest index and NaN, once
    seen, stays, indexed at the latest NaN. A position updates exactly when it
    equals the running extremum (or is NaN); the index is the last such position.
    """
    xp = array_module(x)
    running = accumulate("maximum" if largest else "minimum", x, axis)
    updates = x == running
    if x.dtype.kind in "fc":
        updates |= xp.isnan(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    positions = xp.arange(x.shape[axis], dtype=xp.int64).reshape(shape)
    return accumulate("maximum", xp.where(updates, positions, 0), axis)


__all__ = ["accumulate", "running_extremum_indices"]
