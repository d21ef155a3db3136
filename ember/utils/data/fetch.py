"""How one batch is made from a dataset: the same code in the main process and in workers.

A fetcher turns one task into one batch. For a map-style dataset the task is a
batch of indices (or one index without auto-batching); for an iterable dataset it
is "the next batch" of the fetcher's own iterator. Each fetcher keeps
:attr:`where`, a description of what it was loading, for error messages.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional

import numpy as np

from .collate import default_collate, default_convert, to_tensor_tree

Collate = Callable[[List[Any]], Any]


def has_batch_path(dataset: Any) -> bool:
    """Whether ``dataset`` gives whole batches through Ember's ``__getitems__`` (see :mod:`.dataset`).

    A :class:`~ember.data.Subset` or :class:`~ember.data.ConcatDataset` has the path
    only when the datasets it wraps have it, since otherwise its ``__getitems__``
    would collate with Ember's NumPy rules instead of PyTorch's.

    Example:
        >>> from ember.utils.data import TensorDataset, Subset
        >>> has_batch_path(TensorDataset(np.arange(3))), has_batch_path(Subset(range(3), [0]))
        (True, False)
    """
    from ...data.dataset import ConcatDataset, Subset
    if isinstance(dataset, Subset):
        return has_batch_path(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return all(has_batch_path(d) for d in dataset.datasets)
    return callable(getattr(dataset, "__getitems__", None))


class MapFetcher:
    """Batches of a map-style dataset: ``collate([dataset[i] for i in indices])``.

    With the default collate and a dataset that has the batch path, the batch is
    ``dataset.__getitems__(indices)`` (one fancy-index), turned into Tensors.

    Example:
        >>> from ember.utils.data import TensorDataset
        >>> MapFetcher(TensorDataset(np.arange(5)), True, None).fetch([4, 2])[0].tolist()
        [4, 2]
    """

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Optional[Collate]) -> None:
        self.dataset, self.auto_collation = dataset, auto_collation
        self.batch_path = auto_collation and collate_fn is None and has_batch_path(dataset)
        self.collate_fn = collate_fn or (default_collate if auto_collation else default_convert)
        self.where = "nothing yet"

    def fetch(self, indices: Any) -> Any:
        if not self.auto_collation:
            self.where = f"sample index {indices}"
            return self.collate_fn(self.dataset[indices])
        if self.batch_path:
            self.where = f"the batch of sample indices {list(map(int, indices))}"
            return to_tensor_tree(self.dataset.__getitems__(np.asarray(indices, dtype=np.int64)))
        samples = []
        for index in indices:
            index = int(index)
            self.where = f"sample index {index}"
            samples.append(self.dataset[index])
        self.where = f"collating the batch of sample indices {list(map(int, indices))}"
        return self.collate_fn(samples)


class IterableFetcher:
    """Batches of an iterable dataset: the next ``batch_size`` items of one iterator, collated.

    :meth:`fetch` raises ``StopIteration`` when the stream is exhausted (or only a
    short batch is left with ``drop_last``).

    Example:
        >>> f = IterableFetcher(range(5), batch_size=2, drop_last=False, collate_fn=None)
        >>> [f.fetch().tolist() for _ in range(3)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, dataset: Any, batch_size: Optional[int], drop_last: bool,
                 collate_fn: Optional[Collate]) -> None:
        self.iterator: Iterator[Any] = iter(dataset)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.collate_fn = collate_fn or (default_convert if batch_size is None
                                         else default_collate)
        self.count = 0
        self.where = "nothing yet"

    def fetch(self, _task: Any = None) -> Any:
        if self.batch_size is None:
            self.where = f"item {self.count} of the dataset's iterator"
            item = next(self.iterator)
            self.count += 1
            return self.collate_fn(item)
        items = []
        self.where = f"items from {self.count} of the dataset's iterator"
        for item in self.iterator:
            items.append(item)
            self.count += 1
            if len(items) == self.batch_size:
                break
        if not items or (self.drop_last and len(items) < self.batch_size):
            raise StopIteration
        self.where = f"collating items {self.count - len(items)}-{self.count - 1}"
        return self.collate_fn(items)
