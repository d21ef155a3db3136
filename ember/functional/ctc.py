"""Connectionist temporal classification: the CTC loss and two decoders.

``ctc_loss`` follows ``torch.nn.functional.ctc_loss``: the same arguments, shapes,
reductions (``'mean'`` divides each loss by its target length, at least 1, then
averages over the batch), ``inf`` for a target that cannot be aligned and
``zero_infinity``. Its forward-backward recursion is one primitive whose array
work is :mod:`ember.kernels.ctc` (NumPy reference, numba loop nest).

Two differences from PyTorch, both deliberate:

* the gradient is the true derivative with respect to ``log_probs``; PyTorch's
  adds ``exp(log_probs)``, which is the gradient with respect to the logits of a
  ``log_softmax``. Through a ``log_softmax`` (the way CTC is used) both give the
  same gradient; for other inputs Ember's passes a finite-difference check.
* targets are checked: a label outside ``[0, C)`` or equal to ``blank`` is an
  error (PyTorch reads out of range, or returns a meaningless value).

As in PyTorch, ``ctc_loss`` has no second derivative: differentiating its
gradient raises an error.

Decoders: :func:`ctc_greedy_decode` (best path: the most probable class per
frame, repeats merged, blanks dropped) and :func:`ctc_beam_search_decode`
(prefix beam search, which sums the probabilities of all paths of a labelling).

Example:
    >>> import ember, ember.functional as F
    >>> logits = ember.randn(6, 2, 4, requires_grad=True)           # (T, N, C)
    >>> loss = F.ctc_loss(F.log_softmax(logits, dim=2), ember.tensor([[1, 2], [3, 3]]),
    ...                   input_lengths=[6, 5], target_lengths=[2, 2])
    >>> loss.backward(); logits.grad.shape
    (6, 2, 4)
"""
from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import numpy as np

from ..autograd.function import Function, apply
from ..backend import array_module
from ..errors import ArgumentError, DTypeError, ShapeError
from ..kernels import ctc as ctc_kernels
from ..ops.checks import float_operand
from ..ops.reduce import sum as reduce_sum
from ..tensor import Tensor, as_tensor, constant
from ._checks import check_reduction

__all__ = ["ctc_loss", "ctc_greedy_decode", "ctc_beam_search_decode"]

Lengths = Union[Tensor, Sequence[int], int]


class CtcNll(Function):
    """Per-sample CTC negative log-likelihood ``(N,)`` of ``log_probs`` ``(T, N, C)``.

    The gradient comes out of the same forward-backward pass, so the forward stashes it
    and the vjp multiplies it by the incoming gradient; the stash enters that product as
    the output of :class:`CtcGradient`, a primitive of ``log_probs`` with no derivative
    of its own, so a second derivative raises instead of silently dropping a term.
    """

    name = "ctc_loss"
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        nll, grad = ctc_kernels.ctc_nll(log_probs, targets, input_lengths, target_lengths, blank,
                                        want_grad=ctx is not None)
        if zero_infinity:
            xp = array_module(nll)
            infinite = xp.isinf(nll)
            nll = xp.where(infinite, 0, nll).astype(log_probs.dtype)
            if grad is not None:
                grad[:, infinite] = 0
        if ctx is not None:
            ctx.stash = grad
        return nll

    @staticmethod
    def vjp(ctx, g):
        return g.reshape(1, -1, 1) * apply(CtcGradient, (ctx.saved[0],), {"gradient": ctx.stash})

    @staticmethod
    def jvp(ctx, t):
        return reduce_sum(constant(ctx.stash) * t, (0, 2))


class CtcGradient(Function):
    """The CTC gradient (computed by :class:`CtcNll`'s forward) as a function of ``log_probs``."""

    name = "ctc_loss_backward"

    @staticmethod
    def forward(ctx, log_probs, gradient):
        return gradient

    @staticmethod
    def vjp(ctx, g):
        raise NotImplementedError("ctc_loss: the second derivative is not implemented "
                                  "(PyTorch has none either); differentiate ctc_loss once")

    jvp = vjp


