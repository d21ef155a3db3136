"""How a primitive is declared, and how it is applied to tensors.

A primitive is a subclass of :class:`Function` with three static methods standing
side by side (Chainer's ``FunctionNode`` shape, JAX's rule tables in spirit):

* ``forward(ctx, *arrays, **params)`` computes the output from backend arrays
  (``ctx`` is ``None`` when nothing will be differentiated; otherwise it may
  stash arrays for the rules in ``ctx.stash``);
* ``vjp(ctx, grad)`` returns one gradient per input, written with Ember ops so
  that gradients of gradients work; ``None`` means "no gradient";
* ``jvp(ctx, *tangents)`` returns the output tangent (inputs without a tangent
  get ``None``), also written with Ember ops.

Class attributes declare what the vjp reads: ``save_inputs`` (indices of inputs
kept for the vjp) and ``save_output``. Nothing else is kept alive by the tape.

Users declare custom ops the same way (see ``docs/autograd.md``)::

    class StraightThroughSign(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return ember.backend.array_module(x).sign(x)

        @staticmethod
        def vjp(ctx, g):
            return g            # pretend the op was the identity

        @staticmethod
        def jvp(ctx, t):
            return t

    y = StraightThroughSign.apply(x)
"""
from __future__ import annotations

import weakref

from .engine import Node
from .forward import _Fwd, propagate_tangents
from .grad_mode import _State
from .tracing import _Trace


class Function:
    """Base class of every primitive; subclass it to add an op (see module docstring)."""

    #: Name used in error messages; defaults to the class name in lower case.
    name: str = ""
    #: Indices of the inputs whose tensors the vjp needs (``ctx.saved``), or "all".
    save_inputs: tuple | str = ()
    #: Whether the vjp needs the output (``ctx.out``).
    save_output: bool = False
    #: Number of outputs; forward returns a tuple when it is more than one.
    n_outputs: int = 1
    #: False for ops such as comparisons whose result never carries a gradient.
    differentiable: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()

    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def vjp(ctx, *grads):
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError

    @staticmethod
    def zeros_like_output(ctx, index):
        """A zero gradient for an unused output of a multi-output op."""
        data = ctx.out_data[index]
        from ..backend import array_module

        return array_module(data).zeros_like(data)

    @classmethod
    def apply(cls, *inputs, **params):
        """Apply the op to tensors (non-tensor inputs are converted)."""
        from ..tensor import as_tensor

        return apply(cls, tuple(as_tensor(x) for x in inputs), params)


class LinearFunction(Function):
    """A primitive that is linear in its single input, so its jvp is itself applied
    to the tangent (reshape, transpose, sum, indexing ...): one rule fewer to write."""

    @staticmethod
    def jvp(ctx, t):
        return apply(ctx.fn, (t,), ctx.params)


_WITH_OUTPUTS: dict = {}


def with_outputs(fn: type, n_outputs: int) -> type:
    """Primitive ``fn`` with ``n_outputs`` outputs: ``fn`` itself, or a cached subclass.

    For primitives whose output count is a parameter (a recurrent layer's backward, ``split``):
    ``n_outputs`` is a class attribute the engine reads, so each count gets its
    own subclass, made once and kept under the same ``name``.
    """
    if n_outputs == fn.n_outputs:
        return fn
    key = (fn, n_outputs)
    variant = _WITH_OUTPUTS.get(key)
    if variant is None:
        variant = _WITH_OUTPUTS[key] = type(f"{fn.__name__}{n_outputs}", (fn,),
                                            {"n_outputs": n_outputs, "name": fn.name})
    return variant


class _ForwardOnlyContext:
    """What a jvp rule sees when no reverse-mode node was recorded."""

    __slots__ = ("fn", "params", "stash", "saved", "inputs", "outputs")

    def __init__(self, fn, params):
        self.fn = fn
        self.params = params
        self.stash = None
        self.saved = ()

    @property
    def out(self):
        return self.outputs[0]

    def output(self, index):
        return self.outputs[index]


