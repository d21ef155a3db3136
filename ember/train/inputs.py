"""What ``fit``, ``evaluate`` and ``predict`` accept as data, turned into batches.

Data comes as arrays (``x``, ``y`` and optional ``sample_weight``; ``x`` may be a
tuple of arrays for a model with several inputs), as an :class:`ember.data.Dataset`,
or as a :class:`~ember.data.DataLoader` (any re-iterable of ``(x, y)`` or
``(x, y, sample_weight)`` batches). Arrays and datasets are batched by an
:class:`ember.data.DataLoader` (arrays through a :class:`~ember.data.TensorDataset`),
so one batch is one fancy-index and the order of epoch ``e`` is drawn from
``default_rng([seed, e])`` with the run's seed: the same seed replays the same
epochs, which is what makes a resumed run match an uninterrupted one. A loader
given by the user keeps its own seed (``fit`` calls its ``set_epoch``).

Every length check happens here, before any training: mismatched lengths, empty
data, a ``validation_split`` that leaves nothing to validate on.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ..data import DataLoader, Dataset, DistributedSampler, TensorDataset
from ..data.dataset import fetch_batch
from ..tensor import Tensor

__all__ = ["Batches", "DatasetBatches", "ArrayBatches", "LoaderBatches", "make_batches", "split_validation", "as_array"]


def as_array(value: Any, who: str, what: str) -> np.ndarray:
    """``value`` (a Tensor, array or nested list) as a host array with at least one dimension."""
    if isinstance(value, Tensor):
        value = value._data
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{who}: {what} must be an array, a tuple of arrays, a Dataset or a DataLoader; "
                             f"cannot make an array of this {type(value).__name__} ({err})") from None
    if value.ndim == 0:
        raise ValueError(f"{who}: {what} must have a first (sample) dimension, got a scalar")
    return value


def _inputs(x: Any, who: str) -> tuple:
    """``x`` as a tuple of arrays: several inputs when given a tuple or list of arrays."""
    if isinstance(x, (tuple, list)) and x and all(isinstance(v, Tensor) or hasattr(v, "shape") for v in x):
        return tuple(as_array(v, who, f"x[{i}]") for i, v in enumerate(x))
    return (as_array(x, who, "x"),)


class Batches:
    """A source of ``(inputs, target, weight)`` batches, epoch after epoch.

    ``inputs`` is a tuple of arrays (the model's positional arguments), ``target``
    and ``weight`` arrays or None.
    """

    samples: int | None = None
    steps: int | None = None
    targets: np.ndarray | None = None  # all targets, when they are known up front (arrays)

    def epoch(self, epoch: int, seed: int | None) -> Iterator[tuple]:
        raise NotImplementedError

    def first(self, count: int) -> tuple:
        """The first ``count`` samples as ``(inputs, target)`` (for checks before training)."""
        raise NotImplementedError


class DatasetBatches(Batches):
    """Batches of a map-style dataset, shuffled per epoch from the run's seed."""

    def __init__(self, dataset: Any, batch_size: int, shuffle: bool, who: str) -> None:
        if len(dataset) == 0:
            raise ValueError(f"{who}: got no samples (the data has length 0)")
        self.dataset, self.batch_size, self.shuffle, self.who = dataset, batch_size, shuffle, who
        self.samples, self.steps = len(dataset), math.ceil(len(dataset) / batch_size)

    def _split(self, batch: Any) -> tuple:
        return _split_batch(batch, self.who)

    def epoch(self, epoch: int, seed: int | None) -> Iterator[tuple]:
        from .. import distributed as dist

        if dist.world_size() > 1:
            # Under mpiexec each rank trains on its own shard of every epoch.
            sampler = DistributedSampler(self.dataset, shuffle=self.shuffle, seed=seed or 0)
            loader = DataLoader(self.dataset, batch_size=self.batch_size, sampler=sampler)
        else:
            loader = DataLoader(self.dataset, batch_size=self.batch_size, shuffle=self.shuffle, seed=seed)
        loader.set_epoch(epoch)
        for batch in loader:
            yield self._split(batch)

    def first(self, count: int) -> tuple:
        inputs, target, _ = self._split(fetch_batch(self.dataset, np.arange(min(count, self.samples))))
        return inputs, target


class ArrayBatches(DatasetBatches):
    """Batches of in-memory arrays: ``x`` (one array per input), ``y`` and sample weights."""

    def __init__(self, inputs: tuple, target, weight, batch_size: int, shuffle: bool, who: str) -> None:
        n = len(inputs[0])
        for i, array in enumerate(inputs[1:], 1):
            if len(array) != n:
                raise ValueError(f"{who}: the inputs have different numbers of samples: x[0] has {n}, "
                                 f"x[{i}] has {len(array)}")
        if target is not None and len(target) != n:
            raise ValueError(f"{who}: x and y have different numbers of samples: x has {n}, y has {len(target)}")
        if weight is not None and (weight.ndim != 1 or len(weight) != n):
            raise ValueError(f"{who}: sample_weight must be a vector of {n} weights (one per sample), got "
                             f"shape {weight.shape}")
        arrays = inputs + tuple(a for a in (target, weight) if a is not None)
        super().__init__(TensorDataset(*arrays), batch_size, shuffle, who)
        self.inputs, self.targets, self.weight = inputs, target, weight

    def _split(self, batch: tuple) -> tuple:
        k, has_target = len(self.inputs), self.targets is not None
        target = batch[k] if has_target else None
        weight = batch[k + has_target] if self.weight is not None else None
        return tuple(batch[:k]), target, weight

    def first(self, count: int) -> tuple:
        return (tuple(a[:count] for a in self.inputs),
                None if self.targets is None else self.targets[:count])


def _split_batch(batch: Any, who: str) -> tuple:
    """A loader's batch as ``(inputs, target, weight)``."""
    if isinstance(batch, dict):
        raise TypeError(f"{who}: batches that are dicts are not supported; yield (x, y) tuples "
                        "(write the training loop yourself for other structures)")
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            x, y, w = batch[0], batch[1], None
        elif len(batch) == 3:
            x, y, w = batch
        else:
            raise ValueError(f"{who}: a batch must be (x, y) or (x, y, sample_weight), got a "
                             f"{type(batch).__name__} of {len(batch)} items")
    else:
        x, y, w = batch, None, None
    return (_inputs(x, who), None if y is None else as_array(y, who, "y"),
            None if w is None else as_array(w, who, "sample_weight"))


class LoaderBatches(Batches):
    """Batches from a DataLoader (or any re-iterable of batches)."""

    def __init__(self, loader: Any, who: str) -> None:
        self.loader, self.who = loader, who
        try:
            self.steps = len(loader)
        except TypeError:
            self.steps = None
        dataset = getattr(loader, "dataset", None)
        try:
            self.samples = len(dataset) if dataset is not None else None
        except TypeError:
            self.samples = None
        if self.steps == 0:
            raise ValueError(f"{who}: the data loader yields no batches")

    def epoch(self, epoch: int, seed: int | None) -> Iterator[tuple]:
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)  # a seeded loader replays the order of this epoch
        for batch in self.loader:
            yield _split_batch(batch, self.who)

    def first(self, count: int) -> tuple:
        dataset = getattr(self.loader, "dataset", None)
        if dataset is not None and getattr(self.loader, "collate_fn", None) is None and self.samples:
            # Peek through the dataset: iterating the loader would advance its shuffling epoch.
            batch = fetch_batch(dataset, np.arange(min(count, self.samples)))
        else:
            iterator = iter(self.loader)
            try:
                batch = next(iterator)
            except StopIteration:
                raise ValueError(f"{self.who}: the data loader yields no batches") from None
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        inputs, target, _ = _split_batch(batch, self.who)
        return tuple(a[:count] for a in inputs), None if target is None else target[:count]


