"""``ember.compile``: trace a function once per input signature, then replay its schedule.

The first call with a given signature (shapes, dtypes and static arguments) runs
the function eagerly under a tracer. The recorded steps are pruned (dead-code
elimination), constant kernels are folded, chains of elementwise kernels are fused
into generated numba loops (:mod:`ember.compile.fuse`), each step is specialised into a small
closure, and later calls replay the closures on a list of array slots: no Tensor
objects, no tape, no grad-mode checks. This is Theano's ``function`` for a
define-by-run framework.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from ..autograd.tracing import _Trace
from ..kernels import engine
from .explain import explain_plan
from .fuse import FusedKernel, fuse_steps, fusion_mode
from .steps import Kernel
from .tracer import CompileError, Tracer


def _is_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "__array_namespace__")


def _flatten(value, leaves: list):
    """Structure of ``value`` with tensors/arrays replaced by their index in ``leaves``."""
    from ..tensor import Tensor

    if isinstance(value, Tensor) or _is_array(value):
        leaves.append(value)
        return ("leaf", len(leaves) - 1)
    if isinstance(value, (tuple, list)):
        items = tuple(_flatten(v, leaves) for v in value)
        if type(value) in (tuple, list):
            return (type(value).__name__, items)
        # A named tuple (sort's (values, indices), say) comes back as the same type.
        return ("typed", (type(value), items))
    if isinstance(value, dict):
        return ("dict", tuple((k, _flatten(v, leaves)) for k, v in value.items()))
    return ("static", value)


def _signature_part(value):
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        return ("T", value._data.shape, value._data.dtype.str, value.requires_grad)
    return ("A", value.shape, value.dtype.str)


def _static_key(structure):
    kind, payload = structure
    if kind == "static":
        try:
            hash(payload)
            return ("static", payload)
        except TypeError:
            return ("static-id", id(payload))
    if kind == "leaf":
        return structure
    if kind == "dict":
        return ("dict", tuple((k, _static_key(v)) for k, v in payload))
    if kind == "typed":
        return (kind, payload[0], tuple(_static_key(v) for v in payload[1]))
    return (kind, tuple(_static_key(v) for v in payload))


class Plan:
    """A traced schedule for one input signature."""

    def __init__(self, tracer: Tracer, input_slots: list, output_structure, output_refs: dict,
                 fuse: str = "off"):
        self.n_slots = tracer.n_slots
        steps = _fold_constants(tracer)
        steps = _eliminate_dead_steps(steps, set(output_refs.values()))
        self.step_count = len(steps)
        self.kernel_count = sum(isinstance(s, Kernel) for s in steps)
        if fuse != "off" and engine.numba_active():
            steps = fuse_steps(steps, tracer.slot_arrays, set(output_refs.values()), fuse)
        #: The replayed steps, in order (kernels, fused groups, side effects).
        self.steps = steps
        self.fused_groups = [s for s in steps if isinstance(s, FusedKernel)]
        self.runners = [s.build() for s in steps]
        self.template = [None] * tracer.n_slots
        for slot, array in tracer.references.items():
            self.template[slot] = array
        self.input_slots = input_slots
        self.output_structure = output_structure
        self.output_refs = output_refs
        self.guards = list(tracer.watched_leaves.values())

    def stale(self) -> bool:
        """True when a parameter's array was replaced (``.to()``, assignment) since the trace."""
        for tensor, array in self.guards:
            if tensor._data is not array:
                return True
        return False

    def fill_slots(self, leaves: list) -> list:
        """A fresh slot list holding the references and this call's arguments."""
        slots = self.template.copy()
        for position, slot in self.input_slots:
            leaf = leaves[position]
            slots[slot] = leaf._data if hasattr(leaf, "requires_grad") else leaf
        return slots

    def run(self, leaves: list):
        slots = self.fill_slots(leaves)
        for run in self.runners:
            run(slots)
        return _rebuild(self.output_structure, self.output_refs, slots)

    def explain(self, leaves: list, repeat: int = 5) -> str:
        """The steps, the fused groups and the time of each, from ``repeat`` profiled replays
        (see :func:`ember.compile.explain.explain_plan`)."""
        return explain_plan(self, leaves, repeat)


def _rebuild(structure, refs, slots):
    from ..tensor import constant

    kind, payload = structure
    if kind == "static":
        return payload
    if kind == "leaf":
        return constant(slots[refs[payload]])
    if kind == "dict":
        return {k: _rebuild(v, refs, slots) for k, v in payload}
    if kind == "typed":
        return payload[0](*(_rebuild(v, refs, slots) for v in payload[1]))
    items = [_rebuild(v, refs, slots) for v in payload]
    return tuple(items) if kind == "tuple" else items


def _fold_constants(tracer: Tracer) -> list:
    """Replace kernels whose inputs are all constants by their traced outputs.

    A kernel's index parameters count as inputs (``step.reads``): a lookup into a
    constant table (``F.embedding(ids, ember.eye(n))``, ``zeros(...).scatter(1, ids, 1.0)``)
    depends on the indices it is given at every call.
    """
    constant = {slot for slot, array in tracer.references.items() if id(array) in tracer.fresh}
    kept = []
    for step in tracer.steps:
        if isinstance(step, Kernel) and step.ins and all(i in constant for i in step.reads) and not step.stash_paths:
            for slot in step.outs:
                tracer.references[slot] = tracer.slot_arrays[slot]
                constant.add(slot)
            continue
        kept.append(step)
    return kept


