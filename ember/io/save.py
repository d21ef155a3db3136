"""``ember.save`` / ``ember.load``: PyTorch's calls, safetensors files, no pickle.

``ember.save(obj, f)`` takes what ``torch.save`` is given in practice: a tensor, a
``state_dict``, or a whole training checkpoint (nested dicts, lists, tuples and
``OrderedDict`` of tensors, NumPy arrays, numbers, strings, bytes and None), and
``f`` is a path or a binary file object. ``ember.load(f, map_location=None,
weights_only=None)`` gives the same structure back.

The file is safetensors: the tensors as raw numbers, and the structure around
them as JSON in the header (see :mod:`ember.io.tree`). Nothing is pickled, so
loading a file from an untrusted source cannot run code, and a whole module, a
function or an object of another class is refused (before the file is touched)
rather than pickled. Arrays are made C-contiguous before writing (transposed and
strided views are saved with their values), GPU arrays are copied to the host
and their device is recorded, and a file at a path appears atomically. Every
file carries a CRC-32 of each tensor and of its header, which :func:`load`
verifies (``verify=False`` skips it), so damaged bytes raise
:class:`SafetensorsError` instead of loading as wrong numbers.
:func:`load_weights` loads a file into a module and, when anything does not
match, raises an error that names the file and leaves the module as it was.
"""
from __future__ import annotations

import io
import json
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, BinaryIO, Union

import numpy as np

from .. import backend
from ..tensor import Tensor, constant
from . import safetensors_io, tree
from .host import to_host_array  # noqa: F401 - re-exported: checkpoint and torch_interop use it from here
from .safetensors_io import CHECKSUM_KEY, SafetensorsError

#: Metadata key marking what a file holds (``"tensor"``, ``"state_dict"``, ``"tree"``, ``"checkpoint"``).
KIND_KEY = "ember.kind"
#: Metadata key of the JSON structure (every file written by :func:`save` has one).
TREE_KEY = "ember.tree"
#: Key of the single tensor in a file written by ``save(tensor, path)``.
SINGLE_TENSOR_KEY = "tensor"
_RESERVED_METADATA = (KIND_KEY, TREE_KEY, CHECKSUM_KEY)
#: The devices a file may record for a tensor.
_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")

#: What ``f`` may be: a path, or a binary file object.
FileLike = Union[str, os.PathLike, BinaryIO]
#: Where :func:`load` puts tensors: None (where they were saved), a device, or {saved: target}.
MapLocation = Union[None, str, Mapping]


def _is_path(f: Any) -> bool:
    return isinstance(f, (str, os.PathLike))


def _check_file(f: Any, op: str, needs: str) -> None:
    """Refuse what is neither a path nor a binary file object, before anything is written."""
    if _is_path(f):
        return
    if isinstance(f, (bytes, bytearray, memoryview)):
        raise TypeError(f"{op}: f is {type(f).__name__}; pass a path, or wrap the data in io.BytesIO")
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{op}: {_source(f)} is open in text mode; open it in binary mode "
                        f"(open(path, {'wb' if needs == 'write' else 'rb'!r}))")
    if not callable(getattr(f, needs, None)):
        raise TypeError(f"{op}: f must be a path (str or os.PathLike) or a binary file object with "
                        f".{needs}(), got {type(f).__name__}")


