"""Recurrent layers as primitives: one direction of an RNN, LSTM or GRU layer over a whole sequence.

Why one primitive per *layer direction* rather than per step: the char-LSTM of
the benchmark runs 64 steps per batch, and a step composed from Ember ops
records about 15 nodes (a matmul, an add, four slices, three sigmoids, two
tanh, three products, a sum). Recorded and replayed 64 times, that Python
bookkeeping costs more than the arithmetic. Here the forward and the backward
(BPTT) each run as one loop over steps (:mod:`ember.kernels.recurrent_layer`), a
GEMM and a pointwise kernel per step (:mod:`ember.kernels.recurrent`: NumPy
references, fused numba passes), and the GEMMs dominate:

* the input projection of every step is one batched GEMM before the loop (or,
  when the input is an embedding lookup of a small table, a GEMM on the table
  whose rows each step gathers: see ``lookup`` in :func:`lstm_scan`);
* per step, one (gate-batched) GEMM ``h @ W_hh.T`` and the gate arithmetic, in
  place in preallocated buffers;
* the backward keeps the pre-activation gradients of every step, so that the
  weight gradients are single GEMMs over all steps at the end.

Layout. Inside the primitive every gate-sized array is *gate-major*:
``(G, T, B, H)`` for the projections and ``(G, B, H)`` per step, so each gate
(``i, f, g, o`` for the LSTM, ``r, z, n`` for the GRU, PyTorch's order) is one
contiguous block. On the W4 shapes (batch 32, hidden 256) this makes the gate
arithmetic a third faster than on column slices of a ``(B, 4H)`` array, and
OpenBLAS runs the four ``(B, H) @ (H, H)`` products of a step faster than one
``(B, H) @ (H, 4H)`` product. The weights keep PyTorch's ``(G*H, in)`` layout.

Gradients of gradients and forward mode: the backward (BPTT) is a primitive of its
own, :class:`LayerBackward`, whose forward is the BPTT loop. Its vjp and
jvp differentiate :func:`reference_layer` instead: the same recurrence written per
step with ordinary Ember ops, whose derivatives of every order come from those
ops' rules. So first-order backward passes always run the kernel, and a
second-order derivative goes through the reference only where it is asked for.
``tests/ops/test_recurrent_ops.py`` checks the two against each other, against
finite differences and against PyTorch.

Masks: a boolean ``mask`` of shape ``(T, B)`` marks the valid steps; at a masked
step the state is carried over unchanged and the output is zero (what
PyTorch's packed sequences do). ``reverse=True`` scans from the last step to
the first, so with right-padded sequences the reverse direction starts at each
sequence's last valid step.
"""
from __future__ import annotations

from ..autograd.forward import _Fwd
from ..autograd.function import Function, apply, with_outputs
from ..backend import array_module
from .elementwise import relu, sigmoid, tanh, where
from .linalg import matmul
from .movement import stack, swapaxes
from ..errors import ArgumentError
from ..kernels import recurrent_layer as loops


# ------------------------------------------------------------------ cells
# The array side of each cell (gates, states, one step forward and back) is in
# ember.kernels.recurrent_layer; ``reference`` is the same step with Ember ops, on a
# (B, G*H) row, which the higher-order rules differentiate.
class _LstmCell(loops.LstmLoop):
    """``i, f, g, o`` gates; state ``(h, c)``; ``c' = f*c + i*g``, ``h' = o*tanh(c')``.

    Inputs: ``(x, w_ih, w_hh, bias, h0, c0)`` with ``bias = b_ih + b_hh``.
    """

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        h, c = states
        H = h.shape[-1]
        gates = p_t + gh
        i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H])
        g, o = tanh(gates[:, 2 * H:3 * H]), sigmoid(gates[:, 3 * H:])
        c_new = f * c + i * g
        return [o * tanh(c_new), c_new]


class _GruCell(loops.GruLoop):
    """``r, z, n`` gates (PyTorch's): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1-z)*n + z*h``."""

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        (h,) = states
        H = h.shape[-1]
        gh = gh + b_hh
        r = sigmoid(p_t[:, :H] + gh[:, :H])
        z = sigmoid(p_t[:, H:2 * H] + gh[:, H:2 * H])
        n = tanh(p_t[:, 2 * H:] + r * gh[:, 2 * H:])
        return [n + z * (h - n)]


