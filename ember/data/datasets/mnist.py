"""MNIST and Fashion-MNIST, read from their original IDX ``.gz`` files.

Files live in ``<data dir>/mnist/`` and ``<data dir>/fashion-mnist/`` under their
original names. The first load checks each file's published MD5, decodes it and
caches the arrays as ``.npy`` (see :mod:`ember.data.cache`); later loads take a
few milliseconds.

The MNIST **test set** (t10k, 10,000 images, the real files, 1.6 MB) ships inside
the package in ``ember/data/samples/``: ``MNIST(train=False)`` falls back to it
when no other copy is found, and :func:`mnist_sample` always uses it, so demos
run with no download.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Optional, Tuple, Union

import numpy as np

from ..cache import cached_arrays
from ..dataset import ArrayDataset
from ..download import RemoteFile, candidate_dirs, download_url, locate, missing_error
from ..errors import DataError
from .idx import MAGIC_IMAGES, MAGIC_LABELS, read_idx

PathLike = Union[str, "os.PathLike[str]"]
Transform = Optional[Callable[[Any], Any]]
Arrays = Tuple[np.ndarray, np.ndarray]

#: The fixed split of the shipped sample used by :func:`mnist_or_sample`: its first
#: 8,000 images train, its last 2,000 test.
SAMPLE_TRAIN_SIZE = 8000
_NOTED: set = set()  # fallback notes already printed by this process


def sample_dir() -> Path:
    """The package folder holding the shipped MNIST test set (``t10k-*-ubyte.gz``).

    Example:
        >>> sorted(p.name for p in sample_dir().glob("*.gz"))
        ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    """
    return Path(__file__).resolve().parent.parent / "samples"


class _IdxImages(ArrayDataset):
    """Shared loader of the MNIST-style datasets: 28x28 ``uint8`` images, ``int64`` labels."""

    name: ClassVar[str]
    folder: ClassVar[str]
    mirrors: ClassVar[Tuple[str, ...]]
    classes: ClassVar[Tuple[str, ...]]
    # split -> ((images file, md5, size), (labels file, md5, size))
    files: ClassVar[Dict[str, Tuple[Tuple[str, str, int], Tuple[str, str, int]]]]
    counts: ClassVar[Dict[str, int]] = {"train": 60000, "test": 10000}
    has_sample: ClassVar[bool] = False

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False,
                 transform: Transform = None, target_transform: Transform = None,
                 verify: bool = True, progress: bool = True) -> None:
        self.train = train
        self.split = "train" if train else "test"
        self.directory = self._find_files(root, download, progress)
        images, labels = self._decode(self.directory, verify)
        super().__init__(images, labels, transform, target_transform)

    @classmethod
    def remote_files(cls, split: str) -> Tuple[RemoteFile, RemoteFile]:
        """The split's image and label files, with checksums and current mirrors."""
        return tuple(RemoteFile(name, tuple(m + name for m in cls.mirrors), md5=md5, size=size)
                     for name, md5, size in cls.files[split])  # type: ignore[return-value]

    def _find_files(self, root: Optional[PathLike], download_missing: bool, progress: bool) -> Path:
        remote = self.remote_files(self.split)
        names = [f.name for f in remote]
        found = locate(self.folder, names, root)
        if found is not None:
            return found
        target = candidate_dirs(self.folder, root)[0]
        if download_missing:
            for f in remote:
                if not (target / f.name).is_file():
                    download_url(f.urls, target / f.name, md5=f.md5, size=f.size, progress=progress)
            return target
        if self.has_sample and not self.train and all((sample_dir() / n).is_file() for n in names):
            return sample_dir()
        missing = [f for f in remote if not (target / f.name).is_file()]
        raise missing_error(self.name, target, missing)

    def _decode(self, directory: Path, verify: bool) -> Arrays:
        image_file, label_file = self.remote_files(self.split)
        image_path, label_path = directory / image_file.name, directory / label_file.name

        def decode() -> Dict[str, np.ndarray]:
            # Checksums are checked when decoding, not on every load: the cache is
            # keyed to the files' size and mtime, so a verified decode stays valid.
            if verify:
                image_file.verify(directory)
                label_file.verify(directory)
            # Bound what a header may declare by the split's published size, so a
            # crafted header (or gzip bomb) is refused before anything is inflated.
            count = self.counts[self.split]
            images = read_idx(image_path, MAGIC_IMAGES, limit=count * 28 * 28)
            labels = read_idx(label_path, MAGIC_LABELS, limit=count)
            _check(images, labels, image_path, label_path, len(self.classes))
            return {"images": images, "labels": labels.astype(np.int64)}

        arrays = cached_arrays([image_path, label_path], decode, ["images", "labels"])
        return arrays["images"], arrays["labels"]


