"""Asynchronous SGD with a parameter server: convergence, bounded staleness, failing workers and servers."""
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest
from distributed.async_problem import synchronous
from distributed.mpirun import HERE, ROOT, _clean_env, needs_mpi, run_mpi

import ember.nn as nn
from ember.distributed import ParameterServer, ServerReport, mpi_command


def _result(path):
    return json.loads(pathlib.Path(path).read_text())


@needs_mpi
def test_three_ranks_reach_the_synchronous_accuracy(tmp_path):
    run_mpi("worker_ps.py", tmp_path / "ps.json", "train", "--staleness", 2, processes=3)
    result = _result(tmp_path / "ps.json")
    reference = synchronous()
    assert reference > 0.85  # the problem is learnt, not guessed
    assert abs(result["accuracy"] - reference) <= 0.005, (result, reference)
    assert sorted(result["finished"]) == [1, 2] and result["failed"] == []
    # 2000 samples / 16 per batch / 2 workers = 62 steps each per epoch, 8 epochs, 2 workers.
    assert result["updates"] == 62 * 8 * 2
    # Clocks at most K = 2 apart: the other worker applies at most 2K + 1 updates between a pull and a push.
    assert 0 < result["max_staleness"] <= 5 and result["mean_staleness"] > 0


@needs_mpi
def test_two_servers_shard_the_parameters(tmp_path):
    run_mpi("worker_ps.py", tmp_path / "ps.json", "train", "--servers", 2, processes=4)
    result = _result(tmp_path / "ps.json")
    assert abs(result["accuracy"] - synchronous()) <= 0.01 and result["updates"] == 62 * 8 * 2


@needs_mpi
def test_a_failing_worker_does_not_stall_the_others(tmp_path):
    completed = run_mpi("worker_ps.py", tmp_path / "ps.json", "fail-worker", processes=3)
    result = _result(tmp_path / "ps.json")
    assert result["failed"] == [2] and result["finished"] == [1]
    assert result["errors"]["2"] == "RuntimeError: worker fails on purpose"
    assert result["updates"] == 62 * 8 + 20  # rank 1 ran every step, rank 2 its first 20
    assert result["accuracy"] > 0.85
    assert "worker rank 2 failed after 20 steps" in completed.stderr


@needs_mpi
def test_a_killed_worker_is_survived(tmp_path):
    out = tmp_path / "ps.json"
    cmd = mpi_command(3, [str(HERE / "worker_ps.py"), str(out), "kill-worker"])
    job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_env(), cwd=ROOT,
                           stdin=subprocess.DEVNULL)
    pid_file = pathlib.Path(str(out) + ".pid")
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert job.poll() is None and time.monotonic() < deadline, "the worker never reached step 10"
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGTERM)  # what `kill PID` or a scheduler sends
    stdout, stderr = job.communicate(timeout=120)
    assert job.returncode == 0, stdout + stderr
    result = _result(out)
    assert result["failed"] == [2] and result["finished"] == [1]
    assert "WorkerTerminated" in result["errors"]["2"] and "SIGTERM" in result["errors"]["2"]
    assert 62 * 8 + 10 <= result["updates"] < 62 * 8 * 2
    assert result["accuracy"] > 0.85


@needs_mpi
def test_a_failing_server_ends_the_job_with_its_error(tmp_path):
    completed = run_mpi("worker_ps.py", tmp_path / "ps.json", "fail-server", processes=3, check=False, timeout=60)
    assert completed.returncode != 0
    assert "server rank 0 fails on purpose" in completed.stderr
    assert not (tmp_path / "ps.json").exists()


def test_a_world_of_one_has_no_worker():
    with pytest.raises(ValueError, match=r"1 server rank\(s\) need at least 2 ranks .* got 1"):
        ParameterServer(nn.Linear(2, 2), lr=0.1)
    with pytest.raises(ValueError, match="servers must be a positive int, got 0"):
        ParameterServer(nn.Linear(2, 2), lr=0.1, servers=0)


def test_report_summary():
    report = ServerReport(updates=3, staleness=[0, 2, 1], blocked=1, failed=[2])
    assert report.max_staleness == 2 and report.mean_staleness == 1.0
    assert report.summary() == ("3 updates in 0.0s, staleness mean 1.00 max 2, 1 blocked replies; "
                                "failed workers [2], lost workers []")