class _RnnCell(loops.RnnLoop):
    """Elman RNN: ``h' = tanh(x W_ih.T + bias + h W_hh.T)`` (or relu). Inputs ``(x, w_ih, w_hh, bias, h0)``."""

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        pre = p_t + gh
        return [tanh(pre) if params["nonlinearity"] == "tanh" else relu(pre)]


def reference_layer(cell, *inputs, mask, reverse, batch_first, params, lookup=None):
    """The layer written per step with Ember ops: what the fused rules are checked against.

    Its derivatives of every order come from the composed ops; the primitive's
    rules fall back to it for higher-order and forward-mode differentiation.
    With ``lookup``, the first input is an embedding table read at those indices.
    """
    from ..tensor import constant
    from .embedding import embedding
    from .linear import linear

    x, w_ih, w_hh, biases, states = loops.split_inputs(cell, inputs)
    if lookup is not None:
        x = embedding(lookup[0], x, lookup[1])
    states = list(states)
    projected = linear(swapaxes(x, 0, 1) if batch_first else x, w_ih, biases[0])
    b_hh = biases[1] if cell.n_biases > 1 else None
    w_t = swapaxes(w_hh, 0, 1)
    T = projected.shape[0]
    outs = [None] * T
    for t in loops.steps(T, reverse):
        new = cell.reference(projected[t], matmul(states[0], w_t), states, b_hh, params)
        if mask is None:
            outs[t] = new[0]
            states = new
        else:
            m = constant(mask[t][:, None])
            outs[t] = where(m, new[0], 0.0)
            states = [where(m, s_new, s) for s_new, s in zip(new, states)]
    return (stack(outs, axis=1 if batch_first else 0),) + tuple(states)


# ------------------------------------------------------------------ the primitives
class _Layer(Function):
    """Base of the three layer primitives: inputs ``(x, w_ih, w_hh, *biases, *states)``."""

    save_inputs = "all"
    cell = None

    @classmethod
    def forward(cls, ctx, *inputs, mask, reverse, batch_first, params, lookup):
        outs, tape = loops.layer_forward(cls.cell, ctx is not None, inputs, mask, reverse, batch_first, params, lookup)
        if ctx is not None:
            ctx.stash = tape
        return outs

    @classmethod
    def vjp(cls, ctx, *grads):
        from ..tensor import constant

        # One primitive (so ember.compile replays it) fed every array the kernel reads.
        needs = tuple(edge is not None for edge in ctx.edges)
        tape_keys = tuple(ctx.stash)
        tensors = tuple(grads) + tuple(ctx.saved) + tuple(constant(ctx.stash[k]) for k in tape_keys)
        wanted = [i for i, need in enumerate(needs) if need]
        outs = apply(with_outputs(LayerBackward, len(wanted)), tensors,
                     {"cell": cls.cell, "params": ctx.params, "needs": needs, "n_grads": len(grads),
                      "tape_keys": tape_keys})
        outs = outs if len(wanted) > 1 else (outs,)
        results = [None] * len(needs)
        for i, out in zip(wanted, outs):
            results[i] = out
        return tuple(results)

    @classmethod
    def jvp(cls, ctx, *tangents):
        return _reference_tangents(cls.cell, ctx)

    @staticmethod
    def zeros_like_output(ctx, index):
        # The outputs are not saved (the tape holds what the backward needs), so an
        # unused output's zero gradient is built from the saved inputs' shapes.
        x, w_hh = ctx.saved[0]._data, ctx.saved[2]._data
        xp = array_module(x)
        if index == 0:
            lookup = ctx.params["lookup"]
            lead = x.shape[:2] if lookup is None else lookup[0].shape
            return xp.zeros(lead + (w_hh.shape[1],), x.dtype)
        return xp.zeros_like(ctx.saved[-ctx.fn.cell.n_states + index - 1]._data)


class LstmLayer(_Layer):
    name = "lstm_layer"
    n_outputs = 3
    cell = _LstmCell