def _source(f: Any) -> str:
    """How errors name ``f``: the path, a file object's name, or ``<BytesIO>``."""
    if _is_path(f):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def _kind(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return "tensor"
    if isinstance(obj, Mapping) and all(isinstance(k, str) for k in obj) \
            and all(isinstance(v, Tensor) for v in obj.values()):
        return "state_dict"
    return "tree"


def save(obj: Any, f: FileLike, metadata: Mapping[str, str] | None = None) -> None:
    """Save ``obj`` to a path or a binary file object, as ``torch.save(obj, f)`` does, without pickle.

    Args:
        obj: a tensor, a ``state_dict``, or any nesting of ``dict``, ``OrderedDict``,
            ``list`` and ``tuple`` holding Ember tensors, NumPy arrays and scalars,
            ``int``, ``float``, ``bool``, ``None``, ``str`` and ``bytes`` (a
            training checkpoint). Dict keys may be ``str``, ``int``, ``float``,
            ``bool``, ``None`` or tuples of them. PyTorch tensors are accepted too
            and load back as Ember tensors (a way to convert a ``.pt`` file).
        f: a path (``str`` or ``os.PathLike``), replaced atomically, or a binary
            file object open for writing (``open(path, "wb")``, ``io.BytesIO()``),
            written in one call at its current position and left open.
        metadata: optional ``str -> str`` pairs stored in the header (read them
            with :func:`read_metadata`).

    Raises:
        TypeError: ``obj`` holds something that would need pickle: a whole
            :class:`~ember.nn.Module` (save ``model.state_dict()``), a function,
            an object of another class. The message names it and its place
            (``obj["args"]["fn"]``). Nothing is written: an existing file is
            left as it was, and no new one appears.

    Example:
        >>> import ember, io
        >>> from ember import nn
        >>> model = nn.Linear(3, 2)
        >>> buffer = io.BytesIO()
        >>> ember.save({"epoch": 3, "model": model.state_dict(), "betas": (0.9, 0.999)}, buffer)
        >>> _ = buffer.seek(0)
        >>> checkpoint = ember.load(buffer)
        >>> checkpoint["epoch"], checkpoint["betas"], checkpoint["model"]["weight"].shape
        (3, (0.9, 0.999), (2, 3))
        >>> model.load_state_dict(checkpoint["model"])
        ([], [])
    """
    _check_file(f, "ember.save", "write")
    skeleton, arrays = tree.flatten(obj, "", root="obj", op="ember.save")
    header = dict(metadata or {})
    for key, value in header.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"ember.save: metadata must map str to str, got {key!r}: {type(value).__name__}")
        if key in _RESERVED_METADATA:
            raise ValueError(f"ember.save: metadata key {key!r} is reserved for Ember")
    header[KIND_KEY] = _kind(obj)
    header[TREE_KEY] = json.dumps(skeleton, allow_nan=False, ensure_ascii=False)
    if _is_path(f):
        # Plans the header before the temporary file exists: a refused save leaves nothing behind.
        safetensors_io.write_file(f, arrays, header, checksums=True)
    else:
        f.write(safetensors_io.dumps(arrays, header, checksums=True))
        if callable(getattr(f, "flush", None)):
            f.flush()


# ---------------------------------------------------------------------- loading
def _read(f: FileLike, op: str, tensors: bool = True, verify: bool = True) -> tuple[dict, dict, str]:
    _check_file(f, op, "read")
    source = _source(f)
    if _is_path(f):
        if not tensors:
            return {}, safetensors_io.read_metadata(f, verify=verify), source
        arrays, metadata = safetensors_io.read_file(f, verify=verify)
    else:
        arrays, metadata = safetensors_io.read_stream(f, source, tensors=tensors, verify=verify)
    return arrays, metadata, source


def _target_device(saved: str, map_location: MapLocation) -> str:
    if map_location is None:
        target = saved
    elif isinstance(map_location, Mapping):
        target = map_location.get(saved, map_location.get(saved.split(":")[0], saved))
    elif callable(map_location):
        raise TypeError("ember.load: map_location as a function is not supported (Ember files hold arrays, "
                        "not storages); pass 'cpu', 'cuda', 'cuda:N', a device or a {saved: target} dict")
    else:
        target = map_location
    target = str(target)  # torch.device('cpu') and ember devices print as their name
    if target != "cpu" and not target.startswith("cuda"):
        raise ValueError(f"ember.load: map_location gives device {target!r}; expected 'cpu', 'cuda' or 'cuda:N'")
    return target


