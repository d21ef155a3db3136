"""Recurrent layers as primitives: one direction of an RNN, LSTM or GRU layer over a whole sequence.

Why one primitive per *layer direction* rather than per step: the char-LSTM of
the benchmark runs 64 steps per batch, and a step composed from Ember ops
records about 15 nodes (a matmul, an add, four slices, three sigmoids, two
tanh, three products, a sum). Recorded and replayed 64 times, that Python
bookkeeping costs more than the arithmetic. Here the forward and the backward
(BPTT) each run as one loop over steps, a GEMM and a pointwise kernel per step
(:mod:`ember.kernels.recurrent`: NumPy references, fused numba passes), and the
GEMMs dominate:

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
own, :class:`LayerBackward`, whose forward is the BPTT loop below. Its vjp and
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

import weakref

from ..autograd.forward import _Fwd
from ..autograd.function import Function, apply, with_outputs
from ..backend import array_module
from .elementwise import relu, sigmoid, tanh, where
from .linalg import matmul
from .movement import stack, swapaxes
from ..errors import ArgumentError
from ..kernels import recurrent as kernels


class _ScratchPool:
    """Large scratch arrays kept between calls, because fresh ones cost page faults.

    The tape of a W4 layer is about 14 MB. Allocated anew at every call, its pages
    are faulted in on first touch: measured at 3,300 faults and 12 ms of a 37 ms
    forward pass. Buffers that never leave the primitive (the tape, the gate
    gradients) are therefore taken from here and given back when the tape dies
    (after the backward pass, or when the graph is dropped).
    """

    def __init__(self, max_bytes: int = 256 << 20, per_key: int = 8):
        self.free: dict = {}
        self.bytes = 0
        self.max_bytes, self.per_key = max_bytes, per_key

    def take(self, xp, shape, dtype):
        stack_ = self.free.get((xp.__name__, shape, dtype))
        if stack_:
            array = stack_.pop()
            self.bytes -= array.nbytes
            return array
        return xp.empty(shape, dtype)

    def give(self, *arrays):
        for array in arrays:
            key = (type(array).__module__.split(".")[0], array.shape, array.dtype)
            stack_ = self.free.setdefault(key, [])
            if len(stack_) < self.per_key and self.bytes + array.nbytes <= self.max_bytes:
                stack_.append(array)
                self.bytes += array.nbytes


_POOL = _ScratchPool()


class _Tape(dict):
    """The arrays a layer's backward reads; they return to the pool when the tape is dropped."""


def _pooled_tape(arrays: dict) -> _Tape:
    tape = _Tape(arrays)
    weakref.finalize(tape, _POOL.give, *arrays.values())
    return tape


# ------------------------------------------------------------------ cells
# Each cell gives: its gate count, state count and bias inputs; ``step`` (the GEMM,
# then the pointwise kernel of ember.kernels.recurrent, which writes the activated
# gates into the tape), ``step_back`` (BPTT of one step, a kernel there too) and
# ``reference`` (the same step with Ember ops, on a (B, G*H) row).
class _LstmCell:
    """``i, f, g, o`` gates; state ``(h, c)``; ``c' = f*c + i*g``, ``h' = o*tanh(c')``.

    Inputs: ``(x, w_ih, w_hh, bias, h0, c0)`` with ``bias = b_ih + b_hh``.
    """

    gates = 4
    n_states = 2
    n_biases = 1
    dx_is_dgh = True  # the input projection and the recurrent product share one gradient

    @staticmethod
    def allocate(take, steps, B, H, dtype):
        return {"gates": take((steps, 4, B, H), dtype), "c": take((steps, B, H), dtype),
                "tanh_c": take((steps, B, H), dtype)}

    @staticmethod
    def step(xp, tape, slot, p_t, states, w_t, b_hh, params):
        h, c = states
        a = tape["gates"][slot]
        xp.matmul(h, w_t, out=a)
        tape["c"][slot] = c
        return list(kernels.lstm_step(a, p_t, c, tape["tanh_c"][slot]))

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        dh, dc = dstates
        return [None, kernels.lstm_step_back(dh, dc, tape["gates"][t], tape["tanh_c"][t], tape["c"][t], dgh)]

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        h, c = states
        H = h.shape[-1]
        gates = p_t + gh
        i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H])
        g, o = tanh(gates[:, 2 * H:3 * H]), sigmoid(gates[:, 3 * H:])
        c_new = f * c + i * g
        return [o * tanh(c_new), c_new]


