"""The safetensors format in pure NumPy: no pickle, no dependency, nothing runs on load.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of
JSON (``{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
..., "__metadata__": {str: str}}``, padded with spaces to a multiple of 8), then
the raw little-endian bytes of every tensor, back to back. The format is small
enough that writing it here beats depending on the ``safetensors`` package:
Ember keeps NumPy as its only requirement, makes every array C-contiguous before
writing it (the package's NumPy API writes the buffer of a transposed array as
if it were contiguous), writes atomically, and names the file and the problem
in every error. The files are byte-for-byte those of the package (tensors sorted
by descending alignment, then name; same JSON spelling and padding), which the
tests check against it.

Files that Ember writes through :func:`ember.save` and the checkpoint functions
(``checksums=True`` here) carry a CRC-32 of every tensor's bytes and of the
header in the metadata key ``ember.checksums``; the readers verify it (unless
``verify=False``), so a flipped bit anywhere in such a file raises
:class:`SafetensorsError` naming the file and the tensor. Files of other writers
have no such key and load as before.

``bfloat16`` and the ``float8`` types need ``ml_dtypes`` (installed with ONNX,
JAX or TensorFlow); without it, ``BF16`` tensors are widened losslessly to
``float32`` on load and the ``float8`` ones raise.
"""
from __future__ import annotations

import json
import math
import os
import struct
import zlib
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from . import foreign
from .atomic import atomic_write

#: The header is read into memory before any check of its content: cap it (as the reference does).
MAX_HEADER_BYTES = 100_000_000
_METADATA_KEY = "__metadata__"
#: Metadata key of the checksums Ember writes (see :func:`checksum_metadata`).
CHECKSUM_KEY = "ember.checksums"
_CHECKSUM_ALGORITHM = "crc32"
#: NumPy's limits, checked before any array is made: a crafted shape must fail as a SafetensorsError.
_MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32
_MAX_BYTES = int(np.iinfo(np.intp).max)
#: Reads from a stream go in pieces of at most this size, so a crafted length cannot allocate it at once.
_CHUNK_BYTES = 1 << 24

# Codes in the order of the reference implementation's dtype enum: the writer sorts
# by it (largest first) so that every tensor starts at a multiple of its item size.
_CODE_ORDER = ("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "F64", "I64", "U64")
_RANK = {code: rank for rank, code in enumerate(_CODE_ORDER)}
_NUMPY_CODES = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
    "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"),
    "I32": np.dtype("<i4"), "U32": np.dtype("<u4"), "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
}
_ML_DTYPES_CODES = {"BF16": "bfloat16", "F8_E5M2": "float8_e5m2", "F8_E4M3": "float8_e4m3fn"}
_ITEMSIZE = {"BF16": 2, "F8_E5M2": 1, "F8_E4M3": 1}


class SafetensorsError(ValueError):
    """A file is not valid safetensors, is damaged, or holds what the caller cannot use.

    The message starts with the file's path (or the stream's name) and says what is wrong.
    """


def _ml_dtypes():
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes


def dtype_code(dtype: np.dtype, name: str = "") -> str:
    """The safetensors code (``"F32"``...) of a NumPy dtype; raises for unsupported ones."""
    dtype = np.dtype(dtype)
    if dtype.char in np.typecodes["All"]:  # a NumPy builtin; ml_dtypes' types have their own codes
        for code, known in _NUMPY_CODES.items():
            if dtype.kind == known.kind and dtype.itemsize == known.itemsize:
                return code
    ml = _ml_dtypes()
    if ml is not None:
        for code, attribute in _ML_DTYPES_CODES.items():
            if dtype == np.dtype(getattr(ml, attribute)):
                return code
    where = f" (tensor {name!r})" if name else ""
    raise SafetensorsError(f"safetensors cannot store dtype {dtype}{where}; "
                           f"supported: bool, (u)int8-64, float16/32/64, bfloat16, float8")


def _numpy_dtype(code: str, source: str, name: str) -> np.dtype:
    if code in _NUMPY_CODES:
        return _NUMPY_CODES[code]
    if code in _ML_DTYPES_CODES:
        ml = _ml_dtypes()
        if ml is not None:
            return np.dtype(getattr(ml, _ML_DTYPES_CODES[code]))
        if code == "BF16":
            return np.dtype("<u2")  # read as raw bits, widened to float32 by _finish
        raise SafetensorsError(f"{source}: tensor {name!r} has dtype {code}, which needs the "
                               "ml_dtypes package (pip install ml_dtypes)")
    raise SafetensorsError(f"{source}: tensor {name!r} has unknown dtype {code!r}")


