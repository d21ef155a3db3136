"""Ember's error classes, catchable the way PyTorch users catch PyTorch's.

PyTorch raises ``RuntimeError`` for shape mismatches and impossible views; Ember's
errors derive from ``RuntimeError`` too, so ``except RuntimeError`` ports unchanged,
and from ``ValueError`` where the cause is a bad argument value, as a Python
reader expects. Messages name the op, the shapes and what was expected.
"""
from __future__ import annotations


class ShapeError(ValueError, RuntimeError):
    """Operand shapes that do not fit the op (broadcasting, matmul, cat, reshape ...).

    Example:
        >>> try:
        ...     ember.ones(2, 3) @ ember.ones(2, 3)
        ... except RuntimeError as error:
        ...     print(error)
        matmul: shapes (2, 3) and (2, 3) are not aligned: 3 (dim 1) != 2 (dim 0)
    """


class LayoutError(RuntimeError):
    """A view that the tensor's memory layout cannot express (PyTorch's ``view`` error)."""


class DeviceError(ValueError, RuntimeError):
    """Operands on different devices (PyTorch raises ``RuntimeError`` here too)."""


class DimensionError(IndexError, ValueError):
    """A ``dim`` argument outside the tensor's dimensions (PyTorch raises ``IndexError``)."""


class ArgumentError(ValueError, RuntimeError):
    """An argument value the op does not accept (an unknown mode name, a negative size ...).

    PyTorch raises ``RuntimeError`` for these; Python readers expect ``ValueError``: both catch it.
    """


class DTypeError(TypeError, RuntimeError):
    """A tensor of a dtype the op does not support (a float tensor to ``<<``, a bool to ``linspace``).

    PyTorch raises ``RuntimeError``; ``TypeError`` is what Python code expects: both catch it.
    """


class UnknownModeError(NotImplementedError, ValueError):
    """A mode name the op does not know (``F.pad(..., mode="wrap")``).

    PyTorch raises ``NotImplementedError`` (a ``RuntimeError``); a Python reader expects
    ``ValueError``: all three catch it.
    """