class _GruCell:
    """``r, z, n`` gates (PyTorch's): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1-z)*n + z*h``.

    Inputs: ``(x, w_ih, w_hh, b_ih, b_hh, h0)``. ``b_hh`` is not folded into the
    projection because its ``n`` third acts inside the product with ``r``.
    """

    gates = 3
    n_states = 1
    n_biases = 2
    dx_is_dgh = False

    @staticmethod
    def allocate(take, steps, B, H, dtype):
        return {"gates": take((steps, 3, B, H), dtype), "gh_n": take((steps, B, H), dtype)}

    @staticmethod
    def step(xp, tape, slot, p_t, states, w_t, b_hh, params):
        (h,) = states
        gh = xp.matmul(h, w_t)
        return [kernels.gru_step(tape["gates"][slot], p_t, gh, b_hh, h, tape["gh_n"][slot])]

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        (dh,) = dstates
        return [kernels.gru_step_back(dh, tape["gates"][t], tape["gh_n"][t], h_prev, dx, dgh)]

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        (h,) = states
        H = h.shape[-1]
        gh = gh + b_hh
        r = sigmoid(p_t[:, :H] + gh[:, :H])
        z = sigmoid(p_t[:, H:2 * H] + gh[:, H:2 * H])
        n = tanh(p_t[:, 2 * H:] + r * gh[:, 2 * H:])
        return [n + z * (h - n)]


class _RnnCell:
    """Elman RNN: ``h' = tanh(x W_ih.T + bias + h W_hh.T)`` (or relu). Inputs ``(x, w_ih, w_hh, bias, h0)``."""

    gates = 1
    n_states = 1
    n_biases = 1
    dx_is_dgh = True

    @staticmethod
    def allocate(take, steps, B, H, dtype):
        return {"gates": take((steps, 1, B, H), dtype)}

    @staticmethod
    def step(xp, tape, slot, p_t, states, w_t, b_hh, params):
        a = tape["gates"][slot]
        xp.matmul(states[0], w_t, out=a)
        return [kernels.rnn_step(a, p_t, params["nonlinearity"])]

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        kernels.rnn_step_back(dstates[0], tape["gates"][t][0], dgh[0], params["nonlinearity"])
        return [None]

    @staticmethod
    def reference(p_t, gh, states, b_hh, params):
        pre = p_t + gh
        return [tanh(pre) if params["nonlinearity"] == "tanh" else relu(pre)]


# ------------------------------------------------------------------ the loops
def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _split(cell, inputs):
    """``(x, w_ih, w_hh, biases, states)`` from the primitive's flat inputs."""
    x, w_ih, w_hh = inputs[:3]
    biases = inputs[3:3 + cell.n_biases]
    return x, w_ih, w_hh, biases, inputs[3 + cell.n_biases:]


def _rows(x, batch_first, xp):
    """The input as a time-major ``(T*B, I)`` matrix, and whether it is a (pooled) copy."""
    xs = x.swapaxes(0, 1) if batch_first else x
    T, B, width = xs.shape
    if xs.flags.c_contiguous:
        return xs.reshape(T * B, width), T, B, False
    rows = _POOL.take(xp, (T * B, width), x.dtype)
    rows.reshape(T, B, width)[...] = xs
    return rows, T, B, True


def _time_major_tokens(lookup, batch_first):
    """The looked-up indices of a folded embedding, time-major: ``(T, B)``."""
    return lookup[0].T if batch_first else lookup[0]


