"""ember.parallel: splitting, ordering, errors, nesting and the BLAS limit."""
import threading

import numpy as np
import pytest

import ember
from ember import parallel


def test_split_covers_the_range_in_near_equal_pieces():
    assert parallel.split(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert parallel.split(2, 5) == [(0, 1), (1, 2)]
    assert parallel.split(0, 2) == [(0, 0)]


def test_parallel_map_keeps_order_and_uses_several_threads(threads):
    threads(3)
    seen = set()
    barrier = threading.Barrier(3, timeout=10)

    def work(part):
        seen.add(threading.get_ident())
        barrier.wait()  # only passes if three parts really run at the same time
        return part * part

    assert parallel.parallel_map(work, [1, 2, 3]) == [1, 4, 9]
    assert len(seen) == 3


def test_one_thread_runs_everything_in_the_caller(threads):
    threads(1)
    caller = threading.get_ident()
    assert parallel.parallel_map(lambda _: threading.get_ident(), range(4)) == [caller] * 4


def test_errors_reach_the_caller(threads):
    threads(2)

    def work(part):
        if part == 1:
            raise ValueError("part 1 failed")
        return part

    with pytest.raises(ValueError, match="part 1 failed"):
        parallel.parallel_map(work, [0, 1])


def test_nested_calls_run_sequentially_inside_a_part(threads):
    threads(2)
    inner = parallel.parallel_map(lambda p: parallel.parallel_map(lambda q: (p, q, threading.get_ident()), [0, 1]),
                                  [0, 1])
    for rows in inner:  # both inner parts ran on the thread of their outer part
        assert rows[0][2] == rows[1][2]


def test_blas_runs_one_thread_inside_parts_and_gets_its_threads_back(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    controller = threadpoolctl.ThreadpoolController()
    blas = controller.select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("no BLAS library that threadpoolctl can see")
    threads(2)
    with blas.limit(limits=2):
        inside = parallel.parallel_map(lambda _: blas.info()[0]["num_threads"], [0, 1])
        assert inside == [1, 1]
        assert blas.info()[0]["num_threads"] == 2


def test_set_num_threads_validates_and_resets(threads):
    with pytest.raises(ValueError, match="positive int"):
        ember.set_num_threads(0)
    with pytest.raises(ValueError, match="positive int"):
        ember.set_num_threads(2.5)
    ember.set_num_threads(5)
    assert ember.get_num_threads() == 5
    ember.set_num_threads(None)
    assert ember.get_num_threads() >= 1


def test_parallel_for_passes_ranges(threads):
    threads(2)
    out = np.zeros(10)

    def fill(start, stop):
        out[start:stop] = np.arange(start, stop)

    parallel.parallel_for(fill, 10)
    np.testing.assert_array_equal(out, np.arange(10))
