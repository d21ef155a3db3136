"""Batches of similar lengths: less padding for variable-length sequences (text, digit strings).

:class:`BucketBatchSampler` shuffles the samples, cuts the order into *pools* of
``pool_batches * batch_size`` samples, sorts each pool by length and slices it into batches,
then shuffles the batches. Each batch holds samples of nearly the same length (padding
shrinks to a few percent), while every epoch still mixes the data differently. This is the
bucketing of torchtext's ``BucketIterator`` and of fairseq's length-sorted batching.

Example:
    >>> lengths = [5, 1, 9, 2, 8, 3]
    >>> sampler = BucketBatchSampler(lengths, batch_size=2, seed=0, pool_batches=3)
    >>> batches = [b.tolist() for b in sampler]
    >>> sorted(sum(batches, [])) == list(range(6)), len(batches)
    (True, 3)
    >>> [sorted(lengths[i] for i in b) for b in sorted(batches, key=lambda b: lengths[b[0]])]
    [[1, 2], [3, 5], [8, 9]]
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .sampler import Sampler, Seed, _EpochRng

__all__ = ["BucketBatchSampler"]


class BucketBatchSampler(Sampler):
    """Yield batches (``int64`` index arrays) of samples with similar ``lengths``.

    Args:
        lengths: one length per sample (tokens, columns ...), or ``(N, K)`` lengths sorted by the
            first column, then the second ... (a translation pair's source, then target length).
        batch_size: samples per batch.
        shuffle: shuffle before pooling and shuffle the batches (else pools follow the data order
            and batches come out in that order).
        pool_batches: batches per sorted pool; larger pools pad less but mix less.
        drop_last: drop each pool's last smaller batch.
        seed: seed of the per-epoch shuffles (see :mod:`ember.data.sampler`), or a NumPy generator.

    It is a batch sampler: pass it as ``DataLoader(..., batch_sampler=...)`` or iterate over it.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, pool_batches: int = 50,
                 drop_last: bool = False, seed: Seed = None) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim not in (1, 2):
            raise ValueError(f"BucketBatchSampler: lengths must be one number (or one row) per sample, got shape "
                             f"{self.lengths.shape}")
        for name, value in (("batch_size", batch_size), ("pool_batches", pool_batches)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"BucketBatchSampler: {name} must be a positive int, got {value!r}")
        self.batch_size, self.pool_batches = int(batch_size), int(pool_batches)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self._rng = _EpochRng(seed)

    def set_epoch(self, epoch: int) -> None:
        """Replay epoch ``epoch``'s order (after resuming, or on every rank)."""
        self._rng.set_epoch(epoch)

    def batches(self) -> list:
        """The next epoch's batches, as a list of ``int64`` index arrays."""
        n = len(self.lengths)
        rng = self._rng.next() if self.shuffle else None
        order = rng.permutation(n) if rng is not None else np.arange(n, dtype=np.int64)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, n, pool):
            members = order[start:start + pool]
            keys = self.lengths[members]
            by_length = np.argsort(keys, kind="stable") if keys.ndim == 1 else np.lexsort(keys.T[::-1])
            members = members[by_length]
            for first in range(0, len(members), self.batch_size):
                batch = members[first:first + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch.astype(np.int64))
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self) -> Iterator[np.ndarray]:  # type: ignore[override]
        return iter(self.batches())

    def __len__(self) -> int:
        n, pool = len(self.lengths), self.batch_size * self.pool_batches
        full, rest = divmod(n, pool)
        per_pool = pool // self.batch_size
        if self.drop_last:
            return full * per_pool + rest // self.batch_size
        return full * per_pool + -(-rest // self.batch_size)