class GruLayer(_Layer):
    name = "gru_layer"
    n_outputs = 2
    cell = _GruCell


class RnnLayer(_Layer):
    name = "rnn_layer"
    n_outputs = 2
    cell = _RnnCell


class LayerBackward(Function):
    """BPTT of one layer direction: the wanted input gradients of a layer primitive.

    Inputs: the layer's output gradients (``n_grads``), its inputs, then its tape
    (constants). The forward is the BPTT loop (with the step kernels); the vjp and jvp differentiate
    the first-order gradients of :func:`reference_layer`, so derivatives of every
    order exist while first-order backward passes never leave the kernel.
    """

    name = "recurrent_layer_backward"
    save_inputs = "all"

    @staticmethod
    def forward(ctx, *arrays, cell, params, needs, n_grads, tape_keys):
        return loops.backward_kernel(*arrays, cell=cell, params=params, needs=needs, n_grads=n_grads,
                                tape_keys=tape_keys)

    @staticmethod
    def vjp(ctx, *cotangents):
        from ..autograd.functional import vjp

        values = ctx.saved
        arguments = len(values) - len(ctx.params["tape_keys"])
        positions = [i for i in range(arguments) if ctx.edges[i] is not None]
        _, pullback = vjp(lambda *chosen: _reference_gradients(ctx.params, _with(values[:arguments], positions,
                                                                                 chosen)),
                          *[values[i] for i in positions])
        chosen_grads = pullback(tuple(cotangents) if len(cotangents) > 1 else cotangents[0])
        result = [None] * len(values)
        for position, g in zip(positions, chosen_grads):
            result[position] = g
        return tuple(result)

    @staticmethod
    def jvp(ctx, *tangents):
        # As in _reference_tangents: the reference must carry this level's tangents.
        level = _Fwd.limit
        _Fwd.limit = level + 1
        try:
            outs = _reference_gradients(ctx.params, ctx.inputs[:len(ctx.inputs) - len(ctx.params["tape_keys"])])
        finally:
            _Fwd.limit = level
        outs = outs if isinstance(outs, tuple) else (outs,)
        tangents_out = tuple(o._tangent.get(level) if o._tangent else None for o in outs)
        return tangents_out if len(tangents_out) > 1 else tangents_out[0]


def _with(values, positions, chosen):
    """``values`` with the entries at ``positions`` replaced by ``chosen``."""
    full = list(values)
    for position, x in zip(positions, chosen):
        full[position] = x
    return full


def _reference_gradients(p, values):
    """The wanted input gradients of :func:`reference_layer`, as differentiable tensors.

    ``values`` are the layer's output gradients followed by its inputs.
    """
    from ..autograd.functional import vjp

    grads, inputs = list(values[:p["n_grads"]]), list(values[p["n_grads"]:])
    wanted = [i for i, need in enumerate(p["needs"]) if need]
    _, pullback = vjp(lambda *chosen: reference_layer(p["cell"], *_with(inputs, wanted, chosen), **p["params"]),
                      *[inputs[i] for i in wanted])
    out = pullback(tuple(grads))
    return tuple(out) if len(out) > 1 else out[0]


def _reference_tangents(cell, ctx):
    """The output tangents of the reference layer at the level whose jvp rule is running.

    While a jvp rule runs, its own level is switched off so that the rule's
    arithmetic is not differentiated by it. Here the reference itself must carry
    that level's tangents (its inputs hold them), so the level is switched back
    on around it; outer levels see the computation as usual.
    """
    level = _Fwd.limit
    _Fwd.limit = level + 1
    try:
        outs = reference_layer(cell, *ctx.inputs, **ctx.params)
    finally:
        _Fwd.limit = level
    return tuple(o._tangent.get(level) if o._tangent else None for o in outs)


# ------------------------------------------------------------------ public functions
def _layer(fn, inputs, mask, reverse, batch_first, params, lookup):
    mask_array = None
    if mask is not None:
        data = mask._data if hasattr(mask, "_data") else mask
        mask_array = array_module(inputs[0]._data).asarray(data, dtype=bool)
    if lookup is not None:
        from ..tensor import as_tensor

        indices, padding_idx = lookup
        lookup = (as_tensor(indices)._data, None if padding_idx is None else int(padding_idx))
    return apply(fn, tuple(inputs), {"mask": mask_array, "reverse": bool(reverse),
                                     "batch_first": bool(batch_first), "params": params, "lookup": lookup})


