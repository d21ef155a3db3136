"""Input checks shared by the ops: operand conversion, dtype promotion, error messages.

Errors name the op and the shapes involved, so that a user reading a traceback
from deep inside a model knows which call was wrong and why.
"""
from __future__ import annotations

from .. import backend
from ..errors import DeviceError, ShapeError
from ..autograd.function import _tensor_class
from ..autograd.tracing import _Trace


def to_tensor(x):
    """``x`` as a Tensor: free for tensors (the hot path), converted otherwise."""
    if isinstance(x, _tensor_class()):
        return x
    from ..tensor import as_tensor

    return as_tensor(x)


def broadcast_error(op: str, *shapes) -> ShapeError:
    """The error for operands whose shapes do not broadcast together."""
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ShapeError(f"{op}: shapes {listed} cannot be broadcast together")


def _scalar_tensor(value, like):
    """Turn a Python number into a 0-d tensor whose dtype follows ``like`` (weak typing)."""
    from ..tensor import constant

    xp = backend.array_module(like._data)
    kind = like._data.dtype.kind
    if isinstance(value, bool):
        dtype = like._data.dtype
    elif isinstance(value, int):
        dtype = like._data.dtype if kind in "iufc" else backend.default_dtype()
        if kind == "b":
            dtype = xp.int64
    elif isinstance(value, float):
        dtype = like._data.dtype if kind in "fc" else backend.default_dtype()
    elif isinstance(value, complex):
        dtype = like._data.dtype if kind == "c" else xp.complex64
    else:
        raise TypeError(f"expected a tensor or a number, got {type(value).__name__}")
    array = xp.asarray(value, dtype=dtype)
    if _Trace.tracer is not None:
        _Trace.tracer.note_fresh(array)
    return constant(array)


def binary_operands(op: str, a, b):
    """Convert the operands of a binary op to tensors with compatible dtypes.

    Python numbers adopt the other operand's dtype (``float32_tensor * 2.5`` stays
    float32); an integer tensor meeting a float is promoted to that float dtype.
    """
    Tensor = _tensor_class()
    a_is = isinstance(a, Tensor)
    b_is = isinstance(b, Tensor)
    if a_is and b_is and a._data.dtype is b._data.dtype and not backend.gpu_in_use:
        return a, b  # the common case, kept cheap
    from ..tensor import as_tensor

    for operand in (a, b):
        if isinstance(operand, tuple):
            hint = (" (max/min/sort/topk along a dim return (values, indices): use .values)"
                    if hasattr(operand, "_fields") else "")
            raise TypeError(f"{op}: unsupported operand type {type(operand).__name__}{hint}")
    try:
        if a_is and not b_is:
            b = _scalar_tensor(b, a) if _is_number(b) else as_tensor(b)
        elif b_is and not a_is:
            a = _scalar_tensor(a, b) if _is_number(a) else as_tensor(a)
        elif not a_is and not b_is:
            a = as_tensor(a)
            b = _scalar_tensor(b, a) if _is_number(b) else as_tensor(b)
    except TypeError as error:
        raise TypeError(f"{op}: {error}") from None
    ka, kb = a._data.dtype.kind, b._data.dtype.kind
    if ka != kb:
        if ka in "fc" and kb not in "fc":
            b = b.astype(a._data.dtype)
        elif kb in "fc" and ka not in "fc":
            a = a.astype(b._data.dtype)
    if backend.gpu_in_use and a.device != b.device:
        raise DeviceError(f"{op}: operands are on different devices ({a.device} and {b.device})")
    return a, b


def _is_number(value) -> bool:
    return isinstance(value, (int, float, complex))


def float_operand(op: str, x, allow_int: bool = False):
    """Convert to a tensor; integers become the default float unless ``allow_int``."""
    if type(x) is _tensor_class() and x._data.dtype.kind == "f":
        return x  # the common case, kept cheap
    from ..tensor import as_tensor

    try:
        x = as_tensor(x)
    except TypeError as error:
        raise TypeError(f"{op}: {error}") from None
    if not allow_int and x._data.dtype.kind not in "fc":
        x = x.astype(backend.default_dtype())
    return x
