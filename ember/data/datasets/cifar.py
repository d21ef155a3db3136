"""CIFAR-10 and CIFAR-100 from the **binary version** of their distribution.

The binary version is a sequence of fixed-size records: the label byte(s) then
3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue; each 32x32 row-major).
CIFAR-10 records have one label byte (0-9); CIFAR-100 records have two, the
coarse label (0-19) then the fine label (0-99). No pickle is ever loaded: the
"python version" of CIFAR is not supported on purpose.

Images come out channel-first, ``uint8``, ``(N, 3, 32, 32)``. The data can be
given either as the original archive (``cifar-10-binary.tar.gz``,
``cifar-100-binary.tar.gz``, read in place, no extraction) or as its extracted
folder (``cifar-10-batches-bin/``, ``cifar-100-binary/``), inside
``<data dir>/cifar10/`` or ``<data dir>/cifar100/``.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..cache import cached_arrays
from ..dataset import ArrayDataset
from ..archive import find_members
from ..download import RemoteFile, candidate_dirs, check_file, download_url, missing_error
from ..errors import DataError

PathLike = Union[str, "os.PathLike[str]"]
Transform = Optional[Callable[[Any], Any]]

IMAGE_BYTES = 3 * 32 * 32


def parse_cifar(buffer: bytes, name: PathLike = "<bytes>", label_bytes: int = 1,
                num_classes: Sequence[int] = (10,)) -> Tuple[np.ndarray, np.ndarray]:
    """Parse the records of one CIFAR binary file.

    Args:
        buffer: The file's bytes.
        name: File name for error messages.
        label_bytes: Label bytes per record (1 for CIFAR-10, 2 for CIFAR-100).
        num_classes: Number of classes of each label byte, for range checks.

    Returns:
        ``(images, labels)``: ``uint8`` ``(N, 3, 32, 32)`` and ``int64``
        ``(N, label_bytes)``.

    Raises:
        DataError: Empty file, a length that is not a whole number of records, or
            a label out of range.

    Example:
        >>> record = bytes([3]) + bytes(IMAGE_BYTES)
        >>> images, labels = parse_cifar(record * 2)
        >>> images.shape, labels[:, 0].tolist()
        ((2, 3, 32, 32), [3, 3])
    """
    record = label_bytes + IMAGE_BYTES
    size = len(buffer)
    if size == 0:
        raise DataError("empty file, expected CIFAR binary records", name)
    if size % record:
        raise DataError(f"wrong length: {size} bytes is not a whole number of {record}-byte "
                        f"CIFAR records ({size // record} records and {size % record} extra bytes;"
                        f" truncated or not a CIFAR binary file)", name)
    rows = np.frombuffer(buffer, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, :label_bytes].astype(np.int64)
    for column, limit in enumerate(num_classes):
        worst = int(labels[:, column].max())
        if worst >= limit:
            bad = int(np.argmax(labels[:, column] >= limit))
            raise DataError(f"record {bad}: label {worst} out of range for {limit} classes "
                            f"(not a CIFAR-{num_classes[-1]} binary file?)", name)
    images = rows[:, label_bytes:].reshape(-1, 3, 32, 32).copy()
    return images, labels


class _CifarBinary(ArrayDataset):
    """Shared loader: find the folder or the archive, parse, cache."""

    name: ClassVar[str]
    folder: ClassVar[str]
    archive: ClassVar[str]
    archive_md5: ClassVar[str]
    archive_size: ClassVar[int]
    urls: ClassVar[Tuple[str, ...]]
    inner: ClassVar[str]                       # folder inside the archive
    split_files: ClassVar[Dict[str, List[str]]]
    label_bytes: ClassVar[int]
    num_classes: ClassVar[Tuple[int, ...]]
    max_records: ClassVar[int]                 # records of the largest file of the dataset

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False,
                 transform: Transform = None, target_transform: Transform = None,
                 verify: bool = True, progress: bool = True) -> None:
        self.train = train
        self.split = "train" if train else "test"
        sources, from_archive = self._find(root, download, progress)
        self.sources = sources

        # Upper bound on one file: the largest published file has `max_records` records.
        max_size = self.max_records * (self.label_bytes + IMAGE_BYTES)

        def decode() -> Dict[str, np.ndarray]:
            if from_archive:
                if verify:
                    check_file(sources[0], md5=self.archive_md5)
                buffers = _read_members(sources[0],
                                        [f"{self.inner}/{n}" for n in self.files(self.split)],
                                        max_size)
            else:
                buffers = [_read_file(p, max_size) for p in sources]
            parts = [parse_cifar(buf, name, self.label_bytes, self.num_classes)
                     for name, buf in buffers]
            return {key + "images": np.concatenate([p[0] for p in parts]),
                    key + "labels": np.concatenate([p[1] for p in parts])}

        # One archive holds both splits, so the split is part of the cache key.
        key = f"{self.split}-"
        arrays = cached_arrays(sources, decode, [key + "images", key + "labels"])
        self.all_labels = arrays[key + "labels"]
        super().__init__(arrays[key + "images"], np.ascontiguousarray(self.all_labels[:, -1]),
                         transform, target_transform)

    @classmethod
    def files(cls, split: str) -> List[str]:
        """Names of the split's binary files (``data_batch_1.bin``...)."""
        return list(cls.split_files[split])

    @classmethod
    def remote_archive(cls) -> RemoteFile:
        """The archive with its checksum and mirrors."""
        return RemoteFile(cls.archive, cls.urls, md5=cls.archive_md5, size=cls.archive_size)

    def _find(self, root: Optional[PathLike], download_missing: bool,
              progress: bool) -> Tuple[List[Path], bool]:
        names = self.files(self.split)
        dirs = candidate_dirs(self.folder, root)
        for d in dirs:
            for folder in (d / self.inner, d):
                if all((folder / n).is_file() for n in names):
                    return [folder / n for n in names], False
            if (d / self.archive).is_file():
                return [d / self.archive], True
        target = dirs[0]
        if download_missing:
            remote = self.remote_archive()
            download_url(remote.urls, target / remote.name, md5=remote.md5, size=remote.size,
                     progress=progress)
            return [target / remote.name], True
        extracted = ", ".join(names)
        raise missing_error(self.name, target, [self.remote_archive()],
                            extra=f"Alternatively put the extracted files ({extracted}) in "
                                  f"{target / self.inner}.")


