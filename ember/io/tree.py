"""Nested state (dicts, lists, tuples, numbers, strings, bytes, arrays) as JSON plus named arrays.

A training checkpoint, an optimizer's ``state_dict`` or an RNG state is a tree of
plain values with arrays at some leaves. Pickle would store it in one call and
run arbitrary code on load; here the arrays become tensors of the safetensors
file and the rest a JSON skeleton in its header, where each array leaf is
replaced by a reference to its tensor. What JSON cannot say is spelled with
tagged objects, so that the round trip is exact:

* ``{"__tuple__": [...]}`` for tuples;
* ``{"__dict__": [[key, value], ...]}`` for dicts whose keys are not all strings
  (an optimizer's state is keyed by parameter index) and
  ``{"__ordereddict__": [[key, value], ...]}`` for ``OrderedDict`` (a module's
  ``state_dict``);
* ``{"__float__": "nan"}`` for non-finite floats;
* ``{"__tensor__": name}`` (plus ``"__device__": "cuda:0"`` off the CPU),
  ``{"__array__": name}``, ``{"__scalar__": name}`` and ``{"__bytes__": name}``
  for Ember tensors, NumPy arrays, NumPy scalars and ``bytes`` (stored as
  ``uint8`` tensors).

A user dict with one of these tag names as a key is written as pairs, so it can
never be mistaken for a tag. Python ints of any size survive (NumPy's PCG64
state holds 128-bit integers). Anything else (a module, a function, an object of
a custom class) is refused with a ``TypeError`` naming its place in the tree,
before any file is touched.
"""
from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor, constant
from .host import device_of_leaf, is_gpu_array, is_torch_tensor, to_host_array
from .safetensors_io import SafetensorsError, dtype_code

_TAGS = frozenset({"__tuple__", "__dict__", "__ordereddict__", "__float__", "__array__", "__tensor__",
                   "__scalar__", "__bytes__", "__device__"})
#: Tensor names the safetensors header reserves for itself.
_RESERVED_NAMES = frozenset({"__metadata__"})
#: What may be saved, for the error messages.
SAVEABLE = "dicts, lists, tuples, str, bytes, int, float, bool, None, tensors and arrays"
_KEY_TYPES = "str, int, float, bool, None or tuples of them"


def _key_repr(key: Any) -> str:
    return f'"{key}"' if isinstance(key, str) else repr(key)


