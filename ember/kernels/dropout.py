"""Dropout kernels: apply a mask drawn as uniform numbers, and the matching backward.

* ``dropout_apply(x, uniform, p)`` -> ``(out, keep)``: ``keep = uniform >= p`` (a boolean
  array of ``uniform``'s shape, which broadcasts against ``x``: channel dropout draws one
  number per channel) and ``out = x * keep * scale`` with ``scale = 1 / (1 - p)``;
* ``dropout_backward(g, keep, p)``: ``g * keep * scale``, the adjoint (and the tangent map).

The random draws are made by the caller (:func:`ember.functional.dropout` with
``ember.rand``), so the generator's stream is what it was before these kernels
existed. The numbers follow Ember's scalar rules: ``p`` is compared in ``uniform``'s
dtype and ``scale`` rounded to ``x``'s, and a dropped element is ``x * 0`` (keeping
NaN and the sign of zero), exactly as the tensor expression ``x * (keep.to(x.dtype) *
scale)`` computes it. The NumPy reference makes those three or four passes; the numba
version one fused pass over equal-shaped arrays, with the same bits.

Example::

    >>> import numpy as np
    >>> from ember.kernels.dropout import dropout_apply, dropout_backward
    >>> out, keep = dropout_apply(np.array([1.0, 2.0, 3.0]), np.array([0.9, 0.1, 0.6]), 0.5)
    >>> out.tolist(), keep.tolist()
    ([2.0, 0.0, 6.0], [True, False, True])
    >>> dropout_backward(np.ones(3), keep, 0.5).tolist()
    [2.0, 0.0, 2.0]
"""
from __future__ import annotations

import numpy as np

from . import engine
from .jit import numba_kernel, prange
from .layout import elementwise_flats, memory_order_flat

#: The kernels whose numba version runs when numba is on: those measured faster than their
#: reference on the W7 and W8 activations (docs/kernels.md). The tests run every numba
#: version regardless.
NUMBA_KERNELS = frozenset({"dropout_apply", "dropout_backward"})

#: Elements from which the passes run on the thread pool (when there are threads). On the 2-core
#: machine one thread was faster at every size measured: W7's (1024, 512) apply took 0.25 ms
#: serial and 0.27 ms on two threads, W8's (700, 200) 0.050 and 0.066 (docs/kernels.md).
PARALLEL_MIN_ELEMENTS = 1 << 20


def _scale(p: float, dtype):
    """``1 / (1 - p)`` rounded to ``dtype``, as a Python float meeting a tensor of that dtype is."""
    return dtype.type(1.0 / (1.0 - p))


def _numba(kernel: str, x, other) -> bool:
    return (kernel in NUMBA_KERNELS and x.size > 0 and x.shape == other.shape
            and engine.numba_runs(x) and type(other) is np.ndarray)


# ------------------------------------------------------------------ NumPy reference
def dropout_apply_reference(x, uniform, p: float):
    """``keep = uniform >= p``; ``x * (keep * scale)`` with NumPy (the oracle of :func:`dropout_apply`)."""
    keep = uniform >= uniform.dtype.type(p)
    return x * (keep.astype(x.dtype) * _scale(p, x.dtype)), keep


def dropout_backward_reference(g, keep, p: float):
    """``g * (keep * scale)`` with NumPy (the oracle of :func:`dropout_backward`)."""
    return g * (keep.astype(g.dtype) * _scale(p, g.dtype))


# ------------------------------------------------------------------ numba
@numba_kernel
def _apply_flat(x, uniform, p, scale, out, keep):
    """One pass: ``keep[i] = uniform[i] >= p``; ``out[i] = x[i] * scale``, or ``x[i] * 0`` when dropped
    (``* 0`` rather than ``0``: NumPy's product keeps NaN and the sign of zero)."""
    zero = out.dtype.type(0)
    for i in prange(x.shape[0]):
        kept = uniform[i] >= p
        keep[i] = kept
        out[i] = x[i] * (scale if kept else zero)


@numba_kernel
def _backward_flat(g, keep, scale, out):
    zero = out.dtype.type(0)
    for i in prange(g.shape[0]):
        out[i] = g[i] * (scale if keep[i] else zero)


# ------------------------------------------------------------------ dispatch
def dropout_apply(x, uniform, p: float):
    """``(x * keep * scale, keep)`` with ``keep = uniform >= p`` and ``scale = 1 / (1 - p)`` (``p < 1``)."""
    # In memory order: a channels-last activation stays channels-last, with no transposing copy.
    prepared = (elementwise_flats(x, uniform)
                if _numba("dropout_apply", x, uniform) and uniform.dtype == x.dtype else None)
    if prepared is not None:
        out, (flat_x, flat_uniform), flat_out = prepared
        keep = np.empty_like(x, dtype=np.bool_)
        flat_keep = memory_order_flat(keep)
        if flat_keep is not None:
            kernel = _apply_flat.serial() if flat_x.size < PARALLEL_MIN_ELEMENTS else _apply_flat
            kernel(flat_x, flat_uniform, uniform.dtype.type(p), _scale(p, x.dtype), flat_out, flat_keep)
            return out, keep
    return dropout_apply_reference(x, uniform, p)


def dropout_backward(g, keep, p: float):
    """``g * keep * scale`` (``keep`` boolean, broadcasting against ``g``; ``scale = 1 / (1 - p)``)."""
    prepared = (elementwise_flats(g, keep)
                if _numba("dropout_backward", g, keep) and keep.dtype == np.bool_ else None)
    if prepared is not None:
        out, (flat_g, flat_keep), flat_out = prepared
        kernel = _backward_flat.serial() if flat_g.size < PARALLEL_MIN_ELEMENTS else _backward_flat
        kernel(flat_g, flat_keep, _scale(p, g.dtype), flat_out)
        return out
    return dropout_backward_reference(g, keep, p)


__all__ = ["dropout_apply", "dropout_apply_reference", "dropout_backward", "dropout_backward_reference",
           "NUMBA_KERNELS"]
