"""``torchvision.datasets.MNIST`` over the IDX ``.gz`` files, with torchvision's item format."""
from __future__ import annotations

import gzip
import os
import pathlib
from typing import Any, Callable, Optional

import numpy as np
import torch

_FILES = {True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _mnist_dir() -> pathlib.Path:
    if os.environ.get("COMPAT_MNIST_DIR"):
        return pathlib.Path(os.environ["COMPAT_MNIST_DIR"])
    return pathlib.Path(os.environ.get("EMBER_DATA", "/work/shared/data")) / "mnist"


def read_idx(path: pathlib.Path) -> np.ndarray:
    """Decode one gzipped IDX file (unsigned bytes) into an array of its stated shape."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MNIST:
    """MNIST digits: ``ds[i]`` is ``(transform(image), int label)``; ``image`` is uint8 (28, 28).

    ``data`` (uint8 ``(N, 28, 28)``) and ``targets`` (int64 ``(N,)``) are tensors, as in torchvision.

    ``root`` and ``download`` are accepted for torchvision's signature; files come from
    ``$COMPAT_MNIST_DIR`` (or ``$EMBER_DATA/mnist``).
    """

    def __init__(self, root: str = "", train: bool = True, download: bool = False,
                 transform: Optional[Callable] = None, target_transform: Optional[Callable] = None):
        images, labels = _FILES[bool(train)]
        self._images = read_idx(_mnist_dir() / images)
        self._labels = read_idx(_mnist_dir() / labels).astype(np.int64)
        self.data = torch.from_numpy(self._images.copy())
        self.targets = torch.from_numpy(self._labels.copy())
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
