"""Profile one workload's Ember training step with pyinstrument (a dev tool: ``pip install pyinstrument``).

    PYTHONPATH=. OMP_NUM_THREADS=2 python -m benchmarks.profile W2 --steps 300

Builds the step as the benchmark suite does (``benchmarks.registry``), runs 10 untimed steps so
that numba's kernels are compiled, then prints the call tree of ``--steps`` steps and the mean step.
"""
from __future__ import annotations

import argparse
import time

import ember


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workload", help="a workload id, e.g. W2")
    parser.add_argument("--steps", type=int, default=100, help="profiled steps (default 100)")
    parser.add_argument("--interval", type=float, default=0.0005, help="sampling interval in seconds")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    from .registry import load_all

    ember.host_memory.keep_freed_memory_unless_declined()  # as the suite's Ember process does
    step = load_all()[args.workload].build("ember")
    for _ in range(10):
        step()
    profiler = Profiler(interval=args.interval)
    profiler.start()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start
    profiler.stop()
    print(f"{args.workload}: {elapsed / args.steps * 1e3:.2f} ms a step over {args.steps} steps")
    print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
