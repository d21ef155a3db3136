"""Nested training state (dicts, lists, numbers, arrays) as JSON plus named arrays.

Optimizer, scheduler and RNG states are trees of plain values with arrays at some
leaves. Pickle would store them in one call and run arbitrary code on load; here
the arrays become tensors of the safetensors file and the rest a JSON skeleton in
its header, where each array leaf is replaced by a reference to its tensor.
What JSON cannot say is spelled with tagged objects, so that the round trip is
exact: ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}`` for dicts
whose keys are not all strings (optimizer state is keyed by parameter index),
``{"__float__": "nan"}`` for non-finite floats and ``{"__array__": name}`` /
``{"__tensor__": name}`` / ``{"__scalar__": name}`` for arrays. Python ints of
any size survive (NumPy's PCG64 state holds 128-bit integers).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor

_TAGS = ("__tuple__", "__dict__", "__float__", "__array__", "__tensor__", "__scalar__")


def flatten(obj: Any, prefix: str) -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``obj`` into a JSON-able skeleton and ``{prefix + path: array}``.

    Example:
        >>> import numpy as np
        >>> skeleton, arrays = flatten({"state": {0: {"m": np.zeros(2), "step": 3}}}, "opt/")
        >>> skeleton
        {'state': {'__dict__': [[0, {'m': {'__array__': 'opt/state/0/m'}, 'step': 3}]]}}
        >>> list(arrays)
        ['opt/state/0/m']
    """
    arrays: dict[str, np.ndarray] = {}

    def name_for(path: list[str]) -> str:
        base = prefix + "/".join(path)
        name, n = base, 1
        while name in arrays:  # keys 1 and "1" in one dict would collide
            name, n = f"{base}~{n}", n + 1
        return name

    def encode(value: Any, path: list[str]) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return int(value)  # also turns IntEnum and such into a plain int
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, (Tensor, np.generic, np.ndarray)) or hasattr(value, "__array_namespace__"):
            tag = "__tensor__" if isinstance(value, Tensor) else "__scalar__" if isinstance(value, np.generic) \
                else "__array__"
            data = value.data if isinstance(value, Tensor) else value
            name = name_for(path)
            arrays[name] = np.asarray(data) if isinstance(data, np.generic) else _host(data)
            return {tag: name}
        if isinstance(value, list):
            return [encode(v, path + [str(i)]) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v, path + [str(i)]) for i, v in enumerate(value)]}
        if isinstance(value, dict):
            if all(isinstance(k, str) and k not in _TAGS for k in value):
                return {k: encode(v, path + [k]) for k, v in value.items()}
            return {"__dict__": [[encode(k, path + ["key"]), encode(v, path + [str(k)])] for k, v in value.items()]}
        where = "/".join(path) or "<root>"
        raise TypeError(f"cannot save {type(value).__name__} at {prefix}{where}: checkpoints hold dicts, lists, "
                        "tuples, strings, numbers, None, tensors and arrays (never pickled objects)")

    return encode(obj, []), arrays


def _host(array):
    return array if isinstance(array, np.ndarray) else backend.to_device(array, "cpu")


def unflatten(skeleton: Any, arrays: dict[str, np.ndarray], source: str = "",
              wrap: Callable[[np.ndarray], Any] | None = None) -> Any:
    """Rebuild what :func:`flatten` split; ``wrap`` turns ``__tensor__`` leaves into tensors."""
    wrap = wrap or (lambda a: Tensor._make(a, False, None, 0))

    def array(name: str) -> np.ndarray:
        if name not in arrays:
            raise ValueError(f"{source}: the header refers to tensor {name!r}, which the file does not hold")
        return arrays[name]

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (tag, body), = value.items()
            if tag == "__tuple__":
                return tuple(decode(v) for v in body)
            if tag == "__dict__":
                return {_hashable(decode(k)): decode(v) for k, v in body}
            if tag == "__float__":
                return float(body)
            if tag == "__array__":
                return array(body)
            if tag == "__tensor__":
                return wrap(array(body))
            if tag == "__scalar__":
                return array(body)[()]
        return {k: decode(v) for k, v in value.items()}

    return decode(skeleton)


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key
