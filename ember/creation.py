"""Functions that make new tensors: from data, constants, ranges and random draws."""
from __future__ import annotations

import math
from typing import Any

from . import backend
from .autograd.tracing import _Trace
from .tensor import Tensor, _to_array, constant
from .errors import ArgumentError


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"expected a shape of integers, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ArgumentError(f"negative dimension in shape {shape}")
    return shape


def _torch_options(op: str, out=None, layout=None, pin_memory: bool = False, memory_format=None,
                   generator=None) -> None:
    """Check PyTorch's creation keywords that Ember accepts only at their default meaning.

    ``layout`` must be strided (Ember tensors are dense), ``pin_memory`` is a no-op on the
    host, ``memory_format`` is ignored (layouts are NumPy's); ``out=`` is refused, because
    writing into a given tensor is not supported by creation functions.
    """
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; assign the result instead")
    if layout is not None and str(layout) not in ("strided", "torch.strided"):
        raise TypeError(f"{op}: only the strided layout is supported, got layout={layout!r}")
    if generator is not None:
        from .generator import Generator

        if not isinstance(generator, Generator):
            raise TypeError(f"{op}: generator must be an ember.Generator, got {type(generator).__name__}")


def _device(device) -> str:
    return "cpu" if device is None else str(device)


def _finish(array, requires_grad: bool) -> Tensor:
    if _Trace.tracer is not None:
        _Trace.tracer.note_fresh(array)
    t = constant(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype):
    return backend.default_dtype() if dtype is None else backend.numpy_module().dtype(dtype)


def tensor(data: Any, dtype=None, requires_grad: bool = False, device: str = "cpu", *,
           pin_memory: bool = False) -> Tensor:
    """Make a tensor from nested lists, a number or an array (the data is copied).

    Python floats become float32 (the default dtype), ints int64, bools bool.

    Example:
        >>> import ember
        >>> ember.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
    """
    device = _device(device)
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


