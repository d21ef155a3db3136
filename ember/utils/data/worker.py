"""Worker processes of the DataLoader: what runs inside them, and what they send back.

Each worker is a separate process (forked where the platform allows, so the
dataset is inherited rather than pickled). It receives tasks ``(epoch, task id,
indices)`` on its own queue, makes the batch with the same fetcher the main process
uses, and puts ``(epoch, task id, batch, error)`` on the shared result queue. Tensors
travel as their NumPy arrays (:class:`PackedTensor`) and become Tensors again in the
main process; the queues carry only NumPy arrays, numbers, strings and the
containers around them between processes of the same program.

Inside a worker, :func:`get_worker_info` describes it (``id``, ``num_workers``,
``seed``, ``dataset``); Python's :mod:`random`, NumPy's global generator and Ember's
generators are seeded with ``seed``; BLAS is limited to one thread (as PyTorch sets
one intra-op thread in workers).
"""

from __future__ import annotations

import os
import queue
import random
import traceback
from typing import Any, Callable, Optional

import numpy as np

from ... import backend
from ...tensor import Tensor
from .fetch import IterableFetcher, MapFetcher

__all__ = ["WorkerInfo", "get_worker_info", "WorkerError", "PackedTensor", "pack", "unpack"]

#: Seconds between the checks a worker makes that its parent still lives.
STATUS_CHECK_INTERVAL = 5.0


class WorkerInfo:
    """What a worker process knows about itself; read-only.

    Attributes:
        id: This worker's number, ``0 .. num_workers - 1``.
        num_workers: How many workers the DataLoader runs.
        seed: The seed this worker's generators were given (``base_seed + id``).
        dataset: This worker's copy of the dataset.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:  # noqa: A002
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed),
                            ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"WorkerInfo: cannot set {name!r}, the worker's info is read-only")

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info: Optional[WorkerInfo] = None


def get_worker_info() -> Optional[WorkerInfo]:
    """The :class:`WorkerInfo` of the current DataLoader worker process, or ``None`` in the main process.

    Use it in an :class:`~ember.utils.data.IterableDataset` to give each worker its
    own share of the stream, or in ``worker_init_fn``.

    Example:
        >>> get_worker_info() is None  # not inside a worker
        True
    """
    return _worker_info


class WorkerError:
    """An exception raised in a worker, carried to the main process and raised there again.

    The new exception has the original's type when it can be built from one message
    (else ``RuntimeError``); its message names the worker, what was being loaded and
    the worker's traceback.
    """

    def __init__(self, exc: BaseException, worker_id: int, where: str) -> None:
        self.exc_type = type(exc)
        self.message = (f"Caught {type(exc).__name__} in DataLoader worker process {worker_id} "
                        f"while loading {where}.\nOriginal "
                        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))

    def reraise(self) -> None:
        """Raise the exception in the current process."""
        message = self.message
        if self.exc_type is KeyError:  # KeyError would show the message quoted, on one line
            message = KeyErrorMessage(message)
        try:
            error = self.exc_type(message)
        except Exception:  # a type that needs other arguments
            raise RuntimeError(message) from None
        raise error


class KeyErrorMessage(str):
    """A message that KeyError prints as it is (KeyError applies repr to its argument)."""

    def __repr__(self) -> str:
        return str(self)


class PackedTensor:
    """A Tensor crossing from a worker to the main process, as its NumPy array.

    Example:
        >>> t = unpack(pack(Tensor(np.arange(3))))
        >>> type(t).__name__, t.tolist()
        ('Tensor', [0, 1, 2])
    """

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __getstate__(self) -> np.ndarray:
        return self.array

    def __setstate__(self, state: np.ndarray) -> None:
        self.array = state


def pack(batch: Any) -> Any:
    """Replace every Tensor in a nested batch by a :class:`PackedTensor` (host array)."""
    if isinstance(batch, Tensor):
        return PackedTensor(np.ascontiguousarray(batch.numpy()))
    if isinstance(batch, dict):
        return {k: pack(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(pack(b) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(pack(b) for b in batch)
    return batch


def unpack(batch: Any) -> Any:
    """Undo :func:`pack`: every :class:`PackedTensor` becomes an :class:`ember.Tensor` again."""
    if isinstance(batch, PackedTensor):
        return Tensor(batch.array)
    if isinstance(batch, dict):
        return {k: unpack(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(unpack(b) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(unpack(b) for b in batch)
    return batch


class IterableEnd:
    """Sent by a worker whose iterable dataset is exhausted for this epoch."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def _seed_worker(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    backend.manual_seed(seed % 2 ** 63)
    try:  # one BLAS thread per worker: the workers are the parallelism
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        pass


def worker_loop(dataset: Any, iterable: bool, auto_collation: bool, batch_size: Optional[int],
                drop_last: bool, collate_fn: Optional[Callable], index_queue: Any,
                result_queue: Any, done_event: Any, base_seed: int,
                init_fn: Optional[Callable[[int], None]], worker_id: int, num_workers: int,
                parent_pid: int) -> None:
    """The body of one worker process (the target of ``multiprocessing.Process``)."""
    global _worker_info
    seed = base_seed + worker_id
    _seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error: Optional[WorkerError] = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as exc:  # reported with the first task, as PyTorch does
        init_error = WorkerError(exc, worker_id, "nothing (in worker_init_fn)")
    fetcher: Any = None if iterable else MapFetcher(dataset, auto_collation, collate_fn)
    epoch_of_fetcher = None
    try:
        while not done_event.is_set():
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died: stop
                    return
                continue
            if task is None:
                return
            epoch, task_id, indices = task
            if init_error is not None:
                result_queue.put((epoch, task_id, None, init_error))
                init_error = None
                continue
            try:
                if iterable:
                    if epoch_of_fetcher != epoch:  # a new epoch restarts the stream
                        fetcher = IterableFetcher(dataset, batch_size, drop_last, collate_fn)
                        epoch_of_fetcher = epoch
                    try:
                        batch = fetcher.fetch()
                    except StopIteration:
                        result_queue.put((epoch, task_id, IterableEnd(worker_id), None))
                        continue
                else:
                    batch = fetcher.fetch(indices)
                result_queue.put((epoch, task_id, pack(batch), None))
            except Exception as exc:
                where = fetcher.where if fetcher is not None else "the dataset's iterator"
                result_queue.put((epoch, task_id, None, WorkerError(exc, worker_id, where)))
    except KeyboardInterrupt:  # the main process handles Ctrl-C
        pass
    finally:
        if done_event.is_set():  # results nobody will read must not keep the process alive
            result_queue.cancel_join_thread()
