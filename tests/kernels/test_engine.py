"""Engine selection, the numba fallback, the on-disk cache and the thread knob."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember.kernels
from ember.kernels import cache, engine, im2col, threads
from ember.kernels.geometry import ConvGeometry

GEOM = ConvGeometry((5,), (2,), (1,), (1,), ((1, 0),), 1, (5,))
X = np.arange(10.0).reshape(1, 2, 5)
EXPECTED = np.stack([np.stack([np.r_[0.0, row[:-1]], row]) for row in X[0]])[None]


def run_python(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, check=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_use_switches_the_engine_and_both_compute_the_same(restore_engine):
    ember.kernels.use("numpy")
    assert ember.kernels.current() == "numpy"
    np.testing.assert_array_equal(im2col.unfold(X, GEOM), EXPECTED)
    ember.kernels.use("NUMBA")
    assert ember.kernels.current() == "numba"
    np.testing.assert_array_equal(im2col.unfold(X, GEOM), EXPECTED)
    with pytest.raises(ValueError, match=r"ember.kernels.use: the kernel engine must be one of .*'torch'"):
        ember.kernels.use("torch")


def test_the_environment_variable_picks_the_engine_at_import():
    code = "import ember, ember.kernels as k; print(k.current())"
    assert run_python(code, EMBER_KERNELS="numpy").stdout.strip() == "numpy"
    assert run_python(code, EMBER_KERNELS="numba").stdout.strip() == "numba"
    bad = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, EMBER_KERNELS="fast"))
    assert bad.returncode != 0 and "EMBER_KERNELS: the kernel engine must be one of" in bad.stderr


def test_import_ember_neither_imports_numba_nor_compiles():
    out = run_python("import sys, ember; print('numba' in sys.modules)", EMBER_KERNELS="numba")
    assert out.stdout.strip() == "False"


def test_missing_numba_falls_back_to_numpy_with_one_warning(monkeypatch, restore_engine):
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` raise ImportError
    engine._reset_for_tests("numba")
    with pytest.warns(RuntimeWarning, match="numba cannot be imported.*NumPy reference"):
        assert ember.kernels.current() == "numpy"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(im2col.unfold(X, GEOM), EXPECTED)
        assert ember.kernels.current() == "numpy"


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / "numba")
    monkeypatch.delenv("EMBER_CACHE")
    assert cache.cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "ember", "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache.cache_dir() == str(tmp_path / "explicit")


def test_compiled_kernels_are_written_to_the_cache_directory(tmp_path):
    code = ("import numpy as np; from ember.kernels import pool; from ember.kernels.geometry import ConvGeometry;"
            "pool.max_pool(np.ones((1, 16, 4), np.float32), ConvGeometry((4,), (2,), (2,), (1,), ((0, 0),), 1, (2,)))")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(env, EMBER_CACHE=str(tmp_path),
                                                                        EMBER_KERNELS="numba"))
    written = [name for _, _, files in os.walk(tmp_path / "numba") for name in files]
    assert any(name.endswith(".nbi") for name in written) and any(name.endswith(".nbc") for name in written)


def test_set_num_threads_sets_numba_and_blas_together(restore_engine):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numba

    from ember.blas_threads import blas_thread_count

    previous = threads._threads
    ember.kernels.use("numba")
    engine.load_numba()
    try:
        ember.kernels.set_num_threads(1)
        assert ember.kernels.get_num_threads() == 1
        assert numba.get_num_threads() == 1
        np.ones(2) @ np.ones(2)
        assert blas_thread_count() == 1 or not threadpoolctl.threadpool_info()
        with pytest.raises(ValueError, match=r"set_num_threads: expected a positive int, got 0"):
            ember.kernels.set_num_threads(0)
    finally:
        restored = previous or threads.default_num_threads()
        ember.kernels.set_num_threads(restored)
        threads._threads = previous


def test_thread_count_defaults_to_omp_num_threads(monkeypatch):
    monkeypatch.setattr(threads, "_threads", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert ember.kernels.get_num_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert ember.kernels.get_num_threads() == len(os.sched_getaffinity(0))