def _read_members(archive: Path, members: List[str], max_size: int) -> List[Tuple[str, bytes]]:
    # Read straight from the (verified) archive: nothing is extracted, so a
    # read-only data directory holding only the archive works.
    out = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            infos = find_members(tar, members, archive, max_size)
            for member in members:
                handle = tar.extractfile(infos[member])
                assert handle is not None  # find_members returns regular files only
                with handle:
                    out.append((f"{archive}:{member}", handle.read(max_size + 1)))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"cannot read archive ({type(exc).__name__}: {exc})", archive) from exc
    return out


def _read_file(path: Path, max_size: int) -> Tuple[str, bytes]:
    # Check the size first: a file larger than any CIFAR batch is refused unread.
    size = path.stat().st_size
    if size > max_size:
        raise DataError(f"file has {size} bytes, more than the {max_size} bytes a CIFAR binary "
                        "file can hold (not a CIFAR batch)", path)
    return str(path), path.read_bytes()


class CIFAR10(_CifarBinary):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, 10 classes.

    ``ds[i]`` is ``(image, label)``: ``uint8`` ``(3, 32, 32)`` (channel-first) and
    ``int64``. Reads the binary version: ``cifar-10-binary.tar.gz`` (MD5
    ``c32a1d4ab5d03f1284b67883e8d87530``) or its extracted ``cifar-10-batches-bin/``
    (``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``), in
    ``root/cifar10/``.

    Args:
        root: Data directory (default: :func:`~ember.data.data_dir`).
        train: Training split (else the test split).
        download: Download the archive (162 MB) when nothing is found.
        transform: Applied to images, e.g.
            ``Compose([RandomCrop(32, 4), RandomHorizontalFlip(), ToFloat()])``.
        target_transform: Applied to labels.
        verify: Check the archive's MD5 on first decode.
        progress: Progress bar while downloading.

    Example:
        >>> train = CIFAR10(train=True, transform=ToFloat())  # doctest: +SKIP
        >>> train.data.shape, train.classes[int(train.targets[0])]  # doctest: +SKIP
        ((50000, 3, 32, 32), 'frog')
    """

    name = "CIFAR-10"
    folder = "cifar10"
    archive = "cifar-10-binary.tar.gz"
    archive_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    archive_size = 170052171
    urls = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
    inner = "cifar-10-batches-bin"
    split_files = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)],
                   "test": ["test_batch.bin"]}
    label_bytes = 1
    num_classes = (10,)
    max_records = 10000
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")


class CIFAR100(_CifarBinary):
    """CIFAR-100: like CIFAR-10 with 100 fine classes grouped into 20 coarse ones.

    :attr:`targets` holds the fine labels (0-99), :attr:`coarse_targets` the
    coarse ones (0-19). With ``label_mode="coarse"`` the dataset yields the
    coarse labels instead. Reads ``cifar-100-binary.tar.gz`` (MD5
    ``03b5dce01913d631647c71ecec9e9cb8``) or its extracted ``cifar-100-binary/``
    (``train.bin``, ``test.bin``), in ``root/cifar100/``.

    Example:
        >>> test = CIFAR100(train=False, label_mode="coarse")  # doctest: +SKIP
        >>> test.classes[int(test.targets[0])]  # doctest: +SKIP
        'vehicles_1'
    """

    name = "CIFAR-100"
    folder = "cifar100"
    archive = "cifar-100-binary.tar.gz"
    archive_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    archive_size = 168513733
    urls = ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",)
    inner = "cifar-100-binary"
    split_files = {"train": ["train.bin"], "test": ["test.bin"]}
    label_bytes = 2
    num_classes = (20, 100)
    max_records = 50000
    fine_classes = (
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
        "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
        "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
        "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
        "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard",
        "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse",
        "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck",
        "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray",
        "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
        "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
        "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
        "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm")
    coarse_classes = (
        "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
        "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
        "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
        "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
        "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2")

    def __init__(self, root: Optional[PathLike] = None, train: bool = True, download: bool = False,
                 transform: Transform = None, target_transform: Transform = None,
                 label_mode: str = "fine", verify: bool = True, progress: bool = True) -> None:
        if label_mode not in ("fine", "coarse"):
            raise ValueError(f"CIFAR100: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
        super().__init__(root, train, download, transform, target_transform, verify, progress)
        self.label_mode = label_mode
        self.fine_targets = np.ascontiguousarray(self.all_labels[:, 1])
        self.coarse_targets = np.ascontiguousarray(self.all_labels[:, 0])
        if label_mode == "coarse":
            self.arrays = (self.arrays[0], self.coarse_targets)
        self.classes = self.fine_classes if label_mode == "fine" else self.coarse_classes


def load_cifar10(root: Optional[PathLike] = None, download: bool = False,
                 channels_last: bool = False):
    """Keras-style ``(x_train, y_train), (x_test, y_test)`` for CIFAR-10.

    Args:
        root: Data directory.
        download: Download the archive if missing.
        channels_last: Return images as ``(N, 32, 32, 3)`` like Keras instead of
            ``(N, 3, 32, 32)``.

    Example:
        >>> (x_train, y_train), _ = load_cifar10(channels_last=True)  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (50000, 32, 32, 3)
    """
    return _load(CIFAR10, root, download, channels_last)


def load_cifar100(root: Optional[PathLike] = None, download: bool = False,
                  channels_last: bool = False, label_mode: str = "fine"):
    """Keras-style arrays for CIFAR-100; see :func:`load_cifar10`.

    Example:
        >>> (x_train, y_train), _ = load_cifar100(label_mode="coarse")  # doctest: +SKIP
        >>> int(y_train.max())  # doctest: +SKIP
        19
    """
    return _load(CIFAR100, root, download, channels_last, label_mode=label_mode)


def _load(cls, root, download, channels_last, **kwargs):
    out = []
    for train in (True, False):
        ds = cls(root, train, download, **kwargs)
        x = np.ascontiguousarray(ds.data.transpose(0, 2, 3, 1)) if channels_last else ds.data
        out.append((x, ds.targets))
    return tuple(out)