def _layer_forward(cell, ctx, inputs, mask, reverse, batch_first, params, lookup):
    x, w_ih, w_hh, biases, states = _split(cell, inputs)
    xp = array_module(x)
    G, H = cell.gates, w_hh.shape[1]
    dtype = x.dtype
    w_gates = w_ih.reshape(G, H, -1).transpose(0, 2, 1)

    def take(shape, dtype):
        return _POOL.take(xp, shape, dtype)

    # The projection of every step, gate-major: step t reads the (G, B, H) block step_input(t).
    if lookup is None:
        X, T, B, copied = _rows(x, batch_first, xp)
        proj = take((G, T * B, H), dtype)
        xp.matmul(X, w_gates, out=proj)  # one batched GEMM
        proj += biases[0].reshape(G, 1, H)
        p_steps = proj.reshape(G, T, B, H)
        scratch = (proj,)

        def step_input(t):
            return p_steps[:, t]
    else:
        # x is the embedding table: project its V rows; each step gathers its B rows
        # (cheaper than gathering all T*B rows into one 8 MB array first, then reading it).
        token_steps = _time_major_tokens(lookup, batch_first)
        T, B = token_steps.shape
        table_proj = xp.matmul(x, w_gates)
        table_proj += biases[0].reshape(G, 1, H)
        X, copied, scratch = x, False, ()

        def step_input(t):
            return table_proj[:, token_steps[t]]
    b_hh = biases[1].reshape(G, 1, H) if cell.n_biases > 1 else None
    # Per-gate W_hh.T. A contiguous copy makes each step's GEMM a third faster but costs
    # about one GEMM itself, so a one- or two-step call (a cell) multiplies by the view.
    w_t = w_hh.reshape(G, H, H).transpose(0, 2, 1)
    if T > 2:
        w_t = xp.ascontiguousarray(w_t)
    keep = ctx is not None
    tape = cell.allocate(take, T if keep else 1, B, H, dtype)
    h_prev = take((T, B, H), dtype) if keep else None
    out = xp.empty((B, T, H) if batch_first else (T, B, H), dtype)
    outs = out.swapaxes(0, 1) if batch_first else out
    states = list(states)
    for t in _steps(T, reverse):
        if keep:
            h_prev[t] = states[0]
        new = cell.step(xp, tape, t if keep else 0, step_input(t), states, w_t, b_hh, params)
        if mask is None:
            outs[t] = new[0]
            states = new
        else:
            m = mask[t][:, None]
            outs[t] = xp.where(m, new[0], 0)
            states = [xp.where(m, s_new, s) for s_new, s in zip(new, states)]
    # Copies: a final state may alias a tape buffer or the initial state.
    finals = tuple(xp.array(s, copy=True) for s in states)
    _POOL.give(*scratch)
    if keep:
        tape["h_prev"] = h_prev
        if copied:
            tape["rows"] = X
        ctx.stash = _pooled_tape(tape)
        if not copied:
            ctx.stash["rows"] = X  # the caller's array: read by the backward, never pooled
    else:
        _POOL.give(*tape.values(), *((X,) if copied else ()))
    return (out,) + finals


def _backward_kernel(*arrays, cell, params, needs, n_grads, tape_keys):
    """:class:`LayerBackward`'s forward: output gradients, saved inputs and the forward's
    tape arrive as arrays; the wanted input gradients leave as arrays."""
    grads, tape_arrays = arrays[:n_grads], arrays[len(arrays) - len(tape_keys):]
    saved = arrays[n_grads:len(arrays) - len(tape_keys)]
    results = _layer_backward(cell, params, dict(zip(tape_keys, tape_arrays)), saved, needs, list(grads))
    wanted = tuple(r for r, need in zip(results, needs) if need)
    return wanted if len(wanted) > 1 else wanted[0]


