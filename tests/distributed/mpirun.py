"""Helpers to run worker scripts under ``mpiexec -n N python -m mpi4py`` from pytest.

Every launch is bounded by a timeout (a hung job fails its test instead of
hanging CI) and pins each rank to one BLAS thread, as two ranks on two cores need.
Tests that launch MPI skip with a reason when mpi4py or mpiexec is missing.
"""
import os
import pathlib
import subprocess
import sys

import pytest

from ember.distributed import find_mpiexec, is_available, mpi_command, single_thread_env

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIMEOUT = 120


def _skip_reason():
    if not is_available():
        return 'mpi4py is not installed (pip install "ember[mpi]")'
    if find_mpiexec() is None:
        return "no mpiexec found (pip install mpich)"
    return None


needs_mpi = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _clean_env():
    env = single_thread_env()
    # A launcher's variables leaking in from an outer job would confuse the ranks.
    for name in list(env):
        if name.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPI_LOCAL")):
            del env[name]
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_mpi(script, *args, processes=2, timeout=TIMEOUT, plain=False, check=True):
    """Run ``tests/distributed/<script>`` on ``processes`` ranks; returns the CompletedProcess.

    ``plain`` launches ``python script`` instead of ``python -m mpi4py script``.
    """
    argv = [str(HERE / script), *map(str, args)]
    cmd = mpi_command(processes, argv)
    if plain:
        cmd.remove("-m")
        cmd.remove("mpi4py")
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_clean_env(), cwd=ROOT,
                                stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"MPI job {script} {args} did not finish within {timeout}s:\n{err.stdout}\n{err.stderr}")
    if check and result.returncode != 0:
        pytest.fail(f"MPI job {script} {args} failed with exit code {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}")
    return result


def run_single(script, *args, timeout=TIMEOUT):
    """Run a worker script as one plain process (world size 1)."""
    result = subprocess.run([sys.executable, str(HERE / script), *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, env=_clean_env(), cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result
