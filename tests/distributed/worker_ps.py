"""MPI worker: asynchronous SGD with a parameter server (run by test_parameter_server.py).

Usage: worker_ps.py OUT.json MODE [--servers S] [--staleness K]
MODE: ``train``; ``fail-worker`` (the last rank raises after 20 steps); ``kill-worker`` (the
last rank writes its pid to OUT.pid after 10 steps, then slows down for the test to kill it); ``fail-server``
(server rank 0 raises instead of serving).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from async_problem import BATCH, EPOCHS, LR, accuracy, batches, build, loss_of, problem  # noqa: E402

from ember import distributed as dist  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("mode", choices=["train", "fail-worker", "kill-worker", "fail-server"])
parser.add_argument("--servers", type=int, default=1)
parser.add_argument("--staleness", type=int, default=4)
parser.add_argument("--timeout", type=float, default=20.0)
args = parser.parse_args()

dist.init()
(x, y), (x_test, y_test) = problem()
model = build()
ps = dist.ParameterServer(model, lr=LR, servers=args.servers, staleness=args.staleness, timeout=args.timeout)
if ps.is_server:
    if args.mode == "fail-server" and ps.rank == 0:
        time.sleep(0.5)  # the workers have started pushing
        raise RuntimeError("server rank 0 fails on purpose")
    report = ps.serve()
    if ps.rank == 0:
        result = {"accuracy": accuracy(model, x_test, y_test), "updates": report.updates,
                  "max_staleness": report.max_staleness, "mean_staleness": report.mean_staleness,
                  "blocked": report.blocked, "finished": report.finished, "failed": report.failed,
                  "errors": {str(k): v for k, v in report.errors.items()}, "summary": report.summary()}
        with open(args.out, "w") as f:
            json.dump(result, f)
else:
    workers = ps.workers
    part = workers.index(ps.rank)
    with ps.worker():
        for epoch in range(EPOCHS):
            for x_b, y_b in batches(x, y, BATCH, epoch, part, len(workers)):
                if args.mode == "fail-worker" and ps.rank == workers[-1] and ps.steps == 20:
                    raise RuntimeError("worker fails on purpose")
                if args.mode == "kill-worker" and ps.rank == workers[-1] and ps.steps >= 10:
                    if ps.steps == 10:
                        with open(args.out + ".pid", "w") as f:
                            f.write(str(os.getpid()))
                    time.sleep(0.05)
                model.zero_grad()
                loss_of(model, x_b, y_b).backward()
                ps.step()
