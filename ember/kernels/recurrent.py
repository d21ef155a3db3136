"""The pointwise part of one recurrent step (LSTM, GRU, Elman RNN), forward and backward.

:mod:`ember.ops.recurrent` runs a layer as a loop over steps; each step is one
GEMM ``h @ W_hh.T`` into the gate buffer ``a`` and then the gate arithmetic
here, on *gate-major* arrays: ``a``, ``p_t`` (the step's input projection) and
``dgh``/``dx`` (the pre-activation gradients) are ``(G, B, H)``, the states
``(B, H)``. Gates are in PyTorch's order (``i, f, g, o``; ``r, z, n``).

* the NumPy references are the whole-array forms, about ten calls per step, in
  place in the caller's buffers; the sigmoid is ``0.5 * tanh(x / 2) + 0.5``,
  because NumPy's tanh is vectorised (one transcendental call for all gates);
* the numba versions fuse the arithmetic into one ``prange`` pass over the batch
  rows. numba has no vectorised tanh or exp here (no SVML): its scalar ``tanhf``
  took 590 us for the 41k activations of a W4 step where NumPy's took 11 us, and
  a direct ``1 / (1 + exp(-x))`` sigmoid 96 us. So the fused forwards keep
  NumPy's tanh between their passes, and compute the same sigmoid: the numba and
  NumPy versions give the same bits, forward and backward.

Each function writes its gate buffers in place and returns the new states.

Example::

    >>> import numpy as np
    >>> from ember.kernels.recurrent import lstm_step
    >>> a, p = np.zeros((4, 1, 2)), np.zeros((4, 1, 2))
    >>> h, c = lstm_step(a, p, np.ones((1, 2)), np.empty((1, 2)))
    >>> c.tolist()   # f * c + i * g with f = i = sigmoid(0) = 0.5, g = tanh(0) = 0
    [[0.5, 0.5]]
"""
from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange

#: The kernels whose numba version runs when numba is on: those measured faster than their
#: reference on W4's and W9's steps (docs/kernels.md). The backwards' one pass beats NumPy's
#: twenty calls by about 40%; the GRU forward's three passes around two tanh calls lost
#: (W4: 42 us against 35 us a step), so it runs its reference. The tests run every numba version.
NUMBA_KERNELS = frozenset({"lstm_step", "lstm_step_back", "gru_step_back", "rnn_step", "rnn_step_back"})


#: Elements (of a step's gate array) from which a step kernel runs on the thread pool. A step is
#: tens of microseconds of work, and waking the pool cost more than that on this project's busy
#: 2-core machine: W4's LSTM step backward took 24 us serial against 41 us on two threads.
PARALLEL_MIN_ELEMENTS = 1 << 20


def _launch(kernel, size: int):
    """The serial form of ``kernel`` for a step below :data:`PARALLEL_MIN_ELEMENTS`, else the pool's."""
    return kernel.serial() if size < PARALLEL_MIN_ELEMENTS else kernel


def _numba(kernel: str, *arrays) -> bool:
    dtype = arrays[0].dtype
    return (kernel in NUMBA_KERNELS and arrays[0].size > 0 and all(a.dtype == dtype for a in arrays)
            and engine.numba_runs(*arrays))


_SCALE_SHIFT: dict = {}


def _lstm_scale_shift(xp, dtype):
    """Per-gate ``(scale, shift)``: the sigmoid on ``i, f, o`` as ``0.5 tanh(x/2) + 0.5``, tanh on ``g``."""
    key = (xp.__name__, dtype)
    if key not in _SCALE_SHIFT:
        scale = xp.asarray([0.5, 0.5, 1.0, 0.5], dtype=dtype).reshape(4, 1, 1)
        shift = xp.asarray([0.5, 0.5, 0.0, 0.5], dtype=dtype).reshape(4, 1, 1)
        _SCALE_SHIFT[key] = (scale, shift)
    return _SCALE_SHIFT[key]


