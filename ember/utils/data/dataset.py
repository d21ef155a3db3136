"""PyTorch's dataset classes (``torch.utils.data.dataset``) over Ember's (:mod:`ember.data.dataset`).

:class:`Dataset`, :class:`Subset` and :class:`ConcatDataset` are Ember's own classes.
:class:`TensorDataset` holds and returns :class:`ember.Tensor` rows as PyTorch's does;
:class:`IterableDataset` and :class:`ChainDataset` are the stream-style datasets, and
:func:`random_split` follows PyTorch's rules for lengths and fractions.

One difference from PyTorch, kept from :mod:`ember.data`: a dataset's optional
``__getitems__(indices)`` returns the whole **collated batch** (arrays with a batch
axis), not a list of samples; :class:`~ember.utils.data.DataLoader` uses it as its
fast path.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ...data import dataset as _ember
from ...tensor import Tensor, as_tensor
from .sampler import epoch_generator

Dataset = _ember.Dataset
Subset = _ember.Subset
ConcatDataset = _ember.ConcatDataset

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset",
           "ConcatDataset", "random_split"]


class IterableDataset(Dataset):
    """A dataset that is a stream: implement ``__iter__`` (``__len__`` is optional).

    With ``num_workers > 0`` every worker process iterates its own copy, so the
    dataset should split the stream with :func:`~ember.utils.data.get_worker_info`
    (otherwise every worker yields everything), as in PyTorch.

    Example:
        >>> class Count(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n))
        >>> list(Count(3) + Count(2))
        [0, 1, 2, 0, 1]
    """

    # A stream has no length unless a subclass gives one: len() raises TypeError
    # (not the NotImplementedError of map-style datasets), so list() and friends work.
    __len__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: "Dataset") -> "ChainDataset":  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another.

    Example:
        >>> list(ChainDataset([range(2), range(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator[Any]:
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class TensorDataset(_ember.TensorDataset):
    """Rows of tensors sharing their first dimension; ``ds[i]`` is a tuple of Tensors.

    Args:
        *tensors: :class:`ember.Tensor` objects (or arrays) of equal length; kept,
            not copied, in :attr:`tensors`.

    Raises:
        ValueError: The first dimensions differ.

    Example:
        >>> import ember
        >>> ds = TensorDataset(ember.arange(6).reshape(3, 2), ember.tensor([0, 1, 0]))
        >>> x, y = ds[1]
        >>> x.tolist(), int(y), len(ds)
        ([2, 3], 1, 3)
    """

    def __init__(self, *tensors: Any) -> None:
        self.tensors: Tuple[Tensor, ...] = tuple(as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if not self.tensors or None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: Size mismatch between tensors: first dimensions "
                             f"{sizes}")
        # The NumPy views let the DataLoader gather a whole batch in one fancy-index.
        super().__init__(*(t.numpy() for t in self.tensors))

    def __getitem__(self, index: Any) -> Tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


def random_split(dataset: Any, lengths: Sequence[Union[int, float]],
                 generator: Optional[np.random.Generator] = None) -> List[Subset]:
    """Split a dataset into non-overlapping random subsets, as ``torch.utils.data.random_split``.

    Args:
        dataset: The dataset to split.
        lengths: Lengths summing to ``len(dataset)``, or fractions summing to 1
            (``floor(n * fraction)`` each, the remainder handed out one by one from
            the first subset on, as PyTorch does).
        generator: :class:`numpy.random.Generator` for the permutation (default:
            Ember's global generator, so :func:`ember.manual_seed` makes it
            reproducible).

    Returns:
        One :class:`Subset` per length.

    Raises:
        ValueError: A fraction outside [0, 1], or lengths that do not sum to the
            dataset's length.

    Example:
        >>> train, val = random_split(range(10), [0.7, 0.3], generator=np.random.default_rng(0))
        >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
        (7, 3, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes: List[int] = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * fraction)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                              f"result in an empty dataset.", stacklevel=2)
    else:
        sizes = [int(v) for v in lengths]
    if sum(sizes) != n or any(v < 0 for v in sizes):
        raise ValueError(f"random_split: sum of input lengths {sizes} does not equal the length "
                         f"of the input dataset ({n})")
    order = epoch_generator(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
