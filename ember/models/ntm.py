"""Neural Turing Machine (Graves, Wayne & Danihelka 2014, arXiv:1410.5401) and an LSTM baseline.

An LSTM controller reads one input vector per step (with the previous read vector) and
emits, through one linear layer, the parameters of a read head and a write head over a
memory of ``memory_size`` rows of ``memory_width`` numbers. Each head finds its weighting
``w_t`` over the rows in four stages (section 3.3 of the paper)::

    w_c = softmax(beta * cosine(M_t[i], k))                   content, key strength beta > 0   (5, 6)
    w_g = g * w_c + (1 - g) * w_{t-1}                         interpolation gate g in (0, 1)   (7)
    w~(i) = sum_j w_g(j) s(i - j)                             circular shift over {-1, 0, +1}  (8)
    w(i) = w~(i)^gamma / sum_j w~(j)^gamma                    sharpening gamma >= 1            (9)

The read head returns ``r = sum_i w(i) M[i]`` (2); the write head erases then adds,
``M[i] <- M[i] (1 - w(i) e) + w(i) a`` (3, 4). The read happens before the write of the
same step. The output is a linear map of ``[h_t, r_t]`` (logits; apply ``sigmoid`` for bits).

Tricks from the reimplementations that make training converge (loudinthecloud/pytorch-ntm,
MarkPKCollier/NeuralTuringMachine): the memory starts as a small constant (1e-6, so the
first content look-up is uniform), the first read vector and the first weightings are
learned, the head parameters are clipped to +-20 before their activations, keys and add
vectors go through ``tanh``.

Example:
    >>> import ember
    >>> ntm = NTM(input_size=9, output_size=8, memory_size=16, memory_width=5, hidden=12)
    >>> logits = ntm(ember.zeros(2, 7, 9))
    >>> tuple(logits.shape)
    (2, 7, 8)
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.errors import ShapeError
from ember.tensor import Tensor

__all__ = ["cosine_similarity", "content_weighting", "interpolate", "circular_shift", "sharpen", "address",
           "read_memory", "write_memory", "NTM", "LSTMBaseline", "bit_errors", "sequence_loss"]

#: Head parameters are clipped to this magnitude before their activations (Collier's reimplementation).
HEAD_CLIP = 20.0


def cosine_similarity(memory: Tensor, keys: Tensor, eps: float = 1e-8) -> Tensor:
    """``K[b, h, i] = <M[b, i], k[b, h]> / (|M[b, i]| |k[b, h]| + eps)``: memory ``(B, N, W)``, keys ``(B, H, W)``.

    Returns ``(B, H, N)``, one similarity per head and row.

    Example:
        >>> import ember
        >>> m = ember.tensor([[[1.0, 0.0], [0.0, 2.0]]])
        >>> cosine_similarity(m, ember.tensor([[[3.0, 0.0]]])).numpy().round(4).tolist()
        [[[1.0, 0.0]]]
    """
    dot = ember.bmm(keys, memory.transpose(1, 2))
    row_norms = (memory * memory).sum(dim=2).sqrt().unsqueeze(1)   # (B, 1, N)
    key_norms = (keys * keys).sum(dim=2, keepdim=True).sqrt()       # (B, H, 1)
    return dot / (row_norms * key_norms + eps)


def content_weighting(memory: Tensor, keys: Tensor, beta: Tensor) -> Tensor:
    """Content addressing, eq. (5): ``softmax_i(beta * cosine(M[i], key))`` per head; ``beta`` is ``(B, H, 1)``."""
    return F.softmax(beta * cosine_similarity(memory, keys), dim=2)


def interpolate(content: Tensor, previous: Tensor, gate: Tensor) -> Tensor:
    """Interpolation, eq. (7): ``g * w_c + (1 - g) * w_{t-1}``; ``gate`` is ``(B, H, 1)`` in (0, 1)."""
    return gate * content + (1 - gate) * previous


def circular_shift(weighting: Tensor, shift: Tensor) -> Tensor:
    """Circular convolution, eq. (8), over the last dim; ``shift`` ``(..., 3)`` weighs the shifts -1, 0, +1.

    A shift of +1 moves the focus one row down (row ``i`` receives row ``i - 1``), wrapping around.

    Example:
        >>> import ember
        >>> w = ember.tensor([[[1.0, 0.0, 0.0, 0.0]]])
        >>> circular_shift(w, ember.tensor([[[0.0, 0.0, 1.0]]])).numpy().tolist()
        [[[0.0, 1.0, 0.0, 0.0]]]
    """
    down = ember.cat([weighting[..., -1:], weighting[..., :-1]], dim=-1)  # row i <- row i - 1
    up = ember.cat([weighting[..., 1:], weighting[..., :1]], dim=-1)      # row i <- row i + 1
    return shift[..., 0:1] * up + shift[..., 1:2] * weighting + shift[..., 2:3] * down


def sharpen(weighting: Tensor, gamma: Tensor, eps: float = 1e-16) -> Tensor:
    """Sharpening, eq. (9), over the last dim: ``w^gamma / sum w^gamma`` with ``gamma`` ``(..., 1)`` >= 1.

    The power is taken as ``exp(gamma * log(w + eps))`` so that a row weighted exactly 0
    (an underflowed softmax) has a finite gradient with respect to ``gamma``.
    """
    powered = ember.exp(gamma * ember.log(weighting + eps))
    return powered / powered.sum(dim=-1, keepdim=True)


def address(memory: Tensor, previous: Tensor, keys: Tensor, beta: Tensor, gate: Tensor, shift: Tensor,
            gamma: Tensor) -> Tensor:
    """The whole addressing pipeline of section 3.3 for ``H`` heads at once: content, interpolation, shift, sharpening.

    Args:
        memory: ``(B, N, W)``; previous: ``(B, H, N)`` the heads' last weightings; keys: ``(B, H, W)``;
        beta, gate, gamma: ``(B, H, 1)``; shift: ``(B, H, 3)`` (distributions over -1, 0, +1).

    Returns:
        the new weightings ``(B, H, N)``, each summing to 1 over the rows.
    """
    content = content_weighting(memory, keys, beta)
    return sharpen(circular_shift(interpolate(content, previous, gate), shift), gamma)


def read_memory(memory: Tensor, weighting: Tensor) -> Tensor:
    """Read vectors, eq. (2): ``r[b, h] = sum_i w[b, h, i] M[b, i]``; weighting ``(B, H, N)`` -> ``(B, H, W)``."""
    return ember.bmm(weighting, memory)


def write_memory(memory: Tensor, weighting: Tensor, erase: Tensor, add: Tensor) -> Tensor:
    """Erase then add, eqs. (3, 4): ``M[i] (1 - w(i) e) + w(i) a``.

    ``weighting`` is ``(B, N)``; ``erase`` (in (0, 1)) and ``add`` are ``(B, W)``.

    Example:
        >>> import ember
        >>> m = ember.ones(1, 2, 2)
        >>> w = ember.tensor([[1.0, 0.0]])
        >>> write_memory(m, w, ember.ones(1, 2), ember.tensor([[5.0, 6.0]])).numpy().tolist()
        [[[5.0, 6.0], [1.0, 1.0]]]
    """
    w = weighting.unsqueeze(2)
    return memory * (1 - w * erase.unsqueeze(1)) + w * add.unsqueeze(1)


def _check_inputs(who: str, inputs: Tensor, input_size: int) -> None:
    if inputs.dim() != 3 or inputs.shape[2] != input_size:
        raise ShapeError(f"{who}: expected inputs of shape (batch, steps, {input_size}), got {tuple(inputs.shape)}; "
                         f"the model was built for vectors of {input_size} channels (the bits plus the control "
                         f"channels of the task)")
    if inputs.shape[1] < 1:
        raise ShapeError(f"{who}: expected at least one step, got inputs of shape {tuple(inputs.shape)}")


class NTM(nn.Module):
    """Neural Turing Machine with one read head, one write head and an LSTM controller (module docstring).

    Args:
        input_size: channels of each input vector (9 for the copy task: 8 bits and a delimiter).
        output_size: channels of each output (8 bits for copy; 9 for repeat copy, with the end marker).
        memory_size: rows ``N`` of the memory (128 in the paper).
        memory_width: numbers ``W`` per row (20 in the paper).
        hidden: LSTM controller units (100 in the paper's copy experiment).
        max_steps: if set, :meth:`forward` refuses longer inputs (a copy of more than ``N``
            vectors cannot fit in memory; the paper tests up to 120 with ``N = 128``).

    ``forward(inputs)`` takes ``(B, T, input_size)`` and returns logits ``(B, T, output_size)``;
    with ``return_weightings=True`` it also returns the read and write weightings ``(B, T, N)``.

    Example:
        >>> import ember
        >>> ntm = NTM(9, 8, memory_size=8, memory_width=4, hidden=6)
        >>> logits, (reads, writes) = ntm(ember.zeros(1, 3, 9), return_weightings=True)
        >>> tuple(reads.shape), round(float(writes[0, 2].sum()), 4)
        ((1, 3, 8), 1.0)
    """

    def __init__(self, input_size: int, output_size: int, memory_size: int = 128, memory_width: int = 20,
                 hidden: int = 100, max_steps: int | None = None) -> None:
        super().__init__()
        self.input_size, self.output_size = input_size, output_size
        self.memory_size, self.memory_width, self.hidden, self.max_steps = memory_size, memory_width, hidden, max_steps
        self.controller = nn.LSTMCell(input_size + memory_width, hidden)
        # per head: key (W), beta, gate, 3 shift weights, gamma; then the write head's erase and add (2W)
        self.heads = nn.Linear(hidden, 2 * (memory_width + 6) + 2 * memory_width)
        self.output = nn.Linear(hidden + memory_width, output_size)
        # why: a constant start makes every row equally similar to any key, so the first content
        # weighting is uniform and the location head decides where writing starts (Collier et al. 2018)
        self.register_buffer("memory_init", ember.full((memory_size, memory_width), 1e-6))
        self.read_init = nn.Parameter(ember.randn(memory_width) * 0.01)
        # why random: from a uniform first weighting nothing can focus. Shifting or sharpening a uniform
        # weighting leaves it uniform, and uniform writes keep every row equal, so content look-ups stay
        # uniform too. A random start breaks that symmetry.
        self.weighting_init = nn.Parameter(ember.randn(2, memory_size))

    def forward(self, inputs: Tensor, return_weightings: bool = False):
        """Run the machine over ``inputs`` ``(B, T, input_size)``; logits ``(B, T, output_size)``."""
        _check_inputs("NTM", inputs, self.input_size)
        batch, steps = inputs.shape[0], inputs.shape[1]
        if self.max_steps is not None and steps > self.max_steps:
            raise ShapeError(f"NTM: inputs of {steps} steps exceed max_steps={self.max_steps} "
                             f"(memory of {self.memory_size} rows x {self.memory_width})")
        n, width = self.memory_size, self.memory_width
        memory = self.memory_init.unsqueeze(0).expand(batch, n, width)
        read = ember.tanh(self.read_init).unsqueeze(0).expand(batch, width)
        weightings = F.softmax(self.weighting_init, dim=1).unsqueeze(0).expand(batch, 2, n)  # (read, write) heads
        state = None
        logits, history = [], []
        for t in range(steps):
            h, c = self.controller(ember.cat([inputs[:, t], read], dim=1), state)
            state = (h, c)
            params = ember.clamp(self.heads(h), -HEAD_CLIP, HEAD_CLIP)
            # both heads address the memory as it was before this step's write, so they run as one batch
            heads = params[:, :2 * (width + 6)].reshape(batch, 2, width + 6)
            weightings = address(memory, weightings, keys=ember.tanh(heads[..., :width]),
                                 beta=F.softplus(heads[..., width:width + 1]),
                                 gate=ember.sigmoid(heads[..., width + 1:width + 2]),
                                 shift=F.softmax(heads[..., width + 2:width + 5], dim=2),
                                 gamma=1 + F.softplus(heads[..., width + 5:width + 6]))
            read = read_memory(memory, weightings[:, 0:1]).squeeze(1)
            erase_add = params[:, 2 * (width + 6):]
            memory = write_memory(memory, weightings[:, 1], ember.sigmoid(erase_add[:, :width]),
                                  ember.tanh(erase_add[:, width:]))
            logits.append(self.output(ember.cat([h, read], dim=1)))
            if return_weightings:
                history.append(weightings)
        out = ember.stack(logits, dim=1)
        if return_weightings:
            both = ember.stack(history, dim=1)  # (B, T, 2, N)
            return out, (both[:, :, 0], both[:, :, 1])
        return out


class LSTMBaseline(nn.Module):
    """The paper's LSTM baseline: stacked LSTM layers and a linear output (logits), batch first.

    Args:
        input_size, output_size: as for :class:`NTM`.
        hidden: units per layer (256 in the paper's copy baseline).
        layers: stacked layers (3 in the paper).

    Example:
        >>> import ember
        >>> tuple(LSTMBaseline(9, 8, hidden=16, layers=2)(ember.zeros(3, 5, 9)).shape)
        (3, 5, 8)
    """

    def __init__(self, input_size: int, output_size: int, hidden: int = 256, layers: int = 3) -> None:
        super().__init__()
        self.input_size, self.output_size = input_size, output_size
        self.lstm = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True)
        self.output = nn.Linear(hidden, output_size)

    def forward(self, inputs: Tensor) -> Tensor:
        """Logits ``(B, T, output_size)`` for ``inputs`` ``(B, T, input_size)``."""
        _check_inputs("LSTMBaseline", inputs, self.input_size)
        hidden, _ = self.lstm(inputs)
        return self.output(hidden)


def sequence_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Bitwise cross-entropy on the output phase: ``targets`` ``(B, T_out, C)`` are the last ``T_out`` steps.

    Mean over the batch of the per-sequence sum of bit losses (nats), as the paper's cost per sequence.
    """
    steps = targets.shape[1]
    out = logits[:, logits.shape[1] - steps:]
    return F.binary_cross_entropy_with_logits(out, targets, reduction="sum") / targets.shape[0]


def bit_errors(logits: Tensor, targets: Tensor) -> np.ndarray:
    """Wrong bits per sequence after thresholding ``sigmoid(logits)`` at 0.5 (logits > 0), on the output phase.

    Example:
        >>> import ember
        >>> bit_errors(ember.tensor([[[2.0, -1.0], [1.0, 1.0]]]), ember.tensor([[[1.0, 1.0]]])).tolist()
        [0]
    """
    steps = targets.shape[1]
    predicted = logits.numpy()[:, logits.shape[1] - steps:] > 0
    return (predicted != (targets.numpy() > 0.5)).reshape(targets.shape[0], -1).sum(axis=1)
