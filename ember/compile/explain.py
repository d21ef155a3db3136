"""``explain``: what a compiled plan replays, group by group, with the time of each step.

:func:`explain_plan` runs the plan ``repeat`` times with a clock around every
step (the replay is real: an optimizer step inside it updates the parameters)
and reports, per step, what it is (a kernel, a fused group and the primitives it
fused, a side effect) and its best time over the runs.
"""
from __future__ import annotations

import time

from .fuse import FusedKernel
from .steps import Kernel


def _describe(step, slots) -> str:
    if isinstance(step, FusedKernel):
        return step.describe()
    if isinstance(step, Kernel):
        shape = getattr(slots[step.outs[0]], "shape", ()) if step.outs else ()
        return f"kernel {step.fn.name} {tuple(shape)}"
    method = getattr(step, "method", None) or getattr(step, "draw", None)
    name = getattr(method, "__qualname__", None) or getattr(method, "__name__", "")
    return f"{type(step).__name__.lower()} {name}".rstrip()


def explain_plan(plan, leaves: list, repeat: int = 5) -> str:
    """A table of ``plan``'s steps replayed on ``leaves`` (the call's flattened arguments), timed.

    Each row: position, best time in microseconds over ``repeat`` replays, and the
    step; a summary line counts the fused groups, the kernels they replaced, and
    the share of the replay they took.
    """
    best = [float("inf")] * len(plan.runners)
    descriptions = [""] * len(plan.runners)
    clock = time.perf_counter
    for _ in range(max(1, repeat)):
        slots = plan.fill_slots(leaves)
        for i, run in enumerate(plan.runners):
            start = clock()
            run(slots)
            elapsed = clock() - start
            if elapsed < best[i]:
                best[i] = elapsed
        for i, step in enumerate(plan.steps):
            descriptions[i] = _describe(step, slots)
    fused = [i for i, step in enumerate(plan.steps) if isinstance(step, FusedKernel)]
    total = sum(best)
    fused_time = sum(best[i] for i in fused)
    replaced = sum(len(plan.steps[i].members) for i in fused)
    lines = [f"{'#':>4} {'us':>9}  step"]
    lines += [f"{i:>4} {best[i] * 1e6:>9.1f}  {descriptions[i]}" for i in range(len(best))]
    share = 100 * fused_time / total if total else 0.0
    lines.append(f"{len(plan.steps)} steps, {total * 1e6:.1f} us per replay (best of {max(1, repeat)}); "
                 f"{len(fused)} fused groups replace {replaced} kernels and take {share:.0f}% of it")
    return "\n".join(lines)


__all__ = ["explain_plan"]
