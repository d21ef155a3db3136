"""Array backends, devices, default dtype and random number generation.

Op code never imports NumPy directly: it asks this module for the array module
(``xp``) that owns its inputs, so the same op runs on NumPy arrays (CPU) and on
CuPy arrays (NVIDIA GPUs) when CuPy is installed.
"""
from __future__ import annotations

import numpy

# NumPy is always there; CuPy is optional and only imported when asked for, so
# `import ember` stays fast and works on machines without a GPU.
_cupy = None
_cupy_checked = False
#: True once any CuPy array has been created; until then device checks are skipped.
gpu_in_use = False

_default_float = numpy.dtype(numpy.float32)


def cupy_module():
    """Return the CuPy module, or None when CuPy (or a GPU) is unavailable."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 - optional dependency

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # ImportError, or CUDA present without a device
            _cupy = None
    return _cupy


def numpy_module():
    """The host array module (NumPy), for shape arithmetic and host-side data."""
    return numpy


def array_module(array):
    """Return the array module (``numpy`` or ``cupy``) that owns ``array``."""
    if type(array).__module__.startswith("cupy"):
        return cupy_module()
    return numpy


def device_of(array) -> str:
    """Return ``'cpu'`` or ``'cuda:N'`` for an array."""
    if type(array).__module__.startswith("cupy"):
        return f"cuda:{array.device.id}"
    return "cpu"


def module_for_device(device: str):
    """Return the array module for a device string such as ``'cpu'`` or ``'cuda'``."""
    global gpu_in_use
    if device is None or device == "cpu":
        return numpy
    if str(device).startswith("cuda"):
        cp = cupy_module()
        if cp is None:
            raise RuntimeError(
                f"device {device!r} requested but CuPy with a working CUDA device is not available; "
                "install cupy (e.g. `pip install cupy-cuda12x`) on a machine with an NVIDIA GPU"
            )
        gpu_in_use = True
        return cp
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda[:N]'")


def to_device(array, device: str):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    if device_of(array) == device or (device == "cuda" and device_of(array).startswith("cuda")):
        return array
    if device == "cpu":
        return array.get()
    cp = module_for_device(device)
    index = int(device.split(":")[1]) if ":" in device else 0
    with cp.cuda.Device(index):
        return cp.asarray(array)


_PYTHON_TYPES = {float: numpy.float64, int: numpy.int64, bool: numpy.bool_, complex: numpy.complex128}


def resolve_dtype(dtype) -> numpy.dtype:
    """A dtype from any of PyTorch's and NumPy's spellings: ``ember.float32``, ``"float32"``,
    ``numpy.float32``, and the Python types (``float`` is float64, ``int`` int64, as in PyTorch)."""
    if dtype in _PYTHON_TYPES:
        return numpy.dtype(_PYTHON_TYPES[dtype])
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; expected e.g. ember.float32 or 'int64'") from None


def default_dtype() -> numpy.dtype:
    """The floating dtype given to new tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (``float32``, ``float64`` or ``float16``).

    Example:
        >>> import ember
        >>> ember.set_default_dtype("float64")
        >>> ember.ones(2).dtype
        dtype('float64')
        >>> ember.set_default_dtype("float32")
    """
    global _default_float
    dt = numpy.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default_float = dt


# ---------------------------------------------------------------- random numbers
# One seeded generator per backend: reproducible runs with a single manual_seed.
_generators: dict = {}
_seed = None


def generator(xp=numpy):
    """Return the global random generator of the array module ``xp``."""
    gen = _generators.get(xp.__name__)
    if gen is None:
        gen = xp.random.default_rng(_seed)
        _generators[xp.__name__] = gen
    return gen


_INTEGER_STREAM = "numpy.mt19937"


def integer_stream():
    """The Mersenne Twister that ``randint`` draws from, seeded as PyTorch seeds its CPU generator.

    ``torch.manual_seed(s)`` seeds an MT19937 from the low 32 bits of ``s`` (as C++'s
    ``std::mt19937`` does) and ``randint`` takes one 32-bit word per element (two for a
    range of 2**32 or more) modulo the range. NumPy's legacy-seeded MT19937 is that
    generator, so after ``ember.manual_seed(s)`` Ember's ``randint`` draws PyTorch's integers
    and ported programs that sample indices see the same ones. Its state is part of
    :func:`get_rng_state`, so checkpoints resume it exactly.
    """
    bits = _generators.get(_INTEGER_STREAM)
    if bits is None:
        seed = _seed if _seed is not None else int(generator(numpy).integers(0, 2 ** 32))
        bits = numpy.random.MT19937()
        bits._legacy_seeding(seed % 2 ** 32)  # std::mt19937's seeding, which PyTorch uses
        _generators[_INTEGER_STREAM] = bits
    return bits


def manual_seed(seed: int) -> None:
    """Seed every backend's global generator, for reproducible runs.

    Example:
        >>> import ember
        >>> ember.manual_seed(0); a = ember.randn(3)
        >>> ember.manual_seed(0); b = ember.randn(3)
        >>> bool((a == b).all())
        True
    """
    global _seed
    if not isinstance(seed, (int, numpy.integer)) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    _seed = int(seed)
    _generators.clear()


def get_rng_state() -> dict:
    """Return the state of every backend generator (plain dicts, safe to serialise)."""
    states = {name: gen.bit_generator.state for name, gen in _generators.items() if name != _INTEGER_STREAM}
    if _INTEGER_STREAM in _generators:  # its key is an array: kept as a list, so states compare and serialise
        mt = _generators[_INTEGER_STREAM].state
        states[_INTEGER_STREAM] = {**mt, "state": {"key": mt["state"]["key"].tolist(), "pos": mt["state"]["pos"]}}
    return states | {"seed": _seed}


def set_rng_state(state: dict) -> None:
    """Restore generator states saved by :func:`get_rng_state`."""
    global _seed
    _seed = state.get("seed")
    _generators.clear()
    for name, st in state.items():
        if name == "seed":
            continue
        if name == _INTEGER_STREAM:
            key = numpy.asarray(st["state"]["key"], dtype=numpy.uint32)
            integer_stream().state = {**st, "state": {"key": key, "pos": int(st["state"]["pos"])}}
            continue
        xp = numpy if name == "numpy" else cupy_module()
        if xp is not None:
            generator(xp).bit_generator.state = st
