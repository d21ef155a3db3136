"""The steps of a compiled schedule, each replayed on a list of array slots.

A step knows which slots it reads and writes (for dead-code elimination) and
runs with no Tensor, node or grad-mode bookkeeping: a kernel step is just the
primitive's forward called on arrays.
"""
from __future__ import annotations

from ..backend import array_module


class _StashContext:
    """Stands in for a tape node when a forward wants to stash arrays for its vjp."""

    __slots__ = ("stash",)

    def __init__(self):
        self.stash = None


def _pick(stash, path):
    if path is None:  # the stash object itself
        return stash
    for key in path:
        stash = stash[key]
    return stash


class Kernel:
    """One primitive's forward on arrays."""

    side_effect = False

    def __init__(self, fn, params, ins, outs, stash_paths, needs_ctx, param_slots=()):
        self.fn = fn
        self.params = params
        self.ins = ins
        self.outs = outs
        self.stash_paths = stash_paths
        self.needs_ctx = needs_ctx
        self.param_slots = param_slots

    @property
    def reads(self):
        return self.ins + tuple(slot for _, slot in self.param_slots)

    @property
    def writes(self):
        return self.outs + tuple(slot for _, slot in self.stash_paths)

    def build(self):
        """A closure specialised for this step (no per-call branching on the step's shape)."""
        forward, params, ins = self.fn.forward, self.params, self.ins
        if self.param_slots:
            return self._build_with_array_params()
        if self.needs_ctx or len(self.outs) != 1:
            return self._build_general()
        out = self.outs[0]
        if len(ins) == 1:
            (a,) = ins

            def run(slots):
                slots[out] = forward(None, slots[a], **params)
        elif len(ins) == 2:
            a, b = ins

            def run(slots):
                slots[out] = forward(None, slots[a], slots[b], **params)
        else:
            def run(slots):
                slots[out] = forward(None, *[slots[i] for i in ins], **params)
        return run


    def _build_with_array_params(self):
        """The closure for kernels whose parameters hold computed arrays (indices)."""
        static, param_slots = dict(self.params), self.param_slots

        def params_of(slots):
            params = static
            for path, slot in param_slots:
                params = _substitute(params, path, slots[slot])
            return params

        return self._build_general(params_of)

    def _build_general(self, params_of=None):
        outs, paths, needs_ctx, ins = self.outs, self.stash_paths, self.needs_ctx, self.ins
        forward, params = self.fn.forward, self.params

        def run(slots):
            ctx = _StashContext() if needs_ctx else None
            kwargs = params if params_of is None else params_of(slots)
            out = forward(ctx, *[slots[i] for i in ins], **kwargs)
            if len(outs) == 1:
                slots[outs[0]] = out
            else:
                for slot, array in zip(outs, out):
                    slots[slot] = array
            for path, slot in paths:
                slots[slot] = _pick(ctx.stash, path)

        return run


def _substitute(container, path, value):
    """A copy of nested dicts/tuples/lists ``container`` with the item at ``path`` replaced."""
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(container, dict):
        updated = dict(container)
        updated[key] = _substitute(container[key], rest, value)
        return updated
    items = list(container)
    items[key] = _substitute(items[key], rest, value)
    return tuple(items) if isinstance(container, tuple) else items


class InPlace:
    """``target op= value`` on an array (an in-place update done without recording)."""

    side_effect = True

    def __init__(self, ufunc, target, value):
        self.ufunc, self.target, self.value = ufunc, target, value

    @property
    def reads(self):
        return (self.target,) + ((self.value[1],) if self.value[0] == "slot" else ())

    writes = ()

    def build(self):
        ufunc, target = self.ufunc, self.target
        kind, value = self.value

        def run(slots):
            array = slots[target]
            operand = slots[value] if kind == "slot" else value
            getattr(array_module(array), ufunc)(array, operand, out=array)

        return run


class SetItem:
    """``target[key] = value`` on an array."""

    side_effect = True

    def __init__(self, target, key, value):
        self.target, self.key, self.value = target, key, value

    @property
    def reads(self):
        slots = [self.target] + [v for kind, v in self.key if kind == "slot"]
        if self.value[0] == "slot":
            slots.append(self.value[1])
        return tuple(slots)

    writes = ()

    def build(self):
        target, key_parts, (kind, value) = self.target, self.key, self.value

        def run(slots):
            key = tuple(slots[v] if k == "slot" else v for k, v in key_parts)
            slots[target][key] = slots[value] if kind == "slot" else value

        return run


class SetGrad:
    """Hand a gradient to a leaf's ``.grad``, as the engine did during the trace."""

    side_effect = True

    def __init__(self, leaf, grad, accumulated):
        self.leaf, self.grad, self.accumulated = leaf, grad, accumulated

    @property
    def reads(self):
        return (self.grad,)

    writes = ()

    def build(self):
        from ..tensor import Tensor
        from .tracer import CompileError

        leaf, grad, accumulated = self.leaf, self.grad, self.accumulated
        make = Tensor._make

        def run(slots):
            if not accumulated and leaf.grad is not None:
                raise CompileError(
                    "ember.compile: a parameter already holds a gradient that the traced run did not "
                    "see; zero the gradients inside the compiled function (optimizer.zero_grad()) or "
                    "before calling it"
                )
            leaf._grad = make(slots[grad], False, None, 0)

        return run


class Call:
    """An opaque call (an optimizer step): replayed by calling it again."""

    side_effect = True

    def __init__(self, method, args, kwargs, out):
        self.method, self.args, self.kwargs, self.out = method, args, kwargs, out

    @property
    def reads(self):
        refs = list(self.args) + list(self.kwargs.values())
        return tuple(v for kind, v in refs if kind == "slot")

    @property
    def writes(self):
        return () if self.out is None else (self.out,)

    def build(self):
        from ..tensor import Tensor

        method, args, kwargs, out = self.method, self.args, self.kwargs, self.out
        make = Tensor._make

        def resolve(ref, slots):
            kind, value = ref
            return make(slots[value], False, None, 0) if kind == "slot" else value

        if not self.reads:
            plain_args = tuple(v for _, v in args)
            plain_kwargs = {k: v for k, (_, v) in kwargs.items()}

            def run(slots):
                result = method(*plain_args, **plain_kwargs)
                if out is not None:
                    slots[out] = result._data

            return run

        def run(slots):
            result = method(*[resolve(a, slots) for a in args],
                            **{k: resolve(v, slots) for k, v in kwargs.items()})
            if out is not None:
                slots[out] = result._data

        return run


class Source:
    """A random draw (``ember.rand``, ``ember.randn`` ...): drawn again on every replay."""

    side_effect = True  # removing a draw would shift the random stream

    def __init__(self, draw, args, kwargs, out):
        self.draw, self.args, self.kwargs, self.out = draw, args, kwargs, out

    reads = ()

    @property
    def writes(self):
        return (self.out,)

    def build(self):
        draw, args, kwargs, out = self.draw, self.args, self.kwargs, self.out

        def run(slots):
            slots[out] = draw(*args, **kwargs)._data

        return run


class AssignGrad:
    """``tensor.grad = None`` (or a computed gradient) written in the traced function."""

    side_effect = True

    def __init__(self, tensor, value):
        self.tensor, self.value = tensor, value

    @property
    def reads(self):
        return () if self.value is None else (self.value,)

    writes = ()

    def build(self):
        from ..tensor import constant

        tensor, value = self.tensor, self.value

        def run(slots):
            tensor._grad = None if value is None else constant(slots[value])

        return run
