"""The workload registry: each benchmark is a pair of step functions, one per framework.

A workload builds, once, a ``step()`` callable for Ember and one for PyTorch that
do the same work on the same shapes (one training step, or one layer's forward
and backward). The runner times them interleaved in one process, so machine
noise hits both alike.

Adding a workload::

    @register("W9", "what it measures", group="training")
    def w9(framework):
        ...
        return step          # a zero-argument callable doing one unit of work
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass
class Workload:
    id: str
    description: str
    build: Callable  # (framework: "ember" | "torch") -> step callable
    group: str = "training"
    #: Whether the suite's target (no slower than ``target`` times PyTorch) applies.
    target: float | None = None
    #: Floating-point operations of one step's contractions (for the GEMM lower bound), if known.
    flops: float | None = None
    #: Whether an ``ember.compile``d version of the Ember step is timed too.
    compiled: bool = True


WORKLOADS: dict[str, Workload] = {}


def register(workload_id: str, description: str, group: str = "training", target: float | None = None,
             flops: float | None = None, compiled: bool = True):
    """Decorator adding ``build(framework)`` to the registry under ``workload_id``."""

    def wrap(build):
        if workload_id in WORKLOADS:
            raise ValueError(f"benchmark {workload_id!r} registered twice")
        WORKLOADS[workload_id] = Workload(workload_id, description, build, group, target, flops, compiled)
        return build

    return wrap


def load_all() -> dict[str, Workload]:
    """Import every workload module (each registers itself) and return the registry."""
    from . import workloads  # noqa: F401 - imported for its registrations

    return WORKLOADS
