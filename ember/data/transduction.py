"""The synthetic transduction tasks of Grefenstette et al. 2015 (arXiv:1506.02516, section 4.1) and their accuracies.

A source ``a_1 ... a_k`` of symbols drawn uniformly with replacement from ``vocab_size``
meaningless symbols is mapped to a target by one of three rules (:data:`TASKS`):

* ``copy``:        ``a_1 ... a_k``
* ``reversal``:    ``a_k ... a_1``
* ``bigram-flip``: ``a_2 a_1 a_4 a_3 ... a_k a_{k-1}`` (``k`` even: odd lengths are rounded down)

and presented as one joint sequence ``<s> a_1 ... a_k ||| b_1 ... b_k </s>``. Training
sources have ``k`` uniform in ``8..64``, test sources in ``65..128`` (section 4.3), over
128 symbols.

Ids. The paper uses separate vocabularies (and embeddings) for the source and target
sides; here both live in one *joint* input id space whose halves never share a row, which
is the same thing as two embedding matrices:

* source symbol ``a`` -> ``a``; ``<s>`` -> ``V``; ``|||`` -> ``V + 1``
* target symbol ``b`` -> ``V + 2 + b``  (what the model is fed back while generating;
  ``</s>`` too, id ``2V + 2``, which greedy decoding may feed back after an early ``</s>``)

so :func:`input_vocab_size` is ``2V + 3``. Predictions are over the *target* vocabulary
``0..V`` where ``V`` is ``</s>`` (:func:`target_vocab_size` = ``V + 1``).

A batch (:class:`TransductionBatch`) holds the teacher-forced inputs
``<s> a_1 .. a_k ||| b_1 .. b_k`` and, at the last ``k + 1`` positions (the separator and
the fed-back targets), the next target symbol ``b_1 .. b_k </s>``; other positions have
target :data:`IGNORE`. Rows are right-padded.

Example:
    >>> import numpy as np
    >>> batch = make_transduction_batch("reversal", [3], np.random.default_rng(0), vocab_size=10)
    >>> batch.sources[0], batch.inputs[0].tolist(), batch.targets[0].tolist()
    ([8, 6, 5], [10, 8, 6, 5, 11, 17, 18, 20], [-100, -100, -100, -100, 5, 6, 8, 10])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TASKS", "IGNORE", "TRAIN_LENGTHS", "TEST_LENGTHS", "PAPER_VOCAB_SIZE", "transduce", "input_vocab_size",
           "target_vocab_size", "TransductionBatch", "make_transduction_batch", "sample_lengths",
           "coarse_fine_accuracy"]

#: The three synthetic tasks of section 4.1.
TASKS = ("copy", "reversal", "bigram-flip")
#: Target at positions that carry no prediction (PyTorch's ``cross_entropy`` default ``ignore_index``).
IGNORE = -100
#: Source lengths of the paper's training (``unif{8, 64}``) and test (``unif{65, 128}``) sequences.
TRAIN_LENGTHS = (8, 64)
TEST_LENGTHS = (65, 128)
#: Source vocabulary of the paper ("128 meaningless symbols").
PAPER_VOCAB_SIZE = 128


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"transduction: task must be one of {', '.join(TASKS)}, got {task!r}")


def transduce(task: str, source: list[int]) -> list[int]:
    """The target of ``source`` under ``task`` (without ``</s>``).

    Example:
        >>> transduce("copy", [1, 2, 3]), transduce("reversal", [1, 2, 3]), transduce("bigram-flip", [1, 2, 3, 4])
        ([1, 2, 3], [3, 2, 1], [2, 1, 4, 3])
    """
    _check_task(task)
    if task == "copy":
        return list(source)
    if task == "reversal":
        return list(source[::-1])
    if len(source) % 2:
        raise ValueError(f"transduce: bigram-flip needs an even-length source, got length {len(source)}")
    flipped = []
    for i in range(0, len(source), 2):
        flipped += [source[i + 1], source[i]]
    return flipped


def input_vocab_size(vocab_size: int) -> int:
    """Joint input ids for ``vocab_size`` symbols: source symbols, ``<s>``, ``|||``, fed-back targets and ``</s>``."""
    return 2 * vocab_size + 3


def target_vocab_size(vocab_size: int) -> int:
    """Predicted ids: the ``vocab_size`` target symbols and ``</s>`` (id ``vocab_size``)."""
    return vocab_size + 1


@dataclass
class TransductionBatch:
    """A padded batch of joint sequences (see the module docstring for the id layout).

    Attributes:
        inputs: ``(N, T)`` int64 teacher-forced joint ids, right-padded with 0.
        targets: ``(N, T)`` int64 next target ids at the last ``k + 1`` positions of each row, else :data:`IGNORE`.
        separator: ``(N,)`` position of ``|||`` in each row (the first position with a target).
        target_lengths: ``(N,)`` ``k + 1``: target symbols and ``</s>``.
        sources: the source sequences.
        vocab_size: symbols per side (without the special ones).
    """

    inputs: np.ndarray
    targets: np.ndarray
    separator: np.ndarray
    target_lengths: np.ndarray
    sources: list[list[int]]
    vocab_size: int


def make_transduction_batch(task: str, lengths: list[int], rng: np.random.Generator,
                            vocab_size: int = PAPER_VOCAB_SIZE) -> TransductionBatch:
    """One batch of ``task`` with sources of the given ``lengths`` (bigram-flip rounds odd lengths down to even).

    Symbols are drawn from ``rng`` uniformly over ``vocab_size``; the same seed gives the same batch.
    """
    _check_task(task)
    if vocab_size < 1:
        raise ValueError(f"make_transduction_batch: vocab_size must be >= 1, got {vocab_size}")
    if task == "bigram-flip":
        lengths = [int(k) - int(k) % 2 for k in lengths]
    if not len(lengths) or min(lengths) < 1:
        raise ValueError(f"make_transduction_batch: {task} needs at least one source length >= 1"
                         f"{' (2 for bigram-flip)' if task == 'bigram-flip' else ''}, got {list(lengths)}")
    sources = [rng.integers(0, vocab_size, int(k)).tolist() for k in lengths]
    start, separator_id, target_offset, end = vocab_size, vocab_size + 1, vocab_size + 2, vocab_size
    width = max(2 * len(s) + 2 for s in sources)
    inputs = np.zeros((len(sources), width), dtype=np.int64)
    targets = np.full((len(sources), width), IGNORE, dtype=np.int64)
    separator = np.zeros(len(sources), dtype=np.int64)
    for row, source in enumerate(sources):
        target = transduce(task, source)
        k = len(source)
        inputs[row, :2 * k + 2] = [start, *source, separator_id, *(target_offset + b for b in target)]
        targets[row, k + 1:2 * k + 2] = [*target, end]
        separator[row] = k + 1
    return TransductionBatch(inputs, targets, separator, np.array([len(s) + 1 for s in sources], dtype=np.int64),
                             sources, vocab_size)


def sample_lengths(count: int, rng: np.random.Generator, low: int, high: int) -> list[int]:
    """``count`` source lengths uniform in ``low..high`` (both included), e.g. :data:`TRAIN_LENGTHS`.

    Example:
        >>> lengths = sample_lengths(100, np.random.default_rng(0), *TRAIN_LENGTHS)
        >>> min(lengths) >= 8 and max(lengths) <= 64
        True
    """
    if not 1 <= low <= high:
        raise ValueError(f"sample_lengths: need 1 <= low <= high, got low={low}, high={high}")
    return rng.integers(low, high + 1, count).tolist()


def coarse_fine_accuracy(predicted: np.ndarray, batch: TransductionBatch) -> tuple[float, float]:
    """The paper's (section 4.3) ``coarse`` and ``fine`` accuracy of greedy ``predicted`` ids ``(N, T)`` on ``batch``.

    ``coarse`` is the fraction of rows whose whole target (``</s>`` included) is right;
    ``fine`` the mean over rows of (symbols right before the first error) / (target length,
    ``</s>`` included). Only positions with a target are compared.

    Example:
        >>> batch = make_transduction_batch("copy", [2, 2], np.random.default_rng(0), vocab_size=5)
        >>> predicted = np.where(batch.targets == IGNORE, 0, batch.targets)
        >>> predicted[1, batch.separator[1] + 1] += 1          # second row: 1 of 3 right, then an error
        >>> coarse_fine_accuracy(predicted, batch)
        (0.5, 0.6666666666666666)
    """
    if predicted.shape != batch.targets.shape:
        raise ValueError(f"coarse_fine_accuracy: predictions of shape {predicted.shape} do not match the batch's "
                         f"targets {batch.targets.shape}")
    coarse, fine = 0, 0.0
    for row in range(len(predicted)):
        begin, length = int(batch.separator[row]), int(batch.target_lengths[row])
        wrong = np.flatnonzero(predicted[row, begin:begin + length] != batch.targets[row, begin:begin + length])
        prefix = int(wrong[0]) if len(wrong) else length
        coarse += prefix == length
        fine += prefix / length
    return coarse / len(predicted), fine / len(predicted)
