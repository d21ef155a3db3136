"""CTC forward-backward: per-sample negative log-likelihoods and their gradients.

Connectionist temporal classification (Graves et al., 2006) sums the
probabilities of every frame-level path that collapses to a target labelling.
Both kernels run the same log-space recursions over the *extended* target
``l'`` (the target with a blank before, between and after its labels, length
``2 L + 1``):

* ``alpha[t, s] = lp[t, l'(s)] + logsumexp(alpha[t-1, s], alpha[t-1, s-1],
  alpha[t-1, s-2] if l'(s) is a label different from l'(s-2))``;
* ``beta`` the same from the last frame backwards;
* ``nll = -logaddexp(alpha[T-1, 2L], alpha[T-1, 2L-1])``;
* the gradient of ``nll`` with respect to ``lp[t, c]`` is
  ``-sum_{s: l'(s) = c} exp(alpha[t, s] + beta[t, s] - lp[t, l'(s)] + nll)``
  (each term is a probability in [0, 1], so the exponentials never overflow),
  and zero on frames past the sample's input length.

This is the true derivative with respect to ``log_probs``. PyTorch's kernel
returns it plus ``exp(lp)`` (the gradient with respect to the logits behind a
``log_softmax``); the two give the same gradient once propagated through a
``log_softmax``, which is how CTC is used (see ``docs/structured.md``).

The NumPy reference loops over frames, with whole-array operations over the
batch and the extended target; the numba version runs one sample per ``prange``
iteration with scalar loops, reading only the sample's own lengths. A sample
whose target cannot be aligned (too few frames) gets ``nll = inf`` and a NaN
gradient on its frames, as in PyTorch; the caller applies ``zero_infinity``.

Example::

    >>> import numpy as np
    >>> from ember.kernels.ctc import ctc_nll
    >>> lp = np.log(np.full((2, 1, 2), 0.5))       # two frames, classes {blank, 1}
    >>> nll, grad = ctc_nll(lp, np.array([[1]]), np.array([2]), np.array([1]), 0, False)
    >>> round(float(np.exp(-nll[0])), 4)           # paths 1-, -1, 11
    0.75
"""
from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import engine
from .jit import numba_kernel, prange


def extended_targets(targets, target_lengths, blank: int):
    """``(N, 2S+1)`` extended targets (blank-interleaved; blank past each length) and the skip mask.

    ``skip[n, s]`` says whether a path may jump from ``s - 2`` to ``s``: ``l'(s)`` is a
    label (not blank) that differs from ``l'(s-2)``.
    """
    xp = array_module(targets)
    n, s = targets.shape
    ext = xp.full((n, 2 * s + 1), blank, dtype=np.int64)
    inside = xp.arange(s)[None, :] < xp.asarray(target_lengths)[:, None]
    ext[:, 1::2] = xp.where(inside, targets, blank)  # padding may hold anything: read it as blank
    skip = xp.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _poison_impossible(grad, nll, input_lengths):
    """NaN on every valid frame of a sample with ``nll = inf``, as PyTorch gives (``0 * inf``)."""
    xp = array_module(grad)
    bad = xp.isinf(nll)
    if bool(bad.any()):
        frames = xp.arange(grad.shape[0])[:, None] < xp.asarray(input_lengths)[None, :]
        grad[frames & bad[None, :]] = np.nan
    return grad


# ------------------------------------------------------------------ NumPy reference
def _logsumexp3(xp, a, b, c):
    peak = xp.maximum(xp.maximum(a, b), c)
    safe = xp.where(xp.isfinite(peak), peak, 0)  # all -inf stays -inf, never NaN
    with np.errstate(divide="ignore"):
        return safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(c - safe))