def _sigmoid_(xp, a):
    """Sigmoid in place as ``0.5 * tanh(a / 2) + 0.5``: one transcendental call, never overflows."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


# ------------------------------------------------------------------ NumPy reference
def lstm_step_reference(a, p_t, c, tanh_c):
    """LSTM step: ``a`` holds ``h @ W_hh.T``; returns ``(h', c')`` and leaves the gates in ``a``
    and ``tanh(c')`` in ``tanh_c``. ``c' = f c + i g``, ``h' = o tanh(c')``."""
    xp = array_module(a)
    a += p_t
    scale, shift = _lstm_scale_shift(xp, a.dtype)
    a *= scale
    xp.tanh(a, out=a)
    a *= scale
    a += shift
    c_new = a[1] * c
    c_new += a[0] * a[2]
    xp.tanh(c_new, out=tanh_c)
    return a[3] * tanh_c, c_new


def lstm_step_back_reference(dh, dc, gates, tanh_c, c_prev, dgh):
    """LSTM step backward: the gate pre-activation gradients into ``dgh``; returns ``dc`` of the
    previous step (``dh``'s part through ``W_hh`` is the caller's GEMM)."""
    i, f, g, o = gates
    dc_total = dh * o
    dc_total *= 1.0 - tanh_c * tanh_c
    dc_total += dc
    # Gradients before the activations: sigmoid' = s - s^2 (i, f, o), tanh' = 1 - g^2.
    xp = array_module(dh)
    xp.multiply(dh, tanh_c, out=dgh[3])
    dgh[3] *= o - o * o
    xp.multiply(dc_total, g, out=dgh[0])
    dgh[0] *= i - i * i
    xp.multiply(dc_total, c_prev, out=dgh[1])
    dgh[1] *= f - f * f
    xp.multiply(dc_total, i, out=dgh[2])
    dgh[2] *= 1.0 - g * g
    dc_total *= f
    return dc_total


def gru_step_reference(a, p_t, gh, b_hh, h, gh_n):
    """GRU step: ``gh = h @ W_hh.T`` (updated in place with ``b_hh``); the gates ``r, z, n`` go
    to ``a``, ``W_hn h + b_hn`` to ``gh_n``; returns ``h' = (1 - z) n + z h``."""
    xp = array_module(a)
    gh += b_hh
    xp.add(p_t[:2], gh[:2], out=a[:2])
    _sigmoid_(xp, a[:2])
    gh_n[...] = gh[2]
    n = a[2]
    xp.multiply(a[0], gh_n, out=n)
    n += p_t[2]
    xp.tanh(n, out=n)
    h_new = h - n
    h_new *= a[1]
    h_new += n
    return h_new


def gru_step_back_reference(dh, gates, gh_n, h_prev, dx, dgh):
    """GRU step backward: the input-side pre-activation gradients into ``dx``, the recurrent
    side's into ``dgh``; returns ``dh``'s direct part ``dh * z``."""
    xp = array_module(dh)
    r, z, n = gates
    xp.multiply(dh, 1.0 - z, out=dx[2])
    dx[2] *= 1.0 - n * n
    xp.subtract(h_prev, n, out=dx[1])
    dx[1] *= dh
    dx[1] *= z - z * z
    xp.multiply(dx[2], gh_n, out=dx[0])
    dx[0] *= r - r * r
    dgh[:2] = dx[:2]
    xp.multiply(dx[2], r, out=dgh[2])
    return dh * z


def rnn_step_reference(a, p_t, nonlinearity: str):
    """Elman step: ``a`` holds ``h @ W_hh.T``; ``a = act(a + p_t)`` in place (``tanh`` or ``relu``)."""
    xp = array_module(a)
    a += p_t
    if nonlinearity == "tanh":
        xp.tanh(a, out=a)
    else:
        xp.maximum(a, 0, out=a)
    return a[0]


def rnn_step_back_reference(dh, a, dgh, nonlinearity: str):
    """Elman step backward: ``dh * act'`` (from the output ``a``) into ``dgh``."""
    xp = array_module(dh)
    if nonlinearity == "tanh":
        xp.multiply(dh, 1.0 - a * a, out=dgh)
    else:
        xp.multiply(dh, a > 0, out=dgh)


# ------------------------------------------------------------------ numba loop nests (batch rows)
@numba_kernel
def _lstm_pre(a, p, half):
    """``a = (a + p) * scale``: scale ``half`` on the sigmoid gates, 1 on ``g`` (before NumPy's tanh)."""
    for b in prange(a.shape[1]):
        for k in range(4):
            if k == 2:
                for j in range(a.shape[2]):
                    a[k, b, j] = a[k, b, j] + p[k, b, j]
            else:
                for j in range(a.shape[2]):
                    a[k, b, j] = (a[k, b, j] + p[k, b, j]) * half


