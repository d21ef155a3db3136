"""Neural Stack, Queue and DeQue and their LSTM controller (Grefenstette et al. 2015, arXiv:1506.02516).

The memory is a value matrix ``V`` (one row per push, never changed) and a strength vector
``s`` (how much of each row is still logically in the structure). Each step a controller
gives a pop strength ``u``, a push strength ``d`` and a value ``v``; the stack (equations 1-3)::

    s_t[i] = max(0, s_{t-1}[i] - max(0, u_t - sum_{j>i} s_{t-1}[j]))     i < t,   s_t[t] = d_t
    V_t    = V_{t-1} with v_t appended
    r_t    = sum_i min(s_t[i], max(0, 1 - sum_{j>i} s_t[j])) V_t[i]

The queue (equations 4-5) pops and reads from the other end (sums over ``j < i``); the
DeQue (equations 6-11) pops from the top then from the bottom, pushes ``v_bot`` below the
bottom and ``v_top`` above the top (``V`` and ``s`` grow by two rows a step) and reads both
ends. Rows are kept in push order, index 0 the bottom. These updates are plain Ember ops
(``cumsum``, ``relu``, ``minimum``, ``bmm``), so autograd gives their exact gradients; at a
tie ``min``/``max`` split the gradient between their arguments (PyTorch's rule) where the
paper takes the left one, which changes nothing off the measure-zero ties.

:class:`NeuralMemoryLSTM` is the paper's "Neural Stack/Queue/DeQue-enhanced LSTM"
(section 3.4): the input embedding, concatenated with the previous read(s), drives an
``LSTMCell`` whose output ``o'_t`` gives ``d_t = sigmoid(W_d o'_t + b_d)``,
``u_t = sigmoid(W_u o'_t + b_u)``, ``v_t = tanh(W_v o'_t + b_v)`` and
``o_t = tanh(W_o o'_t + b_o)``; a linear layer maps ``o_t`` to the target logits.
``h_0`` is a learned vector; ``c_0``, ``r_0`` and the memory start at zero.
:class:`DeepLSTM` is the benchmark (stacked ``nn.LSTM``, [Sutskever et al. 2014]).
The tasks and the coarse / fine accuracies live in :mod:`ember.data.transduction`.

Example:
    >>> import ember
    >>> values, strengths = ember.zeros(1, 0, 2), ember.zeros(1, 0)
    >>> push, no_pop = ember.tensor([[0.8]]), ember.tensor([[0.0]])
    >>> values, strengths, read = stack_step(values, strengths, ember.tensor([[1.0, 0.0]]), push, no_pop)
    >>> values, strengths, read = stack_step(values, strengths, ember.tensor([[0.0, 1.0]]), ember.tensor([[0.5]]),
    ...                                      ember.tensor([[0.1]]))
    >>> [round(x, 4) for x in strengths[0].tolist()], [round(x, 4) for x in read[0].tolist()]
    ([0.7, 0.5], [0.5, 0.5])
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.data.transduction import (
    IGNORE,
    TEST_LENGTHS,
    TRAIN_LENGTHS,
    TransductionBatch,
    coarse_fine_accuracy,
    input_vocab_size,
    make_transduction_batch,
    sample_lengths,
    target_vocab_size,
)
from ember.tensor import Tensor

__all__ = ["MEMORIES", "PAPER_TABLE", "PAPER_BASELINE_LAYERS", "pop_top", "pop_bottom", "read_top", "read_bottom",
           "stack_step", "queue_step", "deque_step", "NeuralMemoryLSTM", "DeepLSTM", "greedy_transduce",
           "transduction_loss", "train_transduction", "evaluate_transduction"]

#: The memories :class:`NeuralMemoryLSTM` can drive.
MEMORIES = ("stack", "queue", "deque")

#: Figure 2a of arXiv:1506.02516 (v3, "Comparing Enhanced LSTMs to Best Benchmarks"): task -> model ->
#: (training coarse, training fine, testing coarse, testing fine). "deep-lstm" is the best Deep LSTM
#: benchmark, whose depth is in :data:`PAPER_BASELINE_LAYERS`. Typed from a text conversion of the paper
#: (a markdown copy of the arXiv PDF); not re-checked against the PDF image itself.
PAPER_TABLE = {
    "copy": {"deep-lstm": (0.98, 0.98, 0.01, 0.50), "stack": (0.89, 0.94, 0.00, 0.22),
             "queue": (1.00, 1.00, 1.00, 1.00), "deque": (1.00, 1.00, 1.00, 1.00)},
    "reversal": {"deep-lstm": (0.95, 0.98, 0.04, 0.13), "stack": (1.00, 1.00, 1.00, 1.00),
                 "queue": (0.44, 0.61, 0.00, 0.01), "deque": (1.00, 1.00, 1.00, 1.00)},
    "bigram-flip": {"deep-lstm": (0.54, 0.93, 0.02, 0.52), "stack": (0.44, 0.90, 0.00, 0.48),
                    "queue": (0.55, 0.94, 0.55, 0.98), "deque": (0.55, 0.94, 0.53, 0.98)},
}
#: Layers of the best Deep LSTM benchmark per task in Figure 2a (4-, 8- and 2-layer LSTMs).
PAPER_BASELINE_LAYERS = {"copy": 4, "reversal": 8, "bigram-flip": 2}


def _sum_above(strengths: Tensor) -> Tensor:
    """``sum_{j > i} s[j]`` for every ``i`` (rows are in push order, the top last)."""
    return strengths.sum(dim=-1, keepdim=True) - ember.cumsum(strengths, dim=-1)


def _sum_below(strengths: Tensor) -> Tensor:
    """``sum_{j < i} s[j]`` for every ``i``."""
    return ember.cumsum(strengths, dim=-1) - strengths


def pop_top(strengths: Tensor, pop: Tensor) -> Tensor:
    """Remove ``pop`` ``(N, 1)`` of strength from the top of ``strengths`` ``(N, t)`` (equation 2, ``i < t``)."""
    return ember.relu(strengths - ember.relu(pop - _sum_above(strengths)))


def pop_bottom(strengths: Tensor, pop: Tensor) -> Tensor:
    """Remove ``pop`` ``(N, 1)`` of strength from the bottom (front) of ``strengths`` (equation 4)."""
    return ember.relu(strengths - ember.relu(pop - _sum_below(strengths)))


def _read(values: Tensor, weights: Tensor) -> Tensor:
    return ember.bmm(weights.unsqueeze(1), values).squeeze(1)


def read_top(values: Tensor, strengths: Tensor) -> Tensor:
    """The read ``(N, m)``: rows of ``values`` ``(N, t, m)`` weighted by the top unit of strength (equation 3)."""
    return _read(values, ember.minimum(strengths, ember.relu(1.0 - _sum_above(strengths))))


def read_bottom(values: Tensor, strengths: Tensor) -> Tensor:
    """The read from the bottom (front): the first unit of strength (equation 5)."""
    return _read(values, ember.minimum(strengths, ember.relu(1.0 - _sum_below(strengths))))


def stack_step(values: Tensor, strengths: Tensor, value: Tensor, push: Tensor,
               pop: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One neural-stack step (equations 1-3): pop ``pop``, push ``value`` with strength ``push``, read the top.

    Args:
        values: ``(N, t, m)`` the pushed values, in push order.
        strengths: ``(N, t)`` their strengths.
        value: ``(N, m)``; push, pop: ``(N, 1)`` in ``(0, 1)``.

    Returns:
        ``(values (N, t+1, m), strengths (N, t+1), read (N, m))``.
    """
    strengths = ember.cat([pop_top(strengths, pop), push], dim=1)
    values = ember.cat([values, value.unsqueeze(1)], dim=1)
    return values, strengths, read_top(values, strengths)


