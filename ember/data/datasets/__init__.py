"""Standard datasets in their original distribution formats.

* :class:`MNIST`, :class:`FashionMNIST` (IDX ``.gz``), :func:`load_mnist`,
  :func:`load_fashion_mnist`, :func:`mnist_sample` (the test set shipped in the package),
  :func:`mnist_or_sample` (MNIST, or a fixed split of the sample when offline);
* :class:`CIFAR10`, :class:`CIFAR100` (binary version), :func:`load_cifar10`, :func:`load_cifar100`;
* :class:`CharCorpus`, :class:`WordCorpus`, :class:`Vocabulary`, :func:`tiny_shakespeare`;
* :class:`BabiTask`, :func:`load_babi`, :func:`parse_babi`.

Example:
    >>> from ember.data.datasets import mnist_sample
    >>> len(mnist_sample())
    10000
"""

from .babi import BabiQuestion, BabiTask, load_babi, parse_babi
from .cifar import CIFAR10, CIFAR100, load_cifar10, load_cifar100, parse_cifar
from .idx import parse_idx, read_idx
from .mnist import (MNIST, FashionMNIST, load_fashion_mnist, load_mnist, mnist_or_sample,
                    mnist_sample, sample_dir)
from .text import CharCorpus, SequenceWindows, TextCorpus, WordCorpus, tiny_shakespeare
from .vocab import Vocabulary

__all__ = [
    "MNIST", "FashionMNIST", "load_mnist", "load_fashion_mnist", "mnist_sample", "sample_dir",
    "mnist_or_sample",
    "CIFAR10", "CIFAR100", "load_cifar10", "load_cifar100", "parse_cifar",
    "read_idx", "parse_idx",
    "Vocabulary", "TextCorpus", "CharCorpus", "WordCorpus", "SequenceWindows", "tiny_shakespeare",
    "BabiQuestion", "BabiTask", "load_babi", "parse_babi",
]
