"""Packed sequences (``torch.nn.utils.rnn``): batches of sequences of different lengths without padding.

A :class:`PackedSequence` stores the steps of a batch time-major with the padding left out:
``data`` holds, for ``t = 0, 1, ...``, the ``t``-th step of every sequence that is longer than
``t`` (longest sequences first), and ``batch_sizes[t]`` says how many there are. The
recurrent layers (:class:`~ember.nn.RNN`, :class:`~ember.nn.LSTM`, :class:`~ember.nn.GRU`)
accept one and return one, as in PyTorch; the final states are those of each sequence's
last real step.

Packing and unpacking are gathers composed from Ember's indexing op, so gradients flow
through them.

Example:
    >>> import ember
    >>> from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    >>> padded = ember.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 0.0]])   # (time, batch), lengths 3 and 2
    >>> packed = pack_padded_sequence(padded, [3, 2])
    >>> packed.data.tolist(), packed.batch_sizes.tolist()
    ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    >>> unpacked, lengths = pad_packed_sequence(packed)
    >>> unpacked.tolist(), lengths.tolist()
    ([[1.0, 4.0], [2.0, 5.0], [3.0, 0.0]], [3, 2])
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ...backend import array_module
from ...ops.movement import cat, index_select, reshape, stack
from ...tensor import Tensor, as_tensor, constant

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
    "pad_sequence", "unpack_sequence", "unpad_sequence",
]


def _host_ints(values: Any, what: str, op: str) -> np.ndarray:
    """``values`` (a list, array or integer Tensor) as a 1-D int64 NumPy array."""
    if isinstance(values, Tensor):
        values = values.numpy()
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValueError(f"{op}: expected {what} as a 1-D sequence of integers, got {array.dtype} of shape "
                         f"{array.shape}")
    return array.astype(np.int64)


def _int_tensor(array: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(array, dtype=np.int64))


def _filled(like: Tensor, shape: tuple, value: float) -> Tensor:
    """A constant of ``shape`` filled with ``value``, of ``like``'s dtype and on its device."""
    xp = array_module(like._data)
    return constant(xp.full(shape, value, dtype=like.dtype))


def _gather_packed(x: Tensor, ranked: np.ndarray, batch_sizes: np.ndarray, batch_first: bool) -> Tensor:
    """The rows of ``data``: step ``t`` of the ``batch_sizes[t]`` longest sequences (``ranked`` gives their
    batch indices, longest first) of the padded ``x``."""
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    rows = [ranked[:n] * T + t if batch_first else t * B + ranked[:n] for t, n in enumerate(batch_sizes)]
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return index_select(reshape(x, (T * B,) + x.shape[2:]), 0, index)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import invert_permutation
        >>> invert_permutation(ember.tensor([2, 0, 1])).tolist()
        [1, 2, 0]
    """
    if permutation is None:
        return None
    perm = _host_ints(permutation, "a permutation", "invert_permutation")
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return _int_tensor(inverse)


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """The packed steps of a batch of sequences (a named tuple, as in PyTorch).

    Build it with :func:`pack_padded_sequence` or :func:`pack_sequence`, not directly.

    Attributes:
        data: ``(sum of lengths, *features)``: the steps, time-major, longest sequences first.
        batch_sizes: ``(longest length,)`` int64: how many sequences have a step ``t``.
        sorted_indices: int64 permutation: ``sorted_indices[k]`` is the original batch index of
            the ``k``-th longest sequence (None when the batch was already sorted).
        unsorted_indices: its inverse (None likewise).
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required; build packed sequences with "
                            "pack_padded_sequence or pack_sequence")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packed sequence with ``data`` converted by ``data.to(*args, **kwargs)``."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                          self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` lives on a GPU."""
        return str(self.data.device).startswith("cuda")


def _sorted_order(lengths: np.ndarray, enforce_sorted: bool) -> np.ndarray | None:
    if enforce_sorted:
        if np.any(lengths[:-1] < lengths[1:]):
            raise RuntimeError(
                "pack_padded_sequence: `lengths` must be sorted in decreasing order when enforce_sorted=True, "
                f"got {lengths.tolist()}; pass enforce_sorted=False to sort them"
            )
        return None
    return np.argsort(-lengths, kind="stable")


def _packed_rows(batch_sizes: np.ndarray) -> np.ndarray:
    """``start[t]``: the row of ``data`` where step ``t`` begins."""
    return np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``.

    Args:
        input: the padded batch.
        lengths: the length of every sequence (each in ``[1, T]``).
        batch_first: the layout of ``input``.
        enforce_sorted: require ``lengths`` in decreasing order; with False the batch is
            sorted here and the permutation kept in the result.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_padded_sequence
        >>> x = ember.tensor([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]])  # (batch, time), lengths 2 and 3
        >>> packed = pack_padded_sequence(x, [2, 3], batch_first=True, enforce_sorted=False)
        >>> packed.data.tolist(), packed.sorted_indices.tolist()
        ([3.0, 1.0, 4.0, 2.0, 5.0], [1, 0])
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected an input with at least 2 dimensions, got shape {x.shape}")
    lengths = _host_ints(lengths, "lengths", "pack_padded_sequence")
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if lengths.size != B:
        raise ValueError(f"pack_padded_sequence: expected {B} lengths (one per sequence of the input of shape "
                         f"{x.shape}), got {lengths.size}")
    if B and (lengths.min() <= 0 or lengths.max() > T):
        raise ValueError(f"pack_padded_sequence: every length must lie in [1, {T}] (the padded length), got "
                         f"{lengths.tolist()}")
    order = _sorted_order(lengths, enforce_sorted)
    ranked = np.arange(B) if order is None else order
    sorted_lengths = lengths[ranked]
    batch_sizes = (sorted_lengths[None, :] > np.arange(int(sorted_lengths.max()) if B else 0)[:, None]).sum(1)
    data = _gather_packed(x, ranked, batch_sizes, batch_first)
    sorted_indices = None if order is None else _int_tensor(order)
    return PackedSequence(data, _int_tensor(batch_sizes), sorted_indices, None)