def _finish(array: np.ndarray, code: str) -> np.ndarray:
    """Native byte order, and bfloat16 bits widened to float32 when ml_dtypes is missing."""
    if code == "BF16" and array.dtype == np.dtype("<u2"):
        return (array.astype(np.uint32) << 16).view(np.float32)
    if array.dtype.byteorder not in ("=", "|") and array.dtype.byteorder != np.dtype("=").byteorder:
        return array.astype(array.dtype.newbyteorder("="))
    return array


class TensorInfo:
    """Where one tensor lives in a file: name, dtype code, shape and byte range."""

    __slots__ = ("begin", "code", "end", "name", "shape")

    def __init__(self, name: str, code: str, shape: tuple, begin: int, end: int):
        self.name, self.code, self.shape, self.begin, self.end = name, code, shape, begin, end

    def __repr__(self) -> str:
        return f"TensorInfo({self.name!r}, {self.code}, shape={self.shape}, bytes=[{self.begin}, {self.end}))"


# ---------------------------------------------------------------------- writing
def _little_endian_contiguous(array: np.ndarray) -> np.ndarray:
    """A C-contiguous little-endian array with the same values (a view when already so)."""
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    # Not np.ascontiguousarray, which turns a 0-d array into shape (1,).
    return array if array.flags.c_contiguous else array.copy(order="C")


def _crc(data) -> str:
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


def _header_digest(infos: list[TensorInfo], metadata: Mapping[str, str]) -> str:
    """A CRC-32 of what the header says (tensors and metadata but the checksums), in a canonical spelling.

    Canonical, not the header's bytes: the checksum lives inside the header, and
    a flip that JSON parsing ignores (in the padding) changes nothing that is read.
    """
    described = [sorted([k, v] for k, v in metadata.items() if k != CHECKSUM_KEY),
                 sorted([i.name, i.code, list(i.shape), i.begin, i.end] for i in infos)]
    return _crc(json.dumps(described, ensure_ascii=True, separators=(",", ":")).encode("ascii"))


def checksum_metadata(entries: list[tuple[str, str, np.ndarray]], metadata: Mapping[str, str]) -> str:
    """The ``ember.checksums`` value for tensors about to be written in this order."""
    infos, offset = [], 0
    for name, code, array in entries:
        infos.append(TensorInfo(name, code, tuple(array.shape), offset, offset + array.nbytes))
        offset += array.nbytes
    tensors = {name: _crc(_raw_bytes(array)) for name, _, array in entries}
    return json.dumps({"algorithm": _CHECKSUM_ALGORITHM, "header": _header_digest(infos, metadata),
                       "tensors": tensors}, separators=(",", ":"), ensure_ascii=False)


def _plan(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None, checksums: bool = False):
    """The header bytes and the arrays in file order (``checksums``: add :data:`CHECKSUM_KEY`)."""
    entries = []
    for name, array in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors: tensor names must be strings, got {name!r}")
        if name == _METADATA_KEY:
            raise ValueError(f"safetensors: {_METADATA_KEY!r} is reserved and cannot name a tensor")
        if isinstance(array, np.generic):
            array = np.asarray(array)
        if not isinstance(array, np.ndarray):
            raise TypeError(f"safetensors: tensor {name!r} must be a NumPy array, got {type(array).__name__}")
        entries.append((name, dtype_code(array.dtype, name), _little_endian_contiguous(array)))
    entries.sort(key=lambda entry: (-_RANK[entry[1]], entry[0]))
    header: dict[str, Any] = {}
    metadata = dict(metadata or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"safetensors: metadata must map str to str, got {key!r}: {type(value).__name__}")
    if CHECKSUM_KEY in metadata:  # copied from another file, it would not match these tensors
        raise ValueError(f"safetensors: metadata key {CHECKSUM_KEY!r} is reserved (pass checksums=True)")
    if checksums:
        metadata[CHECKSUM_KEY] = checksum_metadata(entries, metadata)
    if metadata:
        header[_METADATA_KEY] = metadata
    offset = 0
    for name, code, array in entries:
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, [array for _, _, array in entries]


def _raw_bytes(array: np.ndarray) -> memoryview:
    # A uint8 view goes through the buffer protocol for every dtype, ml_dtypes' included.
    return memoryview(array.reshape(-1).view(np.uint8))


