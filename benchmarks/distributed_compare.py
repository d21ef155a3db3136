"""Synchronous data parallel, EASGD, local SGD, asynchronous SGD and Hogwild on one workload and budget.

Usage::

    EMBER_DATA=/work/shared/data python -m benchmarks.distributed_compare
    python -m benchmarks.distributed_compare --modes sync async --epochs 3 --target 0.9

Workload: the zoo MLP (784-64-10, ReLU) on the first ``--train`` MNIST training
images, plain SGD (``--lr``), batches of ``--batch`` samples per worker, ``--epochs``
passes over the data in total (the workers split every epoch), two workers in
every mode. Test accuracy is measured on ``--test`` MNIST test images.

* ``single``: one process, batches of ``--batch`` (the reference);
* ``sync``: :class:`~ember.distributed.DataParallel` on 2 ranks (gradients averaged every step);
* ``easgd``: :class:`~ember.distributed.EASGD` on 2 ranks (period 4; the center is evaluated);
* ``local``: :class:`~ember.distributed.LocalSGD` on 2 ranks (parameters averaged every 8 steps);
* ``async``: :class:`~ember.distributed.ParameterServer` on 3 ranks: 1 server + 2 workers (staleness 4);
* ``hogwild``: :func:`~ember.distributed.hogwild`, 2 processes (no MPI).

Every mode takes ``--snapshots`` copies of the model along the way (rank 0, the
first worker in ``async``, worker 0 in Hogwild) with the wall-clock time since the
start; they are evaluated after training, off the clock. "Time to X" is the time
of the first snapshot at or above the target accuracy. The MPI modes run under
``mpiexec -n R python -m mpi4py -m benchmarks.distributed_compare --worker MODE``
with one BLAS thread per process.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODES = ["single", "sync", "easgd", "local", "async", "hogwild"]
RANKS = {"sync": 2, "easgd": 2, "local": 2, "async": 3}


def build():
    """The zoo MLP of the workload (seeded: every rank and process builds the same one)."""
    import ember
    from ember.models.mlp import MLP

    ember.manual_seed(0)
    return MLP(784, (64,), 10)


def load(train: int, test: int):
    from ember.data import load_mnist

    (x, y), (x_test, y_test) = load_mnist()
    scale = lambda a: (a.astype(np.float32) / 255.0).reshape(len(a), -1)  # noqa: E731
    return (scale(x[:train]), y[:train]), (scale(x_test[:test]), y_test[:test])


def loss_fn(output, target):
    """Cross-entropy (module level: Hogwild's workers import it)."""
    import ember.nn.functional as F

    return F.cross_entropy(output, target)


def accuracy(model, x, y) -> float:
    import ember

    with ember.no_grad():
        return float((model(ember.tensor(x)).numpy().argmax(axis=1) == y).mean())


def batches(x, y, batch: int, epoch: int, part: int, parts: int):
    """This worker's batches of an epoch: the seeded permutation, dealt out in turn."""
    order = np.random.default_rng([0, epoch]).permutation(len(x))[part::parts]
    for start in range(0, len(order), batch):
        chosen = order[start:start + batch]
        yield x[chosen], y[chosen]


class Snapshots:
    """Copies of the parameters at evenly spaced steps, with the time since the start."""

    def __init__(self, module, total_steps: int, count: int) -> None:
        self.module, self.start, self.taken = module, time.time(), []
        self.at = {round((k + 1) * total_steps / count) for k in range(count)}

    def step(self, steps: int, source=None) -> None:
        if steps in self.at:
            source = source or self.module
            self.taken.append((time.time() - self.start, {k: v.numpy().copy() for k, v in source.state_dict().items()}))

    def evaluate(self, x, y) -> list:
        model = build()
        curve = []
        for seconds, state in self.taken:
            model.load_state_dict(state)
            curve.append((seconds, accuracy(model, x, y)))
        return curve


def run_worker(mode: str, args) -> None:
    """One rank of an MPI mode (or the single process); rank 0 / the first worker writes the curve."""
    import ember
    from ember import distributed as dist
    from ember.optim import SGD

    dist.init()
    (x, y), (x_test, y_test) = load(args.train, args.test)
    model = build()
    rank = dist.rank()
    curve_rank, report = 0, None
    if mode == "async":
        ps = dist.ParameterServer(model, lr=args.lr, servers=1, staleness=4)
        curve_rank, part, parts = 1, rank - 1, dist.world_size() - 1
    else:
        part, parts = rank, dist.world_size()
        if mode == "sync":
            model = dist.DataParallel(model)
        opt = SGD(model.parameters(), lr=args.lr)
        if mode == "easgd":
            opt = dist.EASGD(opt, period=4)
        elif mode == "local":
            opt = dist.LocalSGD(opt, period=8)
    per_epoch = -(-len(range(part, args.train, parts)) // args.batch)
    shots = Snapshots(model, per_epoch * args.epochs, args.snapshots)
    dist.barrier()
    shots.start = time.time()
    if mode == "async" and ps.is_server:
        report = ps.serve().summary()
    else:
        context = ps.worker() if mode == "async" else _nothing()
        with context:
            steps = 0
            for epoch in range(args.epochs):
                for x_b, y_b in batches(x, y, args.batch, epoch, part, parts):
                    model.zero_grad()
                    loss_fn(model(ember.tensor(x_b)), ember.tensor(y_b)).backward()
                    if mode == "async":
                        ps.step()
                    else:
                        opt.step()
                    steps += 1
                    if rank == curve_rank:
                        if mode == "easgd" and steps in shots.at:
                            with opt.center_weights():
                                shots.step(steps)
                        else:
                            shots.step(steps, model.module if mode == "sync" else None)
    seconds = time.time() - shots.start
    if rank == curve_rank:
        curve = shots.evaluate(x_test, y_test)
        result = {"curve": curve, "seconds": seconds, "final": curve[-1][1] if curve else None}
        pathlib.Path(args.out).write_text(json.dumps(result))
    if mode == "async" and rank == 0:
        # The server's parameters are the model of record; the worker's copy may lag by one reply.
        path = pathlib.Path(args.out + ".server")
        path.write_text(json.dumps({"final": accuracy(model, x_test, y_test), "report": report}))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_hogwild(args) -> dict:
    from ember.distributed import hogwild

    (x, y), (x_test, y_test) = load(args.train, args.test)
    result = hogwild(build, loss_fn, x, y, workers=2, epochs=args.epochs, batch_size=args.batch, lr=args.lr,
                     snapshots=args.snapshots)
    curve = [(seconds, accuracy(model, x_test, y_test)) for seconds, model in result.snapshots]
    return {"curve": curve, "seconds": result.seconds, "final": accuracy(result.module, x_test, y_test)}


def launch(mode: str, args, folder: pathlib.Path) -> dict:
    from ember.distributed import mpi_command, single_thread_env

    out = folder / f"{mode}.json"
    options = [f"--{k}={getattr(args, k)}" for k in ("train", "test", "epochs", "batch", "lr", "snapshots")]
    worker = ["-m", "benchmarks.distributed_compare", "--worker", mode, "--out", str(out), *options]
    env = single_thread_env()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if mode == "single":
        cmd = [sys.executable, *worker]
    else:
        cmd = mpi_command(RANKS[mode], worker)
    start = time.time()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    result = json.loads(out.read_text())
    result["wall"] = time.time() - start
    server = pathlib.Path(str(out) + ".server")
    if server.exists():
        extra = json.loads(server.read_text())
        result["final"], result["report"] = extra["final"], extra["report"]
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--snapshots", type=int, default=12)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, args)
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for mode in args.modes:
            if mode == "hogwild":
                start = time.time()
                result = run_hogwild(args)
                result["wall"] = time.time() - start
            else:
                result = launch(mode, args, pathlib.Path(folder))
            reached = next((t for t, acc in result["curve"] if acc >= args.target), None)
            rows.append((mode, RANKS.get(mode, 1 if mode == "single" else 2), reached, result["final"],
                         result["seconds"], result.get("report")))
            print(f"{mode}: final {result['final']:.4f}, time to {args.target:g}: {reached}, "
                  f"training {result['seconds']:.1f}s" + (f" ({result['report']})" if result.get("report") else ""),
                  flush=True)
    print()
    print(f"| mode | processes | time to {args.target:.0%} test acc. | final test acc. | training time |")
    print("|---|---|---|---|---|")
    for mode, processes, reached, final, seconds, _ in rows:
        reach = f"{reached:.1f}s" if reached is not None else "not reached"
        print(f"| {mode} | {processes} | {reach} | {final:.4f} | {seconds:.1f}s |")


if __name__ == "__main__":
    main()