def flatten(obj: Any, prefix: str, root: str = "obj", op: str = "ember.save") -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``obj`` into a JSON-able skeleton and ``{tensor name: host array}``.

    Args:
        obj: the tree to save.
        prefix: prepended to every tensor name (tensor names are the leaves' paths,
            joined with ``/``).
        root: how error messages name ``obj`` (``obj["args"]["fn"]``).
        op: the function named in error messages.

    Raises:
        TypeError: a leaf is not saveable (the message names it and its place).
        ValueError: the tree contains itself.

    Example:
        >>> import numpy as np
        >>> skeleton, arrays = flatten({"state": {0: {"m": np.zeros(2), "step": 3}}}, "opt/")
        >>> skeleton
        {'state': {'__dict__': [[0, {'m': {'__array__': 'opt/state/0/m'}, 'step': 3}]]}}
        >>> list(arrays)
        ['opt/state/0/m']
    """
    arrays: dict[str, np.ndarray] = {}
    active: set[int] = set()  # containers being encoded: a tree that contains itself has no end

    def name_for(path: list[str]) -> str:
        base = prefix + "/".join(path) or "tensor"
        name, n = base, 1
        while name in arrays or name in _RESERVED_NAMES:  # keys 1 and "1" in one dict would collide
            name, n = f"{base}~{n}", n + 1
        return name

    def leaf(array: np.ndarray, tag: str, path: list[str], where: str, device: str = "cpu") -> dict:
        try:
            dtype_code(array.dtype)
        except SafetensorsError:
            raise TypeError(f"{op}: cannot save {where}, an array of dtype {array.dtype}: safetensors stores "
                            "bool, (u)int8-64, float16/32/64, bfloat16 and float8 (object arrays would "
                            "need pickle)") from None
        name = name_for(path)
        arrays[name] = array
        return {tag: name} if device == "cpu" else {tag: name, "__device__": device}

    def encode_key(key: Any, where: str) -> Any:
        if isinstance(key, np.generic) and key.dtype.kind in "biuf":
            key = key.item()
        if key is None or isinstance(key, (bool, str)):
            return key
        if isinstance(key, int):
            return int(key)
        if isinstance(key, float):
            return key if math.isfinite(key) else {"__float__": repr(key)}
        if isinstance(key, tuple):
            return {"__tuple__": [encode_key(k, where) for k in key]}
        raise TypeError(f"{op}: cannot save the key {key!r} of {where}, a {_type_name(key)}: dict keys "
                        f"must be {_KEY_TYPES}")

    def encode(value: Any, path: list[str], where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, bytes):
            return leaf(np.frombuffer(bytes(value), np.uint8).copy(), "__bytes__", path, where)
        if isinstance(value, Tensor) or is_torch_tensor(value):
            return leaf(to_host_array(value), "__tensor__", path, where, device_of_leaf(value))
        if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
            return leaf(np.asarray(value), "__scalar__", path, where)
        if isinstance(value, int):
            return int(value)  # also turns IntEnum and such into a plain int
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else {"__float__": repr(float(value))}
        if isinstance(value, np.ndarray) or is_gpu_array(value):
            return leaf(to_host_array(value), "__array__", path, where)
        if isinstance(value, (list, tuple, Mapping)) and not _is_module(value):
            if id(value) in active:
                raise ValueError(f"{op}: {where} contains itself; a tree that refers to itself cannot be saved")
            active.add(id(value))
            try:
                return encode_container(value, path, where)
            finally:
                active.discard(id(value))
        raise TypeError(_refusal(value, where, root, op))

    def encode_container(value: Any, path: list[str], where: str) -> Any:
        if isinstance(value, list):
            return [encode(v, path + [str(i)], f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v, path + [str(i)], f"{where}[{i}]") for i, v in enumerate(value)]}
        ordered = isinstance(value, OrderedDict)
        if not ordered and all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: encode(v, path + [k], f"{where}[{_key_repr(k)}]") for k, v in value.items()}
        pairs = [[encode_key(k, where), encode(v, path + [str(k)], f"{where}[{_key_repr(k)}]")]
                 for k, v in value.items()]
        return {"__ordereddict__" if ordered else "__dict__": pairs}

    return encode(obj, [], root), arrays


def _is_module(value: Any) -> bool:
    # Looked up, not imported: `import ember.io` must not load the nn package, and a
    # Module can only exist once it is loaded.
    module = sys.modules.get("ember.nn.module")
    return module is not None and isinstance(value, module.Module)


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _refusal(value: Any, where: str, root: str, op: str) -> str:
    """The message for a value that would need pickle, with the usual way out."""
    import argparse
    import dataclasses
    import enum
    import os

    if _is_module(value):
        if where == root:
            return (f"{op}: cannot save a whole module ({type(value).__name__}): Ember files hold weights, "
                    "not code. Save its weights with ember.save(model.state_dict(), f) and restore them "
                    "with model.load_state_dict(ember.load(f))")
        return (f"{op}: {where} is a module ({type(value).__name__}); save {where}.state_dict() instead "
                "(Ember files hold weights, not code)")
    hint = None
    if callable(getattr(value, "state_dict", None)) and not isinstance(value, type):
        hint = f"save {where}.state_dict() instead"
    elif callable(value):
        hint = "code cannot be saved without pickle; save what it is called, or its settings, instead"
    elif isinstance(value, argparse.Namespace):
        hint = f"save vars({where}) instead"
    elif dataclasses.is_dataclass(value):
        hint = f"save dataclasses.asdict({where}) instead"
    elif isinstance(value, os.PathLike):
        hint = f"save str({where}) instead"
    elif isinstance(value, (set, frozenset)):
        hint = f"save sorted({where}) or list({where}) instead"
    elif isinstance(value, enum.Enum):
        hint = f"save {where}.value instead"
    message = (f"{op}: cannot save {where}, a {_type_name(value)}: Ember files hold {SAVEABLE}, and "
               "nothing is pickled, so code and objects of other classes are refused")
    return f"{message}; {hint}" if hint else message


def _plain_tensor(array: np.ndarray, device: str) -> Tensor:
    # _make: no checks or copies, and it accepts bfloat16 arrays that Tensor() refuses.
    return constant(array)


def unflatten(skeleton: Any, arrays: dict[str, np.ndarray], source: str = "",
              wrap: Callable[[np.ndarray, str], Any] | None = None) -> Any:
    """Rebuild what :func:`flatten` split.

    Args:
        skeleton: the parsed JSON.
        arrays: the file's tensors by name.
        source: the file, for error messages.
        wrap: ``wrap(array, saved_device)`` makes the ``__tensor__`` leaves
            (default: a CPU :class:`~ember.Tensor`).

    Raises:
        ValueError: the skeleton is malformed or refers to a tensor the file lacks
            (the message names ``source``).
    """
    wrap = wrap or _plain_tensor

    def corrupt(what: str) -> ValueError:
        return ValueError(f"{source}: the saved structure in the header is corrupt ({what})")

    def array(name: Any) -> np.ndarray:
        if not isinstance(name, str):
            raise corrupt(f"a tensor reference is {name!r}, not a name")
        if name not in arrays:
            raise ValueError(f"{source}: the header refers to tensor {name!r}, which the file does not hold")
        return arrays[name]

    def pairs(body: Any, kind: type) -> dict:
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise corrupt("dict entries are not [key, value] pairs")
        try:
            return kind((_hashable(decode(k)), decode(v)) for k, v in body)
        except TypeError as err:  # an unhashable key
            raise corrupt(f"a dict key cannot be used: {err}") from None

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if not _TAGS.intersection(value):
            return {k: decode(v) for k, v in value.items()}
        if "__tensor__" in value and set(value) <= {"__tensor__", "__device__"}:
            device = value.get("__device__", "cpu")
            if not isinstance(device, str):
                raise corrupt(f"device {device!r} is not a string")
            return wrap(array(value["__tensor__"]), device)
        if len(value) != 1:
            raise corrupt(f"an object mixes tags and keys: {sorted(value)}")
        (tag, body), = value.items()
        if tag == "__tuple__":
            if not isinstance(body, list):
                raise corrupt("a tuple is not a list")
            return tuple(decode(v) for v in body)
        if tag == "__dict__":
            return pairs(body, dict)
        if tag == "__ordereddict__":
            return pairs(body, OrderedDict)
        if tag == "__float__":
            try:
                return float(body)
            except (TypeError, ValueError):
                raise corrupt(f"float {body!r}") from None
        if tag == "__array__":
            return array(body)
        if tag == "__scalar__":
            scalar = array(body)
            if scalar.ndim != 0:
                raise corrupt(f"scalar {body!r} has shape {scalar.shape}")
            return scalar[()]
        if tag == "__bytes__":
            raw = array(body)
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise corrupt(f"bytes {body!r} are a {raw.dtype} array of shape {raw.shape}")
            return raw.tobytes()
        raise corrupt(f"{tag} outside a tensor reference")

    try:
        return decode(skeleton)
    except RecursionError:
        raise corrupt("nested too deeply") from None


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key
