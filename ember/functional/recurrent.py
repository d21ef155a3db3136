"""Recurrent layer functions: one-step cells, one-direction layers, and sequence masks.

A layer function runs one direction of a layer as one fused primitive
(:mod:`ember.ops.recurrent`): the inputs of all steps are projected with one
GEMM, then the time loop and its backward run in NumPy. Weights use
PyTorch's layout and gate order (LSTM ``i, f, g, o``; GRU ``r, z, n``), so the
tensors of a ``torch.nn.LSTM`` state dict can be passed as they are.

Variable-length batches: pass ``lengths`` to the modules, or a boolean ``mask``
(true on valid steps) here. At a padded step the state is carried over
unchanged and the output is zero, so a right-padded sequence ends with the
state of its last real step, as with PyTorch's packed sequences.

An input that is an embedding lookup of a small table is folded into the
layer's input projection (see ``_embedding_source``): the same numbers from
fewer FLOPs.

Example:
    >>> import ember, ember.functional as F
    >>> x = ember.randn(7, 2, 3)                        # (time, batch, features)
    >>> w_ih, w_hh = ember.randn(16, 3), ember.randn(16, 4)
    >>> out, h, c = F.lstm_layer(x, ember.zeros(2, 4), ember.zeros(2, 4), w_ih, w_hh)
    >>> out.shape, h.shape
    ((7, 2, 4), (2, 4))
"""
from __future__ import annotations

from ..backend import array_module
from ..ops import recurrent as R
from ..ops.checks import float_operand
from ..ops.movement import reshape
from ..ops.nn import EmbeddingLookup
from ..tensor import Tensor, as_tensor, constant
from ..errors import ArgumentError

__all__ = ["lstm_layer", "gru_layer", "rnn_layer", "lstm_cell", "gru_cell", "rnn_cell", "sequence_mask"]


def sequence_mask(lengths, max_len: int | None = None, batch_first: bool = True) -> Tensor:
    """A boolean mask that is true on the first ``lengths[b]`` steps of each sequence.

    Args:
        lengths: 1-D integers, one per sequence.
        max_len: number of steps (default ``max(lengths)``).
        batch_first: return ``(B, T)`` (default) or ``(T, B)``.

    Example:
        >>> import ember.functional as F
        >>> F.sequence_mask([2, 1], 3).tolist()
        [[True, True, False], [True, False, False]]
    """
    lengths = as_tensor(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
        raise ArgumentError(f"sequence_mask: expected 1-D integer lengths, got "
                            f"{lengths.dtype} of shape {lengths.shape}")
    longest = int(lengths._data.max()) if lengths.numel() else 0
    max_len = longest if max_len is None else int(max_len)
    if lengths.numel() and (int(lengths._data.min()) < 0 or longest > max_len):
        raise ArgumentError(f"sequence_mask: lengths must lie in [0, {max_len}], got "
                            f"[{int(lengths._data.min())}, {longest}]")
    from ..creation import arange

    # Built from Ember ops, so that ember.compile replays it for new lengths.
    mask = arange(max_len, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)
    return mask if batch_first else mask.t().contiguous()


def _time_mask(name: str, mask, T: int, B: int, batch_first: bool):
    """The mask as a ``(T, B)`` boolean array, after checking its shape against the input's."""
    if mask is None:
        return None
    mask = as_tensor(mask)
    expected = (B, T) if batch_first else (T, B)
    layout = "(batch, time)" if batch_first else "(time, batch)"
    if mask.shape != expected:
        raise ArgumentError(f"{name}: expected mask of shape {expected} {layout}, got shape {mask.shape}")
    data = mask._data if mask.dtype.kind == "b" else mask._data != 0
    return data.T if batch_first else data


def _check_sequence(name: str, x: Tensor, w_ih: Tensor) -> tuple[int, int]:
    if x.ndim != 3:
        raise ArgumentError(f"{name}: expected a 3-D input (time, batch, features) or (batch, time, features), "
                            f"got shape {x.shape}")
    if x.shape[-1] != w_ih.shape[1]:
        raise ArgumentError(f"{name}: expected input with last dimension {w_ih.shape[1]}, got shape {x.shape}")
    if x.dtype != w_ih.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} differs from the weights' dtype {w_ih.dtype}")
    return x.shape[0], x.shape[1]


def _check_state(name: str, what: str, state: Tensor, expected: tuple) -> None:
    if tuple(state.shape) != tuple(expected):
        raise ArgumentError(f"{name}: expected {what} of shape {tuple(expected)}, got shape {state.shape}")


def _check_weights(name: str, w_ih: Tensor, w_hh: Tensor, gates: int) -> int:
    H = w_hh.shape[-1] if w_hh.ndim == 2 else -1
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * H or w_ih.ndim != 2 or w_ih.shape[0] != gates * H:
        raise ArgumentError(f"{name}: expected weight_ih of shape ({gates}*H, I) and "
                            f"weight_hh of shape ({gates}*H, H), "
                            f"got {w_ih.shape} and {w_hh.shape}")
    return H


