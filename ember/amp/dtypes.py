"""The low-precision floating dtypes autocast can run in: float16 (NumPy's) and bfloat16 (ml_dtypes').

NumPy has no bfloat16; the ``ml_dtypes`` package (the one JAX uses) adds it as a NumPy dtype with
ufuncs and casts. Ember stores bfloat16 tensors in that dtype. Its ``kind`` is ``"V"``, not ``"f"``,
so code that asks "is this floating?" goes through :func:`is_floating_dtype` here.

Example:
    >>> import numpy, ember.amp
    >>> ember.amp.bfloat16 is None or numpy.dtype(ember.amp.bfloat16).itemsize == 2
    True
"""
from __future__ import annotations

import numpy

try:  # optional: without ml_dtypes, float16 autocast still works and bfloat16 raises a clear error
    from ml_dtypes import bfloat16
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    bfloat16 = None

float16 = numpy.float16
float32 = numpy.float32

#: ``numpy.dtype`` objects of the dtypes autocast may lower to (bfloat16 only when ml_dtypes imports).
LOW_PRECISION_DTYPES: tuple = tuple(numpy.dtype(d) for d in (float16, bfloat16) if d is not None)
#: Floating dtypes autocast may cast (PyTorch's eligibility rule: float64 tensors are left alone).
ELIGIBLE_DTYPES: frozenset = frozenset((numpy.dtype(float32),) + LOW_PRECISION_DTYPES)


def is_floating_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating dtype, counting ml_dtypes' bfloat16 (whose ``kind`` is ``"V"``)."""
    dtype = numpy.dtype(dtype)
    return dtype.kind == "f" or dtype in LOW_PRECISION_DTYPES


def low_precision_dtype(op: str, dtype) -> numpy.dtype:
    """``dtype`` as a ``numpy.dtype`` if autocast can lower to it, else a :class:`~ember.errors.DTypeError`.

    ``None`` stands for the device's default (bfloat16 on the CPU, float16 on CUDA), resolved by the caller.
    """
    from ..errors import DTypeError

    if bfloat16 is None and isinstance(dtype, str) and dtype == "bfloat16":
        raise DTypeError(f"{op}: bfloat16 needs the ml_dtypes package (pip install ml_dtypes)")
    try:
        resolved = numpy.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{op}: unknown dtype {dtype!r}; expected ember.bfloat16 or ember.float16") from None
    if resolved not in LOW_PRECISION_DTYPES:
        names = " or ".join(f"ember.{d.name}" for d in LOW_PRECISION_DTYPES)
        raise DTypeError(f"{op}: autocast runs in a lower-precision float, got {resolved}; expected {names}")
    return resolved