@numba_kernel
def _lstm_cell(a, c, c_new, half):
    """The sigmoids from the tanh values (``half * t + half``) and ``c' = f c + i g``."""
    for b in prange(a.shape[1]):
        for j in range(a.shape[2]):
            i = a[0, b, j] * half + half
            f = a[1, b, j] * half + half
            a[0, b, j] = i
            a[1, b, j] = f
            g = a[2, b, j] + (half - half)  # + 0.0, as the reference's shift: tanh's -0.0 becomes +0.0
            a[2, b, j] = g
            a[3, b, j] = a[3, b, j] * half + half
            c_new[b, j] = f * c[b, j] + i * g


@numba_kernel
def _lstm_back(dh, dc, gates, tanh_c, c_prev, dgh, dc_out, one):
    for b in prange(dh.shape[0]):
        for j in range(dh.shape[1]):
            i, f, g, o = gates[0, b, j], gates[1, b, j], gates[2, b, j], gates[3, b, j]
            t = tanh_c[b, j]
            d = dh[b, j]
            total = d * o * (one - t * t) + dc[b, j]
            dgh[3, b, j] = d * t * (o - o * o)
            dgh[0, b, j] = total * g * (i - i * i)
            dgh[1, b, j] = total * c_prev[b, j] * (f - f * f)
            dgh[2, b, j] = total * i * (one - g * g)
            dc_out[b, j] = total * f


@numba_kernel
def _gru_pre(a, p, gh, b_hh, gh_n, half):
    """``gh += b_hh``; ``a[:2] = (p + gh) * half`` (before NumPy's tanh); ``gh_n = gh[2]``."""
    for b in prange(a.shape[1]):
        for j in range(a.shape[2]):
            for k in range(2):
                s = gh[k, b, j] + b_hh[k, 0, j]
                gh[k, b, j] = s
                a[k, b, j] = (p[k, b, j] + s) * half
            s = gh[2, b, j] + b_hh[2, 0, j]
            gh[2, b, j] = s
            gh_n[b, j] = s


@numba_kernel
def _gru_gates(a, p, gh_n, half):
    """The sigmoids ``r, z`` from the tanh values, and ``n``'s pre-activation ``r gh_n + p_n``."""
    for b in prange(a.shape[1]):
        for j in range(a.shape[2]):
            r = a[0, b, j] * half + half
            a[0, b, j] = r
            a[1, b, j] = a[1, b, j] * half + half
            a[2, b, j] = r * gh_n[b, j] + p[2, b, j]


@numba_kernel
def _gru_out(a, h, h_new):
    """``h' = (h - n) z + n``."""
    for b in prange(h.shape[0]):
        for j in range(h.shape[1]):
            n = a[2, b, j]
            h_new[b, j] = (h[b, j] - n) * a[1, b, j] + n


@numba_kernel
def _gru_back(dh, gates, gh_n, h_prev, dx, dgh, dh_out, one):
    for b in prange(dh.shape[0]):
        for j in range(dh.shape[1]):
            r, z, n = gates[0, b, j], gates[1, b, j], gates[2, b, j]
            d = dh[b, j]
            dn = d * (one - z) * (one - n * n)
            dz = (h_prev[b, j] - n) * d * (z - z * z)
            dr = dn * gh_n[b, j] * (r - r * r)
            dx[2, b, j] = dn
            dx[1, b, j] = dz
            dx[0, b, j] = dr
            dgh[0, b, j] = dr
            dgh[1, b, j] = dz
            dgh[2, b, j] = dn * r
            dh_out[b, j] = d * z


@numba_kernel
def _rnn_relu(a, p, zero):
    for b in prange(a.shape[1]):
        for j in range(a.shape[2]):
            s = a[0, b, j] + p[0, b, j]
            a[0, b, j] = s if s > zero or s != s else zero  # NaN stays NaN, as in np.maximum(s, 0)


@numba_kernel
def _rnn_back(dh, a, dgh, tanh, one, zero):
    for b in prange(dh.shape[0]):
        for j in range(dh.shape[1]):
            y = a[b, j]
            if tanh:
                dgh[b, j] = dh[b, j] * (one - y * y)
            else:
                dgh[b, j] = dh[b, j] if y > 0 else dh[b, j] * zero  # g * False: NaN stays, the sign of 0 as NumPy's


