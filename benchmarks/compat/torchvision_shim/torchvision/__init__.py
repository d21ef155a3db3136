"""A tiny stand-in for torchvision (not installed here), for the PyTorch side of the MNIST program.

Only what the MNIST programs of pytorch/examples use: :class:`datasets.MNIST` over the IDX files
in ``$COMPAT_MNIST_DIR`` (default ``$EMBER_DATA/mnist``), :mod:`transforms` ``Compose``,
``ToTensor``, ``Normalize`` and ``Lambda``, and :func:`utils.save_image` (through Ember's, so the
repository must be importable too). Put ``benchmarks/compat/torchvision_shim`` on ``PYTHONPATH``.
"""
from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