def _eliminate_dead_steps(steps: list, live: set) -> list:
    """Drop kernels whose results nothing reads (side-effecting steps always stay)."""
    kept = []
    for step in reversed(steps):
        # Random draws are Source steps, never Kernels: they are side effects (they advance the stream).
        if step.side_effect or any(slot in live for slot in step.writes):
            kept.append(step)
            live.update(step.reads)
    kept.reverse()
    return kept


class CompiledFunction:
    """What :func:`compile` returns: call it like the original function."""

    def __init__(self, fn: Callable, fallback: bool = False, fuse: bool | str | None = None):
        self.fn = fn
        self.fallback = fallback
        self.fuse = fusion_mode(fuse) if fuse is not None else None
        self.plans: dict = {}
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        leaves: list = []
        structure = _flatten((args, kwargs), leaves)
        key = (_static_key(structure), tuple(_signature_part(leaf) for leaf in leaves))
        plan = self.plans.get(key)
        if plan is None or (plan != "eager" and plan.stale()):
            return self._trace(key, args, kwargs, leaves)
        if plan == "eager":
            return self.fn(*args, **kwargs)
        return plan.run(leaves)

    def _trace(self, key, args, kwargs, leaves):
        if _Trace.tracer is not None:
            raise CompileError("ember.compile: compiled functions cannot be nested inside a trace")
        tracer = Tracer()
        tracer.fallback = self.fallback
        input_slots = []
        for position, leaf in enumerate(leaves):
            array = leaf._data if hasattr(leaf, "requires_grad") else leaf
            input_slots.append((position, tracer.new_slot(array)))
        _Trace.tracer = tracer
        try:
            result = self.fn(*args, **kwargs)
        finally:
            _Trace.tracer = None
        if getattr(tracer, "poisoned", None):
            warnings.warn(f"{tracer.poisoned}; running {getattr(self.fn, '__name__', 'it')} eagerly",
                          stacklevel=3)
            self.plans[key] = "eager"
            return result
        out_leaves: list = []
        out_structure = _flatten(result, out_leaves)
        output_refs = {i: tracer.ref(leaf) if hasattr(leaf, "requires_grad") else tracer.new_slot(leaf)
                       for i, leaf in enumerate(out_leaves)}
        mode = self.fuse if self.fuse is not None else fusion_mode(None)
        self.plans[key] = Plan(tracer, input_slots, out_structure, output_refs, fuse=mode)
        return result

    def explain(self, *args, repeat: int = 5, **kwargs) -> str:
        """Trace (if needed) and replay a call ``repeat`` times, timing each step; print and return the table.

        Every replay really runs: a training step's optimizer updates the parameters
        each time. Example (``print`` is done for you)::

            >>> import ember
            >>> f = ember.compile(lambda x: (x * 2.0 + 1.0).relu())
            >>> report = f.explain(ember.ones(4096))  # doctest: +SKIP
        """
        if self.plan_for(*args, **kwargs) is None:
            self(*args, **kwargs)
        plan = self.plan_for(*args, **kwargs)
        if plan is None:
            raise CompileError(f"ember.compile: {getattr(self.fn, '__name__', 'the function')} runs "
                               "eagerly (fallback), there is no plan to explain")
        leaves: list = []
        _flatten((args, kwargs), leaves)
        report = plan.explain(leaves, repeat)
        print(report)
        return report

    def plan_for(self, *args, **kwargs) -> Plan | None:
        """The traced plan that a call with these arguments would replay (None before tracing)."""
        leaves: list = []
        structure = _flatten((args, kwargs), leaves)
        key = (_static_key(structure), tuple(_signature_part(leaf) for leaf in leaves))
        plan = self.plans.get(key)
        return None if plan == "eager" else plan


def compile(fn: Callable | None = None, *, fallback: bool = False,  # noqa: A001 - ember.compile
            fuse: bool | str | None = None) -> Any:
    """Trace ``fn`` once per input signature and replay it without framework overhead.

    ``fn`` may be a whole training step (forward, ``backward``, optimizer update)
    or an inference function. The first call with new shapes/dtypes runs ``fn``
    eagerly while recording it; later calls replay the recording.

    Rules for the function: tensors and arrays enter through its arguments (or are
    parameters/buffers updated in place); it must not branch on computed values
    (``.item()``, ``if loss > 0``): that raises :class:`CompileError`, or with
    ``fallback=True`` runs the function eagerly from then on, with a warning.

    ``fuse`` groups chains of elementwise kernels into generated numba loops
    (``docs/compile.md``, "Fusion"): True (exact ops only, bit-identical), ``"all"``
    (also exp/log/tanh/sigmoid, within one ulp), False (off); None reads
    ``EMBER_COMPILE_FUSE`` (default on). Fusion needs numba (``EMBER_KERNELS=numba``).

    Example:
        >>> import ember
        >>> w = ember.randn(3, requires_grad=True)
        >>> @ember.compile
        ... def step(x):
        ...     loss = ((x * w).sum() - 1.0) ** 2
        ...     w.grad = None
        ...     loss.backward()
        ...     with ember.no_grad():
        ...         w -= 0.1 * w.grad
        ...     return loss
        >>> losses = [step(ember.ones(3)).item() for _ in range(3)]
    """
    if fn is None:
        return lambda f: CompiledFunction(f, fallback=fallback, fuse=fuse)
    if not callable(fn):
        raise TypeError(f"ember.compile: expected a function, got {type(fn).__name__}")
    return CompiledFunction(fn, fallback=fallback, fuse=fuse)