def queue_step(values: Tensor, strengths: Tensor, value: Tensor, push: Tensor,
               pop: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One neural-queue step (equations 4-5): pop from the front, push at the back, read the front.

    Arguments and results as :func:`stack_step`.

    Example:
        >>> import ember
        >>> v, s = ember.tensor([[[1.0], [2.0]]]), ember.tensor([[1.0, 1.0]])
        >>> _, s, read = queue_step(v, s, ember.tensor([[3.0]]), ember.tensor([[1.0]]), ember.tensor([[1.0]]))
        >>> s.tolist(), read.tolist()
        ([[0.0, 1.0, 1.0]], [[2.0]])
    """
    strengths = ember.cat([pop_bottom(strengths, pop), push], dim=1)
    values = ember.cat([values, value.unsqueeze(1)], dim=1)
    return values, strengths, read_bottom(values, strengths)


def deque_step(values: Tensor, strengths: Tensor, top_value: Tensor, top_push: Tensor, top_pop: Tensor,
               bottom_value: Tensor, bottom_push: Tensor,
               bottom_pop: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One neural-DeQue step (equations 6-11): pop the top, then the bottom; push at both ends; read both ends.

    Args:
        values: ``(N, 2t, m)``, index 0 the bottom; strengths: ``(N, 2t)``.
        top_value, bottom_value: ``(N, m)``; top_push, top_pop, bottom_push, bottom_pop: ``(N, 1)``.

    Returns:
        ``(values (N, 2t+2, m), strengths (N, 2t+2), read_top (N, m), read_bottom (N, m))``.

    Example:
        >>> import ember
        >>> v, s = ember.zeros(1, 0, 1), ember.zeros(1, 0)
        >>> one, zero = ember.tensor([[1.0]]), ember.tensor([[0.0]])
        >>> v, s, top, bottom = deque_step(v, s, ember.tensor([[5.0]]), one, zero, ember.tensor([[7.0]]), one, zero)
        >>> s.tolist(), top.tolist(), bottom.tolist()
        ([[1.0, 1.0]], [[5.0]], [[7.0]])
    """
    strengths = pop_bottom(pop_top(strengths, top_pop), bottom_pop)
    strengths = ember.cat([bottom_push, strengths, top_push], dim=1)
    values = ember.cat([bottom_value.unsqueeze(1), values, top_value.unsqueeze(1)], dim=1)
    return values, strengths, read_top(values, strengths), read_bottom(values, strengths)


def _check_inputs(model: nn.Module, inputs: Tensor) -> None:
    """Shape, length and id checks shared by both models (errors name the model and its sizes)."""
    name = model.describe()
    if inputs.ndim != 2:
        raise ValueError(f"{name}: expected joint ids of shape (N, T), got {tuple(inputs.shape)}")
    if inputs.shape[1] > model.max_length:
        raise ValueError(f"{name}: sequence of {inputs.shape[1]} steps exceeds max_length={model.max_length} "
                         f"(a source of k symbols takes 2k + 2 steps)")
    if inputs.numel():
        low, high = int(inputs.min().item()), int(inputs.max().item())
        if low < 0 or high >= model.input_vocab:
            raise ValueError(f"{name}: ids must lie in [0, {model.input_vocab}) for vocab_size={model.vocab_size} "
                             f"(ember.data.transduction.input_vocab_size), got ids in [{low}, {high}]")


class NeuralMemoryLSTM(nn.Module):
    """The Neural Stack-, Queue- or DeQue-enhanced LSTM of section 3.4 (see the module docstring).

    Args:
        vocab_size: symbols per side of the task (128 in the paper); ids follow
            :mod:`ember.data.transduction`.
        memory: ``"stack"``, ``"queue"`` or ``"deque"``.
        embedding: input embedding size (64 in the paper).
        hidden: LSTM units (256 or 512 in the paper).
        memory_size: width ``m`` of the pushed values (256 in the paper).
        max_length: longest joint sequence accepted (default: a 128-symbol source, ``2 * 128 + 2``).

    Example:
        >>> import ember
        >>> model = NeuralMemoryLSTM(vocab_size=5, memory="deque", embedding=4, hidden=6, memory_size=3)
        >>> model(ember.tensor([[5, 1, 2, 6]])).shape
        (1, 4, 6)
    """

    def __init__(self, vocab_size: int, memory: str = "stack", embedding: int = 64, hidden: int = 256,
                 memory_size: int = 256, max_length: int = 2 * TEST_LENGTHS[1] + 2) -> None:
        super().__init__()
        if memory not in MEMORIES:
            raise ValueError(f"NeuralMemoryLSTM: memory must be one of {', '.join(MEMORIES)}, got {memory!r}")
        if min(vocab_size, embedding, hidden, memory_size, max_length) < 1:
            raise ValueError(f"NeuralMemoryLSTM: sizes must be positive, got vocab_size={vocab_size}, "
                             f"embedding={embedding}, hidden={hidden}, memory_size={memory_size}, "
                             f"max_length={max_length}")
        self.vocab_size, self.memory, self.hidden = int(vocab_size), memory, int(hidden)
        self.memory_size, self.max_length = int(memory_size), int(max_length)
        self.input_vocab = input_vocab_size(vocab_size)
        self.ends = 2 if memory == "deque" else 1
        self.embed = nn.Embedding(self.input_vocab, embedding)
        self.cell = nn.LSTMCell(embedding + self.ends * memory_size, hidden)
        self.h0 = nn.Parameter(ember.randn(hidden) * 0.1)
        # W_d, W_u and W_v of every end in one projection: (d, u, v) per end, top end first.
        self.control = nn.Linear(hidden, self.ends * (2 + memory_size))
        self.output = nn.Linear(hidden, hidden)  # W_o
        self.classifier = nn.Linear(hidden, target_vocab_size(vocab_size))

    def describe(self) -> str:
        """``NeuralMemoryLSTM(stack, vocab_size=..., hidden=..., memory_size=...)`` for error messages."""
        return (f"NeuralMemoryLSTM({self.memory}, vocab_size={self.vocab_size}, hidden={self.hidden}, "
                f"memory_size={self.memory_size})")

    def initial_state(self, batch: int) -> tuple:
        """``(h, c, read, values, strengths)``: learned ``h_0``, zero cell, zero read(s), empty memory."""
        dtype = self.h0.dtype
        return (self.h0 + ember.zeros(batch, self.hidden, dtype=dtype), ember.zeros(batch, self.hidden, dtype=dtype),
                ember.zeros(batch, self.ends * self.memory_size, dtype=dtype),
                ember.zeros(batch, 0, self.memory_size, dtype=dtype), ember.zeros(batch, 0, dtype=dtype))

    def recur(self, embedded: Tensor, state: tuple) -> tuple:
        """One step of the controller and its memory on embedded inputs ``(N, embedding)``: the next state."""
        h, c, read, values, strengths = state
        h, c = self.cell(ember.cat([embedded, read], dim=1), (h, c))
        control = self.control(h)
        m = self.memory_size

        def end(k: int) -> tuple[Tensor, Tensor, Tensor]:  # (value, push, pop) of end k
            base = k * (2 + m)
            gates = ember.sigmoid(control[:, base:base + 2])
            return ember.tanh(control[:, base + 2:base + 2 + m]), gates[:, 0:1], gates[:, 1:2]

        if self.memory == "stack":
            values, strengths, read = stack_step(values, strengths, *end(0))
        elif self.memory == "queue":
            values, strengths, read = queue_step(values, strengths, *end(0))
        else:
            values, strengths, top, bottom = deque_step(values, strengths, *end(0), *end(1))
            read = ember.cat([top, bottom], dim=1)
        return h, c, read, values, strengths

    def emit(self, h: Tensor) -> Tensor:
        """Target logits from controller outputs ``h`` (any leading shape): ``classifier(tanh(W_o h + b_o))``."""
        return self.classifier(ember.tanh(self.output(h)))

    def step(self, ids: Tensor, state: tuple) -> tuple[Tensor, tuple]:
        """One step on joint ids ``(N,)``: ``(target logits (N, vocab_size + 1), next state)``."""
        state = self.recur(self.embed(ids), state)
        return self.emit(state[0]), state

    def forward(self, inputs: Tensor) -> Tensor:
        """Teacher-forced target logits ``(N, T, vocab_size + 1)`` for joint ids ``inputs`` ``(N, T)``."""
        _check_inputs(self, inputs)
        state = self.initial_state(inputs.shape[0])
        embedded = self.embed(inputs)
        outputs = []
        for t in range(inputs.shape[1]):
            state = self.recur(embedded[:, t], state)
            outputs.append(state[0])
        # The output head does not feed the recurrence, so it runs once over all steps.
        return self.emit(ember.stack(outputs, dim=1))


class DeepLSTM(nn.Module):
    """The Deep LSTM benchmark: embedding, ``layers`` stacked LSTMs, a linear map to the target logits.

    Example:
        >>> import ember
        >>> DeepLSTM(vocab_size=5, layers=2, embedding=4, hidden=6)(ember.tensor([[5, 1, 2, 6]])).shape
        (1, 4, 6)
    """

    def __init__(self, vocab_size: int, layers: int = 2, embedding: int = 64, hidden: int = 256,
                 max_length: int = 2 * TEST_LENGTHS[1] + 2) -> None:
        super().__init__()
        if min(vocab_size, layers, embedding, hidden, max_length) < 1:
            raise ValueError(f"DeepLSTM: sizes must be positive, got vocab_size={vocab_size}, layers={layers}, "
                             f"embedding={embedding}, hidden={hidden}, max_length={max_length}")
        self.vocab_size, self.layers, self.hidden, self.max_length = int(vocab_size), int(layers), int(hidden), \
            int(max_length)
        self.input_vocab = input_vocab_size(vocab_size)
        self.embed = nn.Embedding(self.input_vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.classifier = nn.Linear(hidden, target_vocab_size(vocab_size))

    def describe(self) -> str:
        """``DeepLSTM(layers=..., vocab_size=..., hidden=...)`` for error messages."""
        return f"DeepLSTM(layers={self.layers}, vocab_size={self.vocab_size}, hidden={self.hidden})"

    def initial_state(self, batch: int) -> tuple[Tensor, Tensor]:
        """Zero ``(h, c)``, each ``(layers, N, hidden)``."""
        zeros = ember.zeros(self.layers, batch, self.hidden, dtype=self.classifier.weight.dtype)
        return zeros, zeros

    def step(self, ids: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One step on joint ids ``(N,)``: ``(target logits, next (h, c))``."""
        out, state = self.lstm(self.embed(ids).unsqueeze(1), state)
        return self.classifier(out[:, 0]), state

    def forward(self, inputs: Tensor) -> Tensor:
        """Teacher-forced target logits ``(N, T, vocab_size + 1)``."""
        _check_inputs(self, inputs)
        return self.classifier(self.lstm(self.embed(inputs))[0])


def _check_batch(model: nn.Module, batch: TransductionBatch) -> None:
    if batch.vocab_size != model.vocab_size:
        raise ValueError(f"{model.describe()}: the batch has vocab_size={batch.vocab_size}, the model was built "
                         f"for vocab_size={model.vocab_size}")


def greedy_transduce(model: nn.Module, batch: TransductionBatch) -> np.ndarray:
    """Greedy decoding (section 4.3): read ``<s>`` source ``|||``, then feed back each arg-max prediction.

    Returns ``(N, T)`` predicted target ids aligned with ``batch.targets`` (positions before
    each row's separator are the teacher-forced predictions and are not scored).
    """
    _check_batch(model, batch)
    inputs = ember.tensor(batch.inputs)
    _check_inputs(model, inputs)
    model.eval()
    n, steps = batch.inputs.shape
    predicted = np.zeros((n, steps), dtype=np.int64)
    # Fed-back target b enters as joint id V + 2 + b (ember.data.transduction's layout).
    offset = batch.vocab_size + 2
    with ember.no_grad():
        state = model.initial_state(n)
        for t in range(steps):
            given = batch.inputs[:, t]
            ids = given if t == 0 else np.where(t <= batch.separator, given, predicted[:, t - 1] + offset)
            logits, state = model.step(ember.tensor(ids), state)
            predicted[:, t] = logits.argmax(dim=1).numpy()
    return predicted


def transduction_loss(model: nn.Module, batch: TransductionBatch) -> Tensor:
    """Mean teacher-forced cross-entropy (nats per target symbol, ``</s>`` included) of ``model`` on ``batch``."""
    _check_batch(model, batch)
    logits = model(ember.tensor(batch.inputs))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ember.tensor(batch.targets.reshape(-1)),
                           ignore_index=IGNORE)


def train_transduction(model: nn.Module, task: str, steps: int, optimizer, rng: np.random.Generator,
                       batch_size: int = 10, lengths: tuple[int, int] = TRAIN_LENGTHS, max_norm: float = 1.0,
                       log=None, log_every: int = 100) -> list[float]:
    """``steps`` batches of fresh ``task`` sequences (source lengths uniform in ``lengths``), clipped to ``max_norm``.

    ``log(step, mean_loss)`` is called every ``log_every`` steps. Returns the losses.
    """
    losses = []
    for step in range(1, steps + 1):
        model.train()
        batch = make_transduction_batch(task, sample_lengths(batch_size, rng, *lengths), rng, model.vocab_size)
        loss = transduction_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(float(loss.item()))
        if log and step % log_every == 0:
            log(step, float(np.mean(losses[-log_every:])))
    return losses


def evaluate_transduction(model: nn.Module, task: str, count: int, lengths: tuple[int, int],
                          rng: np.random.Generator, batch_size: int = 100) -> tuple[float, float]:
    """``(coarse, fine)`` accuracy of greedy decoding on ``count`` fresh sequences, source lengths in ``lengths``."""
    coarse, fine, seen = 0.0, 0.0, 0
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        batch = make_transduction_batch(task, sample_lengths(size, rng, *lengths), rng, model.vocab_size)
        c, f = coarse_fine_accuracy(greedy_transduce(model, batch), batch)
        coarse, fine, seen = coarse + c * size, fine + f * size, seen + size
    return coarse / seen, fine / seen
