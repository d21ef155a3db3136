"""Record the primitives a forward pass runs, with the arrays they read and write.

Every Ember computation goes through a primitive's ``forward(ctx, *arrays,
**params)``. While :func:`record` is active, each primitive class's ``forward``
is wrapped so that the outermost call appends a :class:`Call`: the primitive,
its input arrays, its static parameters and its output arrays. Arrays are told
apart by identity (each call's arrays are kept alive until the trace is done,
so an ``id`` is never reused), which is how the exporter links an op's input to
the op that produced it. This works in any grad mode and sees constants and
non-differentiable ops too, which the autograd tape does not record.

Some primitives are better exported as the ops they are made of (a fused LSTM
scan becomes its per-step cell arithmetic): :data:`DECOMPOSE` maps such a
primitive to a function that recomputes it from Ember ops, whose own calls are
recorded instead.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..autograd.function import Function


@dataclass
class Call:
    """One recorded application of a primitive."""

    fn: type
    inputs: tuple
    params: dict
    outputs: tuple


#: primitive class -> ``f(input_tensors, params) -> output tensor(s)`` built from Ember ops.
DECOMPOSE: dict[type, Callable[..., Any]] = {}


def _register_decompositions() -> None:
    try:
        from ..ops import recurrent
    except ImportError:  # pragma: no cover - the recurrent ops are not there
        return
    for cls in (getattr(recurrent, n, None) for n in ("LstmLayer", "GruLayer", "RnnLayer")):
        if cls is not None and cls not in DECOMPOSE:
            DECOMPOSE[cls] = lambda tensors, params, cls=cls: recurrent.reference_layer(cls.cell, *tensors, **params)


def _subclasses(root: type) -> list[type]:
    found, stack = [], [root]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.depth = 0

    def wrap(self, cls: type, forward: Callable) -> Callable:
        recorder = self
        decompose = DECOMPOSE.get(cls)

        def recorded_forward(ctx, *arrays, **params):
            if recorder.depth:  # a forward calling another primitive's forward: one op
                return forward(ctx, *arrays, **params)
            if decompose is not None:
                return _decomposed(decompose, arrays, params)
            recorder.depth += 1
            try:
                out = forward(ctx, *arrays, **params)
            finally:
                recorder.depth -= 1
            recorder.calls.append(Call(cls, arrays, params, out if isinstance(out, tuple) else (out,)))
            return out

        return recorded_forward


def _decomposed(decompose, arrays, params):
    from ..autograd.grad_mode import no_grad
    from ..tensor import constant

    with no_grad():
        result = decompose(tuple(constant(a) for a in arrays), params)
    if isinstance(result, tuple):
        return tuple(t._data for t in result)
    return result._data


@contextlib.contextmanager
def record() -> Iterator[list[Call]]:
    """Collect the :class:`Call` of every primitive run inside the block.

    Example:
        >>> import ember
        >>> with record() as calls:
        ...     y = (ember.ones(2) * 3.0).exp()
        >>> [c.fn.name for c in calls]
        ['mul', 'exp']
    """
    _register_decompositions()
    recorder = _Recorder()
    classes = _subclasses(Function)
    # Read every original first: a subclass inheriting forward must get the parent's
    # original, not the parent's wrapper.
    originals = {cls: (cls.__dict__.get("forward"), cls.forward) for cls in classes}
    try:
        for cls, (_, bound) in originals.items():
            cls.forward = staticmethod(recorder.wrap(cls, bound))
        yield recorder.calls
    finally:
        for cls, (own, _) in originals.items():
            if own is not None:
                cls.forward = own
            else:
                del cls.forward
