"""PyTorch's samplers (``torch.utils.data.sampler``) over Ember's (:mod:`ember.data.sampler`).

The constructors take PyTorch's arguments (``generator=`` instead of Ember's
``seed=``) and the randomness follows PyTorch's rule: without a ``generator``, every
epoch draws a fresh seed from Ember's global generator, so ``ember.manual_seed(s)``
makes the whole run reproducible; with a ``generator`` (a
:class:`numpy.random.Generator`), every epoch draws from it and advances it.

:class:`Sampler`, :class:`SequentialSampler` and :class:`DistributedSampler` are
Ember's own classes, whose signatures already are PyTorch's.
"""

from __future__ import annotations

import numbers
from typing import Iterator, List, Optional, Sequence, Sized, Union

import numpy as np

from ... import backend
from ...data import sampler as _ember

Sampler = _ember.Sampler
SequentialSampler = _ember.SequentialSampler
DistributedSampler = _ember.DistributedSampler

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "epoch_generator"]


def epoch_generator(generator: Optional[np.random.Generator], who: str) -> np.random.Generator:
    """The generator one epoch draws from, by PyTorch's rule.

    ``None`` gives a new generator seeded from Ember's global generator (so
    :func:`ember.manual_seed` governs it); an ``ember.Generator`` (its NumPy stream)
    or a :class:`numpy.random.Generator` is used as it is, and advances.

    Raises:
        TypeError: ``generator`` is neither ``None`` nor a NumPy generator.

    Example:
        >>> import ember
        >>> ember.manual_seed(0); a = epoch_generator(None, "demo").integers(100)
        >>> ember.manual_seed(0); b = epoch_generator(None, "demo").integers(100)
        >>> bool(a == b)
        True
    """
    if generator is None:
        return np.random.default_rng(int(backend.generator().integers(0, 2 ** 63)))
    if isinstance(generator, np.random.Generator):
        return generator
    stream = getattr(generator, "numpy_generator", None)  # an ember.Generator
    if isinstance(stream, np.random.Generator):
        return stream
    raise TypeError(f"{who}: generator must be None, an ember.Generator or a "
                    f"numpy.random.Generator, got {type(generator).__name__}")


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")
    return int(value)


def _boolean(value: object, name: str, error: type = ValueError) -> bool:
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")
    return value


class RandomSampler(Sampler):
    """Samples in a random order: a new permutation every epoch, or draws with replacement.

    Args:
        data_source: The dataset (only its length is used).
        replacement: Draw ``num_samples`` indices with replacement.
        num_samples: Indices per epoch (default ``len(data_source)``); without
            replacement it may exceed the length, giving several permutations back to
            back, as in PyTorch.
        generator: :class:`numpy.random.Generator` to draw from (default: a seed
            from Ember's global generator each epoch).

    Raises:
        TypeError: ``replacement`` is not a bool.
        ValueError: ``num_samples`` is not a positive integer.

    Example:
        >>> import ember
        >>> ember.manual_seed(0)
        >>> sorted(RandomSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: Optional[int] = None,
                 generator: Optional[np.random.Generator] = None) -> None:
        self.data_source = data_source
        self.replacement = _boolean(replacement, "replacement", TypeError)
        self._num_samples = num_samples
        self.generator = generator
        _positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        """Indices per epoch."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self) -> np.ndarray:
        rng, n = epoch_generator(self.generator, "RandomSampler"), len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return np.concatenate(parts).astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order every epoch.

    Example:
        >>> sorted(SubsetRandomSampler([7, 3, 5], generator=np.random.default_rng(0)))
        [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int],
                 generator: Optional[np.random.Generator] = None) -> None:
        # ``indices`` is PyTorch's attribute (the sequence given), so this sampler
        # yields through __iter__ rather than Ember's indices() method.
        self.indices = indices  # type: ignore[assignment]
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = np.asarray(self.indices, dtype=np.int64)
        rng = epoch_generator(self.generator, "SubsetRandomSampler")
        return iter(order[rng.permutation(len(order))].tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_ember.WeightedRandomSampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    Args:
        weights: One non-negative weight per sample, a 1-D sequence.
        num_samples: Indices per epoch.
        replacement: Draw with replacement (default).
        generator: :class:`numpy.random.Generator` to draw from.

    Raises:
        ValueError: ``weights`` is not 1-D, or ``num_samples`` is not positive.
        TypeError: ``replacement`` is not a bool.

    Example:
        >>> s = WeightedRandomSampler([0.0, 1.0], 3, generator=np.random.default_rng(0))
        >>> list(s)
        [1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Optional[np.random.Generator] = None) -> None:
        _positive_int(num_samples, "num_samples")
        _boolean(replacement, "replacement", TypeError)
        shape = np.shape(weights)
        if len(shape) != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(shape)}")
        super().__init__(weights, num_samples, replacement)
        self.generator = generator

    def indices(self) -> np.ndarray:
        rng = epoch_generator(self.generator, "WeightedRandomSampler")
        p = self.weights / self.weights.sum()
        return rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                          p=p).astype(np.int64)


class BatchSampler(_ember.BatchSampler):
    """Group another sampler's indices into lists of ``batch_size`` (PyTorch's lists of ints).

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=True))
        [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Union[Sampler, Sequence[int]], batch_size: int,
                 drop_last: bool) -> None:
        _positive_int(batch_size, "batch_size")
        _boolean(drop_last, "drop_last")
        super().__init__(sampler, batch_size, drop_last)

    def index_batches(self) -> Iterator[np.ndarray]:
        """The epoch's batches as ``int64`` arrays (what the DataLoader slices with)."""
        return _ember.BatchSampler.__iter__(self)

    def __iter__(self) -> Iterator[List[int]]:  # type: ignore[override]
        for batch in self.index_batches():
            yield batch.tolist()
