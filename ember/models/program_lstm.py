"""The LSTM that learns to execute programs (Zaremba & Sutskever 2014), and its loss, accuracies and decoding.

One LSTM stack reads the program character by character, then the separator ``@``, then writes
the output (an integer and the end token ``.``) one character per step: the sequence-to-sequence
setup of the paper, in one stream as in the authors' released code. Training is teacher forced:
the model reads ``program @ target[:-1]`` and is scored on ``target`` only. The paper's accuracy
is per character with teacher forcing (each output character predicted given the true ones
before it); :func:`exact_match_accuracy` is the stricter greedy whole-output score.

The paper's sizes are the defaults: characters embedded in 400 dimensions, 2 LSTM layers of 400,
weights uniform in ``[-0.08, 0.08]``; ``dropout`` is applied on the non-recurrent connections
(embedding output, between layers, before the softmax), as in Zaremba et al. 2014.

Example:
    >>> import ember, numpy as np
    >>> from ember.data.programs import generate_addition
    >>> from ember.models.program_lstm import ProgramLSTM, program_batch
    >>> ember.manual_seed(0)
    >>> model = ProgramLSTM(hidden_size=16, num_layers=2)
    >>> programs = [generate_addition(np.random.default_rng(i), 2) for i in range(3)]
    >>> inputs, labels = program_batch(model, programs)
    >>> model(inputs).shape == (3, inputs.shape[1], model.vocab_size)
    True
    >>> len(model.generate(programs[0].source, max_output=4)) <= 4
    True
"""
from __future__ import annotations

import string
from typing import List, Sequence, Tuple

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.data.programs import END, Program
from ember.errors import ArgumentError, ShapeError
from ember.tensor import Tensor

__all__ = ["PROGRAM_CHARS", "PAD", "GO", "ProgramLSTM", "program_batch", "program_loss",
           "teacher_forced_accuracy", "exact_match_accuracy"]

#: Index 0 is padding; these characters follow it, in order.
PROGRAM_CHARS = "\n ()*+-:<=>@." + string.digits + string.ascii_lowercase
PAD = 0
#: The separator read after the program: the model starts writing the output after it.
GO = "@"
IGNORE = -100


class ProgramLSTM(nn.Module):
    """Embedding, an LSTM stack and a linear layer to the characters' logits.

    Args:
        hidden_size: the embedding and LSTM width (the paper: 400).
        num_layers: LSTM layers (the paper: 2).
        dropout: the dropout probability on non-recurrent connections.
        max_length: the longest ``program @ output`` sequence accepted (characters).
        init_range: weights start uniform in ``[-init_range, init_range]`` (the paper: 0.08).
    """

    def __init__(self, hidden_size: int = 400, num_layers: int = 2, dropout: float = 0.0, max_length: int = 512,
                 init_range: float = 0.08) -> None:
        super().__init__()
        if hidden_size < 1 or num_layers < 1 or max_length < 2:
            raise ArgumentError(f"ProgramLSTM: need hidden_size, num_layers >= 1 and max_length >= 2, got "
                                f"{hidden_size}, {num_layers}, {max_length}")
        self.vocab_size = len(PROGRAM_CHARS) + 1
        self.hidden_size, self.num_layers, self.max_length = int(hidden_size), int(num_layers), int(max_length)
        self._index = {c: i + 1 for i, c in enumerate(PROGRAM_CHARS)}
        self.embedding = nn.Embedding(self.vocab_size, hidden_size, padding_idx=PAD)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, self.vocab_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -init_range, init_range)
        self.embedding.weight._data[PAD] = 0

    def encode(self, text: str) -> List[int]:
        """The indices of ``text``'s characters; raises naming the first character outside the vocabulary."""
        try:
            return [self._index[c] for c in text]
        except KeyError as error:
            raise ArgumentError(f"ProgramLSTM: character {error.args[0]!r} is not in the vocabulary "
                                f"{PROGRAM_CHARS!r} ({self.vocab_size} symbols with padding)") from None

    def decode(self, indices: Sequence[int]) -> str:
        """The characters of ``indices`` (padding is dropped)."""
        return "".join(PROGRAM_CHARS[int(i) - 1] for i in indices if int(i) != PAD)

    def step(self, tokens: Tensor, state=None) -> Tuple[Tensor, tuple]:
        """Logits ``(N, T, vocab)`` for ``tokens`` ``(N, T)`` from ``state`` (zeros when None), and the new state."""
        if tokens.ndim != 2:
            raise ShapeError(f"ProgramLSTM: expected tokens (N, T), got shape {tuple(tokens.shape)}")
        if tokens.shape[1] > self.max_length:
            raise ShapeError(f"ProgramLSTM: sequence of {tokens.shape[1]} characters exceeds max_length "
                             f"{self.max_length}")
        x = self.drop(self.embedding(tokens))
        out, state = self.lstm(x, state)
        return self.head(self.drop(out)), state

    def forward(self, tokens: Tensor) -> Tensor:
        """Logits ``(N, T, vocab)``: position ``t`` predicts character ``t + 1``."""
        return self.step(tokens)[0]

    def generate(self, source: str, max_output: int = 20) -> str:
        """The greedy output for ``source``, without the end token; at most ``max_output`` characters.

        Reads ``source`` and ``@``, then feeds each argmax back until it is ``.``.
        """
        prompt = self.encode(source + GO)
        if len(prompt) + max_output > self.max_length:
            raise ShapeError(f"ProgramLSTM: program of {len(source)} characters plus {max_output} output "
                             f"characters exceeds max_length {self.max_length}")
        end = self._index[END]
        was_training = self.training
        self.eval()
        out: List[int] = []
        with ember.no_grad():
            logits, state = self.step(ember.tensor([prompt]))
            for _ in range(max_output):
                token = int(np.argmax(logits.numpy()[0, -1]))
                if token == end:
                    break
                out.append(token)
                logits, state = self.step(ember.tensor([[token]]), state)
        self.train(was_training)
        return self.decode(out)


