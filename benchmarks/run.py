"""Time Ember against PyTorch eager, interleaved in one process, and write ``BENCHMARKS.md``.

Usage::

    python -m benchmarks.run                       # every workload
    python -m benchmarks.run --only W2,W3 --repeat 50
    python -m benchmarks.run --group layers --threads 1 --no-write

For each round, every selected workload runs Ember steps and PyTorch steps back
to back (one each with one thread, five each with more; the order alternates
between rounds), so a busy machine slows both alike; the table reports the
median of each and their ratio. The
thread count is fixed for both frameworks before NumPy or PyTorch is imported
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and
``torch.set_num_threads``); the script re-executes itself to apply it.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import time

from .schedule import build_steps, clock_of, interleave, time_steps

ROOT = pathlib.Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated workload ids (e.g. W2,W3)")
    parser.add_argument("--group", help="only workloads of this group (training, layers)")
    parser.add_argument("--repeat", type=int, default=30, help="timed rounds per workload (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for BLAS and PyTorch (default: $OMP_NUM_THREADS, else all cores)")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"), help="where to write the table")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--block", type=int, default=None,
                        help="steps per framework before switching (default: 1 with one thread, 5 with more)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, robust to other "
                             "processes' load but summed over threads (use it with --threads 1)")
    parser.add_argument("--note", help="a remark printed under the section's heading (e.g. about machine load)")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--isolate", action="store_true",
                        help="run each framework in its own process (the fair setting with several threads: "
                             "no library's idle workers spin on the other's cores)")
    parser.add_argument("--omp-wait-policy", choices=("ACTIVE", "PASSIVE"), default=None,
                        help="set OMP_WAIT_POLICY for both frameworks (default: leave it unset)")
    return parser.parse_args(argv)


def ensure_threads(args) -> int:
    """Re-execute with the thread variables (and ``--omp-wait-policy``) set, unless already so.

    By default PyTorch's idle OpenMP workers spin for a while after each call; on a
    two-core machine that spinning takes the core the next (Ember) step needs, which
    penalises Ember in interleaved multi-thread runs. ``--omp-wait-policy PASSIVE``
    stops the spinning, which in turn slows PyTorch's thread wake-ups. Neither is
    neutral: BENCHMARKS.md reports the one-thread CPU-clock runs as the reference.
    """
    wanted = args.threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or os.cpu_count() or 1
    policy_ok = args.omp_wait_policy is None or os.environ.get("OMP_WAIT_POLICY") == args.omp_wait_policy
    if all(os.environ.get(v) == str(wanted) for v in THREAD_VARIABLES) and policy_ok:
        return wanted
    env = dict(os.environ, **{v: str(wanted) for v in THREAD_VARIABLES})
    if args.omp_wait_policy is not None:
        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
    sys.stdout.flush()
    os.execvpe(sys.executable, [sys.executable, "-m", "benchmarks.run"] + sys.argv[1:], env)
    return wanted  # pragma: no cover - execvpe does not return


def _workload_order(workload) -> tuple:
    """W2 before W10: the id's number, not its text, orders the table."""
    digits = "".join(c for c in workload.id if c.isdigit())
    return (workload.id.rstrip("0123456789."), int(digits) if digits else 0, workload.id)


def select(workloads, args):
    chosen = sorted(workloads.values(), key=_workload_order)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in workloads]
        if unknown:
            raise SystemExit(f"unknown workload(s) {unknown}; known: {sorted(workloads)}")
        chosen = [workloads[w] for w in wanted]
    if args.group:
        chosen = [w for w in chosen if w.group == args.group]
    if not chosen:
        raise SystemExit("no workload selected")
    return chosen


