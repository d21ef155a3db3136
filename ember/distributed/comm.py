"""The MPI world: ``init``, ``rank``, ``world_size``, ``barrier`` and buffer collectives.

Everything here works in a plain single process too: without an MPI launcher in
the environment (``mpiexec`` sets ``PMI_RANK``/``OMPI_COMM_WORLD_RANK``...), or
without mpi4py installed, the world is one process of rank 0, collectives return
their input, and MPI is never imported (``import ember`` never imports mpi4py).

Collectives move NumPy buffers with mpi4py's uppercase methods (``Allreduce``,
``Bcast``): no pickling, one memory copy at most.

Example:
    >>> from ember import distributed as dist
    >>> dist.rank(), dist.world_size(), dist.is_main_process()
    (0, 1, True)
    >>> dist.allreduce_mean(3.0)
    3.0
"""
from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from ..data.sampler import _mpi_world

__all__ = [
    "abort",
    "allreduce",
    "allreduce_mean",
    "allreduce_sum",
    "barrier",
    "broadcast",
    "broadcast_value",
    "get_comm",
    "init",
    "is_available",
    "is_initialized",
    "is_main_process",
    "rank",
    "world_size",
]

_INSTALL_HINT = 'pip install "ember[mpi]"  (mpi4py and the mpich wheel)'


class _World:
    """What :func:`init` found: the communicator (None in a single process), rank and size."""

    comm: Any = None
    rank: int = 0
    size: int = 1
    initialized: bool = False


def is_available() -> bool:
    """Whether mpi4py can be imported (it is not imported by this check).

    Example:
        >>> isinstance(is_available(), bool)
        True
    """
    import importlib.util

    try:
        return importlib.util.find_spec("mpi4py") is not None
    except ValueError:  # sys.modules["mpi4py"] is None: imports of it are blocked
        return False


def init(comm: Any = None, abort_on_error: bool = True) -> int:
    """Join the MPI world (idempotent); returns the world size.

    Called implicitly by every function of :mod:`ember.distributed`. Under a launcher
    (``mpiexec -n N python -m mpi4py script.py``) it imports mpi4py, which initialises
    MPI; otherwise it settles on a world of one process and imports nothing.

    Args:
        comm: an mpi4py communicator to use instead of ``MPI.COMM_WORLD`` (e.g. a
            ``Split`` of it); giving one always imports mpi4py.
        abort_on_error: in a world of several processes, make an uncaught exception
            on any rank abort the whole job (``MPI_Abort``) instead of leaving the
            other ranks waiting forever in a collective; ``python -m mpi4py`` does the
            same, this covers plain ``mpiexec -n N python script.py`` runs.

    Returns:
        The number of processes.

    Raises:
        RuntimeError: launched by an MPI launcher with several processes but mpi4py
            is not installed (each process would otherwise train alone, unaware).

    Example:
        >>> init()
        1
    """
    if _World.initialized and comm is None:
        return _World.size
    env_size, _ = _mpi_world()
    if comm is None and env_size <= 1:
        # No launcher (or a launcher of one): no reason to pay for MPI's start-up.
        _World.comm, _World.rank, _World.size = None, 0, 1
        _World.initialized = True
        return 1
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise RuntimeError(f"ember.distributed: launched as one of {env_size} MPI processes, but mpi4py is "
                           f"not installed; {_INSTALL_HINT}") from err
    comm = MPI.COMM_WORLD if comm is None else comm
    _World.comm, _World.rank, _World.size = comm, comm.Get_rank(), comm.Get_size()
    _World.initialized = True
    if abort_on_error and _World.size > 1:
        _install_abort_hook()
    return _World.size


