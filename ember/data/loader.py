"""DataLoader: batches from a dataset, shuffled reproducibly, optionally prefetched.

A batch is produced in one of two ways:

* **fast path** (default collate and a dataset with ``__getitems__``, such as
  :class:`~ember.data.TensorDataset`, MNIST or CIFAR): the dataset is indexed once
  with the batch's index array, so the batch is a single NumPy fancy-index;
* **per-sample path** (other datasets, or a custom ``collate_fn``):
  ``collate_fn([dataset[i] for i in batch_indices])``.

With ``prefetch=k`` a background thread prepares up to ``k`` batches ahead while
the training step runs (NumPy copies and most transforms release the GIL). The
batches and their order are exactly those of ``prefetch=0``.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, List, Optional, Sized

import numpy as np

from .collate import default_collate, tree_map
from .dataset import fetch_batch
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate"]


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: A map-style dataset (``__len__`` and ``__getitem__``, ideally
            ``__getitems__``).
        batch_size: Samples per batch.
        shuffle: Reshuffle at every epoch (every ``iter(loader)``), from ``seed``.
        sampler: Custom sampler (e.g. :class:`~ember.data.DistributedSampler`);
            excludes ``shuffle``.
        batch_sampler: Custom sampler of whole batches; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        drop_last: Drop the last batch if it is smaller than ``batch_size``.
        seed: Seed of the shuffling. The same seed gives the same sequence of
            epochs; ``None`` draws a fresh seed.
        collate_fn: Turns a list of samples into a batch. Giving one disables the
            fast path.
        prefetch: Number of batches prepared ahead by a background thread (0: none).
        as_tensor: Wrap every array of a batch in ``ember.Tensor`` (no copy).

    Example:
        >>> from ember.data import TensorDataset
        >>> x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
        >>> [xb.shape for xb, yb in loader]
        [(4, 2), (4, 2), (2, 2)]
        >>> len(loader)
        3
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 sampler: Optional[Sampler] = None, batch_sampler: Optional[Any] = None,
                 drop_last: bool = False, seed: Optional[int] = None,
                 collate_fn: Optional[Callable[[List[Any]], Any]] = None, prefetch: int = 0,
                 as_tensor: bool = False) -> None:
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler "
                                 "and drop_last")
        else:
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: pass either shuffle=True or a sampler, not both "
                                 "(the sampler decides the order)")
            if sampler is None:
                sampler = (RandomSampler(dataset, seed=seed) if shuffle
                           else SequentialSampler(dataset))
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if int(prefetch) < 0:
            raise ValueError(f"DataLoader: prefetch must be >= 0, got {prefetch}")
        self.dataset = dataset
        self.batch_size = None if sampler is None else batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.prefetch = int(prefetch)
        self.as_tensor = as_tensor

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration be epoch ``epoch`` of the sampler (for resuming, MPI).

        Example:
            >>> from ember.data import TensorDataset
            >>> loader = DataLoader(TensorDataset(np.arange(6)), batch_size=6, shuffle=True, seed=1)
            >>> first = next(iter(loader))[0]
            >>> loader.set_epoch(0); bool((next(iter(loader))[0] == first).all())
            True
        """
        target = self.batch_sampler
        if hasattr(target, "set_epoch"):
            target.set_epoch(epoch)

    def __iter__(self) -> Iterator[Any]:
        wrap = _tensor_wrapper() if self.as_tensor else None
        batches = self._batches(wrap)
        if self.prefetch > 0:
            return _prefetched(batches, self.prefetch)
        return batches

    def _batches(self, wrap: Optional[Callable[[Any], Any]]) -> Iterator[Any]:
        for indices in self.batch_sampler:
            batch = self._fetch(np.asarray(indices, dtype=np.int64))
            yield batch if wrap is None else wrap(batch)

    def _fetch(self, indices: np.ndarray) -> Any:
        if self.collate_fn is None:
            return fetch_batch(self.dataset, indices)
        return self.collate_fn([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}(n={_len(self.dataset)}), "
                f"batch_size={self.batch_size}, batches={len(self)}, "
                f"sampler={type(self.sampler).__name__}, prefetch={self.prefetch})")


def _len(obj: Sized) -> Any:
    try:
        return len(obj)
    except TypeError:  # pragma: no cover
        return "?"


def _tensor_wrapper() -> Callable[[Any], Any]:
    # Imported here, not at module level: the data layer must import (and be
    # tested) without the core, which itself imports ember.data.
    try:
        import ember
        tensor_type = ember.Tensor
    except (ImportError, AttributeError) as exc:
        raise ImportError("DataLoader(as_tensor=True) needs ember.Tensor from the ember core, "
                          "which is not available; use as_tensor=False to get NumPy "
                          "arrays") from exc
    return lambda batch: tree_map(
        lambda leaf: tensor_type(leaf) if isinstance(leaf, np.ndarray) else leaf, batch)


_END = object()


def _prefetched(source: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run ``source`` in a daemon thread, ``depth`` items ahead of the consumer.

    Exceptions raised while producing a batch are re-raised in the consumer,
    with their traceback. When the consumer stops early (``break``), the
    generator is closed and the thread stops after at most one more batch.
    """
    slots: "queue.Queue[Any]" = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((item, None)) or stop.is_set():
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((None, exc))

    thread = threading.Thread(target=produce, name="ember-data-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