def measure(chosen, repeat: int, warmup: int, clock=time.perf_counter, block: int = 1):
    """Median seconds per step of each workload in each framework, interleaved.

    Frameworks alternate every ``block`` steps (the order flips each round). With
    several threads a larger block is fairer: each library's idle worker threads
    spin for a while after its last call and steal the cores from the other one,
    which taxes the first steps after every switch.
    """
    steps = build_steps(chosen)
    return interleave(chosen, steps, repeat, warmup, block, lambda key, count: time_steps(steps[key], count, clock))


def environment(threads: int) -> dict:
    import numpy
    import torch

    import ember

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = "unknown"
    try:
        config = numpy.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except (KeyError, TypeError, ValueError):  # show_config's format differs between NumPy versions
        blas = "unknown (numpy.show_config gave no BLAS entry)"
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "n/a"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT, timeout=10, check=False).stdout.strip() or "n/a"
    except (OSError, subprocess.SubprocessError):
        commit = "n/a"
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(), "numpy": numpy.__version__, "blas": blas,
        "torch": torch.__version__, "ember": f"{ember.__version__} (git {commit}, uncommitted changes included)",
        "threads": f"{threads} (OMP/OPENBLAS/MKL_NUM_THREADS={threads}, torch.set_num_threads({threads}); "
                   f"torch reports {torch.get_num_threads()}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')})",
        "load average at start": load,
    }


TITLE = "# Benchmarks: Ember (eager and compiled) vs PyTorch eager (CPU)"
PREAMBLE = """Each section is one run of `python -m benchmarks.run` (its command is in the section). Within a run,
Ember and PyTorch alternate (every step, or every few steps with several threads), so load from other
processes hits both alike; every row is the median over the timed steps. Ratio = Ember eager / PyTorch,
compiled ratio = Ember through `ember.compile` / PyTorch (below 1: Ember is faster).
Re-running the same selection with the same threads and clock replaces its section; other sections stay.

**Reading this file.** Two sections are the reference. (1) "W1, W2, W3, W4, W5, W6 (1 thread, cpu
clock)": one thread, process CPU time, both libraries in one process; CPU time is robust to other
processes and one thread removes any interplay of thread pools. (2) "W1, W2, W3, W4, W5, W6 (2 threads,
wall clock, one process per framework)" (`--isolate`): each library in its own process with its default
threading on the machine's two cores, as a user would run it. Two threads in *one* process are not a
fair setting (one library's idle workers spin on the cores the other needs next), so such sections are
no longer kept.

**Memory allocator.** Ember's benchmark process opts in to keeping freed blocks in glibc's malloc
(`ember/host_memory.py`, as `ember train` does; a user's script calls `keep_freed_memory()`). With
`--isolate`, PyTorch's process keeps glibc's defaults, as a PyTorch user's would; in one process (no
`--isolate`) neither library changes them. Before December 2026 importing Ember applied the setting, so
one-process sections of that time ran both libraries with it. Back to back, one thread, a W5 step took
68 ms for Ember with glibc's defaults, 50 ms with the setting, and 47 ms for PyTorch."""


def section_heading(chosen, threads: int, clock: str, isolate: bool = False) -> str:
    ids = ", ".join(w.id for w in chosen)
    policy = os.environ.get("OMP_WAIT_POLICY")
    suffix = f", OMP_WAIT_POLICY={policy}" if policy else ""
    suffix += ", one process per framework" if isolate else ""
    return f"## {ids} ({threads} thread{'s' if threads != 1 else ''}, {clock} clock{suffix})"


