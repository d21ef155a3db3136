"""Seeded copy and repeat-copy sequences of random bit vectors (Graves et al. 2014, sections 4.1 and 4.2).

**Copy.** ``length`` random ``bits``-bit vectors, then a delimiter (its own channel), then
``length`` blank steps during which the model must reproduce the vectors::

    inputs  (B, 2 * length + 1, bits + 1)     steps 0..length-1: the bits; step length: delimiter
    targets (B, length, bits)                 the last ``length`` steps of the output

**Repeat copy.** As copy, then one step whose second control channel holds the repeat
count ``repeats`` normalised to mean 0 and variance 1 over the training range
(the paper's choice); the model writes the sequence ``repeats`` times and then an end
marker on an extra output channel::

    inputs  (B, length + 2 + length * repeats + 1, bits + 2)
    targets (B, length * repeats + 1, bits + 1)

Targets always cover the *last* steps of the inputs, so a loss on the output phase is
``logits[:, -targets.shape[1]:]``. Every batch is drawn from the ``numpy.random.Generator``
passed in (the same seed gives the same data).

Example:
    >>> import numpy as np
    >>> batch = copy_batch(np.random.default_rng(0), batch_size=2, length=3)
    >>> batch.inputs.shape, batch.targets.shape
    ((2, 7, 9), (2, 3, 8))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember.errors import ArgumentError

__all__ = ["SequenceBatch", "MAX_LENGTH", "copy_batch", "random_copy_batch", "repeat_copy_batch",
           "random_repeat_copy_batch", "repeat_count_channel"]

#: Longest sequence the generators make: the NTM's 128 memory rows (the paper tests up to 120).
MAX_LENGTH = 128


@dataclass(frozen=True)
class SequenceBatch:
    """A batch of one task: ``inputs`` ``(B, T, C_in)`` and ``targets`` ``(B, T_out, C_out)`` (float32 0/1).

    ``targets`` are the wanted outputs of the last ``T_out`` input steps.
    """

    inputs: np.ndarray
    targets: np.ndarray


def _check(who: str, value: int, name: str, low: int, high: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        raise ArgumentError(f"{who}: {name} must be an integer in [{low}, {high}], got {value!r}")


def _bits(rng: np.random.Generator, batch_size: int, length: int, bits: int) -> np.ndarray:
    return rng.integers(0, 2, size=(batch_size, length, bits)).astype(np.float32)


def copy_batch(rng: np.random.Generator, batch_size: int, length: int, bits: int = 8,
               max_length: int = MAX_LENGTH) -> SequenceBatch:
    """``batch_size`` copy sequences of exactly ``length`` random ``bits``-bit vectors (module docstring).

    Raises:
        ArgumentError: ``length`` outside ``[1, max_length]`` or ``bits`` < 1, naming the sizes.
    """
    _check("copy_batch", batch_size, "batch_size", 1, 1 << 30)
    _check("copy_batch", bits, "bits", 1, 1 << 16)
    _check("copy_batch", length, "length", 1, max_length)
    seq = _bits(rng, batch_size, length, bits)
    inputs = np.zeros((batch_size, 2 * length + 1, bits + 1), dtype=np.float32)
    inputs[:, :length, :bits] = seq
    inputs[:, length, bits] = 1.0
    return SequenceBatch(inputs, seq)


def random_copy_batch(rng: np.random.Generator, batch_size: int, min_length: int = 1, max_length: int = 20,
                      bits: int = 8) -> SequenceBatch:
    """A copy batch whose length is drawn uniformly from ``[min_length, max_length]`` (1-20 in the paper).

    One length per batch, so the batch is a dense array.
    """
    _check("random_copy_batch", min_length, "min_length", 1, MAX_LENGTH)
    _check("random_copy_batch", max_length, f"max_length (min_length={min_length})", min_length, MAX_LENGTH)
    return copy_batch(rng, batch_size, int(rng.integers(min_length, max_length + 1)), bits)


def repeat_count_channel(repeats: int, max_repeats: int = 10) -> float:
    """The repeat count as the model sees it: uniform ``1..max_repeats`` standardised to mean 0, variance 1."""
    mean = (max_repeats + 1) / 2
    std = np.sqrt((max_repeats ** 2 - 1) / 12) if max_repeats > 1 else 1.0
    return float((repeats - mean) / std)


def repeat_copy_batch(rng: np.random.Generator, batch_size: int, length: int, repeats: int, bits: int = 8,
                      max_repeats: int = 10, max_length: int = MAX_LENGTH) -> SequenceBatch:
    """``batch_size`` repeat-copy sequences of ``length`` vectors to be written ``repeats`` times (module docstring).

    ``max_repeats`` fixes the normalisation of the count (the training range 1-10 in the paper);
    larger counts are allowed, for generalisation tests.

    Raises:
        ArgumentError: ``length`` outside ``[1, max_length]``, ``repeats`` < 1 or ``bits`` < 1.
    """
    _check("repeat_copy_batch", batch_size, "batch_size", 1, 1 << 30)
    _check("repeat_copy_batch", bits, "bits", 1, 1 << 16)
    _check("repeat_copy_batch", length, "length", 1, max_length)
    _check("repeat_copy_batch", repeats, "repeats", 1, 1 << 16)
    seq = _bits(rng, batch_size, length, bits)
    out_steps = length * repeats + 1
    inputs = np.zeros((batch_size, length + 2 + out_steps, bits + 2), dtype=np.float32)
    inputs[:, :length, :bits] = seq
    inputs[:, length, bits] = 1.0
    inputs[:, length + 1, bits + 1] = repeat_count_channel(repeats, max_repeats)
    targets = np.zeros((batch_size, out_steps, bits + 1), dtype=np.float32)
    targets[:, :-1, :bits] = np.tile(seq, (1, repeats, 1))
    targets[:, -1, bits] = 1.0
    return SequenceBatch(inputs, targets)


def random_repeat_copy_batch(rng: np.random.Generator, batch_size: int, max_length: int = 10,
                             max_repeats: int = 10, bits: int = 8) -> SequenceBatch:
    """A repeat-copy batch with length and repeat count uniform in ``1..max_length`` and ``1..max_repeats``."""
    _check("random_repeat_copy_batch", max_length, "max_length", 1, MAX_LENGTH)
    _check("random_repeat_copy_batch", max_repeats, "max_repeats", 1, 1 << 16)
    length = int(rng.integers(1, max_length + 1))
    repeats = int(rng.integers(1, max_repeats + 1))
    return repeat_copy_batch(rng, batch_size, length, repeats, bits, max_repeats)