def _check(images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path,
           num_classes: int) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(f"expected uint8 images of shape (N, 28, 28), got {images.dtype} "
                        f"{images.shape}", image_path)
    if labels.ndim != 1:
        raise DataError(f"expected a 1-D array of labels, got shape {labels.shape}", label_path)
    if len(images) != len(labels):
        raise DataError(f"{len(images)} images in {image_path.name} but {len(labels)} labels",
                        label_path)
    if labels.size and labels.max() >= num_classes:
        raise DataError(f"label {int(labels.max())} out of range for {num_classes} classes",
                        label_path)


class MNIST(_IdxImages):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, 10 classes.

    ``ds[i]`` is ``(image, label)``: a ``uint8`` ``(28, 28)`` array (after
    ``transform``) and an ``int64`` label. :attr:`data` holds all images
    (``uint8``, ``N x 28 x 28``) and :attr:`targets` all labels (``int64``).

    Files (in ``root/mnist/``, ``root``, or ``$EMBER_DATA/mnist/``):
    ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``.

    Args:
        root: Data directory (default: :func:`~ember.data.data_dir`).
        train: Training split (else the test split).
        download: Download missing files from the mirrors.
        transform: Applied to images (see :mod:`ember.data.transforms`).
        target_transform: Applied to labels.
        verify: Check the published MD5s on first decode.
        progress: Progress bar while downloading.

    Raises:
        DataNotFoundError: Files missing and ``download=False`` (the test split
            falls back to the copy shipped in the package first).
        DataError: A file is corrupt (checksum, gzip, IDX header or length).

    Example:
        >>> from ember.data.transforms import ToFloat
        >>> test = MNIST(train=False, transform=ToFloat())
        >>> x, y = test[0]
        >>> x.shape, x.dtype, int(y), len(test)
        ((28, 28), dtype('float32'), 7, 10000)
    """

    name = "MNIST"
    folder = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    classes = tuple(str(d) for d in range(10))
    files = {
        "train": (("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
                  ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881)),
        "test": (("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542)),
    }
    has_sample = True


class FashionMNIST(_IdxImages):
    """Zalando's Fashion-MNIST: a drop-in MNIST replacement with 10 clothing classes.

    Same format, sizes and interface as :class:`MNIST` (files in
    ``root/fashion-mnist/``); :attr:`classes` holds the class names. No copy ships
    in the package.

    Example:
        >>> train = FashionMNIST()  # doctest: +SKIP
        >>> train.classes[int(train.targets[0])]  # doctest: +SKIP
        'Ankle boot'
    """

    name = "Fashion-MNIST"
    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/")
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
    files = {
        "train": (("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880),
                  ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29515)),
        "test": (("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4422102),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5148)),
    }


def mnist_sample(transform: Transform = None, target_transform: Transform = None) -> MNIST:
    """The real MNIST test set (10,000 images) shipped inside the package; never downloads.

    Example:
        >>> ds = mnist_sample()
        >>> len(ds), ds.data.shape, int(np.bincount(ds.targets).min())
        (10000, (10000, 28, 28), 892)
    """
    return MNIST(root=sample_dir(), train=False, transform=transform,
                 target_transform=target_transform)


def load_mnist(root: Optional[PathLike] = None, download: bool = False) -> Tuple[Arrays, Arrays]:
    """Keras-style ``(x_train, y_train), (x_test, y_test)``: ``uint8`` images, ``int64`` labels.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
        >>> x_train.shape, y_test.dtype  # doctest: +SKIP
        ((60000, 28, 28), dtype('int64'))
    """
    train, test = MNIST(root, True, download), MNIST(root, False, download)
    return (train.data, train.targets), (test.data, test.targets)


def load_fashion_mnist(root: Optional[PathLike] = None,
                       download: bool = False) -> Tuple[Arrays, Arrays]:
    """Keras-style Fashion-MNIST arrays; see :func:`load_mnist`.

    Example:
        >>> (x_train, y_train), _ = load_fashion_mnist()  # doctest: +SKIP
        >>> np.bincount(y_train).tolist() == [6000] * 10  # doctest: +SKIP
        True
    """
    train, test = FashionMNIST(root, True, download), FashionMNIST(root, False, download)
    return (train.data, train.targets), (test.data, test.targets)


def mnist_or_sample(train: bool = True, download: bool = False, root: Optional[PathLike] = None,
                    transform: Transform = None, target_transform: Transform = None,
                    progress: bool = True) -> ArrayDataset:
    """A split of MNIST, or of the shipped sample when the full training set is out of reach.

    With the MNIST training files on disk (or downloadable, with ``download=True``)
    this is ``MNIST(root, train, download)``, unchanged. Otherwise (no copy and no
    network, or no copy and ``download=False``) it says so in one line on stderr
    and returns a **fixed split of the shipped sample** (the real t10k set): its
    first :data:`SAMPLE_TRAIN_SIZE` (8,000) images for ``train=True``, the last
    2,000 for ``train=False``, so that a model trained on one is tested on
    images it never saw. The choice depends on the training files only, so the
    train and test splits of one run always come from the same source.

    Raises:
        DataError: A file that is present is corrupt (that is never papered over).

    Example:
        >>> import tempfile, os
        >>> os.environ["EMBER_DATA"] = tempfile.mkdtemp()  # doctest: +SKIP
        >>> len(mnist_or_sample(train=False))  # doctest: +SKIP
        ember.data: MNIST training files are not in ... using the MNIST sample shipped ...
        2000
    """
    remote = MNIST.remote_files("train")
    names = [f.name for f in remote]
    if locate(MNIST.folder, names, root) is None:
        target = candidate_dirs(MNIST.folder, root)[0]
        reason = f"are not in {target} (add --download, or download=True, to fetch them)"
        if download:
            try:
                for f in remote:
                    if not (target / f.name).is_file():
                        download_url(f.urls, target / f.name, md5=f.md5, size=f.size,
                                     progress=progress)
                reason = ""
            except DataError:
                reason = f"are not in {target} and could not be downloaded (no network?)"
        if reason:
            _note(f"ember.data: MNIST training files {reason}; using the MNIST sample shipped "
                  f"with Ember instead: its first {SAMPLE_TRAIN_SIZE:,} images train, its last "
                  f"{10000 - SAMPLE_TRAIN_SIZE:,} test")
            sample = mnist_sample()
            part = slice(None, SAMPLE_TRAIN_SIZE) if train else slice(SAMPLE_TRAIN_SIZE, None)
            out = ArrayDataset(sample.data[part], sample.targets[part], transform,
                               target_transform)
            out.directory = sample_dir()
            return out
    return MNIST(root, train, download, transform, target_transform, progress=progress)


def _note(line: str) -> None:
    # Train and test splits are loaded one after the other; the user needs the news once.
    if line not in _NOTED:
        _NOTED.add(line)
        print(line, file=sys.stderr, flush=True)