def section(chosen, medians, repeat, warmup, env, command, heading, note=None) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [heading, "", f"Generated {stamp} by `{command}`; {repeat} timed steps after {warmup} warm-up steps.", ""]
    if note:
        lines += [f"> {note}", ""]
    lines += [f"- **{k}**: {v}" for k, v in env.items() if not k.startswith("_")]
    gemm = env.get("_gemm_flops")
    lines += ["", "| id | workload | Ember ms | compiled ms | PyTorch ms | ratio | compiled ratio | GEMM bound ms "
              "| eager target |", "|----|----|---:|---:|---:|---:|---:|---:|---|"]
    for w in chosen:
        ours, theirs = medians[(w.id, "ember")], medians[(w.id, "torch")]
        compiled = medians.get((w.id, "compiled"))
        ratio = ours / theirs
        target = "" if w.target is None else f"<= {w.target}x: {'met' if ratio <= w.target else 'NOT met'}"
        compiled_cells = ("n/a", "n/a") if compiled is None else (f"{compiled * 1e3:.2f}", f"{compiled / theirs:.2f}")
        bound = f"{w.flops / gemm * 1e3:.2f}" if (w.flops and gemm) else ""
        lines.append(f"| {w.id} | {w.description} | {ours * 1e3:.2f} | {compiled_cells[0]} | {theirs * 1e3:.2f} "
                     f"| {ratio:.2f} | {compiled_cells[1]} | {bound} | {target} |")
    return "\n".join(lines) + "\n"


def gemm_throughput(clock=time.perf_counter, size: int = 1024, repeat: int = 5) -> float:
    """Best measured float32 GEMM rate (FLOP/s) of NumPy and PyTorch with the current threads,
    timed with the same clock as the steps (so the bound and the steps compare)."""
    import numpy
    import torch

    a = numpy.random.default_rng(0).standard_normal((size, size)).astype(numpy.float32)
    best = 0.0
    for multiply in (lambda: a @ a, lambda t=torch.from_numpy(a): t @ t):
        multiply()
        for _ in range(repeat):
            start = clock()
            multiply()
            best = max(best, 2 * size ** 3 / max(clock() - start, 1e-9))
    return best


def merge(existing: str, heading: str, text: str) -> str:
    """The benchmark file with ``text`` replacing the section under ``heading`` (or appended)."""
    sections, current = [], None
    for line in existing.splitlines():
        if line.startswith("## "):
            current = [line]
            sections.append(current)
        elif current is not None:
            current.append(line)
    kept = ["\n".join(lines).strip() + "\n" for lines in sections if lines[0] != heading]
    return "\n".join([TITLE, "", PREAMBLE, ""] + kept + [text])


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = ensure_threads(args)
    sys.path.insert(0, str(ROOT))
    from benchmarks.registry import load_all

    workloads = load_all()
    if args.list:
        for w in workloads.values():
            print(f"{w.id:12s} [{w.group}] {w.description}")
        return 0
    import torch

    torch.set_num_threads(threads)
    chosen = select(workloads, args)
    command = "python -m benchmarks.run " + shlex.join(sys.argv[1:])
    env = environment(threads)
    env["clock"] = ("wall-clock time (time.perf_counter)" if args.clock == "wall"
                    else "process CPU time (time.process_time), summed over threads")
    block = args.block or (1 if threads == 1 else 5)
    where = "in separate processes (Ember's never imports PyTorch)" if args.isolate else "in one process"
    env["interleaving"] = f"Ember and PyTorch alternate every {block} step{'s' if block > 1 else ''}, {where}"
    clock = clock_of(args.clock)
    gemm = gemm_throughput(clock)
    env["_gemm_flops"] = gemm
    env["GEMM throughput"] = (f"{gemm / 1e9:.0f} GFLOP/s (best float32 1024^3 of NumPy and PyTorch); the "
                              "bound is a step's contraction FLOPs at that rate")
    if args.isolate:
        from .isolated import measure_isolated

        medians, _ = measure_isolated(chosen, args.repeat, args.warmup, args.clock, threads, block, str(ROOT))
    else:
        medians, _ = measure(chosen, args.repeat, args.warmup, clock, block)
    try:
        env["load average at end"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        pass
    heading = section_heading(chosen, threads, args.clock, args.isolate)
    text = section(chosen, medians, args.repeat, args.warmup, env, command.strip(), heading, args.note)
    print(text)
    if not args.no_write:
        output = pathlib.Path(args.output)
        output.write_text(merge(output.read_text() if output.exists() else "", heading, text))
        print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
