"""Functions that make new tensors: from data, constants, ranges and random draws."""
from __future__ import annotations

import math
from typing import Any

from . import backend
from .autograd.tracing import _Trace
from .tensor import Tensor, _to_array


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"expected a shape of integers, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _finish(array, requires_grad: bool) -> Tensor:
    if _Trace.tracer is not None:
        _Trace.tracer.note_fresh(array)
    t = Tensor._make(array, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype):
    return backend.default_dtype() if dtype is None else backend.numpy_module().dtype(dtype)


def tensor(data: Any, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Make a tensor from nested lists, a number or an array (the data is copied).

    Python floats become float32 (the default dtype), ints int64, bools bool.

    Example:
        >>> import ember
        >>> ember.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
    """
    if isinstance(data, Tensor) or hasattr(data, "__array_namespace__"):
        # An array is copied by a primitive, so a compiled function sees where it came from.
        from .ops.movement import Copy
        from .autograd.function import apply
        from .autograd.grad_mode import no_grad

        source = data.detach() if isinstance(data, Tensor) else Tensor(data)
        with no_grad():
            if dtype is not None and source.dtype != backend.numpy_module().dtype(dtype):
                source = source.astype(dtype)
            copied = apply(Copy, (source,), {})
        copied = copied.to(device) if device != copied.device else copied
        return _finish(copied._data, requires_grad)
    array = _to_array(data, dtype, backend.module_for_device(device))
    array = backend.to_device(array.copy(), device)
    return _finish(array, requires_grad)


def zeros(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor of zeros."""
    xp = backend.module_for_device(device)
    return _finish(xp.zeros(_shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor of ones."""
    xp = backend.module_for_device(device)
    return _finish(xp.ones(_shape(shape), dtype=_float(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor filled with ``fill_value``."""
    xp = backend.module_for_device(device)
    if dtype is None and isinstance(fill_value, bool):
        dtype = bool
    elif dtype is None and isinstance(fill_value, int):
        dtype = "int64"
    shape = _shape((shape,) if isinstance(shape, int) else (shape,))
    return _finish(xp.full(shape, fill_value, dtype=_float(dtype)), requires_grad)


def empty(*shape, dtype=None, device: str = "cpu") -> Tensor:
    """An uninitialised tensor (its values are arbitrary)."""
    xp = backend.module_for_device(device)
    return _finish(xp.empty(_shape(shape), dtype=_float(dtype)), False)


def arange(start, stop=None, step=1, *, dtype=None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; integers give int64, floats the default float.

    Floating values are ``start + i * step`` computed in float64 and then rounded
    to ``dtype`` (as PyTorch does), so a float32 range does not drift the way an
    accumulated float32 step would.

    Example:
        >>> import ember
        >>> ember.arange(0, 1, 0.25).tolist()
        [0.0, 0.25, 0.5, 0.75]
    """
    xp = backend.module_for_device(device)
    if stop is None:
        start, stop = 0, start
    start, stop, step = (v.item() if isinstance(v, Tensor) else v for v in (start, stop, step))
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if (stop - start) * step < 0:
        raise ValueError(f"arange: the range [{start}, {stop}) is inconsistent with the sign of step {step}")
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, stop, step))
        dtype = "int64" if is_int else backend.default_dtype()
    dt = backend.numpy_module().dtype(dtype)
    if dt.kind in "fc":
        length = max(math.ceil((stop - start) / step), 0)
        values = (start + step * xp.arange(length, dtype=xp.float64)).astype(dt)
    else:
        values = xp.arange(start, stop, step, dtype=dt)
    return _finish(values, requires_grad)


def _steps(op: str, steps) -> int:
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"{op}: number of steps must be non-negative, got {steps}")
    return steps


def _linear_points(xp, start, end, steps: int, dtype):
    """``steps`` points from ``start`` to ``end``, rounded to ``dtype`` as PyTorch rounds them.

    Floating dtypes get NumPy's linspace (within an ulp of PyTorch's). For integer
    dtypes PyTorch first converts the end points to the dtype, steps in float64
    (the first half forward from ``start``, the second half back from ``end``, so
    both ends are exact) and truncates each point towards zero:
    ``linspace(0, 10, 4, dtype=int64)`` is ``[0, 3, 6, 10]``.
    """
    if dtype.kind in "fc":
        return xp.linspace(start, end, steps, dtype=dtype)
    start, end = int(start), int(end)
    if steps == 1:
        return xp.full((1,), start, dtype=dtype)
    step = (end - start) / max(steps - 1, 1)
    index = xp.arange(steps, dtype=xp.float64)
    points = xp.where(index < steps // 2, start + step * index, end - step * (steps - 1 - index))
    return xp.trunc(points).astype(dtype)


def linspace(start: float, end: float, steps: int, *, dtype=None, device: str = "cpu",
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (PyTorch's rounding for ints).

    Example:
        >>> import ember
        >>> ember.linspace(0, 10, 4, dtype="int64").tolist()
        [0, 3, 6, 10]
    """
    steps = _steps("linspace", steps)
    xp = backend.module_for_device(device)
    return _finish(_linear_points(xp, start, end, steps, _float(dtype)), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype=None, device: str = "cpu",
             requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``end`` inclusive.

    Integer dtypes convert ``start`` and ``end`` first and truncate each power,
    as PyTorch does: ``logspace(0, 2, 5, dtype=int64)`` is ``[1, 3, 10, 31, 100]``.

    Example:
        >>> from ember.creation import logspace
        >>> logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    steps = _steps("logspace", steps)
    xp = backend.module_for_device(device)
    dt = _float(dtype)
    if dt.kind not in "fc":
        start, end = int(start), int(end)
    exponents = _linear_points(xp, start, end, steps, xp.dtype(xp.float64))
    powers = xp.power(float(base), exponents)
    return _finish(powers.astype(dt) if dt.kind in "fc" else xp.trunc(powers).astype(dt), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device: str = "cpu") -> Tensor:
    """An identity matrix (``n`` by ``m``)."""
    xp = backend.module_for_device(device)
    return _finish(xp.eye(n, m, dtype=_float(dtype)), False)


def zeros_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, dtype and device of ``x``."""
    xp = backend.array_module(x._data)
    return _finish(xp.zeros(x.shape, dtype=dtype or x.dtype), requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, dtype and device of ``x``."""
    xp = backend.array_module(x._data)
    return _finish(xp.ones(x.shape, dtype=dtype or x.dtype), requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape, dtype and device of ``x``."""
    xp = backend.array_module(x._data)
    return _finish(xp.full(x.shape, fill_value, dtype=dtype or x.dtype), requires_grad)


def _random_source(draw):
    """Let ``ember.compile`` replay a random draw instead of freezing its first value."""
    import functools

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        result = draw(*args, **kwargs)
        if _Trace.tracer is not None:
            _Trace.tracer.record_source(draw, args, kwargs, result)
        return result

    return wrapper


@_random_source
def rand(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Uniform samples in ``[0, 1)`` from the global seeded generator."""
    xp = backend.module_for_device(device)
    dt = _float(dtype)
    gen = backend.generator(xp)
    return _finish(gen.random(_shape(shape), dtype=dt if dt.itemsize >= 4 else "float32").astype(dt, copy=False),
                   requires_grad)


@_random_source
def randn(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Standard normal samples from the global seeded generator."""
    xp = backend.module_for_device(device)
    dt = _float(dtype)
    gen = backend.generator(xp)
    sample = gen.standard_normal(_shape(shape), dtype=dt if dt.itemsize >= 4 else "float32")
    return _finish(sample.astype(dt, copy=False), requires_grad)


@_random_source
def randint(low: int, high: int | None = None, size=(), dtype="int64", device: str = "cpu") -> Tensor:
    """Integers drawn uniformly from ``[low, high)``."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: empty range [{low}, {high})")
    xp = backend.module_for_device(device)
    size = (size,) if isinstance(size, int) else tuple(size)
    return _finish(backend.generator(xp).integers(low, high, size=size, dtype=dtype), False)


def rand_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    """Uniform samples with the shape, dtype and device of ``x``."""
    return rand(*x.shape, dtype=x.dtype, requires_grad=requires_grad, device=x.device)


def randn_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    """Normal samples with the shape, dtype and device of ``x``."""
    return randn(*x.shape, dtype=x.dtype, requires_grad=requires_grad, device=x.device)


def from_numpy(array) -> Tensor:
    """Wrap a NumPy array without copying (changes to one show in the other)."""
    return Tensor(array)