def _pad_index(batch_sizes: np.ndarray, unsorted: np.ndarray | None, total_length: int, batch_first: bool):
    """For every padded slot, its row in ``data``, or ``len(data)`` (the padding row); and the lengths."""
    B, N = int(batch_sizes[0]), int(batch_sizes.sum())
    sorted_lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1)
    rank = np.arange(B) if unsorted is None else unsorted  # rank of each original sequence
    t = np.arange(total_length)[:, None]
    start = np.concatenate([_packed_rows(batch_sizes), np.zeros(max(total_length - batch_sizes.size, 0), np.int64)])
    index = np.where(t < sorted_lengths[rank][None, :], start[:total_length, None] + rank[None, :], N)
    return (index.T if batch_first else index).reshape(-1), sorted_lengths[rank]


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch in the original order, and the lengths.

    Args:
        sequence: the packed batch.
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value of the padded steps.
        total_length: pad to this many steps (at least the longest length) instead of the longest length.

    Returns:
        ``(padded, lengths)``; ``lengths`` is an int64 tensor, in the original batch order.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> packed = pack_sequence([ember.tensor([1.0]), ember.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
        >>> padded.tolist(), lengths.tolist()
        ([[1.0, -1.0], [2.0, 3.0]], [1, 2])
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _host_ints(sequence.batch_sizes, "batch_sizes", "pad_packed_sequence")
    longest = batch_sizes.size
    if total_length is None:
        total_length = longest
    elif total_length < longest:
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than the longest sequence "
                         f"length {longest}")
    unsorted = None if sequence.unsorted_indices is None else \
        _host_ints(sequence.unsorted_indices, "unsorted_indices", "pad_packed_sequence")
    index, lengths = _pad_index(batch_sizes, unsorted, int(total_length), batch_first)
    B = int(batch_sizes[0])
    rows = index_select(cat([data, _filled(data, (1,) + data.shape[1:], padding_value)], 0), 0, index)
    shape = (B, int(total_length)) if batch_first else (int(total_length), B)
    return reshape(rows, shape + data.shape[1:]), _int_tensor(lengths)


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences ``(L_i, *)`` of different lengths into ``(T, B, *)`` (``(B, T, *)``), padding them.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pad_sequence
        >>> pad_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0])], batch_first=True).tolist()
        [[1.0, 2.0], [3.0, 0.0]]
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: expected at least one sequence, got none")
    sequences = [as_tensor(s) for s in sequences]
    trailing = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.ndim < 1 or s.shape[1:] != trailing:
            raise ValueError(f"pad_sequence: sequence {i} has shape {s.shape}; every sequence must be (length, "
                             f"*{trailing}) like the first")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = _filled(s, (missing,) + trailing, padding_value)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(sequences), lengths)``.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence
        >>> pack_sequence([ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0])]).batch_sizes.tolist()
        [2, 1, 1]
    """
    sequences = [as_tensor(s) for s in sequences]
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Sequence[int],
                   batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences (the inverse of :func:`pad_sequence`).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import unpad_sequence
        >>> [s.tolist() for s in unpad_sequence(ember.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)]
        [[1.0, 2.0], [3.0]]
    """
    lengths = _host_ints(lengths, "lengths", "unpad_sequence")
    x = as_tensor(padded_sequences)
    return [x[b, :n] if batch_first else x[:n, b] for b, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Split a packed batch into its sequences, in the original order (the inverse of :func:`pack_sequence`).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, unpack_sequence
        >>> packed = pack_sequence([ember.tensor([1.0]), ember.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> [s.tolist() for s in unpack_sequence(packed)]
        [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def pack_like(padded: Tensor, like: PackedSequence, batch_first: bool = False) -> PackedSequence:
    """Pack ``padded`` (in the original batch order) with the layout of the packed batch ``like``:
    how the recurrent layers return a PackedSequence for a PackedSequence input."""
    batch_sizes = _host_ints(like.batch_sizes, "batch_sizes", "pack_like")
    B = padded.shape[0] if batch_first else padded.shape[1]
    ranked = np.arange(B) if like.sorted_indices is None else \
        _host_ints(like.sorted_indices, "sorted_indices", "pack_like")
    data = _gather_packed(padded, ranked, batch_sizes, batch_first)
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
