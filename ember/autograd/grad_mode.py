"""Switches for recording the tape: ``no_grad`` and ``enable_grad``.

Grad mode is one process-wide flag read on every op, so it is a plain module
attribute rather than a thread-local (whose lookup would cost every op time).
"""
from __future__ import annotations

import functools


class _State:
    # Read on every op's hot path: a class attribute is the cheapest lookup.
    enabled = True


def is_grad_enabled() -> bool:
    """Return True when ops are being recorded for reverse-mode differentiation."""
    return _State.enabled


class _GradSwitch:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    _mode: bool

    def __enter__(self):
        self._previous = _State.enabled
        _State.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _State.enabled = self._previous
        return False

    def __call__(self, func):
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = _State.enabled
            _State.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _State.enabled = previous

        return wrapper


class no_grad(_GradSwitch):
    """Disable recording of the tape inside a ``with`` block or a decorated function.

    Forward-mode tangents still propagate: ``no_grad`` only concerns reverse mode.

    Example:
        >>> import ember
        >>> w = ember.ones(3, requires_grad=True)
        >>> with ember.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    _mode = False


class enable_grad(_GradSwitch):
    """Re-enable recording inside a ``no_grad`` region (context manager or decorator)."""

    _mode = True


class set_grad_enabled(_GradSwitch):
    """Set grad mode to ``mode`` for a block: ``with set_grad_enabled(training): ...``."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