def _lengths(name: str, what: str, lengths: Lengths, batch: int, unbatched: bool) -> np.ndarray:
    """Integer lengths as an ``(N,)`` NumPy array; a tensor, a sequence, or (unbatched) a scalar."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.kind not in "iu":
            raise DTypeError(f"{name}: {what} must hold integers, got dtype {lengths.dtype}")
        array = np.asarray(lengths.numpy())
    else:
        array = np.asarray(lengths)
        if array.dtype.kind not in "iu":
            raise DTypeError(f"{name}: {what} must hold integers, got {lengths!r}")
    array = array.astype(np.int64).reshape(-1) if unbatched else array.astype(np.int64)
    if array.shape != (batch,):
        expected = "a scalar" if unbatched else f"shape ({batch},) (one per sample)"
        raise ShapeError(f"{name}: expected {what} of {expected}, got shape {array.shape}")
    if (array < 0).any():
        raise ArgumentError(f"{name}: {what} must be non-negative, got {array.tolist()}")
    return array


def _padded_targets(name: str, targets: Tensor, target_lengths: np.ndarray, batch: int,
                    unbatched: bool) -> np.ndarray:
    """Targets as an ``(N, S)`` integer array, from the padded or the concatenated form."""
    if targets.dtype.kind not in "iu":
        raise DTypeError(f"{name}: targets must hold class indices (an integer dtype), got {targets.dtype}")
    data = np.asarray(targets.numpy()).astype(np.int64)
    if unbatched:
        if data.ndim != 1:
            raise ShapeError(f"{name}: unbatched (T, C) log_probs take 1-D targets (S,), got shape {data.shape}")
        data = data[None, :]
    if data.ndim == 2:
        if data.shape[0] != batch:
            raise ShapeError(f"{name}: padded targets must be (N={batch}, S), got shape {data.shape}")
        if (target_lengths > data.shape[1]).any():
            raise ArgumentError(f"{name}: target_lengths {target_lengths.tolist()} exceed the padded "
                                f"target length S={data.shape[1]}")
        return data
    if data.ndim != 1:
        raise ShapeError(f"{name}: targets must be padded (N, S) or concatenated (sum(target_lengths),), "
                         f"got shape {data.shape}")
    total = int(target_lengths.sum())
    if total > data.shape[0]:
        raise ArgumentError(f"{name}: concatenated targets hold {data.shape[0]} labels, but target_lengths "
                            f"{target_lengths.tolist()} sum to {total}")
    width = int(target_lengths.max(initial=0))
    padded = np.zeros((batch, width), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
    for n, (start, length) in enumerate(zip(starts, target_lengths)):
        padded[n, :length] = data[start:start + length]
    return padded


def _check_labels(name: str, padded: np.ndarray, target_lengths: np.ndarray, classes: int, blank: int) -> None:
    used = np.arange(padded.shape[1])[None, :] < target_lengths[:, None]
    labels = padded[used]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ArgumentError(f"{name}: target labels must lie in [0, {classes}) (C={classes} classes), "
                            f"got values in [{labels.min()}, {labels.max()}]")
    if (labels == blank).any():
        raise ArgumentError(f"{name}: targets contain the blank label {blank}; CTC targets hold labels only")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Lengths, target_lengths: Lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss: ``-log p(target | log_probs)`` summed over all alignments, as in PyTorch.

    Args:
        log_probs: ``(T, N, C)`` log-probabilities (usually ``log_softmax(..., dim=2)``),
            or ``(T, C)`` for one unbatched sample.
        targets: ``(N, S)`` padded labels, or all targets concatenated ``(sum(target_lengths),)``;
            ``(S,)`` when unbatched. Labels lie in ``[0, C)`` and are never ``blank``.
        input_lengths: frames used per sample, each at most ``T`` (tensor, sequence; a scalar
            when unbatched).
        target_lengths: labels per sample (each at most ``S`` for padded targets).
        blank: the blank class index.
        reduction: ``'none'`` (per-sample losses), ``'sum'``, or ``'mean'`` (each loss divided by
            its target length clamped to 1, then averaged over the batch).
        zero_infinity: replace infinite losses (targets too long for their inputs) and their
            gradients by zero.

    Raises:
        ShapeError, ArgumentError, DTypeError: naming the argument, the sizes and what was expected.

    Example:
        >>> import ember, ember.functional as F
        >>> lp = ember.full((2, 1, 2), 0.5).log()          # two frames, classes {blank, 1}
        >>> round(F.ctc_loss(lp, ember.tensor([[1]]), [2], [1], reduction="sum").exp().item(), 4)
        1.3333
    """
    name = "ctc_loss"
    check_reduction(name, reduction)
    log_probs = float_operand(name, log_probs)
    targets = as_tensor(targets)
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected log_probs of shape (T, N, C) or (T, C), got {log_probs.shape}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    frames, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise ArgumentError(f"{name}: blank must lie in [0, {classes}) for C={classes} classes, got {blank}")
    il = _lengths(name, "input_lengths", input_lengths, batch, unbatched)
    tl = _lengths(name, "target_lengths", target_lengths, batch, unbatched)
    if (il > frames).any():
        raise ArgumentError(f"{name}: input_lengths {il.tolist()} exceed the T={frames} frames of log_probs "
                            f"{tuple(log_probs.shape)}")
    padded = _padded_targets(name, targets, tl, batch, unbatched)
    _check_labels(name, padded, tl, classes, blank)
    xp = array_module(log_probs._data)
    nll = apply(CtcNll, (log_probs,), {"targets": xp.asarray(padded), "input_lengths": il,
                                       "target_lengths": tl, "blank": int(blank),
                                       "zero_infinity": bool(zero_infinity)})
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        divisor = constant(xp.asarray(np.maximum(tl, 1), dtype=log_probs.dtype))
        return (nll / divisor).mean()
    return nll.reshape(()) if unbatched else nll


