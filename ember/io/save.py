"""``ember.save`` / ``ember.load``: tensors and state dicts as safetensors files.

Nothing here unpickles: a file holds raw numbers and a JSON header, so loading
one from an untrusted source cannot run code. Arrays are made C-contiguous
before writing (transposed and strided views are saved with their values, not
their buffers), GPU arrays are copied to the host, and the file appears
atomically. :func:`load_weights` loads a file into a module and, when anything
does not match, raises an error that names the file and leaves the module as it
was.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import safetensors_io

#: Metadata key marking what a file holds (``"tensor"``, ``"state_dict"``, ``"checkpoint"``).
KIND_KEY = "ember.kind"
#: Key of the single tensor in a file written by ``save(tensor, path)``.
SINGLE_TENSOR_KEY = "tensor"


def to_host_array(value, name: str = "value") -> np.ndarray:
    """The NumPy array behind a Tensor, NumPy/CuPy array or NumPy scalar (GPU data is copied)."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__cuda_array_interface__") or backend.device_of(value) != "cpu":
        return backend.to_device(value, "cpu")
    raise TypeError(f"ember.save: {name} is a {type(value).__name__}; only tensors and arrays can be "
                    "saved as tensors (put plain values in metadata=, or use a checkpoint)")


def _named_arrays(obj) -> tuple[dict, str]:
    # Imported here: `import ember.io` must not need the nn package loaded.
    from ..nn.module import Module

    if isinstance(obj, Module):
        obj = obj.state_dict()
    if isinstance(obj, Tensor):
        return {SINGLE_TENSOR_KEY: to_host_array(obj)}, "tensor"
    if not isinstance(obj, Mapping):
        raise TypeError(f"ember.save: expected a Tensor, a dict of tensors or a Module, got {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"ember.save: keys must be strings, got {key!r}")
        arrays[key] = to_host_array(value, f"the value of {key!r}")
    return arrays, "state_dict"


def save(obj, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Save a tensor, a ``{name: tensor}`` dict or a module's ``state_dict`` as safetensors.

    Args:
        obj: a :class:`~ember.Tensor`, a mapping from names to tensors or arrays,
            or a :class:`~ember.nn.Module` (its ``state_dict()`` is saved).
        path: the file to write (conventionally ``*.safetensors``); it is
            replaced atomically.
        metadata: optional ``str -> str`` pairs stored in the header.

    Example:
        >>> import ember, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
        >>> ember.save({"w": ember.ones(2, 3).T}, path)
        >>> ember.load(path)["w"].shape
        (3, 2)
    """
    arrays, kind = _named_arrays(obj)
    header = dict(metadata or {})
    header[KIND_KEY] = kind
    safetensors_io.write_file(path, arrays, header)


def _wrap(array: np.ndarray, device: str | None) -> Tensor:
    if device not in (None, "cpu"):
        array = backend.to_device(array, device)
    # _make: no checks or copies, and it accepts bfloat16 arrays that Tensor() refuses.
    return Tensor._make(array, False, None, 0)


def load(path: str | os.PathLike, device: str | None = None):
    """Load a file written by :func:`save` (or any safetensors file).

    Args:
        path: the file.
        device: ``"cpu"`` (default) or ``"cuda"``.

    Returns:
        A :class:`~ember.Tensor` when a single tensor was saved, otherwise an
        ``OrderedDict`` of name -> tensor in file order.

    Raises:
        SafetensorsError: the file is corrupt, truncated or not safetensors;
            the message names the file and what is wrong.

    Example:
        >>> import ember, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.safetensors")
        >>> ember.save(ember.arange(3), path)
        >>> ember.load(path)
        tensor([0, 1, 2])
    """
    arrays, metadata = safetensors_io.read_file(path)
    if metadata.get(KIND_KEY) == "tensor" and list(arrays) == [SINGLE_TENSOR_KEY]:
        return _wrap(arrays[SINGLE_TENSOR_KEY], device)
    return OrderedDict((name, _wrap(array, device)) for name, array in arrays.items())


def load_weights(module, path: str | os.PathLike, strict: bool = True):
    """Load a weights file or a checkpoint into ``module``; all or nothing.

    Args:
        module: the :class:`~ember.nn.Module` to fill.
        path: a file written by :func:`save` (or by ``safetensors`` from PyTorch
            with matching names), or a checkpoint file (its model part is used).
        strict: require the file's names to match the module's exactly.

    Returns:
        ``(missing_keys, unexpected_keys)``.

    Raises:
        SafetensorsError: the file is corrupt or truncated.
        StateDictError: names or shapes do not match; the message starts with
            the file name, and the module is left unchanged.

    Example:
        >>> import ember, os, tempfile
        >>> from ember import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "linear.safetensors")
        >>> ember.save(nn.Linear(3, 2), path)
        >>> ember.io.load_weights(nn.Linear(3, 2), path)
        ([], [])
    """
    from ..nn.module import StateDictError

    arrays, metadata = safetensors_io.read_file(path)
    if metadata.get(KIND_KEY) == "checkpoint":
        from .checkpoint import MODEL_PREFIX  # here: checkpoint imports this module

        arrays = {k[len(MODEL_PREFIX):]: v for k, v in arrays.items() if k.startswith(MODEL_PREFIX)}
    try:
        return module.load_state_dict(arrays, strict=strict)
    except StateDictError as err:
        raise StateDictError(f"{os.fspath(path)}: {err}") from None


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``str -> str`` metadata of a safetensors file, without reading its tensors."""
    return safetensors_io.read_metadata(path)
