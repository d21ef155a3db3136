"""Reader for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number, one big-endian ``uint32`` per dimension,
then the data in C order and big-endian byte order. The magic number's bytes are
``0, 0, type, ndim``; ``type`` is ``0x08`` for unsigned bytes (images 2051 =
``0x00000803``, labels 2049 = ``0x00000801``). Files are usually gzipped.

Every check names the file and the problem. Memory is bounded by what the file
justifies: :func:`read_idx` inflates a ``.gz`` **incrementally**, reads the
header first, and stops at the data size the header declares (and at ``limit``
when the caller knows a bound), so a small gzip bomb or a crafted header cannot
make it allocate gigabytes. Data continuing past the declared size is an error
(``wrong length``), as is data ending before it (``truncated IDX data``).
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import BinaryIO, Optional, Tuple, Union

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
#: Bytes inflated per read: memory grows with the data actually present, never by
#: what a header claims up front.
_CHUNK = 1 << 20
#: Errors the gzip module raises for damaged streams: BadGzipFile (an OSError) for a
#: bad header or CRC, EOFError for a cut-off stream, zlib.error for bad deflate data.
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def parse_idx_header(head: bytes, name: PathLike = "<bytes>",
                     expected_magic: Optional[int] = None) -> Tuple[np.dtype, Tuple[int, ...], int]:
    """Check an IDX header; return ``(dtype, shape, header_length)``.

    ``head`` may be longer than the header (only its start is read). The data
    length the header declares is ``dtype.itemsize * prod(shape)`` (a Python int:
    corrupt dimensions may multiply past 64 bits).

    Raises:
        DataError: Bad magic number, unknown type, 0 dimensions, truncated header.

    Example:
        >>> parse_idx_header(bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4]))
        (dtype('uint8'), (3, 4), 12)
    """
    size = len(head)
    if size < 4:
        raise DataError(f"truncated IDX header: file has {size} bytes, need at least 4", name)
    magic = int.from_bytes(head[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"bad magic number {magic}, expected {expected_magic} "
                        f"({_KIND.get(expected_magic, 'IDX')})", name)
    zero, type_code, ndim = int.from_bytes(head[:2], "big"), head[2], head[3]
    if zero != 0 or type_code not in IDX_TYPES:
        raise DataError(f"bad magic number {magic} (0x{magic:08x}): not an IDX file", name)
    if ndim == 0:
        raise DataError(f"bad magic number {magic}: IDX file with 0 dimensions", name)
    header = 4 + 4 * ndim
    if size < header:
        raise DataError(f"truncated IDX header: {ndim} dimensions need {header} bytes, "
                        f"file has {size}", name)
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return IDX_TYPES[type_code], shape, header


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
    dtype, shape, header = parse_idx_header(buffer, name, expected_magic)
    expected = dtype.itemsize * _product(shape)
    actual = len(buffer) - header
    if actual < expected:
        raise DataError(f"truncated IDX data: shape {shape} needs {expected} bytes, "
                        f"file has {actual} after the header", name)
    if actual > expected:
        raise DataError(f"wrong length: shape {shape} needs {expected} bytes of data, "
                        f"file has {actual - expected} extra bytes", name)
    return _to_array(memoryview(buffer)[header:], dtype, shape)


def read_idx(path: PathLike, expected_magic: Optional[int] = None,
             limit: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (gzipped when its name ends in ``.gz``), inflating it incrementally.

    The header is read first; then exactly the data it declares is read, in
    1 MiB chunks, and one more byte is asked for to make sure the file ends there
    (which also makes gzip check its CRC). Memory use is therefore at most the
    declared size, and never more than the data actually present.

    Args:
        path: The file.
        expected_magic: See :func:`parse_idx`.
        limit: Largest data size (bytes after the header) the caller accepts; a
            header declaring more is rejected before anything is read.

    Raises:
        DataError: Corrupt gzip stream, invalid IDX header, data shorter or longer
            than the header declares, or more than ``limit``; naming ``path``.
        FileNotFoundError: ``path`` does not exist.

    Example:
        >>> from ember.data.datasets import sample_dir
        >>> read_idx(sample_dir() / "t10k-labels-idx1-ubyte.gz", MAGIC_LABELS).shape
        (10000,)
    """
    path = Path(path)
    with open(path, "rb") as raw:
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw
        try:
            return _read_idx_stream(stream, path, expected_magic, limit)
        except DataError:
            raise
        except _GZIP_ERRORS as exc:
            raise DataError(f"bad gzip data ({type(exc).__name__}: {exc}); "
                            "delete the file and download it again", path) from exc


def _read_idx_stream(stream: BinaryIO, path: Path, expected_magic: Optional[int],
                     limit: Optional[int]) -> np.ndarray:
    head = _read_up_to(stream, 4)
    if len(head) == 4:
        head += _read_up_to(stream, 4 * head[3])  # the dimensions; at most 1,020 bytes
    dtype, shape, _ = parse_idx_header(head, path, expected_magic)
    expected = dtype.itemsize * _product(shape)
    if limit is not None and expected > limit:
        raise DataError(f"header declares shape {shape} ({expected} bytes of data), more than "
                        f"the {limit} bytes this file can hold (crafted or corrupt header)", path)
    data = bytearray()
    while len(data) < expected:
        chunk = stream.read(min(_CHUNK, expected - len(data)))
        if not chunk:
            raise DataError(f"truncated IDX data: shape {shape} needs {expected} bytes, "
                            f"file has {len(data)} after the header", path)
        data += chunk
    if stream.read(1):
        raise DataError(f"wrong length: shape {shape} needs {expected} bytes of data, "
                        "the file continues past them", path)
    return _to_array(memoryview(data), dtype, shape)


def _read_up_to(stream: BinaryIO, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _to_array(data: memoryview, dtype: np.dtype, shape: Tuple[int, ...]) -> np.ndarray:
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def gunzip(raw: bytes, name: PathLike, limit: Optional[int] = None) -> bytes:
    """Decompress gzip bytes, turning every kind of corruption into a :class:`DataError`.

    Inflates incrementally and stops with a :class:`DataError` as soon as the
    output would exceed ``limit`` bytes (when given), so a gzip bomb is refused
    without being inflated.

    Example:
        >>> gunzip(gzip.compress(b"abc"), "x.gz")
        b'abc'
        >>> gunzip(gzip.compress(bytes(10_000)), "x.gz", limit=100)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ember.data.errors.DataError: ember.data: x.gz: gzip data inflates past 100 bytes...
    """
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") as stream:
            while True:
                want = _CHUNK if limit is None else min(_CHUNK, limit + 1 - len(out))
                chunk = stream.read(want)
                if not chunk:
                    return bytes(out)
                out += chunk
                if limit is not None and len(out) > limit:
                    raise DataError(f"gzip data inflates past {limit} bytes (a gzip bomb or "
                                    "the wrong file)", name)
    except DataError:
        raise
    except _GZIP_ERRORS as exc:
        raise DataError(f"bad gzip data ({type(exc).__name__}: {exc}); "
                        "delete the file and download it again", name) from exc


def _product(shape) -> int:
    total = 1
    for d in shape:
        total *= d
    return total