def _bias(b_ih, b_hh, x: Tensor, rows: int, fold: bool):
    """The bias inputs of a layer primitive: ``[b_ih + b_hh]`` (LSTM, RNN) or ``[b_ih, b_hh]`` (GRU).

    A missing bias becomes a zero constant, which keeps one code path in the primitive.
    """
    zeros = None
    if b_ih is None or b_hh is None:
        zeros = constant(array_module(x._data).zeros(rows, dtype=x.dtype))
    b_ih = zeros if b_ih is None else b_ih
    b_hh = zeros if b_hh is None else b_hh
    if not fold:
        return [b_ih, b_hh]
    if b_ih is zeros:
        return [b_hh]
    return [b_ih if b_hh is zeros else b_ih + b_hh]


def _zeros_state(x: Tensor, B: int, H: int):
    xp = array_module(x._data)
    return constant(xp.zeros((B, H), dtype=x.dtype))


def _layer_inputs(name, x, h0, w_ih, w_hh, gates, mask, batch_first):
    x = float_operand(name, x)
    H = _check_weights(name, w_ih, w_hh, gates)
    T, B = _check_sequence(name, x, w_ih)
    if batch_first:
        T, B = B, T
    if h0 is None:
        h0 = _zeros_state(x, B, H)
    else:
        _check_state(name, "h0", h0, (B, H))
    return x, h0, H, B, _time_mask(name, mask, T, B, batch_first)


def _embedding_source(x: Tensor) -> dict:
    """``{"x": table, "lookup": (indices, padding_idx)}`` when ``x`` is an embedding lookup worth folding.

    An input made by ``embedding(indices, table)`` is projected as ``(table @ w_ih.T)[indices]``
    instead of ``table[indices] @ w_ih.T``: the same numbers (up to rounding) from ``V``
    table rows instead of ``T*B`` steps, and the table's gradient comes straight from the
    layer. On the char-LSTM (65 symbols, 2,048 steps) this removes three GEMMs of a
    2,048-row matrix from every training step. It applies only when nothing else can tell:
    the lookup's output is untouched (no in-place change, no hook or retained gradient;
    anything else that reads it still receives its gradient through the lookup), the
    table is a leaf, and it has at most half as many rows as there are steps.
    Otherwise ``{"x": x}``.
    """
    node = x.node
    if node is None or node.fn is not EmbeddingLookup or x._version or node.out_hooks:
        return {"x": x}
    table = node.edges[0]
    if not isinstance(table, Tensor) or 2 * table.shape[0] > x.shape[0] * x.shape[1]:
        return {"x": x}
    return {"x": table, "lookup": (node.params["indices"], node.params["padding_idx"])}


