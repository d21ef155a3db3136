"""PyTorch's ``torch.utils.data``: datasets, samplers and the DataLoader, yielding :class:`ember.Tensor`.

``import torch.utils.data`` becomes ``import ember.utils.data``; the names,
arguments and behaviour are PyTorch's. The pieces are Ember's own data layer
(:mod:`ember.data`, which works in NumPy arrays) behind PyTorch's signatures.

Example:
    >>> import numpy as np
    >>> from ember.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.random.rand(10, 3).astype(np.float32), np.arange(10))
    >>> x, y = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    >>> x.shape, str(y.dtype)
    ((4, 3), 'int64')
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset,
                      TensorDataset, random_split)
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                      SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "random_split", "DataLoader", "default_collate", "default_convert", "get_worker_info",
    "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "DistributedSampler",
]
