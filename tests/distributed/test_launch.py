"""Finding mpiexec (also in a virtual environment) and building the launch command."""
import os
import sys

from ember.distributed import find_mpiexec, mpi_command, single_thread_env
from ember.distributed.launch import THREAD_VARIABLES


def test_command_uses_python_m_mpi4py():
    assert mpi_command(3, ["-c", "pass"], mpiexec="/x/mpiexec", python="py", mpiexec_options=["-f", "hosts"]) == \
        ["/x/mpiexec", "-n", "3", "-f", "hosts", "py", "-m", "mpi4py", "-c", "pass"]
    assert mpi_command(2, ["t.py"], mpiexec="m")[3] == sys.executable


def test_override_and_missing(monkeypatch, tmp_path):
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("EMBER_MPIEXEC", str(fake))
    assert find_mpiexec() == str(fake)
    monkeypatch.setenv("EMBER_MPIEXEC", str(tmp_path / "absent"))
    assert find_mpiexec() is None
    try:
        mpi_command(2, ["t.py"])
    except FileNotFoundError as err:
        assert "no mpiexec found" in str(err)
    else:
        raise AssertionError("expected FileNotFoundError")


def test_found_beside_the_interpreter_first(monkeypatch, tmp_path):
    # A venv's bin/ holds both python and the mpich wheel's mpiexec, without being on PATH.
    (tmp_path / "python").write_text("")
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("EMBER_MPIEXEC", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "")
    assert find_mpiexec() == str(fake)


def test_thread_environment():
    env = single_thread_env(2, base={"OMP_NUM_THREADS": "8", "HOME": "/h"})
    assert all(env[v] == "2" for v in THREAD_VARIABLES) and env["HOME"] == "/h"
    assert single_thread_env()["PATH"] == os.environ["PATH"]
