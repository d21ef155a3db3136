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


def apply(fn, inputs: tuple, params: dict):
    """Run primitive ``fn`` on tensors ``inputs``, recording it on the tape if needed.

    This is the hot path of every eager op: it does no work for autograd unless an
    input requires grad (and grad mode is on) or a forward-mode tangent is live.
    """
    from ..tensor import Tensor

    make = Tensor._make
    record = _State.enabled and fn.differentiable
    if record:
        for t in inputs:
            if t.requires_grad:
                break
        else:
            record = False
    forward_mode = _Fwd.stack and fn.differentiable
    ctx = None
    if record:
        ctx = Node(fn, params)
    elif forward_mode:
        ctx = _ForwardOnlyContext(fn, params)

    out = fn.forward(ctx, *[t.data for t in inputs], **params)

    if fn.n_outputs == 1:
        outs = (out,)
    else:
        outs = out
    if record and outs[0].dtype.kind not in "fc":
        record = False  # integer and boolean results never carry gradients
    if not record:
        results = tuple(make(o, False, None, i) for i, o in enumerate(outs))
        if forward_mode:
            ctx.inputs = inputs
            ctx.outputs = results
            propagate_tangents(fn, ctx, inputs, results)
        return results[0] if fn.n_outputs == 1 else results

    results = tuple(make(o, True, ctx, i) for i, o in enumerate(outs))
    ctx.edges = tuple(
        None if not t.requires_grad else (t if t.node is None else (t.node, t.out_index))
        for t in inputs
    )
    ctx.in_meta = tuple((t.data.shape, t.data.dtype) if t.requires_grad else None for t in inputs)
    saved = inputs if fn.save_inputs == "all" else tuple(inputs[i] for i in fn.save_inputs)
    ctx.saved = saved
    if fn.save_output:
        ctx.out_data = outs
        ctx.out_refs = tuple(weakref.ref(r) for r in results)
        ctx.versions = tuple(t._version for t in saved) + (0,) * len(results)
    else:
        ctx.out_data = None
        ctx.out_refs = None
        ctx.versions = tuple(t._version for t in saved)
    if forward_mode:
        # Forward-over-reverse needs the outputs' tangents at vjp time: keep them.
        ctx.out_strong = results
        ctx.inputs = inputs
        ctx.outputs = results
        propagate_tangents(fn, ctx, inputs, results)
    return results[0] if fn.n_outputs == 1 else results
