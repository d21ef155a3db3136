"""Recording one eager run of a function as a flat list of steps.

While a trace runs, every primitive application (forward ops, and the ops the
vjp rules are made of during ``backward``), every in-place update, every
gradient handed to a leaf, every random draw and every *opaque* call (optimizer
steps) reports here. Arrays are tracked by identity: an array produced by a
recorded step lives in a numbered *slot*; any other array a step reads is a
reference fixed at trace time (a parameter updated in place, a constant).
"""
from __future__ import annotations

from .steps import AssignGrad, Call, InPlace, Kernel, SetGrad, SetItem, Source


class CompileError(RuntimeError):
    """Raised when a function cannot be compiled (for example data-dependent control flow)."""


class Tracer:
    """Collects the steps of one run; see the module docstring."""

    def __init__(self):
        self.steps: list = []
        self.slot_of: dict = {}       # id(array) -> slot
        self.keep: list = []          # every array seen, so that ids stay unique during the trace
        self.slot_arrays: dict = {}   # slot -> the array it held during the trace
        self.fresh: set = set()       # ids of arrays allocated by ember during the trace (foldable)
        self.references: dict = {}    # slot -> array read by reference (parameters, constants)
        self.n_slots = 0
        self.in_call = 0
        self.watched_leaves: dict = {}  # id(tensor) -> (tensor, array) for rebinding guards
        self.fallback = False
        self.poisoned = None

    # ------------------------------------------------------------ slots
    def new_slot(self, array) -> int:
        slot = self.n_slots
        self.n_slots += 1
        self.slot_of[id(array)] = slot
        self.slot_arrays[slot] = array
        return slot

    def ref(self, tensor) -> int:
        """The slot a step reads for ``tensor`` (a new reference slot for outside arrays)."""
        array = tensor._data
        slot = self.slot_of.get(id(array))
        if slot is not None:
            return slot
        slot = self.new_slot(array)
        self.references[slot] = array
        if tensor.node is None and tensor.requires_grad:
            self.watched_leaves[id(tensor)] = (tensor, array)
        return slot

    def is_computed(self, tensor) -> bool:
        slot = self.slot_of.get(id(tensor._data))
        return slot is not None and slot not in self.references

    # ------------------------------------------------------------ hooks called by lower floors
    def note_fresh(self, array) -> None:
        """An array ember just allocated from static information (a scalar, zeros, eye)."""
        self.fresh.add(id(array))
        self.keep.append(array)

    def record_kernel(self, fn, inputs, params, ctx, result) -> None:
        if self.in_call:
            return
        in_slots = tuple(self.ref(t) for t in inputs)
        results = result if type(result) is tuple else (result,)
        out_slots = tuple(self.new_slot(r._data) for r in results)
        stash_paths = ()
        if ctx is not None and getattr(ctx, "stash", None) is not None:
            # The stash object itself is kept for the whole replay (path ()): some stashes
            # hand pooled buffers back when they die, and the backward still reads them.
            stash_paths = ((None, self.new_slot(ctx.stash)),) + tuple(
                (path, self.new_slot(array)) for path, array in _arrays_in(ctx.stash))
        # Index arrays travel as parameters (x[labels]); computed ones must be re-read at replay.
        param_slots = tuple((path, self.slot_of[id(array)]) for path, array in _arrays_in(params)
                            if self.slot_of.get(id(array)) is not None
                            and self.slot_of[id(array)] not in self.references)
        self.steps.append(Kernel(fn, params, in_slots, out_slots, stash_paths,
                                 needs_ctx=ctx is not None and getattr(ctx, "stash", None) is not None,
                                 param_slots=param_slots))

    def record_inplace(self, ufunc: str, target, other) -> None:
        if self.in_call:
            return
        from ..tensor import Tensor

        value = ("slot", self.ref(other)) if isinstance(other, Tensor) else ("const", other)
        self.steps.append(InPlace(ufunc, self.ref(target), value))

    def record_setitem(self, target, key, value) -> None:
        if self.in_call:
            return
        from ..tensor import Tensor

        key_parts = []
        for item in key:
            slot = self.slot_of.get(id(item)) if hasattr(item, "shape") else None
            key_parts.append(("slot", slot) if slot is not None else ("const", item))
        value_ref = ("slot", self.ref(value)) if isinstance(value, Tensor) else ("const", value)
        self.steps.append(SetItem(self.ref(target), tuple(key_parts), value_ref))

    def record_set_grad(self, leaf, grad, accumulated: bool) -> None:
        if self.in_call:
            return
        self.steps.append(SetGrad(leaf, self.ref(grad), accumulated))

    def record_grad_assignment(self, tensor, value) -> None:
        """``p.grad = None`` (or ``= g``) written by the user inside the traced function (the
        engine's own assignments are reported through :meth:`record_set_grad`)."""
        if self.in_call:
            return
        self.steps.append(AssignGrad(tensor, None if value is None else self.ref(value)))

    def record_call(self, method, args, kwargs):
        if self.in_call:
            return method(*args, **kwargs)
        self.in_call += 1
        try:
            result = method(*args, **kwargs)
        finally:
            self.in_call -= 1
        from ..tensor import Tensor

        out_slot = self.new_slot(result._data) if isinstance(result, Tensor) else None
        # A tensor argument computed inside the trace must be re-read at replay time.
        arg_refs = tuple(self._call_arg(a) for a in args)
        kwarg_refs = {k: self._call_arg(v) for k, v in kwargs.items()}
        self.steps.append(Call(method, arg_refs, kwarg_refs, out_slot))
        return result

    def _call_arg(self, value):
        from ..tensor import Tensor

        if isinstance(value, Tensor) and self.is_computed(value):
            return ("slot", self.slot_of[id(value._data)])
        return ("const", value)

    def record_source(self, draw, args, kwargs, result) -> None:
        if self.in_call:
            return
        self.steps.append(Source(draw, args, kwargs, self.new_slot(result._data)))

    def check_read(self, tensor, how: str) -> None:
        """Refuse to let a traced value steer Python (it would be frozen into the schedule)."""
        if self.in_call or not self.is_computed(tensor):
            return
        if getattr(self, "fallback", False):
            # Let this eager run finish; the function will not be compiled.
            self.poisoned = f"ember.compile: the function reads a computed value with `{how}`"
            return
        raise CompileError(
            f"ember.compile: the traced function reads a computed value with `{how}` (tensor of shape "
            f"{tuple(tensor.shape)}); a value computed inside the function cannot steer Python control "
            "flow or leave as a Python number. Return the tensor and read it outside, or run the "
            "function eagerly (ember.compile(fn, fallback=True) does so automatically)"
        )


def _arrays_in(stash, path=()):
    """Yield ``(path, array)`` for every array inside a stash (an array, or nested tuples/lists/dicts)."""
    if hasattr(stash, "shape") and hasattr(stash, "dtype"):
        yield path, stash
    elif isinstance(stash, (tuple, list)):
        for i, item in enumerate(stash):
            yield from _arrays_in(item, path + (i,))
    elif isinstance(stash, dict):
        for key, item in stash.items():
            yield from _arrays_in(item, path + (key,))
