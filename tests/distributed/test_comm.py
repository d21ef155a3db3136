"""ember.distributed.comm: a world of one without a launcher, MPI collectives under mpiexec."""
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from distributed.mpirun import ROOT, needs_mpi, run_mpi

from ember import distributed as dist
from ember.distributed import comm


def test_single_process_world():
    assert (dist.rank(), dist.world_size(), dist.is_main_process()) == (0, 1, True)
    assert dist.get_comm() is None
    dist.barrier()
    assert dist.allreduce(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert dist.allreduce_sum(2.5) == 2.5
    assert dist.allreduce_mean(0.25, weight=7) == 0.25
    assert dist.broadcast(np.arange(3)).tolist() == [0, 1, 2]
    assert dist.broadcast_value(7) == 7 and isinstance(dist.broadcast_value(7), int)
    assert dist.broadcast_value(0.5) == 0.5


def test_import_ember_never_imports_mpi4py():
    code = ("import sys, ember, ember.distributed as d, ember.nn as nn\n"
            "d.DataParallel(nn.Linear(2, 2)); assert (d.rank(), d.world_size()) == (0, 1)\n"
            "assert 'mpi4py' not in sys.modules, 'mpi4py imported'")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env.pop("WORLD_SIZE", None)
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr


def test_collective_argument_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        dist.allreduce(np.ones(2), op="mean")
    with pytest.raises(ValueError, match=r"shape \(3, 2\) must be C-contiguous"):
        dist.allreduce(np.ones((2, 3)).T)
    with pytest.raises(TypeError, match="expected a NumPy array"):
        dist.broadcast([1, 2])


def test_launcher_without_mpi4py_is_an_error(monkeypatch):
    monkeypatch.setattr(comm._World, "initialized", False)
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` fail
    with pytest.raises(RuntimeError, match=r"one of 2 MPI processes, but mpi4py is not installed"):
        dist.init()


@needs_mpi
def test_collectives_on_two_ranks():
    result = run_mpi("worker_comm.py")
    # The ranks' lines may interleave in the shared pipe: look for each, not for whole lines.
    assert sorted(re.findall(r"rank (\d) of 2 ok", result.stdout)) == ["0", "1"]


@needs_mpi
@pytest.mark.parametrize("plain", [False, True], ids=["python-m-mpi4py", "plain-python"])
def test_a_failing_rank_ends_the_job(plain):
    # Rank 0 waits in an allreduce that rank 1 never joins: without an abort it would hang.
    start = time.perf_counter()
    result = run_mpi("worker_fail.py", plain=plain, check=False, timeout=60)
    elapsed = time.perf_counter() - start
    assert result.returncode != 0
    # mpi4py's own abort may cut the forwarded traceback short; Ember's hook waits for it to pass.
    assert ("rank 1 fails on purpose" if plain else "Traceback") in result.stderr
    assert "got past the collective" not in result.stdout
    assert elapsed < 30, f"the job took {elapsed:.1f}s to end"