def lstm_scan(x, w_ih, w_hh, bias, h0, c0, mask=None, reverse: bool = False, batch_first: bool = False,
              lookup: tuple | None = None):
    """One direction of an LSTM layer over a sequence, as one primitive; returns ``(outputs, h_T, c_T)``.

    Args:
        x: ``(T, B, I)`` (``(B, T, I)`` with ``batch_first``).
        w_ih, w_hh: ``(4H, I)`` and ``(4H, H)``, gates ordered ``i, f, g, o``.
        bias: ``(4H,)``, the sum ``b_ih + b_hh`` (zeros for a layer without bias).
        h0, c0: ``(B, H)`` initial states.
        mask: optional boolean ``(T, B)``; false steps keep the state and output zeros.
        reverse: scan from the last step to the first.
        batch_first: the layout of ``x`` and of the outputs.
        lookup: optional ``(indices, padding_idx)``. Then ``x`` is an embedding table
            ``(V, I)`` and step ``t`` of sequence ``b`` reads its row ``indices[t, b]``
            (``indices[b, t]`` with ``batch_first``); the gradient of ``x`` is the
            table's. The projection is applied to the ``V`` table rows rather than
            to the ``T*B`` steps, which saves work when ``V`` is smaller.

    Shapes are not checked here (see :func:`ember.functional.lstm_layer`).

    Example:
        >>> import ember
        >>> from ember.ops.recurrent import lstm_scan
        >>> z = ember.zeros
        >>> out, h, c = lstm_scan(z(5, 2, 4), z(12, 4), z(12, 3), z(12), z(2, 3), z(2, 3))
        >>> out.shape, h.shape
        ((5, 2, 3), (2, 3))
    """
    return _layer(LstmLayer, (x, w_ih, w_hh, bias, h0, c0), mask, reverse, batch_first, None, lookup)


def gru_scan(x, w_ih, w_hh, b_ih, b_hh, h0, mask=None, reverse: bool = False, batch_first: bool = False,
             lookup: tuple | None = None):
    """One direction of a GRU layer (gates ``r, z, n``) as one primitive; returns ``(outputs, h_T)``.

    ``b_ih`` and ``b_hh`` are ``(3H,)`` (zeros for a layer without bias); other
    arguments as in :func:`lstm_scan`.

    Example:
        >>> import ember
        >>> from ember.ops.recurrent import gru_scan
        >>> z = ember.zeros
        >>> out, h = gru_scan(z(5, 2, 4), z(9, 4), z(9, 3), z(9), z(9), z(2, 3))
        >>> out.shape
        (5, 2, 3)
    """
    return _layer(GruLayer, (x, w_ih, w_hh, b_ih, b_hh, h0), mask, reverse, batch_first, None, lookup)


def rnn_scan(x, w_ih, w_hh, bias, h0, nonlinearity: str = "tanh", mask=None, reverse: bool = False,
             batch_first: bool = False, lookup: tuple | None = None):
    """One direction of an Elman RNN layer (``tanh`` or ``relu``) as one primitive; returns ``(outputs, h_T)``.

    Arguments as in :func:`lstm_scan`, with ``H`` weight rows instead of ``4H``.

    Example:
        >>> import ember
        >>> from ember.ops.recurrent import rnn_scan
        >>> out, h = rnn_scan(ember.ones(4, 2, 3), ember.eye(3), ember.zeros(3, 3), ember.zeros(3),
        ...                   ember.zeros(2, 3), "relu")
        >>> h.tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ArgumentError(f"rnn_scan: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return _layer(RnnLayer, (x, w_ih, w_hh, bias, h0), mask, reverse, batch_first,
                  {"nonlinearity": nonlinearity}, lookup)


__all__ = ["lstm_scan", "gru_scan", "rnn_scan", "reference_layer", "LstmLayer", "GruLayer", "RnnLayer"]