def write_stream(stream: BinaryIO, arrays: Mapping[str, np.ndarray],
                 metadata: Mapping[str, str] | None = None, checksums: bool = False) -> None:
    """Write ``arrays`` (NumPy, any layout) as safetensors to an open binary stream.

    ``checksums=True`` stores a CRC-32 of each tensor and of the header under
    :data:`CHECKSUM_KEY`, which the readers verify.
    """
    header, ordered = _plan(arrays, metadata, checksums)
    stream.write(header)
    for array in ordered:
        if array.nbytes:
            stream.write(_raw_bytes(array))


def dumps(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None,
          checksums: bool = False) -> bytes:
    """The safetensors bytes of ``arrays`` (a name -> NumPy array mapping), built in one copy.

    ``checksums``: as in :func:`write_stream`.

    Example:
        >>> import numpy as np
        >>> from ember.io.safetensors_io import dumps, loads
        >>> blob = dumps({"w": np.arange(6.0).reshape(2, 3).T})
        >>> loads(blob)[0]["w"]
        array([[0., 3.],
               [1., 4.],
               [2., 5.]])
    """
    header, ordered = _plan(arrays, metadata, checksums)
    return b"".join([header, *(_raw_bytes(array) for array in ordered)])


def write_file(path: str | os.PathLike, arrays: Mapping[str, np.ndarray],
               metadata: Mapping[str, str] | None = None, checksums: bool = False) -> None:
    """Write ``arrays`` to ``path`` atomically (:mod:`ember.io.atomic`); ``checksums`` as in :func:`write_stream`."""
    header, ordered = _plan(arrays, metadata, checksums)  # fails before the temporary file exists
    with atomic_write(path) as stream:
        stream.write(header)
        for array in ordered:
            if array.nbytes:
                stream.write(_raw_bytes(array))


# ---------------------------------------------------------------------- reading
def _is_int(value: Any) -> bool:
    # JSON's true/false parse as Python bools, which are ints: a shape [true] is not a shape.
    return isinstance(value, int) and not isinstance(value, bool)