def ctc_nll_reference(log_probs, targets, input_lengths, target_lengths, blank: int, want_grad: bool):
    """``(nll (N,), grad (T, N, C) or None)`` by the whole-array recursion (see the module docstring).

    ``log_probs`` is ``(T, N, C)``; ``targets`` ``(N, S)`` integer (padding arbitrary);
    the lengths are integer ``(N,)`` arrays already checked by the caller.
    """
    xp = array_module(log_probs)
    T, N, C = log_probs.shape
    il = xp.asarray(input_lengths, dtype=np.int64)
    tl = xp.asarray(target_lengths, dtype=np.int64)
    ext, skip = extended_targets(xp.asarray(targets, dtype=np.int64), tl, blank)
    width = ext.shape[1]
    neg = xp.asarray(-np.inf, dtype=log_probs.dtype)
    lpe = xp.take_along_axis(log_probs, xp.broadcast_to(ext[None], (T, N, width)), axis=2)
    rows = xp.arange(N)

    alpha = xp.full((T, N, width), neg, dtype=log_probs.dtype)
    if T:
        alpha[0, :, 0] = lpe[0, :, 0]
        if width > 1:
            alpha[0, :, 1] = xp.where(tl > 0, lpe[0, :, 1], neg)
    for t in range(1, T):
        prev = alpha[t - 1]
        one = xp.concatenate([xp.full((N, 1), neg, dtype=prev.dtype), prev[:, :-1]], axis=1)
        two = xp.concatenate([xp.full((N, 2), neg, dtype=prev.dtype), prev[:, :-2]], axis=1)[:, :width]
        alpha[t] = lpe[t] + _logsumexp3(xp, prev, one, xp.where(skip, two, neg))

    if T == 0:  # no frames at all: the empty target has probability 1, any other 0
        nll = xp.where(tl == 0, 0.0, np.inf).astype(log_probs.dtype)
        return nll, (xp.zeros((T, N, C), dtype=log_probs.dtype) if want_grad else None)
    last = xp.maximum(il - 1, 0)
    end_blank = alpha[last, rows, 2 * tl]
    end_label = xp.where(tl > 0, alpha[last, rows, xp.maximum(2 * tl - 1, 0)], neg)
    log_p = xp.logaddexp(end_blank, end_label)
    # No frames: the empty target has probability 1, any other 0.
    log_p = xp.where(il == 0, xp.where(tl == 0, 0.0, neg), log_p).astype(log_probs.dtype)
    nll = -log_p
    if not want_grad:
        return nll, None

    beta = xp.full((T, N, width), neg, dtype=log_probs.dtype)
    skip_next = xp.concatenate([skip[:, 2:], xp.zeros((N, 2), dtype=bool)], axis=1)  # may s jump to s+2
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            nxt = beta[t + 1]
            one = xp.concatenate([nxt[:, 1:], xp.full((N, 1), neg, dtype=nxt.dtype)], axis=1)
            two = xp.concatenate([nxt[:, 2:], xp.full((N, 2), neg, dtype=nxt.dtype)], axis=1)[:, :width]
            beta[t] = lpe[t] + _logsumexp3(xp, nxt, one, xp.where(skip_next, two, neg))
        start = il - 1 == t  # the samples whose last frame is t begin their backward pass here
        if bool(start.any()):
            fresh = xp.full((N, width), neg, dtype=beta.dtype)
            fresh[rows, 2 * tl] = lpe[t, rows, 2 * tl]
            label_end = xp.maximum(2 * tl - 1, 0)
            fresh[rows, label_end] = xp.where(tl > 0, lpe[t, rows, label_end], fresh[rows, label_end])
            beta[t] = xp.where(start[:, None], fresh, beta[t])

    with np.errstate(invalid="ignore"):
        share = xp.exp(alpha + beta - lpe + nll[None, :, None])  # NaN for an impossible target
    grad = xp.zeros((T, N, C), dtype=log_probs.dtype)
    for s in range(width):  # each sample has one class per position: no colliding writes
        grad[:, rows, ext[:, s]] -= share[:, :, s]
    grad[xp.arange(T)[:, None] >= il[None, :]] = 0
    return nll, _poison_impossible(grad, nll, il)