#: Set by ``ember.amp`` while an autocast region is live, ``None`` otherwise (see ``apply``).
_autocast_hook = None


def apply(fn, inputs: tuple, params: dict):
    """Run primitive ``fn`` on tensors ``inputs``, recording it on the tape if needed.

    This is the hot path of every eager op, written for speed: when no input needs
    a gradient (or grad mode is off) and no forward-mode level is live, it is a
    forward call and one tensor allocation.
    """
    if _autocast_hook is not None:
        # An autocast region is live (ember.amp): the hook casts inputs per its op lists and
        # runs the op itself, or returns None for ops it leaves alone. One global read when off.
        result = _autocast_hook(fn, inputs, params)
        if result is not None:
            return result
    record = False
    if _State.enabled and fn.differentiable:
        for t in inputs:
            if t.requires_grad:
                record = True
                break
    forward_mode = bool(_Fwd.stack) and fn.differentiable
    if not record and not forward_mode:
        if len(inputs) == 1:
            out = fn.forward(None, inputs[0]._data, **params)
        elif len(inputs) == 2:
            out = fn.forward(None, inputs[0]._data, inputs[1]._data, **params)
        else:
            out = fn.forward(None, *[t._data for t in inputs], **params)
        make = _tensor_class()._make
        if fn.n_outputs == 1:
            result = make(out, False, None, 0)
        else:
            result = tuple(make(o, False, None, i) for i, o in enumerate(out))
        if _Trace.tracer is not None:
            _Trace.tracer.record_kernel(fn, inputs, params, None, result)
        return result
    return _apply_recorded(fn, inputs, params, record, forward_mode)


_TENSOR = []


def _tensor_class():
    # Bound on first use: tensor.py imports this module, so it cannot be imported at the top.
    if not _TENSOR:
        from ..tensor import Tensor

        _TENSOR.append(Tensor)
    return _TENSOR[0]


def _apply_recorded(fn, inputs, params, record, forward_mode):
    make = _tensor_class()._make
    ctx = Node(fn, params) if record else _ForwardOnlyContext(fn, params)
    out = fn.forward(ctx, *[t._data for t in inputs], **params)
    outs = (out,) if fn.n_outputs == 1 else out
    if record and outs[0].dtype.kind not in "fcV":
        record = False  # integer and boolean results never carry gradients ("V": ml_dtypes' bfloat16)
        ctx = _ForwardOnlyContext(fn, params) if forward_mode else None
    if not record:
        results = tuple(make(o, False, None, i) for i, o in enumerate(outs))
        return _finish(fn, ctx, inputs, params, results, forward_mode)

    results = tuple(make(o, True, ctx, i) for i, o in enumerate(outs))
    edges = []
    meta = []
    for t in inputs:
        if t.requires_grad:
            edges.append(t if t.node is None else (t.node, t.out_index))
            meta.append((t._data.shape, t._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.edges = edges
    ctx.in_meta = meta
    save = fn.save_inputs
    if save == "all":
        saved = inputs
    elif save:
        saved = tuple([inputs[i] for i in save])
    else:
        saved = ()
    ctx.saved = saved
    versions = [t._version for t in saved]
    if fn.save_output:
        ctx.out_data = outs
        ctx.out_refs = tuple([weakref.ref(r) for r in results])
        versions.extend([0] * len(results))
    else:
        ctx.out_data = None
        ctx.out_refs = None
    ctx.versions = versions
    if forward_mode:
        # Forward-over-reverse needs the outputs' tangents at vjp time: keep them.
        ctx.out_strong = results
    return _finish(fn, ctx, inputs, params, results, forward_mode)


def _finish(fn, ctx, inputs, params, results, forward_mode):
    """Push tangents through (forward mode), report to a running trace, return the result."""
    if forward_mode:
        ctx.inputs = inputs
        ctx.outputs = results
        propagate_tangents(fn, ctx, inputs, results)
    result = results[0] if fn.n_outputs == 1 else results
    if _Trace.tracer is not None:
        _Trace.tracer.record_kernel(fn, inputs, params, ctx, result)
    return result

