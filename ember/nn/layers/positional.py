"""Positional encodings: fixed sinusoids (Vaswani et al.) and learned position embeddings (GPT's).

Attention is blind to order; these layers add a position-dependent vector to
each step of a ``(T, B, E)`` (or ``(B, T, E)`` with ``batch_first``) input.

Example:
    >>> import ember, ember.nn as nn
    >>> pe = nn.SinusoidalPositionalEncoding(16, batch_first=True)
    >>> pe(ember.zeros(2, 5, 16)).shape
    (2, 5, 16)
"""
from __future__ import annotations

import math

from ...backend import default_dtype, module_for_device, numpy_module
from ...creation import empty
from ...functional.dropout import dropout as dropout_fn
from ...ops.checks import float_operand
from ...ops.movement import unsqueeze
from ...tensor import Tensor, constant
from .. import init
from ..module import Module, Parameter

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "sinusoidal_positions"]


def sinusoidal_positions(length: int, d_model: int, dtype=None, device: str = "cpu") -> Tensor:
    """The ``(length, d_model)`` table ``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(...)``.

    Example:
        >>> from ember.nn import sinusoidal_positions
        >>> sinusoidal_positions(2, 4).tolist()[0]
        [0.0, 1.0, 0.0, 1.0]
    """
    np = numpy_module()
    position = np.arange(length, dtype=np.float64)[:, None]
    rates = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(position * rates)
    table[:, 1::2] = np.cos(position * rates[: d_model // 2])
    xp = module_for_device(device)
    return constant(xp.asarray(table.astype(dtype or default_dtype())))


class _Positional(Module):
    """Shared input handling: checks, the time axis, the offset, dropout."""

    def __init__(self, d_model: int, max_len: int, dropout: float, batch_first: bool) -> None:
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must lie in [0, 1], got {dropout}")
        self.d_model, self.max_len = int(d_model), int(max_len)
        self.dropout, self.batch_first = float(dropout), bool(batch_first)

    def _positions(self, x: Tensor, offset: int):
        """The time axis of ``x`` and the ``[offset, offset + T)`` slice of positions, checked."""
        name = type(self).__name__
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            layout = "(B, T, E)" if self.batch_first else "(T, B, E)"
            raise ValueError(f"{name}: expected input {layout} or (T, E) with E = {self.d_model}, "
                             f"got shape {x.shape}")
        axis = 1 if (self.batch_first and x.ndim == 3) else 0
        steps = x.shape[axis]
        if offset < 0 or offset + steps > self.max_len:
            raise ValueError(f"{name}: positions [{offset}, {offset + steps}) exceed max_len {self.max_len} "
                             f"(input of shape {x.shape})")
        return axis, slice(offset, offset + steps)

    def _add(self, x: Tensor, table: Tensor, axis: int) -> Tensor:
        # (T, E) broadcasts over a leading batch axis; for time-major input it needs a batch axis of 1.
        if x.ndim == 3 and axis == 0:
            table = unsqueeze(table, 1)
        out = x + table
        return dropout_fn(out, self.dropout, training=self.training) if self.dropout else out

    def extra_repr(self) -> str:
        extra = f"d_model={self.d_model}, max_len={self.max_len}"
        return extra + (f", dropout={self.dropout}" if self.dropout else "") + (
            ", batch_first=True" if self.batch_first else "")


class SinusoidalPositionalEncoding(_Positional):
    """Add the fixed sinusoidal table of "Attention is all you need" (then optional dropout).

    The table is a non-persistent buffer: it is not saved in ``state_dict``.

    Args:
        d_model: feature width ``E``.
        max_len: longest sequence supported.
        dropout: dropout probability after the addition (training only).
        batch_first: ``(B, T, E)`` instead of ``(T, B, E)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> pe = nn.SinusoidalPositionalEncoding(8, max_len=100)
        >>> pe(ember.zeros(3, 2, 8), offset=10).shape    # positions 10, 11, 12
        (3, 2, 8)
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 dtype=None, device: str = "cpu") -> None:
        super().__init__(d_model, max_len, dropout, batch_first)
        self.register_buffer("pe", sinusoidal_positions(self.max_len, self.d_model, dtype, device), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """``x + PE[offset : offset + T]``; ``offset`` serves step-by-step decoding."""
        x = float_operand(type(self).__name__, x)
        axis, positions = self._positions(x, offset)
        table = self.pe[positions]
        return self._add(x, table if table.dtype == x.dtype else table.astype(x.dtype), axis)


class LearnedPositionalEmbedding(_Positional):
    """Add a learned vector per position (GPT-2's ``wpe``), drawn from ``N(0, 0.02^2)``.

    Args:
        max_len: number of positions (the context length).
        d_model: feature width ``E``.
        dropout: dropout probability after the addition (training only).
        batch_first: ``(B, T, E)`` instead of ``(T, B, E)``.

    Attributes:
        weight: ``(max_len, d_model)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> wpe = nn.LearnedPositionalEmbedding(64, 16, batch_first=True)
        >>> wpe(ember.zeros(4, 10, 16)).shape
        (4, 10, 16)
    """

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.0, batch_first: bool = False, dtype=None,
                 device: str = "cpu") -> None:
        super().__init__(d_model, max_len, dropout, batch_first)
        self.weight = Parameter(empty(self.max_len, self.d_model, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw from ``N(0, 0.02^2)``."""
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """``x + weight[offset : offset + T]``."""
        x = float_operand(type(self).__name__, x)
        axis, positions = self._positions(x, offset)
        return self._add(x, self.weight[positions], axis)
