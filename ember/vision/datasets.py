"""torchvision's ``datasets.MNIST``, ``FashionMNIST`` and ``CIFAR10``, over Ember's loaders.

The signature is torchvision's, ``(root, train=True, transform=None,
target_transform=None, download=False)``, and so are the samples: ``ds[i]`` is
``(image, target)`` with ``target`` a Python ``int`` and ``image`` a ``uint8``
NumPy picture (``28 x 28`` for MNIST, ``32 x 32 x 3`` for CIFAR-10), which
:class:`~ember.vision.transforms.ToTensor` turns into a float Tensor ``C x H x W``
in [0, 1]. (torchvision returns a PIL image; a NumPy array needs no Pillow.)

Files are looked for in torchvision's layout first (``root/MNIST/raw/``), then in
Ember's (``root/mnist/``, ``root``), then in Ember's data directory
(``$EMBER_DATA``); ``download=True`` downloads only when none of them holds the
files. CIFAR-10 is read from its **binary version** (``cifar-10-binary.tar.gz`` or
``cifar-10-batches-bin/``): torchvision's python version is a pickle, which Ember
never loads.

Each dataset also serves whole batches (``__getitems__``) through the transforms'
``batch`` methods, the DataLoader's fast path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from ..data.datasets import cifar as _cifar
from ..data.datasets import mnist as _mnist
from ..data.download import data_dir
from ..data.errors import DataNotFoundError
from ..tensor import Tensor
from .transforms import apply_batch

__all__ = ["MNIST", "FashionMNIST", "CIFAR10"]

PathLike = Union[str, "os.PathLike[str]"]
Transform = Optional[Callable[[Any], Any]]


class _VisionDataset:
    """What the three datasets share: torchvision's item, batch and description."""

    arrays: Tuple[np.ndarray, np.ndarray]
    transform: Transform
    target_transform: Transform
    classes: List[str]

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        image, target = self.arrays[0][index], int(self.arrays[1][index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getitems__(self, indices: Any) -> Tuple[Any, Any]:
        indices = np.asarray(indices, dtype=np.intp)
        return (apply_batch(self.transform, self.arrays[0][indices]),
                apply_batch(self.target_transform, self.arrays[1][indices]))

    @property
    def class_to_idx(self) -> Dict[str, int]:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {split}"]
        if self.transform is not None:
            lines.append(f"    StandardTransform\nTransform: {self.transform!r}")
        return "\n".join(lines)


def _idx_directory(cls: Any, root: Optional[PathLike], train: bool) -> Optional[Path]:
    """The first folder holding the split's IDX files: torchvision's layout, Ember's, then EMBER_DATA."""
    names = [f[0] for f in cls.files["train" if train else "test"]]
    candidates = []
    if root is not None:
        base = Path(root).expanduser()
        candidates += [base / cls.torchvision_folder / "raw", base / cls.torchvision_folder,
                       base / cls.folder, base]
    candidates.append(data_dir() / cls.folder)
    for directory in candidates:
        if all((directory / name).is_file() for name in names):
            return directory
    return None


class _IdxVision(_VisionDataset):
    """MNIST-style: torchvision's constructor and Tensor ``data`` / ``targets``."""

    torchvision_folder: str

    def __init__(self, root: Optional[PathLike], train: bool = True, transform: Transform = None,
                 target_transform: Transform = None, download: bool = False) -> None:
        self.root = root
        found = _idx_directory(type(self), root, train)
        super().__init__(found if found is not None else root, train=train,  # type: ignore
                         download=download, transform=transform,
                         target_transform=target_transform)

    @property
    def data(self) -> Tensor:
        """All images, ``uint8`` ``(N, 28, 28)``."""
        return Tensor(self.arrays[0])

    @property
    def targets(self) -> Tensor:
        """All labels, ``int64`` ``(N,)``."""
        return Tensor(self.arrays[1])


class MNIST(_IdxVision, _mnist.MNIST):
    """MNIST digits with torchvision's interface: ``ds[i]`` is ``(28 x 28 uint8 picture, int)``.

    Attributes:
        data: All images, a ``uint8`` Tensor ``(N, 28, 28)``.
        targets: All labels, an ``int64`` Tensor ``(N,)``.
        classes: ``['0 - zero', ..., '9 - nine']``.

    Args:
        root: Where to look first (torchvision's ``root/MNIST/raw/`` or Ember's
            ``root/mnist/``); Ember's data directory is searched too.
        train: The 60,000 training images (else the 10,000 test images).
        transform: Applied to each picture (e.g. ``transforms.ToTensor()``).
        target_transform: Applied to each label.
        download: Download the files when they are found nowhere (into
            ``root/mnist/``).

    Raises:
        DataNotFoundError: The files are missing and ``download`` is false.

    Example:
        >>> from ember.vision import transforms
        >>> test = MNIST("../data", train=False, transform=transforms.ToTensor())
        >>> x, y = test[0]
        >>> x.shape, str(x.dtype), y, len(test)
        ((1, 28, 28), 'float32', 7, 10000)
    """

    torchvision_folder = "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]


class FashionMNIST(_IdxVision, _mnist.FashionMNIST):
    """Fashion-MNIST with torchvision's interface; see :class:`MNIST` (folder ``FashionMNIST``).

    Example:
        >>> test = FashionMNIST("../data", train=False)
        >>> image, label = test[0]
        >>> image.shape, test.classes[label]
        ((28, 28), 'Ankle boot')
    """

    torchvision_folder = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(_VisionDataset, _cifar.CIFAR10):
    """CIFAR-10 with torchvision's interface: ``ds[i]`` is ``(32 x 32 x 3 uint8 picture, int)``.

    Reads the binary version (``cifar-10-binary.tar.gz`` or ``cifar-10-batches-bin/``)
    in ``root``, ``root/cifar10/`` or Ember's data directory.

    Attributes:
        data: All images, ``uint8`` NumPy ``(N, 32, 32, 3)`` (channels last, as torchvision).
        targets: All labels, a list of ints.
        classes: ``['airplane', 'automobile', ...]``.

    Raises:
        DataNotFoundError: Nothing found and ``download`` is false (also when only
            torchvision's pickled ``cifar-10-batches-py/`` is there).

    Example:
        >>> train = CIFAR10("../data", train=True)  # doctest: +SKIP
        >>> train.data.shape, train.classes[train.targets[0]]  # doctest: +SKIP
        ((50000, 32, 32, 3), 'frog')
    """

    classes = list(_cifar.CIFAR10.classes)

    def __init__(self, root: Optional[PathLike], train: bool = True, transform: Transform = None,
                 target_transform: Transform = None, download: bool = False) -> None:
        self.root = root
        try:
            super().__init__(root, train=train, download=False, transform=transform,
                             target_transform=target_transform)
        except DataNotFoundError:
            if root is not None and _found_elsewhere(self, train):
                super().__init__(None, train=train, download=False, transform=transform,
                                 target_transform=target_transform)
            elif download:
                super().__init__(root, train=train, download=True, transform=transform,
                                 target_transform=target_transform)
            elif root is not None and (Path(root) / "cifar-10-batches-py").is_dir():
                raise DataNotFoundError(
                    f"CIFAR10: {Path(root) / 'cifar-10-batches-py'} is torchvision's pickled "
                    f"python version, which Ember never loads (pickle runs code). Put "
                    f"cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/"
                    f"cifar-10-binary.tar.gz) or its cifar-10-batches-bin/ folder in {root}, "
                    f"or pass download=True.") from None
            else:
                raise
        # torchvision keeps pictures channels-last; one copy at load time.
        self.arrays = (np.ascontiguousarray(self.arrays[0].transpose(0, 2, 3, 1)), self.arrays[1])

    @property
    def data(self) -> np.ndarray:  # type: ignore[override]
        """All images, ``uint8`` ``(N, 32, 32, 3)``."""
        return self.arrays[0]

    @property
    def targets(self) -> List[int]:  # type: ignore[override]
        """All labels as Python ints."""
        return self.arrays[1].tolist()


def _found_elsewhere(dataset: CIFAR10, train: bool) -> bool:
    try:
        dataset._find(None, False, False)
    except DataNotFoundError:
        return False
    return True