def _tensor_maker(map_location: MapLocation, source: str):
    """``wrap(array, saved_device)`` for :func:`tree.unflatten`: a Tensor on the chosen device."""
    def wrap(array: np.ndarray, saved: str) -> Tensor:
        if not _DEVICE.fullmatch(saved):
            raise SafetensorsError(f"{source}: the saved structure records device {saved[:40]!r} for a tensor, "
                                   "expected 'cpu' or 'cuda:N'; the header is corrupt")
        target = _target_device(saved, map_location)
        if target != "cpu":
            try:
                array = backend.to_device(array, target)
            except RuntimeError as err:
                where = f"was saved on {saved}" if map_location is None else f"is mapped to {target}"
                raise RuntimeError(f"{source}: a tensor {where}, but {err}. Load it on the CPU with "
                                   "ember.load(f, map_location='cpu')") from None
        # _make: no checks or copies, and it accepts bfloat16 arrays that Tensor() refuses.
        return constant(array)

    return wrap


def _rebuild(arrays: dict, metadata: dict, source: str, wrap) -> Any:
    """The saved object, from any file Ember writes or reads (older formats included)."""
    if TREE_KEY in metadata:
        try:
            skeleton = json.loads(metadata[TREE_KEY])
        except (ValueError, RecursionError) as err:
            raise SafetensorsError(f"{source}: the saved structure in the header is not valid JSON "
                                   f"({'nested too deeply' if isinstance(err, RecursionError) else err})") from None
        try:
            return tree.unflatten(skeleton, arrays, source, wrap)
        except SafetensorsError:
            raise
        except ValueError as err:  # tree names the file and the problem
            raise SafetensorsError(str(err)) from None
    if metadata.get(KIND_KEY) == "checkpoint":
        from .checkpoint import CheckpointError, checkpoint_contents  # here: checkpoint imports this module

        try:
            return checkpoint_contents(arrays, metadata, source, wrap)
        except CheckpointError as err:  # a damaged file, whatever part of it: load's one error class
            raise SafetensorsError(str(err)) from None
    if metadata.get(KIND_KEY) == "tensor" and list(arrays) == [SINGLE_TENSOR_KEY]:
        return wrap(arrays[SINGLE_TENSOR_KEY], "cpu")
    # A state dict written before the JSON structure existed, or any safetensors file.
    return OrderedDict((name, wrap(array, "cpu")) for name, array in arrays.items())


def load(f: FileLike, map_location: MapLocation = None, *, weights_only: bool | None = None,
         device: str | None = None, verify: bool = True) -> Any:
    """Load what :func:`save` wrote (or any safetensors file), as ``torch.load(f)`` does.

    Args:
        f: a path or a binary file object open for reading (read from its
            current position; exactly one saved object is consumed).
        map_location: where tensors go. ``None`` (default): the device they were
            saved from (the CPU for files without that record); ``"cpu"``,
            ``"cuda"``, ``"cuda:N"`` or a device object: all of them there; a dict
            ``{"cuda:0": "cpu"}``: per saved device. NumPy arrays stay NumPy arrays.
        weights_only: accepted for PyTorch compatibility; it changes nothing.
            Ember files hold only data, never code, so every load is what
            ``weights_only=True`` asks for, and ``False`` has nothing unsafe to allow.
        device: older spelling of ``map_location`` (a device).
        verify: check the CRC-32 of every tensor and of the header, which the
            files Ember writes carry (files of other writers have none and load
            as before). ``False`` skips that pass over the data (0.4 to 1 s per GB on one core).

    Returns:
        The saved structure: dicts, ``OrderedDict``, lists and tuples as they were
        (int keys stay ints), tensors as :class:`~ember.Tensor` with their dtype
        and shape (``requires_grad=False``), NumPy arrays and scalars as NumPy,
        numbers, strings and bytes as themselves. Tensors saved twice (tied
        weights) come back as two copies. A plain safetensors file loads as an
        ``OrderedDict`` of name -> tensor; a file of
        :func:`ember.io.save_checkpoint` as a dict of its parts.

    Raises:
        SafetensorsError: the file is corrupt (a checksum does not match, a
            header is malformed), truncated, not safetensors, or a PyTorch pickle
            (the message says how to convert it); it names the file and the problem.
        RuntimeError: a tensor saved on a GPU cannot go there (no CuPy or no such
            device); the message says to pass ``map_location="cpu"``.

    Example:
        >>> import ember, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.safetensors")
        >>> ember.save(ember.arange(3), path)
        >>> ember.load(path, map_location="cpu")
        tensor([0, 1, 2])
    """
    if weights_only not in (None, True, False):
        raise TypeError(f"ember.load: weights_only must be a bool or None, got {weights_only!r}")
    if device is not None:
        if map_location is not None:
            raise TypeError("ember.load: pass map_location or device, not both")
        map_location = device
    if map_location is not None and not isinstance(map_location, Mapping):
        _target_device("cpu", map_location)  # a bad device fails before the file is read
    arrays, metadata, source = _read(f, "ember.load", verify=verify)
    return _rebuild(arrays, metadata, source, _tensor_maker(map_location, source))