# ------------------------------------------------------------------ decoding
def _decode_inputs(name: str, log_probs, input_lengths, blank: int) -> Tuple[np.ndarray, np.ndarray, bool]:
    """``(T, N, C)`` NumPy log-probabilities, per-sample lengths, and whether the input was unbatched."""
    scores = as_tensor(log_probs).detach().numpy()
    if scores.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected log_probs of shape (T, N, C) or (T, C), got {scores.shape}")
    unbatched = scores.ndim == 2
    if unbatched:
        scores = scores[:, None, :]
    frames, batch, classes = scores.shape
    if not 0 <= blank < classes:
        raise ArgumentError(f"{name}: blank must lie in [0, {classes}) for C={classes} classes, got {blank}")
    if input_lengths is None:
        lengths = np.full(batch, frames, dtype=np.int64)
    else:
        lengths = _lengths(name, "input_lengths", input_lengths, batch, unbatched)
        if (lengths > frames).any():
            raise ArgumentError(f"{name}: input_lengths {lengths.tolist()} exceed the T={frames} frames")
    return scores, lengths, unbatched


def ctc_greedy_decode(log_probs: Tensor, input_lengths: Lengths | None = None,
                      blank: int = 0) -> Union[List[List[int]], List[int]]:
    """Best-path decoding: the most probable class of each frame, repeats merged, blanks removed.

    Args:
        log_probs: ``(T, N, C)`` or ``(T, C)`` scores (log-probabilities or logits: only the
            per-frame argmax matters).
        input_lengths: frames to read per sample (default: all ``T``).
        blank: the blank class.

    Returns:
        One label list per sample (a single list for unbatched input).

    Example:
        >>> import ember, ember.functional as F
        >>> frames = ember.tensor([[0., 9, 0], [0, 9, 0], [9, 0, 0], [0, 9, 0], [0, 0, 9]])
        >>> F.ctc_greedy_decode(frames)                    # 1 1 - 1 2 -> 1 1 2
        [1, 1, 2]
    """
    scores, lengths, unbatched = _decode_inputs("ctc_greedy_decode", log_probs, input_lengths, blank)
    best = scores.argmax(axis=2)
    results = []
    for n, length in enumerate(lengths):
        path = best[:length, n]
        keep = np.ones(len(path), dtype=bool)
        keep[1:] = path[1:] != path[:-1]
        results.append([int(c) for c in path[keep] if c != blank])
    return results[0] if unbatched else results


