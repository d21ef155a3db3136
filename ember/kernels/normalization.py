"""Normalization kernels: moments, standardisation with the optional affine map, and its vjp map.

* :func:`normalize` gives ``(out, xhat, invstd)``: ``xhat = (x - mean) * invstd`` with
  ``invstd = 1 / sqrt(var + eps)`` (biased variance over ``axes``), and
  ``out = xhat * weight + bias`` (``out`` is ``xhat`` without the affine map);
* :func:`normalize_backward` is the vjp (and jvp) map of standardisation,
  ``invstd * (v - mean(v) - xhat * mean(v * xhat))``;
* :func:`moments` is the mean and biased variance over ``axes`` (kept dimensions).

The NumPy references are whole-array NumPy over any axes (batch norm's
``(0, 2, 3)``, layer norm's trailing ones). The numba versions handle the
*trailing* axes (layer norm, group norm: rows of a C-contiguous array), one
``prange`` iteration per row, with two or three passes over a row that stays in
the cache (sum; centred squares; standardise and scale) instead of NumPy's
eight over the whole array. As in :mod:`ember.kernels.softmax`, the row sums are
added in float64 and rounded to the input's precision; everything else is in the
input's precision, so the two agree to a few ulps (NumPy's float32 sums are
pairwise in float32), not bit for bit. Other axes, and dtypes other than
float32/float64, run the reference.

Example::

    >>> import numpy as np
    >>> from ember.kernels.normalization import normalize, normalize_backward
    >>> out, xhat, invstd = normalize(np.array([[1.0, 3.0]]), (1,), 0.0)
    >>> out.tolist(), invstd.tolist()
    ([[-1.0, 1.0]], [[1.0]])
    >>> normalize_backward(np.array([[1.0, 1.0]]), xhat, invstd, (1,)).tolist()
    [[0.0, 0.0]]
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange

#: The kernels whose numba version runs when numba is on: those measured faster than their
#: reference on the layer norms of W5, W7 and W8 (docs/kernels.md). The tests run every numba version.
NUMBA_KERNELS = frozenset({"normalize", "normalize_backward"})


def _trailing(axes, ndim: int) -> int:
    """How many trailing axes ``axes`` are (0 when they are not the last ``len(axes)`` axes)."""
    k = len(axes)
    return k if k and tuple(sorted(a % ndim for a in axes)) == tuple(range(ndim - k, ndim)) else 0


def _row_param(p, width: int, dtype):
    """An affine parameter as a ``(width,)`` array when it broadcasts along the rows only, else None."""
    if type(p) is not np.ndarray or p.dtype != dtype or p.size != width:
        return None
    return np.ascontiguousarray(p).reshape(width)


# ------------------------------------------------------------------ NumPy reference
def moments_reference(x, axes):
    """The mean and biased variance of ``x`` over ``axes``, kept dimensions (float32 for half inputs)."""
    if x.dtype.itemsize < 4:
        x = x.astype("float32")  # half-precision sums of squares overflow
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    centered *= centered
    return mean, centered.mean(axis=axes, keepdims=True)


def normalize_reference(x, axes, eps: float, stats=None, weight=None, bias=None):
    """``(out, xhat, invstd)`` with NumPy over any ``axes`` (the oracle of :func:`normalize`).

    ``stats`` are optional ``(mean, var)`` already computed over ``axes``; ``weight`` and
    ``bias`` optional arrays that broadcast against ``x``. Without either, ``out`` is ``xhat``.
    """
    xp = array_module(x)
    mean, var = stats if stats is not None else moments_reference(x, axes)
    invstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat = x - mean
    xhat *= invstd
    xhat = xhat.astype(x.dtype, copy=False)
    if weight is None and bias is None:
        return xhat, xhat, invstd
    out = xhat * weight if weight is not None else xhat.copy()
    if bias is not None:
        out += bias
    return out, xhat, invstd


def normalize_backward_reference(v, xhat, invstd, axes):
    """``invstd * (v - mean(v) - xhat * mean(v * xhat))`` over ``axes`` with NumPy."""
    out = v - v.mean(axis=axes, keepdims=True)
    product = v * xhat
    out -= array_module(v).multiply(xhat, product.mean(axis=axes, keepdims=True), out=product)
    out *= invstd
    return out


# ------------------------------------------------------------------ numba loop nests (rows)
@numba_kernel
def _normalize_rows(x, weight, bias, affine, eps, mean, invstd, xhat, out):
    """Per row: the float64 mean, the float64 sum of centred squares, then ``xhat`` and ``out``.

    ``affine``: 0 none, 1 weight, 2 bias, 3 both (the absent ones are dummies). ``mean`` and
    ``invstd`` (one per row, x's dtype) round the row statistics to x's precision; ``eps`` is
    of x's dtype too. ``xhat`` may be ``out`` (no affine map, or ``xhat`` not wanted).
    """
    n = x.shape[1]
    for r in prange(x.shape[0]):
        total = 0.0
        for j in range(n):
            total += x[r, j]
        mean[r] = total / n
        m = mean[r]
        squares = 0.0
        for j in range(n):
            d = x[r, j] - m
            squares += d * d
        invstd[r] = squares / n  # the variance, rounded to x's dtype as the reference's mean is
        invstd[r] = 1.0 / np.sqrt(invstd[r] + eps)
        s = invstd[r]
        for j in range(n):
            h = (x[r, j] - m) * s
            xhat[r, j] = h
            if affine == 1:
                out[r, j] = h * weight[j]
            elif affine == 2:
                out[r, j] = h + bias[j]
            elif affine == 3:
                out[r, j] = h * weight[j] + bias[j]


@numba_kernel
def _normalize_backward_rows(v, xhat, invstd, row_means, out):
    """Per row: the float64 sums of ``v`` and ``v * xhat``, then ``(v - mean_v - xhat mean_vh) invstd``."""
    n = v.shape[1]
    for r in prange(v.shape[0]):
        total = 0.0
        weighted = 0.0
        for j in range(n):
            total += v[r, j]
            weighted += v[r, j] * xhat[r, j]
        row_means[r, 0] = total / n
        row_means[r, 1] = weighted / n
        mv = row_means[r, 0]
        mvh = row_means[r, 1]
        s = invstd[r]
        for j in range(n):
            out[r, j] = ((v[r, j] - mv) - xhat[r, j] * mvh) * s


# ------------------------------------------------------------------ dispatch
def moments(x, axes):
    """The mean and biased variance of ``x`` over ``axes`` (kept dimensions).

    Reference only: its one caller with a numba-shaped case (layer norm) gets its moments
    inside :func:`normalize`'s row pass; batch norm's axes are not rows.
    """
    return moments_reference(x, axes)


def normalize(x, axes, eps: float, stats=None, weight=None, bias=None, need_xhat: bool = True):
    """``(out, xhat, invstd)``: ``x`` standardised over ``axes``, then ``* weight + bias``.

    The numba rows run for trailing ``axes`` with no precomputed ``stats`` and parameters
    that vary along the normalised axes only (layer norm's); otherwise the reference.
    With ``need_xhat=False`` (no backward pass to come) the returned ``xhat`` may be ``out``.
    """
    k = _trailing(axes, x.ndim) if hasattr(x, "ndim") else 0
    if stats is None and k and x.size > 0 and "normalize" in NUMBA_KERNELS and engine.numba_runs(x):
        width = math.prod(x.shape[x.ndim - k:])
        w = None if weight is None else _row_param(weight, width, x.dtype)
        b = None if bias is None else _row_param(bias, width, x.dtype)
        if (w is None) == (weight is None) and (b is None) == (bias is None):
            return _normalize_fused(x, k, width, eps, w, b, need_xhat)
    return normalize_reference(x, axes, eps, stats, weight, bias)


def _normalize_fused(x, k, width, eps, weight, bias, need_xhat):
    rows = np.ascontiguousarray(x).reshape(-1, width)
    count = rows.shape[0]
    affine = (weight is not None) + 2 * (bias is not None)
    out = np.empty_like(rows)
    xhat = np.empty_like(rows) if affine and need_xhat else out
    dummy = np.empty(1, x.dtype)
    mean, invstd = np.empty(count, x.dtype), np.empty(count, x.dtype)
    _normalize_rows(rows, dummy if weight is None else weight, dummy if bias is None else bias, affine,
                    x.dtype.type(eps), mean, invstd, xhat, out)
    kept = x.shape[:x.ndim - k] + (1,) * k
    return out.reshape(x.shape), xhat.reshape(x.shape), invstd.reshape(kept)


def normalize_backward(v, xhat, invstd, axes):
    """The vjp map of standardisation, ``invstd * (v - mean(v) - xhat * mean(v * xhat))`` over ``axes``.

    The numba rows run for trailing ``axes`` with ``v`` and ``xhat`` of one shape and dtype
    and one ``invstd`` per row; otherwise the reference.
    """
    k = _trailing(axes, v.ndim) if hasattr(v, "ndim") else 0
    if (k and v.size > 0 and "normalize_backward" in NUMBA_KERNELS and v.shape == xhat.shape
            and v.dtype == xhat.dtype == invstd.dtype and engine.numba_runs(v, xhat, invstd)):
        width = math.prod(v.shape[v.ndim - k:])
        if invstd.size * width == v.size and invstd.shape == v.shape[:v.ndim - k] + (1,) * k:
            rows = np.ascontiguousarray(v).reshape(-1, width)
            out = np.empty_like(rows)
            _normalize_backward_rows(rows, np.ascontiguousarray(xhat).reshape(-1, width),
                                     np.ascontiguousarray(invstd).reshape(-1),
                                     np.empty((rows.shape[0], 2), v.dtype), out)
            return out.reshape(v.shape)
    return normalize_backward_reference(v, xhat, invstd, axes)


__all__ = ["moments", "normalize", "normalize_backward", "moments_reference", "normalize_reference",
           "normalize_backward_reference", "NUMBA_KERNELS"]