def program_batch(model: ProgramLSTM, programs: Sequence[Program]) -> Tuple[Tensor, Tensor]:
    """Teacher-forced ``(inputs, labels)``, both ``(N, T)`` int64, right-padded.

    ``inputs`` is ``program @ target[:-1]``; ``labels`` is ``-100`` (ignored) over the program and
    the target characters (ending in ``.``) where the model must write them.
    """
    rows = []
    for program in programs:
        source, target = model.encode(program.source), model.encode(program.target_text)
        rows.append((source + model.encode(GO) + target[:-1], [IGNORE] * len(source) + target))
    width = max(len(x) for x, _ in rows)
    if width > model.max_length:
        raise ShapeError(f"ProgramLSTM: sequence of {width} characters exceeds max_length {model.max_length}")
    inputs = np.full((len(rows), width), PAD, dtype=np.int64)
    labels = np.full((len(rows), width), IGNORE, dtype=np.int64)
    for i, (x, y) in enumerate(rows):
        inputs[i, :len(x)], labels[i, :len(y)] = x, y
    return ember.tensor(inputs), ember.tensor(labels)


def program_loss(model: ProgramLSTM, programs: Sequence[Program]) -> Tuple[Tensor, float]:
    """Mean cross-entropy per output character (teacher forced), and the batch's per-character accuracy.

    The accuracy comes free from the same logits (the training-accuracy signal of the curricula).
    """
    inputs, labels = program_batch(model, programs)
    logits = model(inputs).reshape(-1, model.vocab_size)
    flat = labels.reshape(-1)
    wanted = flat.numpy()
    mask = wanted != IGNORE
    accuracy = float((logits.numpy().argmax(-1)[mask] == wanted[mask]).mean())
    return F.cross_entropy(logits, flat, ignore_index=IGNORE), accuracy


def teacher_forced_accuracy(model: ProgramLSTM, programs: Sequence[Program], batch_size: int = 100) -> float:
    """The paper's metric: the fraction of output characters (end token included) whose argmax is right,
    each predicted given the true characters before it."""
    right = total = 0
    was_training = model.training
    model.eval()
    with ember.no_grad():
        for start in range(0, len(programs), batch_size):
            inputs, labels = program_batch(model, programs[start:start + batch_size])
            predicted = model(inputs).numpy().argmax(-1)
            wanted = labels.numpy()
            mask = wanted != IGNORE
            right += int((predicted[mask] == wanted[mask]).sum())
            total += int(mask.sum())
    model.train(was_training)
    return right / max(total, 1)


def exact_match_accuracy(model: ProgramLSTM, programs: Sequence[Program]) -> float:
    """The fraction of programs whose greedy output is exactly the target."""
    hits = [model.generate(p.source, max_output=len(p.target_text) + 2) == str(p.target) for p in programs]
    return float(np.mean(hits)) if hits else 0.0
