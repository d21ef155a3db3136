"""A tiny stand-in for torchvision (not installed here), for the PyTorch side of the MNIST program.

Only what pytorch/examples' ``mnist/main.py`` uses: :class:`datasets.MNIST` over the IDX files
in ``$COMPAT_MNIST_DIR`` (default ``$EMBER_DATA/mnist``), and :mod:`transforms` ``Compose``,
``ToTensor`` and ``Normalize``. Put ``benchmarks/compat/torchvision_shim`` on ``PYTHONPATH``.
"""
from . import datasets, transforms

__all__ = ["datasets", "transforms"]