def zeros(*shape, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, size=None) -> Tensor:
    """A tensor of zeros (``size=`` may name the shape as a keyword, as in PyTorch)."""
    _torch_options("zeros", out, layout)
    shape = shape if size is None else (size,)
    xp = backend.module_for_device(_device(device))
    return _finish(xp.zeros(_shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, size=None) -> Tensor:
    """A tensor of ones (``size=`` may name the shape as a keyword, as in PyTorch)."""
    _torch_options("ones", out, layout)
    shape = shape if size is None else (size,)
    xp = backend.module_for_device(_device(device))
    return _finish(xp.ones(_shape(shape), dtype=_float(dtype)), requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (bools give bool, ints int64, floats the default float)."""
    _torch_options("full", out, layout)
    shape = size
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    xp = backend.module_for_device(_device(device))
    if dtype is None and isinstance(fill_value, bool):
        dtype = bool
    elif dtype is None and isinstance(fill_value, int):
        dtype = "int64"
    shape = _shape((shape,) if isinstance(shape, int) else (shape,))
    return _finish(xp.full(shape, fill_value, dtype=_float(dtype)), requires_grad)


def empty(*shape, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None, size=None) -> Tensor:
    """An uninitialised tensor (its values are arbitrary)."""
    _torch_options("empty", out, layout)
    shape = shape if size is None else (size,)
    xp = backend.module_for_device(_device(device))
    return _finish(xp.empty(_shape(shape), dtype=_float(dtype)), requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; integers give int64, floats the default float.

    Floating values are ``start + i * step`` computed in float64 and then rounded
    to ``dtype`` (as PyTorch does), so a float32 range does not drift the way an
    accumulated float32 step would.

    Example:
        >>> import ember
        >>> ember.arange(0, 1, 0.25).tolist()
        [0.0, 0.25, 0.5, 0.75]
    """
    _torch_options("arange", out, layout)
    xp = backend.module_for_device(_device(device))
    stop = end
    if stop is None:
        start, stop = 0, start
    start, stop, step = (v.item() if isinstance(v, Tensor) else v for v in (start, stop, step))
    if step == 0:
        raise ArgumentError("arange: step must not be zero")
    if (stop - start) * step < 0:
        raise ArgumentError(f"arange: the range [{start}, {stop}) is inconsistent with the sign of step {step}")
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
        raise ArgumentError(f"{op}: number of steps must be non-negative, got {steps}")
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


def linspace(start: float, end: float, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (PyTorch's rounding for ints).

    Example:
        >>> import ember
        >>> ember.linspace(0, 10, 4, dtype="int64").tolist()
        [0, 3, 6, 10]
    """
    _torch_options("linspace", out, layout)
    steps = _steps("linspace", steps)
    xp = backend.module_for_device(_device(device))
    dt = _float(dtype)
    if dt.kind == "b":
        raise RuntimeError("linspace: bool is not a supported dtype (PyTorch refuses it too)")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    return _finish(_linear_points(xp, start, end, steps, dt), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``end`` inclusive.

    Integer dtypes convert ``start`` and ``end`` first and truncate each power,
    as PyTorch does: ``logspace(0, 2, 5, dtype=int64)`` is ``[1, 3, 10, 31, 100]``.

    Example:
        >>> from ember.creation import logspace
        >>> logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    _torch_options("logspace", out, layout)
    steps = _steps("logspace", steps)
    xp = backend.module_for_device(_device(device))
    dt = _float(dtype)
    if dt.kind not in "fc":
        start, end = int(start), int(end)
    exponents = _linear_points(xp, start, end, steps, xp.dtype(xp.float64))
    powers = xp.power(float(base), exponents)
    return _finish(powers.astype(dt) if dt.kind in "fc" else xp.trunc(powers).astype(dt), requires_grad)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An identity matrix (``n`` by ``m``)."""
    _torch_options("eye", out, layout)
    xp = backend.module_for_device(_device(device))
    return _finish(xp.eye(n, m, dtype=_float(dtype)), requires_grad)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Zeros with the shape of ``input`` and, unless given, its dtype and device."""
    _torch_options("zeros_like", None, layout)
    device = input.device if device is None else str(device)
    return _finish(backend.module_for_device(device).zeros(input.shape, dtype=dtype or input.dtype), requires_grad)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Ones with the shape of ``input`` and, unless given, its dtype and device."""
    _torch_options("ones_like", None, layout)
    device = input.device if device is None else str(device)
    return _finish(backend.module_for_device(device).ones(input.shape, dtype=dtype or input.dtype), requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with the shape of ``input`` and, unless given, its dtype and device."""
    _torch_options("full_like", None, layout)
    device = input.device if device is None else str(device)
    xp = backend.module_for_device(device)
    return _finish(xp.full(input.shape, fill_value, dtype=dtype or input.dtype), requires_grad)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """An uninitialised tensor with the shape of ``input`` and, unless given, its dtype and device."""
    _torch_options("empty_like", None, layout)
    device = input.device if device is None else str(device)
    xp = backend.module_for_device(device)
    return _finish(xp.empty(input.shape, dtype=dtype or input.dtype), requires_grad)


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
def rand(*shape, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False, size=None) -> Tensor:
    """Uniform samples in ``[0, 1)`` from the global seeded generator (or ``generator``)."""
    from .generator import resolve

    _torch_options("rand", out, layout, generator=generator)
    shape = shape if size is None else (size,)
    xp = backend.module_for_device(_device(device))
    dt = _float(dtype)
    gen = resolve(generator, xp)
    return _finish(gen.random(_shape(shape), dtype=dt if dt.itemsize >= 4 else "float32").astype(dt, copy=False),
                   requires_grad)


@_random_source
def randn(*shape, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, size=None) -> Tensor:
    """Standard normal samples from the global seeded generator (or ``generator``)."""
    from .generator import resolve

    _torch_options("randn", out, layout, generator=generator)
    shape = shape if size is None else (size,)
    xp = backend.module_for_device(_device(device))
    dt = _float(dtype)
    gen = resolve(generator, xp)
    sample = gen.standard_normal(_shape(shape), dtype=dt if dt.itemsize >= 4 else "float32")
    return _finish(sample.astype(dt, copy=False), requires_grad)


def _randint_bounds(args: tuple, low, high, size) -> tuple:
    """PyTorch's overloads: ``randint(high, size)``, ``randint(low, high, size)``, keywords for any."""
    args = list(args)
    if size is None and args and (len(args) == 3 or not isinstance(args[-1], (int, Tensor))):
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} positional arguments")
    if high is None or size is None:
        raise TypeError("randint: missing 'high' or 'size' (randint(high, size) or randint(low, high, size))")
    low = 0 if low is None else low
    return int(low), int(high), (size,) if isinstance(size, int) else tuple(int(s) for s in size)


@_random_source
def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (int64 unless ``dtype`` says otherwise).

    Called as PyTorch's ``randint(high, size)`` or ``randint(low, high, size)``.

    Example:
        >>> import ember
        >>> ember.randint(0, 3, (2, 2)).shape
        (2, 2)
    """
    from .generator import resolve

    _torch_options("randint", out, layout, generator=generator)
    low, high, size = _randint_bounds(args, low, high, size)
    if high <= low:
        raise ArgumentError(f"randint: expected low < high, got the empty range [{low}, {high})")
    dt = backend.numpy_module().dtype("int64" if dtype is None else dtype)
    if requires_grad and dt.kind not in "fc":
        raise RuntimeError(f"randint: only floating-point tensors can require gradients, got dtype {dt}")
    xp = backend.module_for_device(_device(device))
    if generator is None and xp is backend.numpy_module():
        values = _torch_stream_integers(low, high, _shape(size))
    else:
        values = resolve(generator, xp).integers(low, high, size=_shape(size), dtype="int64")
    return _finish(values.astype(dt, copy=False), requires_grad)


def _torch_stream_integers(low: int, high: int, shape: tuple):
    """Integers in ``[low, high)`` drawn as PyTorch's CPU ``randint`` draws them (see
    :func:`ember.backend.integer_stream`)."""
    np = backend.numpy_module()
    count = math.prod(shape)
    span = high - low
    words = backend.integer_stream().random_raw(count * (2 if span >= 2 ** 32 else 1)).astype(np.uint64)
    if span >= 2 ** 32:
        words = (words[0::2] << np.uint64(32)) | words[1::2]
    return ((words % np.uint64(span)).astype(np.int64) + low).reshape(shape)


def rand_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Uniform samples with the shape of ``input`` and, unless given, its dtype and device."""
    return rand(*input.shape, dtype=dtype or input.dtype, layout=layout, requires_grad=requires_grad,
                device=input.device if device is None else device)


def randn_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Normal samples with the shape of ``input`` and, unless given, its dtype and device."""
    return randn(*input.shape, dtype=dtype or input.dtype, layout=layout, requires_grad=requires_grad,
                 device=input.device if device is None else device)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype=None, layout=None, device=None,
                 requires_grad: bool = False, memory_format=None) -> Tensor:
    """Integers in ``[low, high)`` with the shape of ``input`` (``randint_like(x, high)`` also works)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, layout=layout, requires_grad=requires_grad,
                   device=input.device if device is None else device)


def from_numpy(array) -> Tensor:
    """Wrap a NumPy array without copying (changes to one show in the other)."""
    return Tensor(array)