def _layer_backward(cell, p, tape, saved, needs, grads):
    """BPTT in NumPy: gradients for ``(x, w_ih, w_hh, *biases, *states)`` as arrays (or None)."""
    params, mask, reverse, batch_first = p["params"], p["mask"], p["reverse"], p["batch_first"]
    lookup = p["lookup"]
    x, w_ih, w_hh, biases, _ = _split(cell, list(saved))
    xp = array_module(w_hh)
    G, H = cell.gates, w_hh.shape[1]
    g_out = grads[0].swapaxes(0, 1) if batch_first else grads[0]
    T, B = g_out.shape[0], g_out.shape[1]
    dstates = [xp.array(g, copy=True) for g in grads[1:]]
    dgh_all = _POOL.take(xp, (G, T, B, H), w_hh.dtype)
    dx_all = dgh_all if cell.dx_is_dgh else _POOL.take(xp, (G, T, B, H), w_hh.dtype)
    w_g = w_hh.reshape(G, H, H)
    h_prev = tape["h_prev"]
    for t in _steps(T, not reverse):
        if mask is None:
            dstates[0] = dstates[0] + g_out[t]
            carried = None
        else:
            m = mask[t][:, None]
            carried = [xp.where(m, 0, d) for d in dstates]
            dstates = [xp.where(m, d, 0) for d in dstates]
            dstates[0] += g_out[t] * m
        dgh = dgh_all[:, t]
        direct = cell.step_back(xp, tape, t, dstates, h_prev[t], dx_all[:, t], dgh, params)
        dh = xp.matmul(dgh, w_g).sum(axis=0) if G > 1 else dgh[0] @ w_g[0]
        if direct[0] is not None:
            dh += direct[0]
        dstates = [dh] + direct[1:]
        if carried is not None:
            dstates = [d + c for d, c in zip(dstates, carried)]
    dgh_rows = dgh_all.reshape(G, T * B, H)
    # The projection's rows and their gradients: one per step, or one per table row
    # when an embedding lookup was folded in (steps that read the same row sum their
    # gradients; a one-hot GEMM does that faster than sorting or add.at).
    rows, d_rows = tape["rows"], dx_all.reshape(G, T * B, H)
    if lookup is not None:
        tokens = _time_major_tokens(lookup, batch_first).reshape(-1)
        one_hot = (xp.arange(x.shape[0])[:, None] == tokens[None, :]).astype(w_hh.dtype)
        d_rows = xp.matmul(one_hot, d_rows)
    g_x = g_w_ih = g_w_hh = None
    if needs[0]:
        per_gate = _POOL.take(xp, (G, rows.shape[0], w_ih.shape[1]), w_ih.dtype)
        xp.matmul(d_rows, w_ih.reshape(G, H, -1), out=per_gate)
        g_x = per_gate.sum(axis=0)
        _POOL.give(per_gate)
        if lookup is None:
            g_x = g_x.reshape(T, B, -1)
            g_x = g_x.swapaxes(0, 1) if batch_first else g_x
        elif lookup[1] is not None:
            g_x[lookup[1]] = 0  # the padding row of the table gets no gradient
    if needs[1]:
        g_w_ih = xp.matmul(d_rows.transpose(0, 2, 1), rows).reshape(G * H, -1)
    if needs[2]:
        g_w_hh = xp.matmul(dgh_rows.transpose(0, 2, 1), h_prev.reshape(T * B, H)).reshape(G * H, H)
    g_biases = [d_rows.sum(axis=1).reshape(G * H) if needs[3] else None]
    if cell.n_biases > 1:
        g_biases.append(dgh_rows.sum(axis=1).reshape(G * H) if needs[4] else None)
    _POOL.give(dgh_all, *(() if cell.dx_is_dgh else (dx_all,)))
    return [g_x, g_w_ih, g_w_hh] + g_biases + dstates


def reference_layer(cell, *inputs, mask, reverse, batch_first, params, lookup=None):
    """The layer written per step with Ember ops: what the fused rules are checked against.

    Its derivatives of every order come from the composed ops; the primitive's
    rules fall back to it for higher-order and forward-mode differentiation.
    With ``lookup``, the first input is an embedding table read at those indices.
    """
    from ..tensor import constant
    from .embedding import embedding
    from .linear import linear

    x, w_ih, w_hh, biases, states = _split(cell, inputs)
    if lookup is not None:
        x = embedding(lookup[0], x, lookup[1])
    states = list(states)
    projected = linear(swapaxes(x, 0, 1) if batch_first else x, w_ih, biases[0])
    b_hh = biases[1] if cell.n_biases > 1 else None
    w_t = swapaxes(w_hh, 0, 1)
    T = projected.shape[0]
    outs = [None] * T
    for t in _steps(T, reverse):
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
        return _layer_forward(cls.cell, ctx, inputs, mask, reverse, batch_first, params, lookup)

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
        return _backward_kernel(*arrays, cell=cell, params=params, needs=needs, n_grads=n_grads,
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
