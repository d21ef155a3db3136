"""The recurrent layers' loops: one direction of an RNN, LSTM or GRU layer over a sequence, and its BPTT.

The primitives of :mod:`ember.ops.recurrent` call :func:`layer_forward` and
:func:`backward_kernel`; this file is their array code (NumPy, or CuPy alike): the
input projection as one batched GEMM, then per step one gate-batched GEMM and the
pointwise kernels of :mod:`ember.kernels.recurrent`, in gate-major ``(G, T, B, H)``
buffers; the backward keeps every step's pre-activation gradients so that the
weight gradients are single GEMMs at the end. :class:`LstmLoop`, :class:`GruLoop`
and :class:`RnnLoop` say per cell how many gates and states there are and run one
step forward and back; ``ember.ops.recurrent`` adds each cell's reference step in
Ember ops. Large buffers come from :data:`POOL` (fresh pages cost page faults).
"""
from __future__ import annotations

import weakref

from ..backend import array_module
from .recurrent import (gru_step, gru_step_back, lstm_step, lstm_step_back, rnn_step,
                        rnn_step_back)


class ScratchPool:
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


POOL = ScratchPool()


class Tape(dict):
    """The arrays a layer's backward reads; they return to the pool when the tape is dropped."""


def pooled_tape(arrays: dict) -> Tape:
    tape = Tape(arrays)
    weakref.finalize(tape, POOL.give, *arrays.values())
    return tape


# ------------------------------------------------------------------ cells
class LstmLoop:
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
        return list(lstm_step(a, p_t, c, tape["tanh_c"][slot]))

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        dh, dc = dstates
        return [None, lstm_step_back(dh, dc, tape["gates"][t], tape["tanh_c"][t], tape["c"][t], dgh)]


class GruLoop:
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
        return [gru_step(tape["gates"][slot], p_t, gh, b_hh, h, tape["gh_n"][slot])]

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        (dh,) = dstates
        return [gru_step_back(dh, tape["gates"][t], tape["gh_n"][t], h_prev, dx, dgh)]


class RnnLoop:
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
        return [rnn_step(a, p_t, params["nonlinearity"])]

    @staticmethod
    def step_back(xp, tape, t, dstates, h_prev, dx, dgh, params):
        rnn_step_back(dstates[0], tape["gates"][t][0], dgh[0], params["nonlinearity"])
        return [None]


# ------------------------------------------------------------------ the loops
def steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def split_inputs(cell, inputs):
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
    rows = POOL.take(xp, (T * B, width), x.dtype)
    rows.reshape(T, B, width)[...] = xs
    return rows, T, B, True


def _time_major_tokens(lookup, batch_first):
    """The looked-up indices of a folded embedding, time-major: ``(T, B)``."""
    return lookup[0].T if batch_first else lookup[0]


def layer_forward(cell, keep: bool, inputs, mask, reverse, batch_first, params, lookup):
    """One layer direction over the whole sequence: ``(outputs, tape)``, the tape (what the backward reads)
    only when ``keep``. ``cell`` is a :class:`LstmLoop`, :class:`GruLoop` or :class:`RnnLoop` (or a subclass)."""
    x, w_ih, w_hh, biases, states = split_inputs(cell, inputs)
    xp = array_module(x)
    G, H = cell.gates, w_hh.shape[1]
    dtype = x.dtype
    w_gates = w_ih.reshape(G, H, -1).transpose(0, 2, 1)

    def take(shape, dtype):
        return POOL.take(xp, shape, dtype)

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
    tape = cell.allocate(take, T if keep else 1, B, H, dtype)
    h_prev = take((T, B, H), dtype) if keep else None
    out = xp.empty((B, T, H) if batch_first else (T, B, H), dtype)
    outs = out.swapaxes(0, 1) if batch_first else out
    states = list(states)
    for t in steps(T, reverse):
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
    POOL.give(*scratch)
    if keep:
        tape["h_prev"] = h_prev
        if copied:
            tape["rows"] = X
        kept = pooled_tape(tape)
        if not copied:
            kept["rows"] = X  # the caller's array: read by the backward, never pooled
        return (out,) + finals, kept
    POOL.give(*tape.values(), *((X,) if copied else ()))
    return (out,) + finals, None


def backward_kernel(*arrays, cell, params, needs, n_grads, tape_keys):
    """:class:`ember.ops.recurrent.LayerBackward`'s forward: output gradients, saved inputs and the
    forward's tape arrive as arrays; the wanted input gradients leave as arrays."""
    grads, tape_arrays = arrays[:n_grads], arrays[len(arrays) - len(tape_keys):]
    saved = arrays[n_grads:len(arrays) - len(tape_keys)]
    results = layer_backward(cell, params, dict(zip(tape_keys, tape_arrays)), saved, needs, list(grads))
    wanted = tuple(r for r, need in zip(results, needs) if need)
    return wanted if len(wanted) > 1 else wanted[0]


def layer_backward(cell, p, tape, saved, needs, grads):
    """BPTT in NumPy: gradients for ``(x, w_ih, w_hh, *biases, *states)`` as arrays (or None)."""
    params, mask, reverse, batch_first = p["params"], p["mask"], p["reverse"], p["batch_first"]
    lookup = p["lookup"]
    x, w_ih, w_hh, biases, _ = split_inputs(cell, list(saved))
    xp = array_module(w_hh)
    G, H = cell.gates, w_hh.shape[1]
    g_out = grads[0].swapaxes(0, 1) if batch_first else grads[0]
    T, B = g_out.shape[0], g_out.shape[1]
    dstates = [xp.array(g, copy=True) for g in grads[1:]]
    dgh_all = POOL.take(xp, (G, T, B, H), w_hh.dtype)
    dx_all = dgh_all if cell.dx_is_dgh else POOL.take(xp, (G, T, B, H), w_hh.dtype)
    w_g = w_hh.reshape(G, H, H)
    h_prev = tape["h_prev"]
    for t in steps(T, not reverse):
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
        per_gate = POOL.take(xp, (G, rows.shape[0], w_ih.shape[1]), w_ih.dtype)
        xp.matmul(d_rows, w_ih.reshape(G, H, -1), out=per_gate)
        g_x = per_gate.sum(axis=0)
        POOL.give(per_gate)
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
    POOL.give(dgh_all, *(() if cell.dx_is_dgh else (dx_all,)))
    return [g_x, g_w_ih, g_w_hh] + g_biases + dstates


__all__ = ["ScratchPool", "POOL", "Tape", "pooled_tape", "LstmLoop", "GruLoop", "RnnLoop", "steps",
           "split_inputs", "layer_forward", "backward_kernel", "layer_backward"]