def short_repr(value: Any, limit: int = 120) -> str:
    """A repr of ``value`` fit for an error message: a crafted header may hold megabytes, or nest deeply."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<a deeply nested {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {short_repr(key)}")
        result[key] = value
    return result


def _tensor_info(name: str, entry: Any, source: str) -> TensorInfo:
    """One header entry, checked against NumPy's limits before anything is allocated for it."""
    def malformed(why: str) -> SafetensorsError:
        return SafetensorsError(f"{source}: malformed header entry for tensor {short_repr(name)}: {why} "
                                f"(got {short_repr(entry)})")

    if not isinstance(entry, dict):
        raise malformed("expected an object with dtype, shape and data_offsets")
    missing = sorted({"dtype", "shape", "data_offsets"} - set(entry))
    if missing:
        raise malformed(f"no {', '.join(missing)}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str):
        raise malformed("dtype is not a string")
    if not (isinstance(shape, list) and all(_is_int(d) and d >= 0 for d in shape)):
        raise malformed("shape must be a list of non-negative integers")
    if len(shape) > _MAX_DIMS:
        raise malformed(f"{len(shape)} dimensions, NumPy arrays have at most {_MAX_DIMS}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) and o >= 0 for o in offsets)
            and offsets[0] <= offsets[1]):
        raise malformed("data_offsets must be [begin, end] with integers 0 <= begin <= end")
    itemsize = _ITEMSIZE.get(code) or (_NUMPY_CODES[code].itemsize if code in _NUMPY_CODES else None)
    if itemsize is None:
        raise SafetensorsError(f"{source}: tensor {short_repr(name)} has unknown dtype {short_repr(code)}")
    # NumPy refuses a shape whose non-zero sizes overflow its index type even when another
    # size is 0 (so the array would be empty): check the same, to fail here with the file's name.
    if math.prod(d for d in shape if d) * itemsize > _MAX_BYTES:
        raise SafetensorsError(f"{source}: tensor {short_repr(name)} has shape {tuple(shape)}, too large for "
                               "any array; the header is corrupt")
    begin, end = offsets
    if math.prod(shape) * itemsize != end - begin:
        raise SafetensorsError(
            f"{source}: tensor {short_repr(name)} of dtype {code} and shape {tuple(shape)} needs "
            f"{math.prod(shape) * itemsize} bytes but its data_offsets span {end - begin}")
    return TensorInfo(name, code, tuple(shape), begin, end)


def parse_header(raw: bytes, data_size: int | None, source: str) -> tuple[list[TensorInfo], dict[str, str]]:
    """Validate a JSON header against ``data_size`` bytes of payload (None: not known yet).

    Returns the tensors sorted by offset and the metadata. Every inconsistency
    (text that is not UTF-8 or JSON, nesting too deep, duplicate keys, unknown
    dtype, a shape NumPy cannot make or that does not match its byte range, gaps,
    overlaps, payload longer or shorter than declared) raises
    :class:`SafetensorsError` naming ``source``.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SafetensorsError(f"{source}: header is not valid JSON (not UTF-8 text: {err.reason} at byte "
                               f"{8 + err.start}); "
                               "the file is corrupt or not safetensors") from None
    try:
        header = json.loads(text, object_pairs_hook=_reject_duplicates)
    except (ValueError, RecursionError) as err:
        raise SafetensorsError(f"{source}: header is not valid JSON ({_describe(err)}); the file is corrupt "
                               "or not safetensors") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{source}: header is a JSON {type(header).__name__}, expected an object")
    metadata = header.pop(_METADATA_KEY, None)
    if metadata is None:  # the reference writes no key, and reads null, for no metadata
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"{source}: {_METADATA_KEY} must map strings to strings, got {short_repr(metadata)}")
    infos = sorted((_tensor_info(name, entry, source) for name, entry in header.items()),
                   key=lambda info: (info.begin, info.end))
    position = 0
    for info in infos:
        if info.begin != position:
            problem = "overlaps the previous one" if info.begin < position else "leaves a gap before it"
            raise SafetensorsError(f"{source}: tensor {short_repr(info.name)} starts at byte {info.begin} and "
                                   f"{problem} (expected {position}); the header is corrupt")
        position = info.end
    if data_size is not None and position != data_size:
        state = "truncated" if position > data_size else "longer than its header says"
        raise SafetensorsError(f"{source}: the file is {state}: the header declares {position} bytes of "
                               f"tensor data, the file holds {data_size}")
    return infos, metadata


def _describe(err: Exception) -> str:
    return "nested too deeply" if isinstance(err, RecursionError) else str(err)


def declared_data_size(infos: list[TensorInfo]) -> int:
    """The bytes of tensor data a validated header declares (its tensors are contiguous from 0)."""
    return infos[-1].end if infos else 0


def expected_checksums(infos: list[TensorInfo], metadata: dict[str, str], source: str,
                       verify: bool = True) -> dict[str, str] | None:
    """Check the header against its checksum; returns the tensors' checksums to verify.

    None when ``verify`` is False or the file has no :data:`CHECKSUM_KEY` (a file
    of another writer). A malformed record, a header that changed after it was
    written, or a tensor without a checksum raises :class:`SafetensorsError`.
    """
    if not verify or CHECKSUM_KEY not in metadata:
        return None
    try:
        record = json.loads(metadata[CHECKSUM_KEY])
    except (ValueError, RecursionError):
        record = None
    if not (isinstance(record, dict) and isinstance(record.get("header"), str)
            and isinstance(record.get("tensors"), dict)
            and all(isinstance(v, str) for v in record["tensors"].values())):
        raise SafetensorsError(f"{source}: the {CHECKSUM_KEY} metadata is malformed; the header is corrupt")
    if record.get("algorithm") != _CHECKSUM_ALGORITHM:
        raise SafetensorsError(f"{source}: unknown checksum algorithm {short_repr(record.get('algorithm'))} "
                               f"(this Ember knows {_CHECKSUM_ALGORITHM!r}); load with verify=False")
    if record["header"] != _header_digest(infos, metadata):
        raise SafetensorsError(f"{source}: checksum mismatch in the header (its tensor list or metadata "
                               "changed after it was written); the file is corrupt")
    tensors = record["tensors"]
    unlisted = sorted({info.name for info in infos} ^ set(tensors))
    if unlisted:
        raise SafetensorsError(f"{source}: the checksums do not list the same tensors as the header "
                               f"({short_repr(unlisted)}); the file is corrupt")
    return tensors


def _verify(array: np.ndarray, info: TensorInfo, checksums: dict[str, str] | None, source: str) -> None:
    """Compare a tensor's bytes, as read, with the checksum written with them."""
    if checksums is not None and _crc(_raw_bytes(array)) != checksums[info.name]:
        raise SafetensorsError(f"{source}: checksum mismatch in tensor {short_repr(info.name)} (its bytes "
                               f"[{info.begin}, {info.end}) of the data changed after it was written); the "
                               "file is corrupt. Pass verify=False to load it anyway")


def _not_safetensors(source: str, head: bytes, problem: str) -> SafetensorsError:
    """The error for a file that failed to parse: what it is, when its first bytes say so."""
    what = foreign.identify(head)
    return SafetensorsError(f"{source}: {what}" if what else f"{source}: {problem}")


def _header_length(prefix: bytes, following: int | None, source: str, head=None) -> int:
    """The header length in ``prefix``; ``following``: bytes after it (None for a stream).

    ``head`` gives the file's first bytes (a callable reading them on demand, for
    streams), to name a foreign format when the length makes no sense.
    """
    def first_bytes() -> bytes:
        return head() if callable(head) else head or prefix

    if len(prefix) < 8:
        raise _not_safetensors(source, first_bytes(), f"the file is {len(prefix)} bytes long, too short for "
                               "a safetensors header (empty or truncated)")
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER_BYTES or (following is not None and length > following):
        after = "" if following is None else f" exceeds the {following} bytes that follow"
        raise _not_safetensors(source, first_bytes(), f"declared header length {length}{after or ' is too large'}; "
                               "the file is truncated or not safetensors")
    return length


def _parse(prefix: bytes, raw: bytes, data_size: int | None, source: str):
    """:func:`parse_header`, naming a foreign format when the header is not JSON at all."""
    try:
        return parse_header(raw, data_size, source)
    except SafetensorsError:
        what = None if raw[:1] == b"{" else foreign.identify(prefix + raw[:foreign.HEAD_BYTES])
        if what:
            raise SafetensorsError(f"{source}: {what}") from None
        raise


def read_header(stream: BinaryIO, source: str) -> tuple[list[TensorInfo], dict[str, str], int]:
    """Read and validate the header of an open file; returns tensors, metadata and data start."""
    total = os.fstat(stream.fileno()).st_size
    stream.seek(0)
    head = stream.read(foreign.HEAD_BYTES)
    length = _header_length(head[:8], total - 8, source, head)  # never more than the file holds
    stream.seek(8)
    infos, metadata = _parse(head[:8], stream.read(length), total - 8 - length, source)
    return infos, metadata, 8 + length


def _read_tensor(stream: BinaryIO, start: int, info: TensorInfo, source: str) -> np.ndarray:
    array = np.empty(info.shape, _numpy_dtype(info.code, source, info.name))
    if array.nbytes:
        stream.seek(start + info.begin)
        if stream.readinto(_raw_bytes(array)) != array.nbytes:
            raise SafetensorsError(f"{source}: tensor {short_repr(info.name)} ends past the end of the file "
                                   "(truncated)")
    return array


def _open(path: str | os.PathLike, source: str) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - the callers close it
    except FileNotFoundError:
        raise FileNotFoundError(f"{source}: no such file") from None


def read_file(path: str | os.PathLike, names=None, *,
              verify: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file into NumPy arrays (in file order) and its metadata.

    Args:
        path: the file.
        names: optionally, the only tensors to read (all others stay on disk).
        verify: check the checksums Ember writes (:data:`CHECKSUM_KEY`), when the
            file has them; False skips that pass over the data.

    The header is validated completely, against the file's size, before any
    tensor is read, so a corrupt file raises :class:`SafetensorsError` before
    any memory is allocated for it.
    """
    source = os.fspath(path)
    with _open(path, source) as stream:
        infos, metadata, start = read_header(stream, source)
        checksums = expected_checksums(infos, metadata, source, verify)
        if names is not None:
            wanted = set(names)
            missing = wanted - {info.name for info in infos}
            if missing:
                raise KeyError(f"{source}: no tensor named {', '.join(sorted(missing))}")
            infos = [info for info in infos if info.name in wanted]
        arrays = {}
        for info in infos:
            array = _read_tensor(stream, start, info, source)
            _verify(array, info, checksums, source)
            arrays[info.name] = _finish(array, info.code)
        return arrays, metadata


def read_metadata(path: str | os.PathLike, *, verify: bool = True) -> dict[str, str]:
    """Only the ``__metadata__`` of a file (the tensors are not read; ``verify`` checks the header's checksum)."""
    source = os.fspath(path)
    with _open(path, source) as stream:
        infos, metadata, _ = read_header(stream, source)
        expected_checksums(infos, metadata, source, verify)
        return metadata


# ---------------------------------------------------------------------- streams (file objects)
def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only at the end of the stream (raw streams may return short reads).

    Read in pieces: a crafted size must not allocate its buffer before the bytes arrive.
    """
    chunks, got = [], 0
    while got < size:
        chunk = stream.read(min(size - got, _CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _fill(stream: BinaryIO, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends; returns the bytes read."""
    got = 0
    while got < len(view):
        if hasattr(stream, "readinto"):
            count = stream.readinto(view[got:])
        else:
            chunk = stream.read(len(view) - got)
            count = len(chunk)
            view[got:got + count] = chunk
        if not count:
            break
        got += count
    return got


def _remaining(stream: BinaryIO) -> int | None:
    """Bytes left after the current position, or None when the stream cannot seek."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end - position


def _stream_tensor(stream: BinaryIO, info: TensorInfo, size_known: bool, source: str, declared: int) -> np.ndarray:
    """The next tensor of a stream; with no known length, big ones are read before they are allocated."""
    array_dtype = _numpy_dtype(info.code, source, info.name)
    nbytes = info.end - info.begin
    truncated = SafetensorsError(f"{source}: the stream ends inside tensor {short_repr(info.name)}; the header "
                                 f"declares {declared} bytes of tensor data (truncated)")
    if size_known or nbytes <= _CHUNK_BYTES:
        array = np.empty(info.shape, array_dtype)
        if array.nbytes and _fill(stream, _raw_bytes(array)) != array.nbytes:
            raise truncated
        return array
    data = _read_exactly(stream, nbytes)
    if len(data) < nbytes:
        raise truncated
    array = np.empty(info.shape, array_dtype)
    _raw_bytes(array)[:] = data
    return array


def read_stream(stream: BinaryIO, source: str, tensors: bool = True, *,
                verify: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read one safetensors object from a binary stream, starting at its current position.

    Exactly the object's bytes are consumed, so several objects written one after
    the other into a stream read back in turn; the stream need not be seekable.
    When it is, a truncated payload is reported before any tensor memory is
    allocated; when it is not, memory grows only with the bytes that arrive.

    Args:
        stream: a binary file object (``open(path, "rb")``, ``io.BytesIO``...).
        source: how errors name it.
        tensors: False reads the header only (the metadata; no arrays).
        verify: check the checksums Ember writes, when present (see :func:`read_file`).
    """
    available = _remaining(stream)
    prefix = _read_exactly(stream, 8)
    length = _header_length(prefix, None if available is None else available - 8, source,
                            lambda: prefix + _read_exactly(stream, foreign.HEAD_BYTES))
    raw = _read_exactly(stream, length)
    if len(raw) < length:
        raise _not_safetensors(source, prefix + raw[:foreign.HEAD_BYTES],
                               f"the stream ends {len(raw)} bytes into a header declared as {length} bytes "
                               "long (truncated)")
    infos, metadata = _parse(prefix, raw, None, source)
    checksums = expected_checksums(infos, metadata, source, verify)
    size = declared_data_size(infos)
    if available is not None and size > available - 8 - length:
        raise SafetensorsError(f"{source}: the file is truncated: the header declares {size} bytes of tensor "
                               f"data, the stream holds {available - 8 - length}")
    arrays: dict[str, np.ndarray] = {}
    if not tensors:
        return arrays, metadata
    for info in infos:  # in offset order, back to back from 0 (parse_header checked)
        array = _stream_tensor(stream, info, available is not None, source, size)
        _verify(array, info, checksums, source)
        arrays[info.name] = _finish(array, info.code)
    return arrays, metadata


def loads(data: bytes, source: str = "<bytes>", *, verify: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors bytes into NumPy arrays (copies) and metadata (``verify``: see :func:`read_file`)."""
    data = memoryview(data)
    head = bytes(data[:foreign.HEAD_BYTES])
    length = _header_length(head[:8], len(data) - 8, source, head)
    infos, metadata = _parse(head[:8], bytes(data[8:8 + length]), len(data) - 8 - length, source)
    checksums = expected_checksums(infos, metadata, source, verify)
    start = 8 + length
    arrays = {}
    for info in infos:
        dtype = _numpy_dtype(info.code, source, info.name)
        array = np.frombuffer(data[start + info.begin:start + info.end], dtype=np.uint8).copy()
        array = array.view(dtype).reshape(info.shape)
        _verify(array, info, checksums, source)
        arrays[info.name] = _finish(array, info.code)
    return arrays, metadata