def _prefix_beam(scores: np.ndarray, beam_width: int, blank: int) -> List[Tuple[List[int], float]]:
    """Prefix beam search over one ``(T, C)`` log-probability matrix (Hannun et al., 2014).

    Each prefix keeps two log-probabilities: of the paths ending in a blank and of those ending
    in its last label; a repeated label extends the prefix only after a blank.
    """
    neg = -np.inf
    beams = {(): (0.0, neg)}  # prefix -> (log p ending in blank, log p ending in a label)
    for frame in scores:
        grown: dict = {}

        def add(prefix, blank_part, label_part):
            old_b, old_l = grown.get(prefix, (neg, neg))
            grown[prefix] = (np.logaddexp(old_b, blank_part), np.logaddexp(old_l, label_part))

        for prefix, (p_b, p_l) in beams.items():
            total = np.logaddexp(p_b, p_l)
            add(prefix, total + frame[blank], neg)
            last = prefix[-1] if prefix else None
            for c in range(len(frame)):
                if c == blank:
                    continue
                if c == last:
                    add(prefix, neg, p_l + frame[c])             # the same label continues
                    add(prefix + (c,), neg, p_b + frame[c])      # a new copy after a blank
                else:
                    add(prefix + (c,), neg, total + frame[c])
        ranked = sorted(grown.items(), key=lambda item: -np.logaddexp(*item[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda item: -np.logaddexp(*item[1]))
    return [(list(prefix), float(np.logaddexp(*parts))) for prefix, parts in ranked
            if np.logaddexp(*parts) > neg]  # a prefix too long for the frames has probability 0


def ctc_beam_search_decode(log_probs: Tensor, beam_width: int = 10, input_lengths: Lengths | None = None,
                           blank: int = 0):
    """Prefix beam search: the most probable labellings, each scored over all its alignments.

    Unlike best-path decoding, a labelling's score sums every path that collapses to it
    (with a beam at least as wide as the number of prefixes, the scores are exact: they
    equal ``-ctc_loss`` of each labelling).

    Args:
        log_probs: ``(T, N, C)`` or ``(T, C)`` log-probabilities.
        beam_width: prefixes kept after each frame.
        input_lengths: frames to read per sample (default: all ``T``).
        blank: the blank class.

    Returns:
        Per sample, a list of ``(labels, log_prob)`` best first (at most ``beam_width``);
        a single such list for unbatched input.

    Example:
        >>> import ember, ember.functional as F
        >>> p = ember.tensor([[0.6, 0.4], [0.6, 0.4]]).log()   # classes {blank, 1}
        >>> F.ctc_greedy_decode(p)                  # the best path is blank, blank
        []
        >>> labels, score = F.ctc_beam_search_decode(p, beam_width=4)[0]
        >>> labels, round(score, 4)                 # p([1]) = .4*.4 + .4*.6 + .6*.4 = .64 > .36
        ([1], -0.4463)
    """
    name = "ctc_beam_search_decode"
    if int(beam_width) < 1:
        raise ArgumentError(f"{name}: beam_width must be at least 1, got {beam_width}")
    scores, lengths, unbatched = _decode_inputs(name, log_probs, input_lengths, blank)
    scores = scores.astype(np.float64)
    results = [_prefix_beam(scores[:length, n], int(beam_width), blank) for n, length in enumerate(lengths)]
    return results[0] if unbatched else results
