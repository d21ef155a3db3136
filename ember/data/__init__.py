"""Ember's data layer: datasets, samplers, loaders, transforms, downloads.

Everything stays in NumPy arrays; only NumPy is required, and the core of Ember
is not imported here (``DataLoader(as_tensor=True)`` imports it lazily).

Example:
    >>> from ember.data import DataLoader
    >>> from ember.data.datasets import mnist_sample
    >>> from ember.data.transforms import ToFloat
    >>> loader = DataLoader(mnist_sample(transform=ToFloat()), batch_size=128, shuffle=True, seed=0)
    >>> x, y = next(iter(loader))
    >>> x.shape, x.dtype, y.shape
    ((128, 28, 28), dtype('float32'), (128,))
"""

from . import datasets, transforms
from .cache import decoded_cache_dir
from .collate import default_collate
from .dataset import ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (CIFAR10, CIFAR100, MNIST, BabiTask, CharCorpus, FashionMNIST, Vocabulary,
                       WordCorpus, load_babi, load_cifar10, load_cifar100, load_fashion_mnist,
                       load_mnist, mnist_sample, tiny_shakespeare)
from .download import data_dir, download_url
from .errors import DataError, DataNotFoundError
from .loader import DataLoader
from .bucketing import BucketBatchSampler
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .transforms import (Compose, Flatten, Lambda, Normalize, OneHot, RandomCrop,
                         RandomHorizontalFlip, RandomNoise, Reshape, ToFloat, Transform,
                         to_categorical)

__all__ = [
    # datasets and loading
    "Dataset", "TensorDataset", "ArrayDataset", "Subset", "ConcatDataset", "random_split",
    "DataLoader", "default_collate",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "DistributedSampler", "BatchSampler", "BucketBatchSampler",
    # transforms
    "Transform", "Compose", "Lambda", "ToFloat", "Normalize", "Reshape", "Flatten", "OneHot",
    "to_categorical", "RandomCrop", "RandomHorizontalFlip", "RandomNoise",
    # standard datasets
    "MNIST", "FashionMNIST", "load_mnist", "load_fashion_mnist", "mnist_sample",
    "CIFAR10", "CIFAR100", "load_cifar10", "load_cifar100",
    "Vocabulary", "CharCorpus", "WordCorpus", "tiny_shakespeare",
    "BabiTask", "load_babi",
    # files
    "data_dir", "decoded_cache_dir", "download_url", "DataError", "DataNotFoundError",
    "datasets", "transforms",
]
