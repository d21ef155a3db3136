"""The interleaving schedule shared by the in-process and the one-process-per-framework runners."""
from __future__ import annotations

import statistics
import time

#: Ember eager, Ember through ember.compile, PyTorch eager.
FRAMEWORKS = ("ember", "compiled", "torch")


def clock_of(name: str):
    """The timer for ``--clock``: ``wall`` (elapsed time) or ``cpu`` (this process's CPU time)."""
    return time.perf_counter if name == "wall" else time.process_time


def build_steps(chosen, frameworks=FRAMEWORKS) -> dict:
    """``{(workload id, framework): step}`` for the ``frameworks`` asked for.

    ``compiled`` is the Ember step traced once by ``ember.compile`` (its own model
    copy); Ember is imported only if an Ember column is wanted, PyTorch only by the
    workloads' torch builders.
    """
    steps = {}
    for w in chosen:
        for fw in frameworks:
            if fw == "compiled":
                if w.compiled:
                    import ember

                    steps[(w.id, fw)] = ember.compile(w.build("ember"))
            else:
                steps[(w.id, fw)] = w.build(fw)
    return steps


def interleave(chosen, available, repeat: int, warmup: int, block: int, run, settle: float = 0.0):
    """Median seconds per step of each ``(workload id, framework)`` key in ``available``.

    ``run(key, count)`` runs ``count`` steps of ``key`` and returns their times. Every
    key first runs ``warmup`` untimed steps (caches, allocator, lazy imports, the
    compiled step's trace); then, round after round, each framework runs ``block``
    steps of a workload in turn, the order flipping each round, so load from other
    processes hits all frameworks alike. ``settle`` seconds of sleep before every
    block let the previous block's idle BLAS/OpenMP workers stop spinning (OpenBLAS
    spins for about 0.1 s after its last call), so each block has the cores to itself.
    """
    for w in chosen:
        for fw in FRAMEWORKS:
            if (w.id, fw) in available:
                run((w.id, fw), warmup)
    times = {key: [] for key in available}
    for round_index in range(-(-repeat // block)):
        order = FRAMEWORKS if round_index % 2 == 0 else FRAMEWORKS[::-1]
        for w in chosen:
            for fw in order:
                if (w.id, fw) in available:
                    if settle:
                        time.sleep(settle)
                    times[(w.id, fw)] += run((w.id, fw), block)
    return {key: statistics.median(values) for key, values in times.items()}, times


def time_steps(step, count: int, clock=time.perf_counter) -> list:
    """Seconds taken by each of ``count`` calls of ``step``, read on ``clock``."""
    times = []
    for _ in range(count):
        start = clock()
        step()
        times.append(clock() - start)
    return times
