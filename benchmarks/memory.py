"""Peak memory of one training step, Ember against PyTorch, each in a fresh process.

Usage::

    python -m benchmarks.memory [--only W1,W2] [--threads 1]

For every workload and framework a child process imports the framework, builds
the step (model, optimizer, one batch), records its resident-set high-water mark,
runs six steps and reports how far the high-water mark rose: the memory the steps
need (activations, gradients, optimizer state, workspaces) beyond the model and
the libraries. Results are printed as a Markdown table (append them to
``BENCHMARKS.md`` by hand with the command).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from benchmarks.registry import load_all
workload = load_all()[{workload!r}]
step = workload.build({framework!r})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range(6):
    step()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"before_kib": before, "after_kib": after}}))
"""


def measure(workload: str, framework: str, threads: int) -> dict:
    """The child's high-water marks (KiB) after building the step and after running it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    code = CHILD.format(root=root, workload=workload, framework=framework)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6", help="comma-separated workload ids")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print("| id | Ember peak MiB | PyTorch peak MiB | Ember step growth MiB | PyTorch step growth MiB |")
    print("|----|---:|---:|---:|---:|")
    for workload in [w.strip() for w in args.only.split(",") if w.strip()]:
        rows = {fw: measure(workload, fw, args.threads) for fw in ("ember", "torch")}
        peak = {fw: r["after_kib"] / 1024 for fw, r in rows.items()}
        growth = {fw: (r["after_kib"] - r["before_kib"]) / 1024 for fw, r in rows.items()}
        print(f"| {workload} | {peak['ember']:.0f} | {peak['torch']:.0f} | {growth['ember']:.1f} | "
              f"{growth['torch']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
