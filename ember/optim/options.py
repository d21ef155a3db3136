"""Validation of optimizer and scheduler options: one rule per option, one error format.

Every optimizer declares a table ``{option name: Rule}``; the base class checks the
constructor defaults and every parameter group against it, so a typo or a value out
of range fails at construction with a message that names the optimizer, the option,
what was expected and what was given, instead of surfacing as NaNs many steps later.
"""
from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..backend import numpy_module


def _always(value: Any) -> bool:
    return True


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_flag(value: Any) -> bool:
    # numpy.bool_ is not a bool subclass but is what comparisons of arrays give back.
    return isinstance(value, (bool, numpy_module().bool_))


def _is_pair(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_real(v) for v in value)


def _is_optional_flag(value: Any) -> bool:
    return value is None or _is_flag(value)


_KIND_TESTS = {"number": _is_real, "int": _is_int, "flag": _is_flag, "pair": _is_pair,
               "optional_flag": _is_optional_flag, "any": _always}


@dataclass(frozen=True)
class Rule:
    """What one option accepts: its kind (the type check) and its range (the value check).

    Args:
        expected: how the accepted values are described in error messages.
        test: a predicate on a value of the right kind; False means out of range.
        kind: ``"number"`` (finite real, not bool), ``"int"``, ``"flag"`` (bool),
            ``"optional_flag"`` (bool or None), ``"any"`` (the range test alone) or ``"pair"``
            (two finite reals, such as Adam's ``betas``).

    Example:
        >>> from ember.optim.options import Rule
        >>> Rule("a finite number >= 0", lambda v: v >= 0).check("SGD", "lr", 0.1)
        >>> Rule("a finite number >= 0", lambda v: v >= 0).check("SGD", "lr", -1.0)
        Traceback (most recent call last):
        ...
        ValueError: SGD: invalid lr=-1.0; expected a finite number >= 0
    """

    expected: str
    test: Callable[[Any], bool] = _always
    kind: str = "number"

    def check(self, owner: str, name: str, value: Any, where: str = "") -> None:
        """Raise TypeError (wrong kind) or ValueError (out of range) naming ``owner`` and ``name``."""
        if not _KIND_TESTS[self.kind](value):
            raise TypeError(
                f"{owner}: option {name!r}{where} must be {self.expected}, "
                f"got {value!r} of type {type(value).__name__}"
            )
        if not self.test(value):
            raise ValueError(f"{owner}: invalid {name}={value!r}{where}; expected {self.expected}")


REAL = Rule("a finite number")
NONNEGATIVE = Rule("a finite number >= 0", lambda v: v >= 0)
POSITIVE = Rule("a finite number > 0", lambda v: v > 0)
UNIT_INTERVAL = Rule("a number in [0, 1]", lambda v: 0 <= v <= 1)
FLAG = Rule("True or False", kind="flag")
BETAS = Rule("a pair of numbers in [0, 1)", lambda v: all(0 <= b < 1 for b in v), kind="pair")
POSITIVE_INT = Rule("an integer > 0", lambda v: v > 0, kind="int")
NONNEGATIVE_INT = Rule("an integer >= 0", lambda v: v >= 0, kind="int")
#: PyTorch's implementation switches (``foreach``, ``fused``, ``capturable``): accepted so that
#: PyTorch code runs unchanged, and without effect, since Ember has one implementation of each
#: update (in-place array operations, already one pass per parameter).
IMPLEMENTATION_CHOICE = Rule("True, False or None", kind="optional_flag")
#: ``differentiable=True`` (autograd through the step itself) is not supported.
NOT_DIFFERENTIABLE = Rule("False (Ember's optimizer steps are not differentiable)", lambda v: not v, kind="flag")


def check_known(owner: str, given: Iterable[str], known: Iterable[str], where: str = "") -> None:
    """Raise ValueError for the first name in ``given`` that is not in ``known``, suggesting the
    closest known name (``'learning_rate'`` -> did you mean ``'lr'``?)."""
    known = sorted(known)
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{owner}: unknown option {name!r}{where}{hint} (known options: {', '.join(known)})"
            )