def lstm_layer(x: Tensor, h0: Tensor | None, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor | None = None, b_hh: Tensor | None = None, mask=None, reverse: bool = False,
               batch_first: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """One direction of one LSTM layer over a whole sequence.

    Args:
        x: ``(T, B, I)``, or ``(B, T, I)`` with ``batch_first``.
        h0, c0: ``(B, H)`` initial states (None for zeros).
        w_ih, w_hh: ``(4H, I)`` and ``(4H, H)``, gates ordered ``i, f, g, o``.
        b_ih, b_hh: ``(4H,)`` biases or None.
        mask: optional boolean mask in the input's layout (``(T, B)`` or ``(B, T)``), true on valid steps.
        reverse: run from the last step to the first (the backward half of a bidirectional layer).
        batch_first: layout of ``x``, ``mask`` and the output.

    Returns:
        ``(outputs, h_T, c_T)``: outputs in the input's layout with last dimension ``H``.

    Example:
        >>> import ember, ember.functional as F
        >>> out, h, c = F.lstm_layer(ember.randn(2, 5, 3), None, None, ember.randn(8, 3), ember.randn(8, 2),
        ...                          batch_first=True)
        >>> out.shape
        (2, 5, 2)
    """
    x, h0, H, B, mask = _layer_inputs("lstm_layer", x, h0, w_ih, w_hh, 4, mask, batch_first)
    if c0 is None:
        c0 = _zeros_state(x, B, H)
    else:
        _check_state("lstm_layer", "c0", c0, (B, H))
    (bias,) = _bias(b_ih, b_hh, x, 4 * H, fold=True)
    return R.lstm_scan(w_ih=w_ih, w_hh=w_hh, bias=bias, h0=h0, c0=c0, mask=mask, reverse=reverse,
                       batch_first=batch_first, **_embedding_source(x))


def gru_layer(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, mask=None, reverse: bool = False,
              batch_first: bool = False) -> tuple[Tensor, Tensor]:
    """One direction of one GRU layer (gates ``r, z, n``); returns ``(outputs, h_T)``.

    Arguments as in :func:`lstm_layer`, with ``3H`` rows instead of ``4H``.

    Example:
        >>> import ember, ember.functional as F
        >>> out, h = F.gru_layer(ember.randn(5, 2, 3), None, ember.randn(6, 3), ember.randn(6, 2))
        >>> h.shape
        (2, 2)
    """
    x, h0, H, B, mask = _layer_inputs("gru_layer", x, h0, w_ih, w_hh, 3, mask, batch_first)
    b_ih, b_hh = _bias(b_ih, b_hh, x, 3 * H, fold=False)
    return R.gru_scan(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, h0=h0, mask=mask, reverse=reverse,
                      batch_first=batch_first, **_embedding_source(x))


def rnn_layer(x: Tensor, h0: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, nonlinearity: str = "tanh", mask=None, reverse: bool = False,
              batch_first: bool = False) -> tuple[Tensor, Tensor]:
    """One direction of one Elman RNN layer (``tanh`` or ``relu``); returns ``(outputs, h_T)``.

    Example:
        >>> import ember, ember.functional as F
        >>> out, h = F.rnn_layer(ember.randn(5, 2, 3), None, ember.randn(4, 3), ember.randn(4, 4),
        ...                      nonlinearity="relu")
        >>> out.shape
        (5, 2, 4)
    """
    x, h0, H, B, mask = _layer_inputs("rnn_layer", x, h0, w_ih, w_hh, 1, mask, batch_first)
    (bias,) = _bias(b_ih, b_hh, x, H, fold=True)
    return R.rnn_scan(w_ih=w_ih, w_hh=w_hh, bias=bias, h0=h0, nonlinearity=nonlinearity, mask=mask,
                      reverse=reverse, batch_first=batch_first, **_embedding_source(x))


# ------------------------------------------------------------------ single steps
def _cell_inputs(name, x, h, w_ih, w_hh, gates):
    x = float_operand(name, x)
    H = _check_weights(name, w_ih, w_hh, gates)
    if x.ndim != 2 or x.shape[1] != w_ih.shape[1]:
        raise ArgumentError(f"{name}: expected input of shape (batch, {w_ih.shape[1]}), got shape {x.shape}")
    if x.dtype != w_ih.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} differs from the weights' dtype {w_ih.dtype}")
    B = x.shape[0]
    if h is None:
        h = _zeros_state(x, B, H)
    else:
        _check_state(name, "hx", h, (B, H))
    return x, h, H, B


def _one_step(x):
    return reshape(x, (1,) + x.shape)


def lstm_cell(x: Tensor, h: Tensor | None, c: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step on a ``(B, I)`` input; returns ``(h', c')``.

    The step is the fused layer primitive over one time step: the gate arithmetic
    and its backward run in a handful of NumPy calls rather than a dozen recorded ops.

    Example:
        >>> import ember, ember.functional as F
        >>> h, c = F.lstm_cell(ember.randn(2, 3), None, None, ember.randn(8, 3), ember.randn(8, 2))
        >>> h.shape, c.shape
        ((2, 2), (2, 2))
    """
    x, h, H, B = _cell_inputs("lstm_cell", x, h, w_ih, w_hh, 4)
    if c is None:
        c = _zeros_state(x, B, H)
    else:
        _check_state("lstm_cell", "cx", c, (B, H))
    (bias,) = _bias(b_ih, b_hh, x, 4 * H, fold=True)
    _, h_new, c_new = R.lstm_scan(_one_step(x), w_ih, w_hh, bias, h, c)
    return h_new, c_new


def gru_cell(x: Tensor, h: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step on a ``(B, I)`` input; returns ``h'``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.gru_cell(ember.randn(2, 3), None, ember.randn(6, 3), ember.randn(6, 2)).shape
        (2, 2)
    """
    x, h, H, B = _cell_inputs("gru_cell", x, h, w_ih, w_hh, 3)
    b_ih, b_hh = _bias(b_ih, b_hh, x, 3 * H, fold=False)
    return R.gru_scan(_one_step(x), w_ih, w_hh, b_ih, b_hh, h)[1]


def rnn_cell(x: Tensor, h: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """One Elman RNN step ``act(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)``; returns ``h'``.

    Example:
        >>> import ember, ember.functional as F
        >>> F.rnn_cell(ember.randn(2, 3), None, ember.randn(4, 3), ember.randn(4, 4)).shape
        (2, 4)
    """
    x, h, H, B = _cell_inputs("rnn_cell", x, h, w_ih, w_hh, 1)
    (bias,) = _bias(b_ih, b_hh, x, H, fold=True)
    return R.rnn_scan(_one_step(x), w_ih, w_hh, bias, h, nonlinearity)[1]
