"""The ONNX graph under construction: names for traced arrays, constants, nodes.

Converters (see :mod:`ember.onnx.convert`) see a :class:`GraphBuilder` and a
recorded call; they ask for the ONNX name of each input array with
:meth:`GraphBuilder.value` (a traced array gets the name of the node output
that made it; anything else becomes an initializer, named after the model's
parameter when it is one) and add nodes with :meth:`GraphBuilder.node`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class ExportError(RuntimeError):
    """The model uses something the ONNX exporter cannot express."""


#: primitive name -> converter ``f(builder, call) -> [output names]``.
CONVERTERS: dict[str, Callable] = {}


def converts(*names: str):
    """Register a converter for the primitives called ``names``."""
    def register(fn):
        for name in names:
            CONVERTERS[name] = fn
        return fn
    return register


class GraphBuilder:
    """Accumulates nodes and initializers; maps Ember arrays to ONNX value names."""

    def __init__(self, opset: int, parameter_names: dict[int, str]):
        import onnx

        self.onnx = onnx
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._names: dict[int, str] = {}
        self._alive: list = []  # arrays named by id must outlive the export
        self._parameter_names = parameter_names
        self._used: set[str] = set()
        self._count = 0
        self.inputs: list[tuple[str, Any]] = []

    # ---------------------------------------------------------------- names
    def fresh(self, hint: str) -> str:
        """A name not used yet, starting with ``hint``."""
        while True:
            self._count += 1
            name = f"{hint}_{self._count}"
            if name not in self._used:
                self._used.add(name)
                return name

    def bind(self, array, name: str) -> None:
        """Say that ``array`` is the ONNX value ``name``."""
        self._names[id(array)] = name
        self._alive.append(array)
        self._used.add(name)

    def is_traced(self, array) -> bool:
        return id(array) in self._names

    def add_input(self, array, name: str) -> None:
        self.bind(array, name)
        self.inputs.append((name, array))

    def value(self, array, dtype=None) -> str:
        """The ONNX name of an array: traced, or a new initializer (cast to ``dtype`` if given)."""
        if dtype is not None and np.dtype(array.dtype) != np.dtype(dtype):
            return self.cast(self.value(array), dtype)
        name = self._names.get(id(array))
        if name is None:
            hint = self._parameter_names.get(id(array))
            name = self.constant(array, hint=hint)
            self._names[id(array)] = name
            self._alive.append(array)
        return name

    def constant(self, value, dtype=None, hint: str | None = None) -> str:
        """A new initializer holding ``value`` (an array, a number or a list)."""
        array = _host(value)
        if dtype is not None:
            array = array.astype(dtype)
        if hint is not None and hint not in self._used:
            name = hint
            self._used.add(name)
        else:
            name = self.fresh(hint or "const")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values) -> str:
        """An int64 1-D initializer (shapes, axes, pads)."""
        return self.constant(np.asarray(list(values), dtype=np.int64))

    # ---------------------------------------------------------------- nodes
    def node(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, **attributes) -> Any:
        """Add a node; returns its output name (or the list of names for several outputs)."""
        names = outputs if isinstance(outputs, list) else [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, names, **attributes))
        return names[0] if len(names) == 1 and not isinstance(outputs, list) else names

    def cast(self, name: str, dtype) -> str:
        return self.node("Cast", [name], to=self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def tensor_type(self, array) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(array.dtype))


def _host(value) -> np.ndarray:
    if hasattr(value, "get") and not isinstance(value, np.ndarray):
        value = value.get()  # CuPy
    return np.asarray(value)
