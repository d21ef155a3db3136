"""Fixtures for the kernel tests (helpers live in tests/kernels/helpers.py)."""
import pytest

from ember.kernels import engine

pytest.importorskip("numba")


@pytest.fixture
def restore_engine():
    """Put the engine choice back (and forget a simulated failed import) after a test that changes it."""
    previous = engine._requested
    yield
    engine._reset_for_tests(previous)


@pytest.fixture(autouse=True)
def every_numba_kernel(monkeypatch):
    """Run every numba version here, also those the engine leaves to NumPy for speed."""
    from ember.kernels import im2col, pool

    for module, names in ((im2col, {"columns_last", "columns_first", "unfold", "fold", "add_window"}),
                          (pool, {"max_pool", "max_pool_scatter", "max_pool_gather", "window_sum",
                                  "window_spread"})):
        monkeypatch.setattr(module, "NUMBA_KERNELS", frozenset(names))
    monkeypatch.setattr(pool, "NUMBA_MIN_CHANNELS", 0)  # the tests' small shapes run numba too
