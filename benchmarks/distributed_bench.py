"""Data-parallel scaling of W1 and W3 over MPI: step time, allreduce time, scaling efficiency.

Usage::

    python -m benchmarks.distributed_bench                 # W1 and W3 on 1 and 2 ranks
    python -m benchmarks.distributed_bench --only W1 --steps 30 --ranks 1,2

For each workload and rank count the script launches
``mpiexec -n R python -m mpi4py -m benchmarks.distributed_bench --worker ...``
with one BLAS thread per rank, and every rank trains a :class:`DataParallel`
copy of the network on its own synthetic batch. Two regimes:

* **weak** scaling: each rank keeps the workload's batch (the global batch grows
  with R); efficiency = samples/s on R ranks / (R x samples/s on 1 rank);
* **strong** scaling: the workload's batch is split over the ranks (same global
  batch, what the equivalence tests check); efficiency = speed-up / R.

"rank 0 CPU ms" is the processor time rank 0 spent in a step (a busy machine
inflates wall-clock times but much less CPU times: compare these to see what data
parallelism itself costs). "allreduce" is the time of one blocking ``Allreduce`` of a flat float32 buffer
the size of the model's gradients (median over repeats, rank 0's clock), the
communication that one data-parallel step adds. A row "1 rank x R threads"
shows the alternative use of the same cores: one process with R BLAS threads.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

# W1 is not (yet) in the workload registry; its definition from DESIGN.md, in the
# registry's layer-spec format. W3 comes from the registry's own spec.
W1_SPEC = [("Flatten",), ("Linear", 784, 1000), ("ReLU",), ("Linear", 1000, 10)]
WORKLOADS = {"W1": {"input": (784,), "batch": 128, "optimizer": "sgd", "lr": 0.01},
             "W3": {"input": (3, 32, 32), "batch": 32, "optimizer": "rmsprop", "lr": 1e-4}}


def spec_of(workload: str):
    if workload == "W1":
        return W1_SPEC
    from benchmarks.workloads.convnets import KERAS_CIFAR

    return KERAS_CIFAR


def worker(args) -> None:
    """One rank: time data-parallel training steps and a bare allreduce of the gradient size."""
    import numpy as np

    import ember
    from benchmarks.workloads.convnets import build_network
    from ember import distributed as dist
    from ember import nn, optim

    info = WORKLOADS[args.worker]
    size, rank = dist.world_size(), dist.rank()
    batch = info["batch"] // size if args.regime == "strong" else info["batch"]
    ember.manual_seed(0)
    net = build_network(nn, spec_of(args.worker))
    model = dist.DataParallel(net, overlap=args.overlap)
    opt = (optim.SGD(net.parameters(), lr=info["lr"]) if info["optimizer"] == "sgd"
           else optim.RMSprop(net.parameters(), lr=info["lr"]))
    rng = np.random.default_rng(rank)
    x = ember.tensor(rng.standard_normal((batch,) + info["input"]).astype(np.float32))
    y = ember.tensor(rng.integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    times, cpu_times = [], []
    for i in range(args.warmup + args.steps):
        dist.barrier()  # every rank starts each step together: the step time is the slowest rank's
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        cpu = time.process_time() - cpu_start  # before the barrier, whose wait would count as busy CPU
        dist.barrier()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
            cpu_times.append(cpu)
    params = sum(p.numel() for p in net.parameters())
    buffer = np.ones(params, dtype=np.float32)
    reduce_times = []
    for i in range(args.warmup + args.steps):
        dist.barrier()
        start = time.perf_counter()
        dist.allreduce(buffer)
        if i >= args.warmup:
            reduce_times.append(time.perf_counter() - start)
    if dist.is_main_process():
        print("RESULT " + json.dumps({"step": statistics.median(times), "allreduce": statistics.median(reduce_times),
                                      "cpu": statistics.median(cpu_times),
                                      "params": params, "batch": batch, "ranks": size}), flush=True)


def launch(workload: str, ranks: int, threads: int, regime: str, overlap: bool, args) -> dict:
    from ember.distributed import mpi_command, single_thread_env

    options = ["-m", "benchmarks.distributed_bench", "--worker", workload, "--regime", regime,
               "--steps", str(args.steps), "--warmup", str(args.warmup)] + (["--overlap"] if overlap else [])
    env = single_thread_env(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(mpi_command(ranks, options), capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=args.timeout, stdin=subprocess.DEVNULL, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{workload} on {ranks} rank(s) failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(lines[-1][len("RESULT "):])


def report(args) -> str:
    header = ("| workload | regime | setup | batch/rank | step ms | rank 0 CPU ms | samples/s | allreduce ms | "
              "comm share | efficiency |")
    lines = [header, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)  # then each row as soon as it is measured
    for workload in args.only.split(","):
        for regime in ("weak", "strong"):
            base = None
            setups = ([(1, 1, False)] + [(r, 1, o) for r in args.rank_counts if r > 1 for o in (False, True)]
                      + [(1, r, False) for r in args.rank_counts if r > 1])
            for ranks, threads, overlap in setups:
                if regime == "strong" and threads > 1:
                    continue  # one process: the same as weak
                r = launch(workload, ranks, threads, regime, overlap, args)
                rate = r["batch"] * ranks / r["step"]
                if base is None:
                    base = rate
                efficiency = rate / (base * ranks * threads)
                label = f"{ranks} rank{'s' if ranks > 1 else ''} x {threads} thread{'s' if threads > 1 else ''}" + \
                    (", overlap" if overlap else "")
                comm = f"{r['allreduce'] * 1e3:.2f}" if ranks > 1 else "-"
                share = f"{r['allreduce'] / r['step']:.0%}" if ranks > 1 else "-"
                lines.append(f"| {workload} | {regime} | {label} | {r['batch']} | {r['step'] * 1e3:.2f} | "
                             f"{r['cpu'] * 1e3:.2f} | {rate:,.0f} | {comm} | {share} | {efficiency:.0%} |")
                print(lines[-1], flush=True)
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="W1,W3", help="comma-separated workloads (W1, W3)")
    parser.add_argument("--ranks", default="1,2", help="rank counts to compare (default 1,2)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per launch")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--regime", default="weak", help=argparse.SUPPRESS)
    parser.add_argument("--overlap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    unknown = [w for w in args.only.split(",") if w not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; known: {sorted(WORKLOADS)}")
    args.rank_counts = sorted({int(r) for r in args.ranks.split(",")})
    sys.path.insert(0, str(ROOT))
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"# Data-parallel scaling ({os.cpu_count()} cores, load average {load} at start; median of "
          f"{args.steps} steps)\n")
    report(args)
    print("\nefficiency: samples/s relative to (ranks x threads) times the 1 rank x 1 thread rate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
