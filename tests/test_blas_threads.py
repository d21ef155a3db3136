"""The BLAS thread count that sizes the convolutions' batch blocks."""
import numpy as np
import pytest

from ember import blas_threads
from ember.kernels import conv as K

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_follows_a_threadpool_limit_set_at_run_time():
    np.ones(2) @ np.ones(2)  # make sure the BLAS library is loaded
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert blas_threads.blas_thread_count() == 1
    reported = max(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas")
    assert blas_threads.blas_thread_count() == reported


def test_without_threadpoolctl_it_reads_the_environment(monkeypatch):
    monkeypatch.setattr(blas_threads, "_controllers", [])
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert blas_threads.blas_thread_count() == 3
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setenv("MKL_NUM_THREADS", "junk")
    monkeypatch.setenv("OMP_NUM_THREADS", "5,2")  # OpenMP's nested form: the outer level counts
    assert blas_threads.blas_thread_count() == 5


def test_convolution_blocks_grow_with_the_blas_threads(monkeypatch):
    monkeypatch.setattr(K, "blas_thread_count", lambda: 1)
    assert K.block_budget(K.COLUMN_BLOCK_BYTES) == K.COLUMN_BLOCK_BYTES
    monkeypatch.setattr(K, "blas_thread_count", lambda: 4)
    assert K.block_budget(K.GRADIENT_BLOCK_BYTES) == 4 * K.GRADIENT_BLOCK_BYTES
    x = np.zeros((64, 8, 12, 12), np.float32)
    geom = K.ConvGeometry((12, 12), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1, (12, 12))
    unfolder = K.Unfolder(x, geom)
    assert unfolder.blocks()[0] == (0, min(64, 4 * K.COLUMN_BLOCK_BYTES // unfolder.bytes_per_image))
