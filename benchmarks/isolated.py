"""Each framework in its own process: the ``--isolate`` mode of ``benchmarks.run``.

In one process, PyTorch's OpenMP workers keep spinning after each call and take
the core the next Ember step needs (or, with ``OMP_WAIT_POLICY=PASSIVE``, sleep
and wake slowly). A user runs one framework per process, so with several threads
the fair comparison is two processes, each with its library's default threading:
an Ember process (eager and compiled steps; it never imports PyTorch) and a
PyTorch process (it never imports Ember). The parent still interleaves them, a
block of steps at a time, and the idle one waits on a pipe, so machine load hits
both alike; before each block the parent sleeps a moment (``settle``) so that the
other process's BLAS/OpenMP workers have stopped spinning. Each worker times its
own steps with the requested clock.
"""
from __future__ import annotations

import multiprocessing
import sys
import time

from .schedule import build_steps, clock_of, interleave, time_steps

#: Which worker process runs each framework column.
PROCESS_OF = {"ember": "ember", "compiled": "ember", "torch": "torch"}


def _serve(conn, root: str, ids: list, process: str, threads: int, clock_name: str) -> None:
    """Worker loop: build the steps of ``process``'s frameworks, then run blocks on request."""
    sys.path.insert(0, root)
    if process == "ember":
        import ember  # before NumPy, as a user's script would

        ember.host_memory.keep_freed_memory_unless_declined()  # as `ember train` does (ember/host_memory.py)
    else:
        import torch

        torch.set_num_threads(threads)
    from benchmarks.registry import load_all

    chosen = [load_all()[i] for i in ids]
    steps = build_steps(chosen, [fw for fw, owner in PROCESS_OF.items() if owner == process])
    clock = clock_of(clock_name)
    conn.send(sorted(steps))
    while True:
        request = conn.recv()
        if request is None:
            return
        key, count = request
        conn.send(time_steps(steps[tuple(key)], count, clock))


def measure_isolated(chosen, repeat: int, warmup: int, clock_name: str, threads: int, block: int, root: str,
                     settle: float = 0.3):
    """Median seconds per step of each (workload, framework), one process per framework
    (the schedule is :func:`benchmarks.schedule.interleave`'s)."""
    context = multiprocessing.get_context("spawn")
    ids = [w.id for w in chosen]
    workers = {}
    for process in ("ember", "torch"):
        parent, child = context.Pipe()
        proc = context.Process(target=_serve, args=(child, root, ids, process, threads, clock_name), daemon=True)
        proc.start()
        workers[process] = (proc, parent)
    try:
        available = {tuple(key) for _, conn in workers.values() for key in conn.recv()}

        def run(key, count):
            conn = workers[PROCESS_OF[key[1]]][1]
            conn.send((key, count))
            return conn.recv()

        return interleave(chosen, available, repeat, warmup, block, run, settle)
    finally:
        for proc, conn in workers.values():
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
