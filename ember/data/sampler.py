"""Samplers decide which samples make up an epoch, and in which order.

A sampler produces one epoch of indices as an integer array (:meth:`Sampler.indices`)
so that batching slices an array instead of looping over Python ints; iterating
over a sampler yields plain ints for compatibility with PyTorch-style code.

Random samplers draw each epoch's order from ``numpy.random.default_rng([seed, epoch])``:
the same seed gives the same sequence of epochs, each epoch is a fresh shuffle,
and an epoch can be replayed on its own (after resuming from a checkpoint, or on
every MPI rank) with :meth:`set_epoch`. Each call to :meth:`indices` (or ``iter``)
advances the epoch counter unless :meth:`set_epoch` was called in between.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional, Sequence, Sized, Union

import numpy as np

Seed = Union[None, int, np.random.Generator]


class Sampler:
    """Base class: implement :meth:`indices` (preferred) or ``__iter__``, and ``__len__``.

    Example:
        >>> class Reverse(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def indices(self):
        ...         return np.arange(self.n)[::-1]
        ...     def __len__(self):
        ...         return self.n
        >>> list(Reverse(3))
        [2, 1, 0]
    """

    def indices(self) -> np.ndarray:
        """The indices of the next epoch, as an ``int64`` array."""
        # Subclasses that only define __iter__ still work, just without the fast path.
        if type(self).__iter__ is Sampler.__iter__:
            raise NotImplementedError(f"{type(self).__name__} must implement indices() or __iter__")
        return np.fromiter(iter(self), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


def sampler_indices(sampler: Union[Sampler, Sequence[int], Iterator[int]]) -> np.ndarray:
    """One epoch of any sampler (or iterable of ints) as an ``int64`` array.

    Example:
        >>> sampler_indices(SequentialSampler(range(3)))
        array([0, 1, 2])
        >>> sampler_indices([4, 2])
        array([4, 2])
    """
    get = getattr(sampler, "indices", None)
    if callable(get):
        return np.asarray(get(), dtype=np.int64)
    return np.fromiter(iter(sampler), dtype=np.int64)


class _EpochRng:
    """Per-epoch generators derived from one seed (or one shared user generator)."""

    def __init__(self, seed: Seed) -> None:
        if isinstance(seed, np.random.Generator):
            self.generator: Optional[np.random.Generator] = seed
            self.seed = None
        else:
            self.generator = None
            # No seed: still reshuffle every epoch, from fresh OS entropy drawn once.
            self.seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def next(self) -> np.random.Generator:
        if self.generator is not None:
            return self.generator
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        return rng


class SequentialSampler(Sampler):
    """``0, 1, ..., n-1`` every epoch.

    Example:
        >>> SequentialSampler(range(4)).indices()
        array([0, 1, 2, 3])
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation each epoch (or ``num_samples`` draws with replacement).

    Args:
        data_source: The dataset (only its length is used).
        replacement: Draw with replacement instead of permuting.
        num_samples: Samples per epoch (default: the dataset's length).
        seed: Seed (reproducible epochs) or a :class:`numpy.random.Generator` to
            draw from directly.

    Example:
        >>> s = RandomSampler(range(5), seed=0)
        >>> first, second = s.indices(), s.indices()
        >>> sorted(first.tolist()) == [0, 1, 2, 3, 4], bool((first != second).any())
        (True, True)
        >>> s.set_epoch(0); bool((s.indices() == first).all())
        True
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: Optional[int] = None, seed: Seed = None) -> None:
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = num_samples
        if not replacement and num_samples is not None and num_samples > len(data_source):
            raise ValueError("RandomSampler: num_samples > len(dataset) needs replacement=True")
        self._rng = _EpochRng(seed)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    @property
    def epoch(self) -> int:
        """The epoch the next call to :meth:`indices` produces."""
        return self._rng.epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next epoch be ``epoch`` (reproducible on its own)."""
        self._rng.set_epoch(epoch)

    def indices(self) -> np.ndarray:
        rng, n = self._rng.next(), len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        return rng.permutation(n)[: self.num_samples].astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """A random permutation of the given ``indices`` each epoch.

    Example:
        >>> sorted(SubsetRandomSampler([7, 3, 5], seed=1).indices().tolist())
        [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], seed: Seed = None) -> None:
        self._indices = np.asarray(indices, dtype=np.int64)
        self._rng = _EpochRng(seed)

    def set_epoch(self, epoch: int) -> None:
        self._rng.set_epoch(epoch)

    def indices(self) -> np.ndarray:
        return self._rng.next().permutation(self._indices)

    def __len__(self) -> int:
        return len(self._indices)


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices with probability proportional to ``weights``.

    Use it to rebalance classes: give each sample the weight ``1 / count(its class)``.

    Args:
        weights: One non-negative weight per sample (need not sum to 1).
        num_samples: Draws per epoch.
        replacement: With replacement (default); without, ``num_samples`` must not
            exceed the number of non-zero weights.
        seed: Seed or generator.

    Example:
        >>> s = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, seed=0)
        >>> counts = np.bincount(s.indices(), minlength=3)
        >>> int(counts[0]), bool(2.7 < counts[2] / counts[1] < 3.3)
        (0, True)
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 seed: Seed = None) -> None:
        w = np.asarray(weights, dtype=np.float64)
        valid = w.ndim == 1 and w.size > 0 and np.all(np.isfinite(w)) and np.all(w >= 0)
        if not valid or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be a non-empty 1-D sequence of "
                             "finite, non-negative numbers with a positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError("WeightedRandomSampler: without replacement, num_samples must not "
                             "exceed the number of non-zero weights")
        self.weights = w
        self.num_samples, self.replacement = int(num_samples), replacement
        self._rng = _EpochRng(seed)

    def set_epoch(self, epoch: int) -> None:
        self._rng.set_epoch(epoch)

    def indices(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        return self._rng.next().choice(len(p), size=self.num_samples, replace=self.replacement,
                                       p=p).astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples


def _mpi_world() -> tuple:
    # The launchers' environment variables tell the size and rank without
    # importing (and initialising) MPI from inside the data layer.
    for size_var, rank_var in (("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
                               ("PMI_SIZE", "PMI_RANK"), ("PMIX_SIZE", "PMIX_RANK"),
                               ("WORLD_SIZE", "RANK")):
        if size_var in os.environ and rank_var in os.environ:
            return int(os.environ[size_var]), int(os.environ[rank_var])
    return 1, 0


class DistributedSampler(Sampler):
    """The shard of each epoch that belongs to one of ``num_replicas`` processes.

    Every rank computes the same epoch order (same ``seed`` and epoch), pads it
    by wrapping around so that it divides evenly (or drops the tail with
    ``drop_last=True``), and keeps every ``num_replicas``-th index starting at
    ``rank``. Shards are therefore disjoint (up to the padding) and together cover
    the dataset. Like :class:`RandomSampler`, each call to :meth:`indices` moves to
    the next epoch (so forgetting :meth:`set_epoch` does not repeat one order
    forever); calling :meth:`set_epoch` with the same value on every rank pins it
    explicitly, e.g. after resuming from a checkpoint.

    Args:
        dataset: The dataset (only its length is used).
        num_replicas: Number of processes; from the MPI launcher's environment
            (``OMPI_COMM_WORLD_SIZE``, ``PMI_SIZE``...) or 1 when omitted.
        rank: This process's rank, likewise.
        shuffle: Shuffle each epoch (else sequential).
        seed: Seed shared by all ranks.
        drop_last: Drop the tail instead of padding.

    Example:
        >>> shards = [DistributedSampler(range(10), num_replicas=2, rank=r, seed=0).indices()
        ...           for r in range(2)]
        >>> sorted(np.concatenate(shards).tolist()) == list(range(10))
        True
    """

    def __init__(self, dataset: Sized, num_replicas: Optional[int] = None,
                 rank: Optional[int] = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        world, world_rank = _mpi_world()
        self.num_replicas = world if num_replicas is None else int(num_replicas)
        self.rank = world_rank if rank is None else int(rank)
        if self.num_replicas < 1 or not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank {self.rank} is not in "
                             f"[0, {self.num_replicas})")
        self.dataset, self.shuffle, self.drop_last = dataset, shuffle, drop_last
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next :meth:`indices` produce epoch ``epoch`` (the same on all ranks)."""
        self.epoch = int(epoch)

    @property
    def num_samples(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.num_replicas
        return -(-n // self.num_replicas)  # ceiling division

    @property
    def total_size(self) -> int:
        return self.num_samples * self.num_replicas

    def indices(self) -> np.ndarray:
        n = len(self.dataset)
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(n).astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        if self.total_size > n:
            order = np.resize(order, self.total_size)  # np.resize repeats from the start
        else:
            order = order[: self.total_size]
        return order[self.rank: self.total_size: self.num_replicas]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group a sampler's indices into batches (arrays of indices).

    Args:
        sampler: Any sampler or iterable of indices.
        batch_size: Indices per batch.
        drop_last: Drop the final smaller batch.

    Example:
        >>> [b.tolist() for b in BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Union[Sampler, Sequence[int]], batch_size: int,
                 drop_last: bool = False) -> None:
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[np.ndarray]:  # type: ignore[override]
        order = sampler_indices(self.sampler)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start: start + self.batch_size]

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
