"""Reader for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number, one big-endian ``uint32`` per dimension,
then the data in C order and big-endian byte order. The magic number's bytes are
``0, 0, type, ndim``; ``type`` is ``0x08`` for unsigned bytes (images 2051 =
``0x00000803``, labels 2049 = ``0x00000801``). Files are usually gzipped.

Every check names the file and the problem; the parser never allocates more than
the bytes it was given, so a corrupt header cannot ask for gigabytes.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import DataError

PathLike = Union[str, "os.PathLike[str]"]

#: IDX type code -> big-endian NumPy dtype.
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
#: Magic numbers of the two kinds of file MNIST uses.
MAGIC_IMAGES = 2051
MAGIC_LABELS = 2049
_KIND = {MAGIC_IMAGES: "IDX images", MAGIC_LABELS: "IDX labels"}


def parse_idx(buffer: bytes, name: PathLike = "<bytes>",
              expected_magic: Optional[int] = None) -> np.ndarray:
    """Parse the (decompressed) bytes of an IDX file into a native-endian array.

    Args:
        buffer: The whole file content.
        name: File name used in error messages.
        expected_magic: If given, the magic number the file must have (2051 for
            images, 2049 for labels).

    Returns:
        An array of the file's shape and type, in native byte order.

    Raises:
        DataError: Bad magic number, unknown type, truncated header or data, or
            trailing bytes.

    Example:
        >>> data = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])
        >>> parse_idx(data)
        array([7, 8, 9], dtype=uint8)
        >>> parse_idx(data, "labels.idx", expected_magic=2051)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ember.data.errors.DataError: ember.data: labels.idx: bad magic number 2049, expected 2051 (IDX images)
    """
    size = len(buffer)
    if size < 4:
        raise DataError(f"truncated IDX header: file has {size} bytes, need at least 4", name)
    magic = int.from_bytes(buffer[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"bad magic number {magic}, expected {expected_magic} "
                        f"({_KIND.get(expected_magic, 'IDX')})", name)
    zero, type_code, ndim = int.from_bytes(buffer[:2], "big"), buffer[2], buffer[3]
    if zero != 0 or type_code not in IDX_TYPES:
        raise DataError(f"bad magic number {magic} (0x{magic:08x}): not an IDX file", name)
    if ndim == 0:
        raise DataError(f"bad magic number {magic}: IDX file with 0 dimensions", name)
    header = 4 + 4 * ndim
    if size < header:
        raise DataError(f"truncated IDX header: {ndim} dimensions need {header} bytes, "
                        f"file has {size}", name)
    shape = tuple(int(d) for d in np.frombuffer(buffer, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    # Python ints: the product of corrupt dimensions may exceed 64 bits.
    expected = dtype.itemsize * _product(shape)
    actual = size - header
    if actual < expected:
        raise DataError(f"truncated IDX data: shape {shape} needs {expected} bytes, "
                        f"file has {actual} after the header", name)
    if actual > expected:
        raise DataError(f"wrong length: shape {shape} needs {expected} bytes of data, "
                        f"file has {actual - expected} extra bytes", name)
    array = np.frombuffer(buffer, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: PathLike, expected_magic: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (gzipped when its name ends in ``.gz``).

    Args:
        path: The file.
        expected_magic: See :func:`parse_idx`.

    Raises:
        DataError: Corrupt gzip stream or invalid IDX content, naming ``path``.
        FileNotFoundError: ``path`` does not exist.

    Example:
        >>> from ember.data.datasets import sample_dir
        >>> read_idx(sample_dir() / "t10k-labels-idx1-ubyte.gz", MAGIC_LABELS).shape
        (10000,)
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gunzip(raw, path)
    return parse_idx(raw, path, expected_magic)


def gunzip(raw: bytes, name: PathLike) -> bytes:
    """Decompress gzip bytes, turning every kind of corruption into a :class:`DataError`.

    Example:
        >>> gunzip(gzip.compress(b"abc"), "x.gz")
        b'abc'
    """
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile (an OSError) for a bad header, EOFError for a cut-off stream,
        # zlib.error for damaged compressed data.
        raise DataError(f"bad gzip data ({type(exc).__name__}: {exc}); "
                        "delete the file and download it again", name) from exc


def _product(shape) -> int:
    total = 1
    for d in shape:
        total *= d
    return total
