"""Softmax and log-softmax along one axis, forward and backward.

The NumPy references are the max-shifted whole-array forms (an all ``-inf``
row gives zeros, resp. ``-inf``, never NaN); the numba versions handle the last
axis of a C-contiguous array, one row per ``prange`` iteration, in three passes
over a row that stays in the cache (maximum; exponentials and their sum;
scale) instead of NumPy's five over the whole array. The row sums are added in
float64 (NumPy's pairwise float32 sums and a float64 sequential sum agree to
float32 rounding); every other operation is in the input's precision.

Example::

    >>> import numpy as np
    >>> from ember.kernels.softmax import log_softmax, softmax
    >>> softmax(np.array([[0.0, 0.0]]), -1).tolist()
    [[0.5, 0.5]]
    >>> log_softmax(np.array([[1e4, 0.0]]), -1).tolist()
    [[0.0, -10000.0]]
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module, numpy_module
from . import engine
from .jit import numba_kernel, prange

#: The kernels whose numba version runs when numba is on: those measured faster than the reference
#: on W7's shapes (docs/kernels.md). The forwards call exp per element, which numba does not
#: vectorize here while NumPy does, so they run their reference; the softmax backward's two fused
#: passes beat NumPy's four (0.38 ms -> 0.16 ms on W7's attention). The tests run every numba version.
NUMBA_KERNELS = frozenset({"softmax_backward"})


def _numba(kernel: str, axis: int, *arrays) -> bool:
    first = arrays[0]
    return (kernel in NUMBA_KERNELS and first.size > 0 and first.ndim >= 1
            and axis in (-1, first.ndim - 1) and engine.numba_runs(*arrays))


def _rows(x):
    """``x`` as a C-contiguous ``(rows, last)`` array."""
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


# ------------------------------------------------------------------ NumPy reference
def _shifted(x, axis):
    """``x - max(x)`` along ``axis``, with all ``-inf`` rows shifted by 0 (not NaN)."""
    xp = array_module(x)
    peak = x.max(axis=axis, keepdims=True)
    finite = xp.isfinite(peak)
    if not finite.all():
        peak = xp.where(finite, peak, 0)
    return x - peak


def log_softmax_reference(x, axis: int):
    """``x - logsumexp(x)`` along ``axis``; an all ``-inf`` row gives ``-inf``."""
    xp = array_module(x)
    shifted = _shifted(x, axis)
    with numpy_module().errstate(divide="ignore", invalid="ignore"):
        total = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        out = shifted - total
    if not xp.isfinite(total).all():
        # An all -inf row gives -inf - (-inf) = NaN; its log-probabilities are -inf.
        out = xp.where(xp.isneginf(total), -xp.inf, out).astype(x.dtype, copy=False)
    return out


def softmax_reference(x, axis: int):
    """``exp(x) / sum(exp(x))`` along ``axis``; an all ``-inf`` row gives zeros."""
    xp = array_module(x)
    e = xp.exp(_shifted(x, axis))
    total = e.sum(axis=axis, keepdims=True)
    if not (total > 0).all():
        # All -inf rows carry no probability mass: zeros instead of 0/0.
        total = xp.where(total > 0, total, 1)
    e /= total
    return e


def log_softmax_backward_reference(g, out, axis: int):
    """``g - exp(out) * sum(g)`` along ``axis``: the vjp of log-softmax from its output."""
    probabilities = array_module(g).exp(out)
    probabilities *= g.sum(axis=axis, keepdims=True)
    return g - probabilities


def softmax_backward_reference(g, y, axis: int):
    """``y * (g - sum(g * y))`` along ``axis``: the vjp of softmax from its output."""
    out = g * y
    out -= y * out.sum(axis=axis, keepdims=True)
    return out


# ------------------------------------------------------------------ numba loop nests (rows)
@numba_kernel
def _softmax_rows(x, out, log, row_values):
    """Per row: the max shift, the exponentials (softmax) or the shifted logits (log), scaled.

    ``row_values`` (one per row, of x's dtype) rounds the row's shift and float64 sum to x's
    precision, so that the elementwise math stays in it.
    """
    n = x.shape[1]
    for r in prange(x.shape[0]):
        peak = x[r, 0]
        for j in range(1, n):
            v = x[r, j]
            if v > peak or v != v:
                peak = v
        row_values[r] = peak if math.isfinite(peak) else 0.0  # an all -inf (or inf, NaN) row: no shift
        shift = row_values[r]
        total = 0.0
        if log:
            for j in range(n):
                s = x[r, j] - shift
                out[r, j] = s
                total += math.exp(s)
            if total == 0.0:  # an all -inf row: every log-probability is -inf
                for j in range(n):
                    out[r, j] = -np.inf
                continue
            row_values[r] = math.log(total)
            lse = row_values[r]
            for j in range(n):
                out[r, j] = out[r, j] - lse
        else:
            for j in range(n):
                e = math.exp(x[r, j] - shift)
                out[r, j] = e
                total += e
            row_values[r] = total if total > 0 else 1.0  # no probability mass: zeros, not 0/0
            scale = row_values[r]
            for j in range(n):
                out[r, j] = out[r, j] / scale


@numba_kernel
def _softmax_backward_rows(g, y, out, log, row_values):
    """Per row: ``g - exp(y) sum(g)`` (log-softmax) or ``g y - y sum(g y)`` (softmax)."""
    n = g.shape[1]
    for r in prange(g.shape[0]):
        total = 0.0
        if log:
            for j in range(n):
                total += g[r, j]
            row_values[r] = total
            t = row_values[r]
            for j in range(n):
                out[r, j] = g[r, j] - math.exp(y[r, j]) * t
        else:
            for j in range(n):
                p = g[r, j] * y[r, j]
                out[r, j] = p
                total += p
            row_values[r] = total
            t = row_values[r]
            for j in range(n):
                out[r, j] = out[r, j] - y[r, j] * t


# ------------------------------------------------------------------ dispatch
def _forward(x, log):
    rows = _rows(x)
    out = np.empty_like(rows)
    _softmax_rows(rows, out, log, np.empty(rows.shape[0], dtype=rows.dtype))
    return out.reshape(x.shape)


def _backward(g, y, log):
    rows = _rows(g)
    out = np.empty_like(rows)
    _softmax_backward_rows(rows, _rows(y).astype(rows.dtype, copy=False), out, log,
                           np.empty(rows.shape[0], dtype=rows.dtype))
    return out.reshape(g.shape)


def softmax(x, axis: int):
    """Softmax of ``x`` along ``axis`` (the numba rows along the last axis, else the reference)."""
    if _numba("softmax", axis, x):
        return _forward(x, False)
    return softmax_reference(x, axis)


def log_softmax(x, axis: int):
    """Log-softmax of ``x`` along ``axis`` (the numba rows along the last axis, else the reference)."""
    if _numba("log_softmax", axis, x):
        return _forward(x, True)
    return log_softmax_reference(x, axis)


def softmax_backward(g, y, axis: int):
    """The vjp of softmax, ``y * (g - sum(g * y))``, from its output ``y``."""
    if g.shape == y.shape and g.dtype == y.dtype and _numba("softmax_backward", axis, g, y):
        return _backward(g, y, False)
    return softmax_backward_reference(g, y, axis)


def log_softmax_backward(g, out, axis: int):
    """The vjp of log-softmax, ``g - exp(out) * sum(g)``, from its output."""
    if g.shape == out.shape and g.dtype == out.dtype and _numba("log_softmax_backward", axis, g, out):
        return _backward(g, out, True)
    return log_softmax_backward_reference(g, out, axis)


__all__ = ["softmax", "log_softmax", "softmax_backward", "log_softmax_backward", "softmax_reference",
           "log_softmax_reference", "softmax_backward_reference", "log_softmax_backward_reference",
           "NUMBA_KERNELS"]
