"""Forward-mode automatic differentiation (dual numbers over the same primitives).

A tensor may carry tangents, one per active forward-mode *level* (a ``jvp`` call
opens a level; nested calls open nested levels). Whenever a primitive runs on an
input that carries a tangent of a live level, its ``jvp`` rule computes the
output's tangent with ordinary Ember ops. While a rule for level L runs, level L
and the levels nested inside it are switched off, so the rule's own arithmetic
is not differentiated again by the same level (no perturbation confusion), while
outer levels still see it: that is what makes jvp-of-jvp correct.
"""
from __future__ import annotations

import itertools
import math


class _Fwd:
    #: Active level ids, outermost first. Empty in ordinary (reverse-only) use,
    #: so the hot path pays a single truthiness test.
    stack: list = []
    #: Only levels below this id propagate (lowered while a rule is evaluated).
    limit = math.inf
    ids = itertools.count(1)


def propagate_tangents(fn, ctx, inputs, results) -> None:
    """Compute the output tangents of one primitive application for every live level."""
    limit = _Fwd.limit
    levels = [level for level in _Fwd.stack if level < limit]
    for level in reversed(levels):
        tangents = [t._tangent.get(level) if t._tangent else None for t in inputs]
        if all(t is None for t in tangents):
            continue
        _Fwd.limit = level
        try:
            out_tangents = fn.jvp(ctx, *tangents)
        finally:
            _Fwd.limit = limit
        if fn.n_outputs == 1:
            out_tangents = (out_tangents,)
        for result, tangent in zip(results, out_tangents):
            if tangent is None or result._data.dtype.kind not in "fcV":
                continue
            set_tangent(result, level, _fit(tangent, result))


def _fit(tangent, result):
    """Bring a rule's tangent to the output's shape and dtype (rules may skip broadcasting)."""
    if tangent.shape != result.shape:
        from ..ops.movement import broadcast_to

        tangent = broadcast_to(tangent, result.shape)
    if tangent.dtype != result.dtype:
        tangent = tangent.astype(result.dtype)
    return tangent


def set_tangent(tensor, level: int, tangent) -> None:
    if tensor._tangent is None:
        tensor._tangent = {}
    tensor._tangent[level] = tangent


def new_level() -> int:
    level = next(_Fwd.ids)
    _Fwd.stack.append(level)
    return level


def end_level(level: int) -> None:
    _Fwd.stack.remove(level)
