"""PyTorch's ``DataLoader``: batches of :class:`ember.Tensor`, in worker processes if asked.

The arguments, their checks and their meaning are those of
``torch.utils.data.DataLoader``. Batches are made by the fetchers of
:mod:`.fetch`, either in this process (``num_workers=0``) or in ``num_workers``
separate processes (:mod:`.worker`) that run ahead by ``prefetch_factor`` batches
each; batches come back in the sampler's order (unless ``in_order=False``), an
exception in a worker is raised again here with the worker's traceback, and a
worker that dies stops the iteration with an error naming its pid.

``pin_memory`` is accepted and does nothing: there is no pinned host memory on the
CPU, and a CuPy device copies from ordinary memory.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
from typing import Any, Callable, Iterator, List, Optional

import numpy as np

from .dataset import IterableDataset
from .fetch import IterableFetcher, MapFetcher
from .sampler import (BatchSampler, RandomSampler, SequentialSampler, _positive_int,
                      epoch_generator)
from .worker import IterableEnd, unpack, worker_loop

__all__ = ["DataLoader"]

#: Seconds the main process waits for a result before it checks that the workers live.
WORKER_CHECK_INTERVAL = 1.0


class DataLoader:
    """Iterate over a dataset in batches of :class:`ember.Tensor`, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: A map-style dataset (``__len__``, ``__getitem__``) or an
            :class:`~ember.utils.data.IterableDataset`.
        batch_size: Samples per batch; ``None`` turns batching off (each sample is
            converted with :func:`~ember.utils.data.default_convert`).
        shuffle: A new random order every epoch (a :class:`RandomSampler` drawing
            from ``generator``).
        sampler: The order of the samples; excludes ``shuffle``.
        batch_sampler: Yields whole lists of indices; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: Worker processes loading batches (0: load in this process).
        collate_fn: Turns a list of samples into a batch (default
            :func:`~ember.utils.data.default_collate`).
        pin_memory: Accepted for PyTorch programs; no effect.
        drop_last: Drop the last batch when it is short.
        timeout: Seconds to wait for a worker's batch before failing (0: forever).
        worker_init_fn: Called as ``worker_init_fn(worker_id)`` in each worker,
            after seeding.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a
            context; default fork where available (the dataset is inherited, not
            pickled).
        generator: ``ember.Generator`` or :class:`numpy.random.Generator` for the shuffling and the
            workers' base seed (default: Ember's global generator).
        prefetch_factor: Batches each worker prepares ahead (default 2 with
            workers; must be None without).
        persistent_workers: Keep the workers alive between epochs.
        pin_memory_device: Accepted; no effect.
        in_order: Yield batches in the sampler's order (else as they are ready).

    Raises:
        ValueError: Conflicting or out-of-range options, with PyTorch's messages.

    Example:
        >>> from ember.utils.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> [(x.shape, y.tolist()) for x, y in DataLoader(ds, batch_size=2)]
        [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
    """

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1,
                 shuffle: Optional[bool] = None, sampler: Optional[Any] = None,
                 batch_sampler: Optional[Any] = None, num_workers: int = 0,
                 collate_fn: Optional[Callable[[List[Any]], Any]] = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Optional[Callable[[int], None]] = None,
                 multiprocessing_context: Any = None,
                 generator: Optional[np.random.Generator] = None, *,
                 prefetch_factor: Optional[int] = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            if iterable:
                _positive_int(batch_size, "batch_size")
            else:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterable = iterable
        self._iterator: Optional[_MultiProcessIter] = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)  # TypeError when the stream has no length, as in torch
            if self.batch_size is None:
                return length
            whole, rest = divmod(length, self.batch_size)
            return whole if self.drop_last or rest == 0 else whole + 1
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator.reset()
        return self._iterator

    def __del__(self) -> None:
        if getattr(self, "_iterator", None) is not None:
            self._iterator.shutdown()

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers}, sampler={type(self.sampler).__name__})")


def _index_source(loader: DataLoader) -> Iterator[Any]:
    """The tasks of one epoch: index batches, single indices, or (iterable) endless ``None``."""
    if loader._iterable:
        return itertools.repeat(None)
    if loader.batch_sampler is not None:
        if isinstance(loader.batch_sampler, BatchSampler):
            return loader.batch_sampler.index_batches()
        return iter(loader.batch_sampler)
    return iter(loader.sampler)


class _SingleProcessIter:
    """One epoch, loaded in this process."""

    def __init__(self, loader: DataLoader) -> None:
        self._length = _safe_len(loader)
        if loader._iterable:
            self._fetcher: Any = IterableFetcher(loader.dataset, loader.batch_size,
                                                 loader.drop_last, loader.collate_fn)
            self._tasks = None
        else:
            self._fetcher = MapFetcher(loader.dataset, loader._auto_collation, loader.collate_fn)
            self._tasks = _index_source(loader)

    def __iter__(self) -> "_SingleProcessIter":
        return self

    def __next__(self) -> Any:
        if self._tasks is None:
            return self._fetcher.fetch()
        return self._fetcher.fetch(next(self._tasks))

    def __len__(self) -> int:
        return self._length


def _safe_len(loader: DataLoader) -> Any:
    try:
        return len(loader)
    except TypeError:
        return None


def _context(choice: Any) -> Any:
    if choice is None:
        if "fork" in multiprocessing.get_all_start_methods():
            return multiprocessing.get_context("fork")
        return multiprocessing.get_context()
    if isinstance(choice, str):
        return multiprocessing.get_context(choice)
    return choice


class _MultiProcessIter:
    """Epochs loaded by worker processes; the state of one epoch is reset by :meth:`reset`."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._closed = False
        context = _context(loader.multiprocessing_context)
        n = loader.num_workers
        base_seed = int(epoch_generator(loader.generator, "DataLoader").integers(0, 2 ** 62))
        self._done = context.Event()
        self._results = context.Queue()
        self._queues, self._workers = [], []
        for worker_id in range(n):
            tasks = context.Queue()
            tasks.cancel_join_thread()  # never block exit on tasks nobody will take
            worker = context.Process(
                target=worker_loop, name=f"ember-dataloader-worker-{worker_id}", daemon=True,
                args=(loader.dataset, loader._iterable, loader._auto_collation, loader.batch_size,
                      loader.drop_last, loader.collate_fn, tasks, self._results, self._done,
                      base_seed, loader.worker_init_fn, worker_id, n, os.getpid()))
            worker.start()
            self._queues.append(tasks)
            self._workers.append(worker)
        self._epoch = -1
        self.reset()

    def reset(self) -> None:
        """Start a new epoch with the same workers."""
        loader = self._loader
        self._epoch += 1
        self._length = _safe_len(loader)
        self._tasks = _index_source(loader)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._pending: dict = {}  # task id -> [worker id] or [worker id, (batch, error)]
        self._active = [True] * loader.num_workers
        self._cycle = itertools.cycle(range(loader.num_workers))
        for _ in range(loader.prefetch_factor * loader.num_workers):
            self._put_task()

    def _put_task(self) -> None:
        for _ in range(len(self._workers)):
            worker_id = next(self._cycle)
            if self._active[worker_id]:
                break
        else:
            return
        try:
            task = next(self._tasks)
        except StopIteration:
            return
        self._queues[worker_id].put((self._epoch, self._send_idx, task))
        self._pending[self._send_idx] = [worker_id]
        self._send_idx += 1

    def __iter__(self) -> "_MultiProcessIter":
        return self

    def __len__(self) -> Any:
        return self._length

    def __next__(self) -> Any:
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._pending.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._pending.pop(self._rcvd_idx, None)  # done out of order, or a stopped stream
                self._rcvd_idx += 1
            else:
                if not self._loader.persistent_workers:
                    self.shutdown()
                raise StopIteration
            info = self._pending[self._rcvd_idx]
            if len(info) == 2:
                del self._pending[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._deliver(info[1])
            epoch, task_id, batch, error = self._get_result()
            if epoch != self._epoch or task_id not in self._pending:
                continue  # left over from an earlier epoch, or from a stopped stream
            if isinstance(batch, IterableEnd):
                self._active[batch.worker_id] = False
                self._put_task()
                continue
            if task_id == self._rcvd_idx:
                del self._pending[task_id]
                self._rcvd_idx += 1
                return self._deliver((batch, error))
            if self._loader.in_order:
                self._pending[task_id].append((batch, error))
            else:
                del self._pending[task_id]
                return self._deliver((batch, error))

    def _deliver(self, item: Any) -> Any:
        batch, error = item
        self._put_task()
        if error is not None:
            error.reraise()
        return unpack(batch)

    def _get_result(self) -> Any:
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            wait = WORKER_CHECK_INTERVAL
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
            try:
                return self._results.get(timeout=wait)
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    self.shutdown()
                    pids = ", ".join(f"{w.pid} (exit code {w.exitcode})" for w in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       f"unexpectedly") from None

    def shutdown(self) -> None:
        """Stop the workers and close the queues (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._done.set()
        for tasks in self._queues:
            try:
                tasks.put(None)
            except (OSError, ValueError):  # pragma: no cover - queue already closed
                pass
        for worker in self._workers:
            worker.join(timeout=5.0)
            if worker.is_alive():  # pragma: no cover - a worker stuck in user code
                worker.terminate()
                worker.join()
        for q in self._queues + [self._results]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        if hasattr(self, "_closed"):
            self.shutdown()