def _install_abort_hook() -> None:
    previous = sys.excepthook
    if getattr(previous, "_ember_aborts", False):
        return

    def abort_job(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        # The launcher forwards output asynchronously: give it a moment before the abort tears it down.
        time.sleep(0.2)
        abort(1)

    abort_job._ember_aborts = True  # type: ignore[attr-defined]
    sys.excepthook = abort_job


def is_initialized() -> bool:
    """Whether :func:`init` has run (explicitly or through another call)."""
    return _World.initialized


def get_comm() -> Any:
    """The mpi4py communicator, or None in a single process.

    Example:
        >>> get_comm() is None
        True
    """
    init()
    return _World.comm


def rank() -> int:
    """This process's rank, 0 ... ``world_size() - 1`` (0 in a single process)."""
    init()
    return _World.rank


def world_size() -> int:
    """The number of processes in the job (1 in a single process)."""
    return init()


def is_main_process() -> bool:
    """True on rank 0: the one process that prints, logs and writes files.

    Example:
        >>> if is_main_process():
        ...     pass  # print progress, write checkpoints
    """
    return rank() == 0


def barrier() -> None:
    """Wait until every process gets here (nothing to wait for in a single process)."""
    if world_size() > 1:
        _World.comm.Barrier()


def abort(code: int = 1) -> None:
    """End the whole job now with exit status ``code`` (``sys.exit`` in a single process)."""
    if _World.comm is not None and _World.size > 1:
        _World.comm.Abort(code)
    sys.exit(code)


def _contiguous(array, who: str):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{who}: expected a NumPy array (host memory), got {type(array).__name__}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{who}: the array of shape {array.shape} must be C-contiguous")
    return array


def allreduce(array: np.ndarray, op: str = "sum") -> np.ndarray:
    """Reduce ``array`` over all processes, in place, and return it.

    Args:
        array: a C-contiguous NumPy array, the same shape and dtype on every rank.
        op: ``'sum'``, ``'max'``, ``'min'`` or ``'prod'``.

    Example:
        >>> allreduce(np.array([1.0, 2.0]))
        array([1., 2.])
    """
    _contiguous(array, "allreduce")
    if world_size() > 1:
        from mpi4py import MPI

        ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "prod": MPI.PROD}
        if op not in ops:
            raise ValueError(f"allreduce: op must be one of {sorted(ops)}, got {op!r}")
        _World.comm.Allreduce(MPI.IN_PLACE, array, op=ops[op])
    elif op not in ("sum", "max", "min", "prod"):
        raise ValueError(f"allreduce: op must be one of ['max', 'min', 'prod', 'sum'], got {op!r}")
    return array


def allreduce_sum(value: float) -> float:
    """The sum of a number over all processes.

    Example:
        >>> allreduce_sum(2.5)
        2.5
    """
    return float(allreduce(np.array([value], dtype=np.float64))[0])


def allreduce_mean(value: float, weight: float = 1.0) -> float:
    """The mean of a number over all processes, weighted by ``weight`` (e.g. a sample count).

    A loss averaged over 100 samples on one rank and over 50 on another gives, with
    the counts as weights, the loss averaged over the 150 samples.

    Example:
        >>> allreduce_mean(0.5, weight=100)
        0.5
    """
    both = allreduce(np.array([float(value) * weight, weight], dtype=np.float64))
    return float(both[0] / both[1])


def broadcast(array: np.ndarray, root: int = 0) -> np.ndarray:
    """Overwrite ``array`` on every process with ``root``'s values, in place; returns it.

    Example:
        >>> broadcast(np.arange(3))
        array([0, 1, 2])
    """
    _contiguous(array, "broadcast")
    if world_size() > 1:
        _World.comm.Bcast(array, root=root)
    return array


def broadcast_value(value: float, root: int = 0) -> int | float:
    """``root``'s number on every process (e.g. a random seed drawn on rank 0).

    Example:
        >>> broadcast_value(7)
        7
    """
    dtype = np.int64 if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else np.float64
    out = broadcast(np.array([value], dtype=dtype), root)[0]
    return int(out) if dtype is np.int64 else float(out)
