"""Helpers of the kernel tests: run a function under each engine; arrays in several memory layouts."""
import numpy as np
import pytest

import ember.kernels
from ember.kernels import engine

DTYPES = [np.float32, np.float64]


def run_with(name, function, *args):
    """``function(*args)`` with the ``name`` engine ("numpy" or "numba")."""
    previous = engine._requested
    ember.kernels.use(name)
    try:
        return function(*args)
    finally:
        ember.kernels.use(previous)


def both(function, *args):
    """``(reference, numba)`` results of ``function(*args)``."""
    return run_with("numpy", function, *args), run_with("numba", function, *args)


def assert_bit_identical(reference, fast):
    """Same dtype, shape and bytes (NaN payloads and signed zeros included)."""
    reference, fast = np.asarray(reference), np.asarray(fast)
    assert reference.dtype == fast.dtype and reference.shape == fast.shape
    width = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[reference.dtype.itemsize]
    np.testing.assert_array_equal(np.ascontiguousarray(reference).view(width),
                                  np.ascontiguousarray(fast).view(width))


def make(shape, dtype, layout, seed=0):
    """A random array of ``shape`` in a given memory layout: C order, channels-last, or a strided slice."""
    rng = np.random.default_rng(seed)
    if layout == "channels_last":
        data = rng.standard_normal((shape[0],) + shape[2:] + (shape[1],)).astype(dtype)
        return np.moveaxis(data, -1, 1)
    if layout == "strided":
        big = rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype)
        return big[..., ::2]
    return rng.standard_normal(shape).astype(dtype)


def launch_fixture(module):
    """A ``launch`` fixture running each test twice: ``module``'s kernels in their serial form, and in
    their thread-pool form (two threads, with no size threshold in ``module`` or in the jit)."""

    @pytest.fixture(params=["serial", "pool"])
    def launch(request, monkeypatch):
        if request.param == "pool":
            from ember.kernels import jit

            monkeypatch.setattr(module, "PARALLEL_MIN_ELEMENTS", 0)
            monkeypatch.setattr(jit, "PARALLEL_MIN_ELEMENTS", 0)
            previous = ember.kernels.get_num_threads()
            ember.kernels.set_num_threads(2)
            yield request.param
            ember.kernels.set_num_threads(previous)
        else:
            yield request.param

    return launch