def make_batches(x, y, who: str, *, batch_size: int, shuffle: bool = False, sample_weight=None) -> Batches:
    """The :class:`Batches` of ``fit``/``evaluate``/``predict``'s data arguments."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    if x is None:
        raise ValueError(f"{who}: no data given (x is None)")
    if isinstance(x, Dataset):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{who}: x is a Dataset, which holds the targets itself; do not pass y or "
                             "sample_weight")
        return DatasetBatches(x, int(batch_size), shuffle, who)
    if isinstance(x, DataLoader) or (not hasattr(x, "shape") and not isinstance(x, (list, tuple, Tensor))
                                     and hasattr(x, "__iter__")):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{who}: x is a data loader, which yields the targets itself; do not pass y or "
                             "sample_weight")
        return LoaderBatches(x, who)
    inputs = _inputs(x, who)
    target = None if y is None else as_array(y, who, "y")
    weight = None if sample_weight is None else as_array(sample_weight, who, "sample_weight")
    return ArrayBatches(inputs, target, weight, int(batch_size), shuffle, who)


def split_validation(x, y, sample_weight, fraction: float, who: str):
    """Keras's ``validation_split``: the last ``fraction`` of the samples (taken before shuffling)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{who}: validation_split must lie in (0, 1), got {fraction!r}")
    if isinstance(x, (Dataset, DataLoader)) or y is None:
        raise ValueError(f"{who}: validation_split needs arrays x and y; with a Dataset or DataLoader pass "
                         "validation_data (see ember.data.random_split)")
    inputs = _inputs(x, who)
    target = as_array(y, who, "y")
    n = len(inputs[0])
    if len(target) != n:
        raise ValueError(f"{who}: x and y have different numbers of samples: x has {n}, y has {len(target)}")
    split = math.floor(n * (1.0 - fraction))
    if split == n or split == 0:
        raise ValueError(f"{who}: validation_split={fraction} of {n} samples leaves "
                         f"{'no validation' if split == n else 'no training'} samples")
    weight = None if sample_weight is None else as_array(sample_weight, who, "sample_weight")
    head = tuple(a[:split] for a in inputs)
    tail = tuple(a[split:] for a in inputs)
    train = (head if len(head) > 1 else head[0], target[:split], None if weight is None else weight[:split])
    valid = (tail if len(tail) > 1 else tail[0], target[split:], None if weight is None else weight[split:])
    return train, valid