# ------------------------------------------------------------------ dispatch
def lstm_step(a, p_t, c, tanh_c):
    """LSTM step's pointwise part (see :func:`lstm_step_reference`); returns ``(h', c')``."""
    if _numba("lstm_step", a, p_t, c, tanh_c):
        half = a.dtype.type(0.5)
        _launch(_lstm_pre, a.size)(a, p_t, half)
        np.tanh(a, out=a)  # NumPy's vectorised tanh (see the module docstring)
        c_new = np.empty_like(c)
        _launch(_lstm_cell, a.size)(a, c, c_new, half)
        np.tanh(c_new, out=tanh_c)
        return a[3] * tanh_c, c_new
    return lstm_step_reference(a, p_t, c, tanh_c)


def lstm_step_back(dh, dc, gates, tanh_c, c_prev, dgh):
    """LSTM step backward, one fused pass (see :func:`lstm_step_back_reference`); returns the new ``dc``."""
    if _numba("lstm_step_back", dh, dc, gates, tanh_c, c_prev, dgh):
        dc_out = np.empty_like(dh)
        _launch(_lstm_back, dgh.size)(dh, dc, gates, tanh_c, c_prev, dgh, dc_out, dh.dtype.type(1))
        return dc_out
    return lstm_step_back_reference(dh, dc, gates, tanh_c, c_prev, dgh)


def gru_step(a, p_t, gh, b_hh, h, gh_n):
    """GRU step's pointwise part (see :func:`gru_step_reference`); returns ``h'``."""
    if _numba("gru_step", a, p_t, gh, b_hh, h, gh_n):
        half = a.dtype.type(0.5)
        _launch(_gru_pre, a.size)(a, p_t, gh, b_hh, gh_n, half)
        np.tanh(a[:2], out=a[:2])
        _launch(_gru_gates, a.size)(a, p_t, gh_n, half)
        np.tanh(a[2], out=a[2])
        h_new = np.empty_like(h)
        _launch(_gru_out, a.size)(a, h, h_new)
        return h_new
    return gru_step_reference(a, p_t, gh, b_hh, h, gh_n)


def gru_step_back(dh, gates, gh_n, h_prev, dx, dgh):
    """GRU step backward, one fused pass (see :func:`gru_step_back_reference`); returns ``dh * z``."""
    if _numba("gru_step_back", dh, gates, gh_n, h_prev, dx, dgh):
        dh_out = np.empty_like(dh)
        _launch(_gru_back, dgh.size)(dh, gates, gh_n, h_prev, dx, dgh, dh_out, dh.dtype.type(1))
        return dh_out
    return gru_step_back_reference(dh, gates, gh_n, h_prev, dx, dgh)


def rnn_step(a, p_t, nonlinearity: str):
    """Elman step's pointwise part (see :func:`rnn_step_reference`); returns ``h'`` (a view of ``a``).

    The numba pass fuses the relu case only; tanh stays NumPy's (vectorised).
    """
    if nonlinearity == "relu" and _numba("rnn_step", a, p_t):
        _launch(_rnn_relu, a.size)(a, p_t, a.dtype.type(0))
        return a[0]
    return rnn_step_reference(a, p_t, nonlinearity)


def rnn_step_back(dh, a, dgh, nonlinearity: str):
    """Elman step backward into ``dgh`` (``(B, H)``), one fused pass (see :func:`rnn_step_back_reference`)."""
    if _numba("rnn_step_back", dh, a, dgh):
        _launch(_rnn_back, dgh.size)(dh, a, dgh, nonlinearity == "tanh", dh.dtype.type(1), dh.dtype.type(0))
        return
    rnn_step_back_reference(dh, a, dgh, nonlinearity)


__all__ = ["lstm_step", "lstm_step_back", "gru_step", "gru_step_back", "rnn_step", "rnn_step_back",
           "lstm_step_reference", "lstm_step_back_reference", "gru_step_reference", "gru_step_back_reference",
           "rnn_step_reference", "rnn_step_back_reference", "NUMBA_KERNELS", "PARALLEL_MIN_ELEMENTS"]
