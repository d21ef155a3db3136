"""Backward kernels of the common activations, written from the forward's output ``y``.

* ``relu_backward(g, y)``: ``g * (y > 0)``;
* ``tanh_backward(g, y)``: ``g * (1 - y * y)``;
* ``sigmoid_backward(g, y)``: ``g * y * (1 - y)``.

The NumPy references make two or three passes over the arrays; the numba
versions one fused pass over the flattened arrays (same shape and dtype), in the
input's precision, so the two give the same bits. The primitives that call them
(:class:`ember.ops.elementwise.ReluBackward` and its siblings) write their own
derivatives with Ember ops, so a gradient of a gradient never needs a second
kernel here.

Example::

    >>> import numpy as np
    >>> from ember.kernels.activation import relu_backward, tanh_backward
    >>> relu_backward(np.array([1.0, 2.0]), np.array([0.0, 3.0])).tolist()
    [0.0, 2.0]
    >>> tanh_backward(np.array([2.0]), np.array([0.5])).tolist()
    [1.5]
"""
from __future__ import annotations

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange
from .layout import elementwise_flats

#: The kernels whose numba version runs when numba is on: those measured faster than their
#: reference on a (1024, 512) float32 activation at two threads (docs/kernels.md). The tests
#: run every numba version regardless.
NUMBA_KERNELS = frozenset({"relu_backward", "tanh_backward", "sigmoid_backward"})

#: Below this many elements the NumPy reference runs: the numba call's fixed cost (the flat views,
#: the output, the dispatch: about 3 us) exceeds what one fused pass saves (measured: 1,024 elements
#: 3.9 us against 1.4 us for NumPy, 16,384 elements 5.8 against 6.1 us).
NUMBA_MIN_ELEMENTS = 8192

#: From this many elements the kernels run on the thread pool. The one-pass kernels are memory-bound:
#: on this project's 2-core machines the serial form beat the parallel one up to 2^20 elements
#: (tanh backward, 65,536 elements: 8.1 us serial, 24.4 us on two threads, 25.0 us for NumPy).
PARALLEL_MIN_ELEMENTS = 1 << 20


def _numba(kernel: str, g, y) -> bool:
    return (y.size >= NUMBA_MIN_ELEMENTS and kernel in NUMBA_KERNELS and g.shape == y.shape and g.dtype == y.dtype
            and y.dtype.kind == "f" and engine.numba_runs(g, y))


# ------------------------------------------------------------------ NumPy reference
def relu_backward_reference(g, y):
    """``g * (y > 0)`` with NumPy (the oracle of :func:`relu_backward`)."""
    return g * (y > 0)


def tanh_backward_reference(g, y):
    """``g * (1 - y * y)`` with NumPy (the oracle of :func:`tanh_backward`)."""
    xp = array_module(y)
    out = xp.multiply(y, y, out=xp.empty_like(y))  # an array even when y is 0-d (y * y is a scalar)
    xp.subtract(1.0, out, out=out)
    return xp.multiply(out, g, out=out) if g.shape == y.shape else out * g


def sigmoid_backward_reference(g, y):
    """``g * y * (1 - y)`` with NumPy (the oracle of :func:`sigmoid_backward`)."""
    xp = array_module(y)
    out = xp.subtract(1.0, y, out=xp.empty_like(y))
    out *= y
    return xp.multiply(out, g, out=out) if g.shape == y.shape else out * g


# ------------------------------------------------------------------ numba
@numba_kernel
def _backward_flat(g, y, out, kind, one):
    """One pass: ``kind`` 0 is ReLU's, 1 tanh's, 2 the sigmoid's backward (``one`` in ``y``'s dtype,
    so that float32 stays float32: an integer 1 would promote the arithmetic to float64)."""
    for i in prange(y.shape[0]):
        v = y[i]
        if kind == 0:
            out[i] = g[i] if v > 0 else g[i] * 0  # g * 0 keeps NaN and the sign of zero, as NumPy's product
        elif kind == 1:
            out[i] = g[i] * (one - v * v)
        else:
            out[i] = g[i] * (v * (one - v))


def _fused(g, y, kind):
    """The numba pass over ``g`` and ``y`` in memory order (channels-last arrays stay so), or None
    when their layouts differ or have gaps (the caller then runs the reference)."""
    prepared = elementwise_flats(y, g)
    if prepared is None:
        return None
    out, (flat_y, flat_g), flat_out = prepared
    kernel = _backward_flat.serial() if flat_y.size < PARALLEL_MIN_ELEMENTS else _backward_flat
    kernel(flat_g, flat_y, flat_out, kind, y.dtype.type(1))
    return out


# ------------------------------------------------------------------ dispatch
def relu_backward(g, y):
    """ReLU's backward from its output: ``g * (y > 0)``."""
    out = _fused(g, y, 0) if _numba("relu_backward", g, y) else None
    return relu_backward_reference(g, y) if out is None else out


def tanh_backward(g, y):
    """tanh's backward from its output: ``g * (1 - y * y)``."""
    out = _fused(g, y, 1) if _numba("tanh_backward", g, y) else None
    return tanh_backward_reference(g, y) if out is None else out


def sigmoid_backward(g, y):
    """The sigmoid's backward from its output: ``g * y * (1 - y)``."""
    out = _fused(g, y, 2) if _numba("sigmoid_backward", g, y) else None
    return sigmoid_backward_reference(g, y) if out is None else out


__all__ = ["relu_backward", "relu_backward_reference", "tanh_backward", "tanh_backward_reference",
           "sigmoid_backward", "sigmoid_backward_reference", "NUMBA_KERNELS"]
