"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

Parameter names, shapes, gate order and initialisation follow ``torch.nn``
(``weight_ih_l0``, ``bias_hh_l1_reverse`` ...), so state dicts move between the
two unchanged. Each layer direction runs as one input-projection GEMM plus one
fused scan primitive (see :mod:`ember.ops.recurrent`).

Example:
    >>> import ember, ember.nn as nn
    >>> lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    >>> out, (h, c) = lstm(ember.randn(3, 5, 10), lengths=[5, 2, 4])
    >>> out.shape, h.shape
    ((3, 5, 40), (4, 3, 20))
"""
from __future__ import annotations

import math
import warnings

from ...backend import array_module
from ...creation import empty
from ...functional import recurrent as FR
from ...functional.dropout import dropout as dropout_fn
from ...ops.checks import float_operand
from ...ops.movement import concat, squeeze, stack, unsqueeze
from ...tensor import Tensor, as_tensor, constant
from .. import init
from ..module import Module, Parameter
from ..utils.rnn import PackedSequence, pack_like, pad_packed_sequence

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _uniform_init(module: Module, hidden_size: int) -> None:
    # PyTorch draws every recurrent weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU` (not used directly).

    Args:
        mode: ``'LSTM'``, ``'GRU'``, ``'RNN_TANH'`` or ``'RNN_RELU'``.
        input_size: features per step of the input.
        hidden_size: features of the hidden state.
        num_layers: stacked layers; layer ``k > 0`` reads layer ``k - 1``'s outputs.
        bias: learn ``bias_ih`` and ``bias_hh``.
        batch_first: inputs and outputs are ``(B, T, F)`` instead of ``(T, B, F)``
            (states stay ``(layers * directions, B, H)``, as in PyTorch).
        dropout: dropout probability on the outputs of every layer but the last (training only).
        bidirectional: add a second direction reading the sequence backwards; outputs concatenate both.
        proj_size: PyTorch's LSTM projections; only 0 (none) is supported.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype (default: the default float dtype, float32).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
        if int(hidden_size) <= 0 or int(input_size) < 0:
            raise ValueError(f"{name}: hidden_size must be positive and input_size non-negative, "
                             f"got {hidden_size} and {input_size}")
        if int(num_layers) < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name}: dropout must lie in [0, 1], got {dropout}")
        if int(proj_size) != 0:
            raise NotImplementedError(
                f"{name}: proj_size={proj_size} (LSTM output projections) is not supported; Ember's recurrent "
                "layers have proj_size=0 (project the outputs with an nn.Linear instead)"
            )
        if float(dropout) > 0 and int(num_layers) == 1:
            warnings.warn(f"{name}: dropout={dropout} has no effect with num_layers=1 (dropout is applied "
                          "between stacked layers only), as in PyTorch", UserWarning, stacklevel=3)
        device = "cpu" if device is None else str(device)
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        gates = _GATES[mode] * self.hidden_size
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in self._suffixes():
                tag = f"l{layer}{suffix}"
                self.register_parameter(f"weight_ih_{tag}", Parameter(empty(gates, width, dtype=dtype, device=device)))
                self.register_parameter(f"weight_hh_{tag}",
                                        Parameter(empty(gates, self.hidden_size, dtype=dtype, device=device)))
                if self.bias:
                    self.register_parameter(f"bias_ih_{tag}", Parameter(empty(gates, dtype=dtype, device=device)))
                    self.register_parameter(f"bias_hh_{tag}", Parameter(empty(gates, dtype=dtype, device=device)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """Redraw every weight and bias from ``U(-1/sqrt(H), 1/sqrt(H))`` (PyTorch's default)."""
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Do nothing: kept so that PyTorch code calling it runs unchanged.

        In PyTorch it copies the weights into one contiguous cuDNN buffer. Ember's fused scan
        reads each layer's ``weight_ih``/``weight_hh`` directly, so there is nothing to compact.
        """

    def _weights(self, layer: int, suffix: str):
        tag = f"l{layer}{suffix}"
        p = self._parameters
        return p[f"weight_ih_{tag}"], p[f"weight_hh_{tag}"], p.get(f"bias_ih_{tag}"), p.get(f"bias_hh_{tag}")

    # ------------------------------------------------------------ input checks
    def _check_input(self, x: Tensor) -> tuple[Tensor, bool]:
        name = type(self).__name__
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 3-D input {layout} or a 2-D unbatched input (time, features), "
                             f"got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input with last dimension {self.input_size}, got shape {x.shape}")
        param = self._parameters["weight_ih_l0"]
        if x.dtype != param.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} differs from the parameters' dtype {param.dtype}; "
                            f"convert the input with .astype('{param.dtype}') or the layer with .to('{x.dtype}')")
        batched = x.ndim == 3
        if not batched:
            x = unsqueeze(x, 0 if self.batch_first else 1)
        return x, batched

    def _states(self, hx, batch: int, batched: bool, x: Tensor) -> list:
        """Initial states as a list (one entry per state kind) of ``(L*D, B, H)`` tensors."""
        name = type(self).__name__
        kinds = ("h0", "c0") if self.mode == "LSTM" else ("h0",)
        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            xp = array_module(x._data)
            return [constant(xp.zeros(expected, dtype=x.dtype)) for _ in kinds]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: expected hx to be a tuple (h0, c0), got {type(hx).__name__}")
            states = [as_tensor(s) for s in hx]
        else:
            states = [as_tensor(hx)]
        shown = expected if batched else (expected[0], expected[2])
        for kind, state in zip(kinds, states):
            if state.shape != shown:
                raise ValueError(f"{name}: expected {kind} of shape {shown}, got shape {state.shape}")
            if state.dtype != x.dtype:
                raise TypeError(f"{name}: {kind} dtype {state.dtype} differs from the input dtype {x.dtype}")
        return states if batched else [unsqueeze(s, 1) for s in states]

    def _mask(self, lengths, mask, T: int, B: int):
        """The valid-step mask in the input's layout (or None when every step is valid)."""
        name = type(self).__name__
        if lengths is not None and mask is not None:
            raise ValueError(f"{name}: pass either lengths or mask, not both")
        if lengths is not None:
            lengths = as_tensor(lengths)
            if lengths.shape != (B,):
                raise ValueError(f"{name}: expected lengths of shape ({B},) (one per sequence), "
                                 f"got shape {lengths.shape}")
            if lengths.numel() and (int(lengths._data.min()) < 0 or int(lengths._data.max()) > T):
                raise ValueError(f"{name}: lengths must lie in [0, {T}] (the number of steps), got "
                                 f"[{int(lengths._data.min())}, {int(lengths._data.max())}]")
            return FR.sequence_mask(lengths, T, batch_first=self.batch_first)
        if mask is not None:
            expected = (B, T) if self.batch_first else (T, B)
            mask = as_tensor(mask)
            if mask.shape != expected:
                layout = "(batch, time)" if self.batch_first else "(time, batch)"
                raise ValueError(f"{name}: expected mask of shape {expected} {layout}, got shape {mask.shape}")
        return mask

    # ------------------------------------------------------------ forward
    def forward(self, input: Tensor | PackedSequence, hx=None, lengths=None, mask=None):
        """Run the stack over a sequence.

        Args:
            input: ``(T, B, I)`` (``(B, T, I)`` with ``batch_first``), ``(T, I)`` unbatched, or a
                :class:`~ember.nn.utils.rnn.PackedSequence` (then the output is one too, and
                ``hx`` and the final states are in the batch's original order, as in PyTorch).
            hx: initial state(s) of shape ``(num_layers * num_directions, B, H)``:
                a tensor (RNN, GRU) or a tuple ``(h0, c0)`` (LSTM); zeros when None.
            lengths: optional ``(B,)`` integers, the number of valid steps of each
                (right-padded) sequence.
            mask: alternatively a boolean ``(T, B)`` (``(B, T)`` with ``batch_first``)
                mask, true on valid steps.

        Returns:
            ``(output, h_n)`` for RNN and GRU, ``(output, (h_n, c_n))`` for LSTM. ``output``
            has last dimension ``num_directions * H`` and is zero at padded steps;
            the final states are those of each sequence's last valid step.
        """
        if isinstance(input, PackedSequence):
            if lengths is not None or mask is not None:
                raise ValueError(f"{type(self).__name__}: a PackedSequence carries its own lengths; "
                                 "do not pass lengths or mask with it")
            padded, seq_lengths = pad_packed_sequence(input, batch_first=self.batch_first)
            output, states = self.forward(padded, hx, lengths=seq_lengths)
            return pack_like(output, input, self.batch_first), states
        x = float_operand(type(self).__name__, input)
        x, batched = self._check_input(x)
        T, B = (x.shape[1], x.shape[0]) if self.batch_first else (x.shape[0], x.shape[1])
        states = self._states(hx, B, batched, x)
        step_mask = self._mask(lengths, mask, T, B)
        finals = [[] for _ in states]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.num_directions + direction
                initial = [s[index] for s in states]
                out, *final = self._run(layer_input, initial, self._weights(layer, suffix), step_mask,
                                        reverse=direction == 1)
                outputs.append(out)
                for store, value in zip(finals, final):
                    store.append(value)
            layer_input = outputs[0] if len(outputs) == 1 else concat(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = dropout_fn(layer_input, self.dropout, training=True)
        output = layer_input
        final_states = [stack(f, axis=0) for f in finals]
        if not batched:
            output = squeeze(output, 0 if self.batch_first else 1)
            final_states = [squeeze(f, 1) for f in final_states]
        if self.mode == "LSTM":
            return output, (final_states[0], final_states[1])
        return output, final_states[0]

    def _run(self, x, initial, weights, mask, reverse):
        w_ih, w_hh, b_ih, b_hh = weights
        kw = {"mask": mask, "reverse": reverse, "batch_first": self.batch_first}
        if self.mode == "LSTM":
            return FR.lstm_layer(x, initial[0], initial[1], w_ih, w_hh, b_ih, b_hh, **kw)
        if self.mode == "GRU":
            return FR.gru_layer(x, initial[0], w_ih, w_hh, b_ih, b_hh, **kw)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        return FR.rnn_layer(x, initial[0], w_ih, w_hh, b_ih, b_hh, nonlinearity, **kw)

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)


class RNN(RNNBase):
    """Elman RNN stack: ``h_t = act(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)``.

    Args:
        nonlinearity: ``'tanh'`` (default) or ``'relu'``; the other arguments as in :class:`RNNBase`.

    Example:
        >>> import ember, ember.nn as nn
        >>> rnn = nn.RNN(4, 8, nonlinearity="relu")
        >>> out, h = rnn(ember.randn(6, 2, 4))
        >>> out.shape, h.shape
        ((6, 2, 8), (1, 2, 8))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        return extra + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory stack (Hochreiter & Schmidhuber), PyTorch's gate order ``i, f, g, o``.

    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``. Returns ``(output, (h_n, c_n))``.

    Example:
        >>> import ember, ember.nn as nn
        >>> lstm = nn.LSTM(65, 256, batch_first=True)
        >>> out, (h, c) = lstm(ember.randn(32, 64, 65))
        >>> out.shape, c.shape
        ((32, 64, 256), (1, 32, 256))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit stack (Cho et al.), PyTorch's gate order ``r, z, n``.

    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Example:
        >>> import ember, ember.nn as nn
        >>> gru = nn.GRU(3, 5, num_layers=2)
        >>> out, h = gru(ember.randn(4, 2, 3))
        >>> h.shape
        (2, 2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# ------------------------------------------------------------------ cells
class RNNCellBase(Module):
    """Parameters and checks shared by the one-step cells (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        device = "cpu" if device is None else str(device)
        name = type(self).__name__
        if int(hidden_size) <= 0 or int(input_size) < 0:
            raise ValueError(f"{name}: hidden_size must be positive and input_size non-negative, "
                             f"got {hidden_size} and {input_size}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        rows = gates * self.hidden_size
        self.weight_ih = Parameter(empty(rows, self.input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(rows, self.hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw from ``U(-1/sqrt(H), 1/sqrt(H))`` (PyTorch's default)."""
        _uniform_init(self, self.hidden_size)

    def _check(self, x: Tensor, states: tuple, kinds: tuple):
        """Validate a ``(B, I)`` or unbatched ``(I,)`` input and its states; returns batched versions."""
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or ({self.input_size},), "
                             f"got shape {x.shape}")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} differs from the parameters' dtype {self.weight_ih.dtype}")
        batched = x.ndim == 2
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        checked = []
        for kind, state in zip(kinds, states):
            if state is not None:
                state = as_tensor(state)
                if state.shape != expected:
                    raise ValueError(f"{name}: expected {kind} of shape {expected}, got shape {state.shape}")
                if not batched:
                    state = unsqueeze(state, 0)
            checked.append(state)
        return (x if batched else unsqueeze(x, 0)), checked, batched

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


def _unbatch(t: Tensor, batched: bool) -> Tensor:
    return t if batched else squeeze(t, 0)


class RNNCell(RNNCellBase):
    """One Elman step ``h' = act(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> cell = nn.RNNCell(3, 5)
        >>> cell(ember.randn(2, 3)).shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x = float_operand("RNNCell", input)
        x, (h,), batched = self._check(x, (hx,), ("hx",))
        h = FR.rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)
        return _unbatch(h, batched)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx`` is a tuple ``(h, c)``; returns ``(h', c')``.

    Example:
        >>> import ember, ember.nn as nn
        >>> cell = nn.LSTMCell(3, 5)
        >>> h, c = cell(ember.randn(2, 3))
        >>> h, c = cell(ember.randn(2, 3), (h, c))
        >>> c.shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        x = float_operand("LSTMCell", input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: expected hx to be a tuple (h, c), got {type(hx).__name__}")
        x, (h, c), batched = self._check(x, tuple(hx) if hx is not None else (None, None), ("h", "c"))
        h, c = FR.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return _unbatch(h, batched), _unbatch(c, batched)


class GRUCell(RNNCellBase):
    """One GRU step; returns ``h'``.

    Example:
        >>> import ember, ember.nn as nn
        >>> cell = nn.GRUCell(3, 5)
        >>> cell(ember.randn(3)).shape
        (5,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x = float_operand("GRUCell", input)
        x, (h,), batched = self._check(x, (hx,), ("hx",))
        h = FR.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return _unbatch(h, batched)
