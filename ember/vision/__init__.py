"""torchvision's names: ``datasets``, ``transforms``, ``utils.save_image`` / ``make_grid``.

``from torchvision import datasets, transforms`` becomes
``from ember.vision import datasets, transforms``.

Example:
    >>> from ember.vision import datasets, transforms
    >>> test = datasets.MNIST("../data", train=False, transform=transforms.ToTensor())
    >>> test[0][0].shape
    (1, 28, 28)
"""

from . import datasets, transforms, utils
from .utils import make_grid, save_image

__all__ = ["datasets", "transforms", "utils", "make_grid", "save_image"]
