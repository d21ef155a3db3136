"""``torch.serialization``'s names: ``save``/``load`` and the ``weights_only`` allow-list API.

PyTorch's ``torch.load`` unpickles, and since PyTorch 2.6 it only rebuilds the classes a program
allows with :func:`add_safe_globals` or ``with safe_globals([...])``. Ember never unpickles:
:func:`ember.load` reads safetensors plus JSON and rebuilds tensors, numbers, strings, lists and
dicts only, so no class ever needs allowing. These functions keep the list a program gives (so
:func:`get_safe_globals` answers as in PyTorch) and change nothing about what loads: a whole
pickled module still cannot be saved or loaded -- save ``model.state_dict()`` instead.

Example:
    >>> import io, ember
    >>> buffer = io.BytesIO()
    >>> ember.save({"w": ember.ones(2)}, buffer); _ = buffer.seek(0)
    >>> with safe_globals([ember.nn.Linear]):
    ...     state = load(buffer)
    >>> state["w"].tolist()
    [1.0, 1.0]
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, List

from .save import load, save

_SAFE_GLOBALS: List[Any] = []


def add_safe_globals(safe_globals: List[Any]) -> None:
    """Record ``safe_globals`` as allowed (PyTorch's API; Ember loads no classes, so it is a record only)."""
    if not isinstance(safe_globals, (list, tuple)):
        raise TypeError(f"add_safe_globals: expected a list of classes or functions, got {type(safe_globals).__name__}")
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> List[Any]:
    """The entries recorded by :func:`add_safe_globals` (and active :func:`safe_globals` blocks)."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every recorded entry."""
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: List[Any]) -> Iterator[None]:
    """Within the block, ``safe_globals`` count as recorded; the list is restored afterwards."""
    before = list(_SAFE_GLOBALS)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _SAFE_GLOBALS[:] = before


__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals", "save"]