# ------------------------------------------------------------------ numba loop nest
@numba_kernel
def _ctc_rows(log_probs, ext, skip, input_lengths, target_lengths, nll, grad, alpha, beta, want_grad):
    """One sample per iteration: alpha, nll, and (``want_grad``) beta and the gradient."""
    n_samples = log_probs.shape[1]
    neg = -np.inf
    for n in prange(n_samples):
        frames = input_lengths[n]
        width = 2 * target_lengths[n] + 1
        if frames == 0:
            nll[n] = 0.0 if target_lengths[n] == 0 else np.inf
            continue
        for s in range(width):
            alpha[n, 0, s] = neg
        alpha[n, 0, 0] = log_probs[0, n, ext[n, 0]]
        if width > 1:
            alpha[n, 0, 1] = log_probs[0, n, ext[n, 1]]
        for t in range(1, frames):
            for s in range(width):
                a = alpha[n, t - 1, s]
                b = alpha[n, t - 1, s - 1] if s >= 1 else neg
                c = alpha[n, t - 1, s - 2] if skip[n, s] else neg
                peak = max(a, max(b, c))
                if peak == neg:
                    alpha[n, t, s] = neg
                else:
                    alpha[n, t, s] = (log_probs[t, n, ext[n, s]] + peak
                                      + np.log(np.exp(a - peak) + np.exp(b - peak) + np.exp(c - peak)))
        a = alpha[n, frames - 1, width - 1]
        b = alpha[n, frames - 1, width - 2] if width > 1 else neg
        peak = max(a, b)
        nll[n] = np.inf if peak == neg else -(peak + np.log(np.exp(a - peak) + np.exp(b - peak)))
        if not want_grad:
            continue
        for s in range(width):
            beta[n, frames - 1, s] = neg
        beta[n, frames - 1, width - 1] = log_probs[frames - 1, n, ext[n, width - 1]]
        if width > 1:
            beta[n, frames - 1, width - 2] = log_probs[frames - 1, n, ext[n, width - 2]]
        for t in range(frames - 2, -1, -1):
            for s in range(width):
                a = beta[n, t + 1, s]
                b = beta[n, t + 1, s + 1] if s + 1 < width else neg
                c = beta[n, t + 1, s + 2] if s + 2 < width and skip[n, s + 2] else neg
                peak = max(a, max(b, c))
                if peak == neg:
                    beta[n, t, s] = neg
                else:
                    beta[n, t, s] = (log_probs[t, n, ext[n, s]] + peak
                                     + np.log(np.exp(a - peak) + np.exp(b - peak) + np.exp(c - peak)))
        for t in range(frames):
            for s in range(width):
                k = ext[n, s]
                grad[t, n, k] -= np.exp(alpha[n, t, s] + beta[n, t, s] - log_probs[t, n, k] + nll[n])


def ctc_nll_numba(log_probs, targets, input_lengths, target_lengths, blank: int, want_grad: bool):
    """The numba version of :func:`ctc_nll_reference` (same arguments and results)."""
    T, N, C = log_probs.shape
    il = np.ascontiguousarray(input_lengths, dtype=np.int64)
    tl = np.ascontiguousarray(target_lengths, dtype=np.int64)
    ext, skip = extended_targets(np.asarray(targets, dtype=np.int64), tl, blank)
    width = ext.shape[1]
    nll = np.empty(N, dtype=log_probs.dtype)
    grad = np.zeros((T, N, C), dtype=log_probs.dtype)
    work = (max(T, 1), width) if want_grad else (1, 1)
    alpha = np.empty((N, max(T, 1), width), dtype=log_probs.dtype)
    beta = np.empty((N,) + work, dtype=log_probs.dtype)
    with np.errstate(invalid="ignore"):
        _ctc_rows(np.ascontiguousarray(log_probs), ext, skip, il, tl, nll, grad, alpha, beta, want_grad)
    return nll, (_poison_impossible(grad, nll, il) if want_grad else None)


def ctc_nll(log_probs, targets, input_lengths, target_lengths, blank: int, want_grad: bool):
    """CTC negative log-likelihood per sample and (if ``want_grad``) its gradient in ``log_probs``.

    Runs the numba loop nest when numba is on for these arrays, else the NumPy reference
    (which also serves CuPy arrays).
    """
    if engine.numba_runs(log_probs):
        return ctc_nll_numba(log_probs, targets, input_lengths, target_lengths, blank, want_grad)
    return ctc_nll_reference(log_probs, targets, input_lengths, target_lengths, blank, want_grad)