def load_weights(module, f: FileLike, strict: bool = True, *, verify: bool = True):
    """Load a weights file or a checkpoint into ``module``; all or nothing.

    Args:
        module: the :class:`~ember.nn.Module` to fill.
        f: a path or binary file object holding a ``state_dict`` written by
            :func:`save` (or by ``safetensors`` from PyTorch with matching names),
            or a checkpoint of :func:`ember.io.save_checkpoint` (its model part).
        strict: require the file's names to match the module's exactly.
        verify: check the file's checksums, when it has them (see :func:`load`).

    Returns:
        ``(missing_keys, unexpected_keys)``.

    Raises:
        SafetensorsError: the file is corrupt or truncated.
        StateDictError: names or shapes do not match, or the file holds something
            other than a state dict; the message starts with the file name, and
            the module is left unchanged.

    Example:
        >>> import ember, os, tempfile
        >>> from ember import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "linear.safetensors")
        >>> ember.save(nn.Linear(3, 2).state_dict(), path)
        >>> ember.io.load_weights(nn.Linear(3, 2), path)
        ([], [])
    """
    from ..nn.module import StateDictError

    arrays, metadata, source = _read(f, "load_weights", verify=verify)
    if metadata.get(KIND_KEY) == "checkpoint":
        from .checkpoint import MODEL_PREFIX  # here: checkpoint imports this module

        state = {k[len(MODEL_PREFIX):]: v for k, v in arrays.items() if k.startswith(MODEL_PREFIX)}
    else:
        state = _rebuild(arrays, metadata, source, _tensor_maker("cpu", source))
        if not (isinstance(state, Mapping) and all(isinstance(v, (Tensor, np.ndarray)) for v in state.values())):
            keys = f" with keys {list(state)[:8]}" if isinstance(state, Mapping) else ""
            raise StateDictError(f"{source}: holds a {type(state).__name__}{keys}, not a state dict of tensors; "
                                 "load it with ember.load and pass the state dict inside it to "
                                 "model.load_state_dict")
    try:
        return module.load_state_dict(state, strict=strict)
    except StateDictError as err:
        raise StateDictError(f"{source}: {err}") from None


def read_metadata(f: FileLike, *, verify: bool = True) -> dict[str, str]:
    """The ``str -> str`` metadata of a file, without reading its tensors.

    Holds the ``metadata=`` given to :func:`save`, plus Ember's own keys
    (``"ember.kind"``: ``"tensor"``, ``"state_dict"``, ``"tree"`` or
    ``"checkpoint"``; ``"ember.tree"``: the JSON structure; ``"ember.checksums"``).
    A file object is left just after the header. ``verify`` checks the header's
    checksum, when the file has one.

    Raises:
        SafetensorsError: the header is damaged, truncated or not safetensors.
    """
    return _read(f, "read_metadata", tensors=False, verify=verify)[1]
