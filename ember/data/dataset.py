"""Datasets: indexable collections of samples, and ways to combine and split them.

The protocol is PyTorch's map-style dataset, ``__len__`` plus ``__getitem__(i)``,
with one addition that keeps batches in NumPy: a dataset may define
``__getitems__(indices)``, taking an integer array and returning the **whole
batch already collated** (arrays with a leading batch axis, in the same
tuple/dict structure as one sample). :class:`~ember.data.DataLoader` uses it when
present, so one batch costs one fancy-index instead of a Python loop over
samples. (PyTorch's ``__getitems__`` returns a list of samples instead; Ember's
returns the batch.)
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Generic, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

from .collate import default_collate, tree_concat, tree_map
from .transforms import apply_batch

T = TypeVar("T")
Transform = Optional[Callable[[Any], Any]]


class Dataset(Generic[T]):
    """Base class of map-style datasets: implement ``__len__`` and ``__getitem__``.

    Optionally implement ``__getitems__(indices)`` returning a collated batch for
    an integer array of indices (the DataLoader's fast path). ``a + b`` concatenates.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i * i
        >>> ds = Squares()
        >>> len(ds), ds[3], len(ds + ds)
        (4, 9, 8)
    """

    def __getitem__(self, index: int) -> T:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


def fetch_batch(dataset: Any, indices: np.ndarray) -> Any:
    """Get the collated batch ``indices`` of ``dataset``: one call when it has ``__getitems__``.

    Example:
        >>> fetch_batch(TensorDataset(np.arange(10) * 10), np.array([3, 1]))
        (array([30, 10]),)
        >>> fetch_batch([5, 6, 7], np.array([2, 0]))  # any indexable works, sample by sample
        array([7, 5])
    """
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return getitems(indices)
    return default_collate([dataset[int(i)] for i in indices])


class TensorDataset(Dataset[Tuple[Any, ...]]):
    """Samples are rows of arrays sharing their first dimension; ``ds[i]`` is a tuple.

    Args:
        *arrays: Arrays (anything :func:`numpy.asarray` accepts) of equal length.
            They are not copied.
        transforms: Optional sequence with one transform (or ``None``) per array.

    Raises:
        ValueError: The arrays differ in length, or ``transforms`` has the wrong length.

    Example:
        >>> x, y = np.arange(12).reshape(6, 2), np.arange(6)
        >>> ds = TensorDataset(x, y)
        >>> ds[1][0], int(ds[1][1])
        (array([2, 3]), 1)
        >>> ds.__getitems__(np.array([0, 5]))[1]  # a whole batch in one fancy-index
        array([0, 5])
    """

    def __init__(self, *arrays: Any, transforms: Optional[Sequence[Transform]] = None) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(np.asarray(a) for a in arrays)
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same length, got {lengths}")
        if transforms is None:
            transforms = [None] * len(self.arrays)
        if len(transforms) != len(self.arrays):
            raise ValueError(f"TensorDataset: got {len(transforms)} transforms for "
                             f"{len(self.arrays)} arrays")
        self.transforms: List[Transform] = list(transforms)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> Tuple[Any, ...]:
        return tuple(a[index] if t is None else t(a[index])
                     for a, t in zip(self.arrays, self.transforms))

    def __getitems__(self, indices: Any) -> Tuple[Any, ...]:
        indices = np.asarray(indices, dtype=np.intp)
        return tuple(apply_batch(t, a[indices]) for a, t in zip(self.arrays, self.transforms))


class ArrayDataset(TensorDataset):
    """Supervised dataset held as two arrays, ``data`` and ``targets`` (base of MNIST, CIFAR).

    ``ds[i]`` is ``(transform(data[i]), target_transform(targets[i]))``; batches go
    through each transform's vectorised ``batch`` path.

    Example:
        >>> from ember.data.transforms import ToFloat
        >>> ds = ArrayDataset(np.full((3, 2, 2), 255, np.uint8), np.arange(3), transform=ToFloat())
        >>> float(ds[0][0].max()), int(ds.targets[2])
        (1.0, 2)
    """

    def __init__(self, data: Any, targets: Any, transform: Transform = None,
                 target_transform: Transform = None) -> None:
        super().__init__(data, targets, transforms=[transform, target_transform])

    @property
    def data(self) -> np.ndarray:
        """The inputs, e.g. ``uint8`` images."""
        return self.arrays[0]

    @property
    def targets(self) -> np.ndarray:
        """The labels (``int64``)."""
        return self.arrays[1]

    @property
    def transform(self) -> Transform:
        """Transform applied to inputs (settable)."""
        return self.transforms[0]

    @transform.setter
    def transform(self, value: Transform) -> None:
        self.transforms[0] = value

    @property
    def target_transform(self) -> Transform:
        """Transform applied to targets (settable)."""
        return self.transforms[1]

    @target_transform.setter
    def target_transform(self, value: Transform) -> None:
        self.transforms[1] = value

    def __repr__(self) -> str:
        sample = f"{self.data.dtype}{self.data.shape[1:]}"
        return (f"{type(self).__name__}(n={len(self)}, data={sample}, "
                f"transform={self.transform!r})")


class Subset(Dataset[T]):
    """A view of ``dataset`` restricted to ``indices`` (in that order).

    Example:
        >>> sub = Subset(TensorDataset(np.arange(10)), [9, 0])
        >>> len(sub), int(sub[0][0])
        (2, 9)
    """

    def __init__(self, dataset: Any, indices: Iterable[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(list(indices) if not isinstance(indices, np.ndarray)
                                  else indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> T:
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: Any) -> Any:
        return fetch_batch(self.dataset, self.indices[np.asarray(indices, dtype=np.intp)])


class ConcatDataset(Dataset[Any]):
    """Several datasets one after another.

    Example:
        >>> ds = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
        >>> len(ds), int(ds[3][0]), ds.__getitems__(np.array([4, 0]))
        (5, 10, (array([11,  0]),))
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def _locate(self, indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"ConcatDataset: index out of range for length {n}")
        indices = np.where(indices < 0, indices + n, indices)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        return which, indices - starts[which]

    def __getitem__(self, index: int) -> Any:
        which, local = self._locate(np.asarray([index], dtype=np.int64))
        return self.datasets[int(which[0])][int(local[0])]

    def __getitems__(self, indices: Any) -> Any:
        which, local = self._locate(np.asarray(indices, dtype=np.int64))
        parts, positions = [], []
        for d in np.unique(which):
            chosen = np.flatnonzero(which == d)
            parts.append(fetch_batch(self.datasets[int(d)], local[chosen]))
            positions.append(chosen)
        if len(parts) == 1:
            return parts[0]
        # Gather per dataset, then put the rows back in the order they were asked for.
        order = np.argsort(np.concatenate(positions), kind="stable")
        batch = tree_concat(parts)
        return tree_map(lambda a: [a[i] for i in order] if isinstance(a, list) else a[order], batch)


def random_split(dataset: Any, lengths: Sequence[Union[int, float]],
                 seed: Union[None, int, np.random.Generator] = None) -> List[Subset]:
    """Split a dataset into non-overlapping random subsets.

    Args:
        dataset: The dataset to split.
        lengths: Sizes of the parts summing to ``len(dataset)``, or fractions
            summing to 1 (the remainder of the rounding goes to the first parts).
        seed: Seed or :class:`numpy.random.Generator`, for a reproducible split.

    Returns:
        One :class:`Subset` per length.

    Raises:
        ValueError: The lengths do not add up.

    Example:
        >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                       for v in lengths):
        if not np.isclose(sum(lengths), 1.0) or any(v < 0 for v in lengths):
            raise ValueError(f"random_split: fractions must be >= 0 and sum to 1, got {lengths}")
        sizes = [int(np.floor(n * v)) for v in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(v) for v in lengths]
        if sum(sizes) != n or any(v < 0 for v in sizes):
            raise ValueError(f"random_split: lengths {sizes} do not sum to the dataset's "
                             f"length {n}")
    permutation = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, permutation[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
