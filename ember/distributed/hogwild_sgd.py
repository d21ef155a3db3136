"""Hogwild: lock-free SGD by several processes on parameters in shared memory (Recht et al., NIPS 2011).

Each worker process maps the same parameter buffer (``multiprocessing.shared_memory``),
computes gradients on its own shard of the data and writes its updates straight
into that buffer, with no lock: a worker may read parameters another one is half
way through updating, and two updates of one value may race. Recht et al. show
that SGD still converges when updates are *sparse*, i.e. each touches few of
the parameters, so that collisions are rare: embeddings (a batch reads a few
rows of a large table) are the standard case. Rows of a 2-D parameter whose
gradient is zero are not written at all, so that a worker never overwrites
another's update of a row it did not use.

Neither the parameters nor the data are pickled: the parent copies them once
into shared memory and sends the workers only the blocks' names, shapes and
dtypes. ``build_fn`` and ``loss_fn`` must be module-level functions (the workers
are ``spawn``ed and import them by name); each worker uses one BLAS thread.

Example::

    from ember.distributed import hogwild
    import ember.nn.functional as F
    result = hogwild(build_bag_of_words, F.cross_entropy, tokens, labels, workers=2, epochs=3, lr=0.5)
    model = result.module                      # the trained parameters, in a fresh model
"""
from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import shared_memory

import numpy as np

from ..blas_threads import child_blas_threads
from ..nn import Module
from .flat import FlatBuffer

__all__ = ["HogwildResult", "hogwild", "sparse_sgd_step"]


@dataclass
class HogwildResult:
    """What :func:`hogwild` returns.

    Attributes:
        module: a model from ``build_fn()`` holding the trained parameters.
        steps: the SGD steps each worker made.
        seconds: wall-clock time of the training (the workers' start included).
        snapshots: ``(seconds, module)`` pairs: the shared parameters as worker 0
            saw them at evenly spaced steps, and when (for time-to-accuracy curves).
    """

    module: Module
    steps: list
    seconds: float
    snapshots: list = field(default_factory=list)


def sparse_sgd_step(weight: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """``weight -= lr * grad`` in place, writing only the rows of a 2-D ``grad`` that are not all zero.

    Example:
        >>> w = np.ones((3, 2)); g = np.zeros((3, 2)); g[1] = 1.0
        >>> sparse_sgd_step(w, g, 0.5); w.tolist()
        [[1.0, 1.0], [0.5, 0.5], [1.0, 1.0]]
    """
    if grad.ndim == 2:
        rows = np.flatnonzero(grad.any(axis=1))
        if rows.size < grad.shape[0]:
            weight[rows] -= lr * grad[rows]
            return
    weight -= lr * grad


def _share(array: np.ndarray, blocks: list) -> tuple:
    """Copy ``array`` into a new shared block; returns what a worker needs to map it."""
    block = shared_memory.SharedMemory(create=True, size=max(1, array.nbytes))
    blocks.append(block)
    np.ndarray(array.shape, array.dtype, buffer=block.buf)[...] = array
    return block.name, array.shape, array.dtype.str


def _attach(spec: tuple, blocks: list) -> np.ndarray:
    name, shape, dtype = spec
    block = shared_memory.SharedMemory(name=name)
    blocks.append(block)
    return np.ndarray(shape, np.dtype(dtype), buffer=block.buf)


def _worker(build_fn: Callable, loss_fn: Callable, specs: dict, worker: int, workers: int, epochs: int,
            batch_size: int, lr: float, seed: int, started: float) -> None:
    """One Hogwild worker: map the shared blocks, then step on its shard of every epoch."""
    import ember

    blocks: list = []
    try:
        flat_params = _attach(specs["params"], blocks)
        x, y, steps = _attach(specs["x"], blocks), _attach(specs["y"], blocks), _attach(specs["steps"], blocks)
        shots, shot_times = _attach(specs["snapshots"], blocks), _attach(specs["snapshot_times"], blocks)
        per_epoch = -(-len(range(worker, len(x), workers)) // batch_size)
        shot_steps = {round((k + 1) * epochs * per_epoch / len(shot_times)): k for k in range(len(shot_times))}
        ember.manual_seed(seed + worker)
        model = build_fn()
        params = list(model.parameters())
        offset = 0
        for p in params:  # the model's parameters become views of the shared buffer
            p._data = flat_params[offset: offset + p.numel()].reshape(p.shape)
            offset += p.numel()
        model.train()
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(len(x))[worker::workers]
            for start in range(0, len(order), batch_size):
                chosen = order[start:start + batch_size]
                for p in params:
                    p.grad = None
                loss_fn(model(ember.tensor(x[chosen])), ember.tensor(y[chosen])).backward()
                for p in params:
                    if p.grad is not None:
                        sparse_sgd_step(p._data, p.grad._data, lr)
                        p._version += 1
                steps[worker] += 1
                if worker == 0 and steps[0] in shot_steps:
                    k = shot_steps[int(steps[0])]
                    np.copyto(shots[k], flat_params)
                    shot_times[k] = time.time() - started  # the wall clock: the one all processes share
        del model, params, p, flat_params, x, y, steps, shots, shot_times  # views must go before the blocks close
    finally:
        for block in blocks:
            with contextlib.suppress(BufferError):  # a view still alive: the mapping ends with the process
                block.close()


def hogwild(build_fn: Callable[[], Module], loss_fn: Callable, x: np.ndarray, y: np.ndarray, workers: int = 2,
            epochs: int = 1, batch_size: int = 32, lr: float = 0.1, seed: int = 0,
            snapshots: int = 0) -> HogwildResult:
    """Train ``build_fn()`` with plain SGD by ``workers`` processes sharing its parameters without locks.

    Every epoch, a permutation of the samples (seeded by ``seed`` and the epoch) is
    dealt out to the workers, sample ``i`` of it to worker ``i % workers``; each
    steps through its part in batches of ``batch_size``. With ``workers=1`` that is
    exactly plain SGD in batches of ``batch_size`` (still in a worker process).

    Args:
        build_fn: ``build_fn() -> Module``, module-level; called once here (its
            initial parameters are the ones trained) and once in each worker.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``, module-level
            (e.g. ``ember.nn.functional.cross_entropy``).
        x, y: the inputs and targets as NumPy arrays, one sample per row.
        workers: the worker processes.
        epochs, batch_size, lr: the SGD settings of each worker.
        seed: seeds the data order and each worker's generator (dropout).
        snapshots: how many copies of the parameters worker 0 takes along the way
            (:attr:`HogwildResult.snapshots`); 0: none.

    Returns:
        A :class:`HogwildResult`.

    Raises:
        ValueError: bad sizes or settings.
        RuntimeError: a worker failed (its traceback is on standard error).
    """
    for name, value in (("workers", workers), ("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"hogwild: {name} must be a positive int, got {value!r}")
    if isinstance(snapshots, bool) or not isinstance(snapshots, int) or snapshots < 0:
        raise ValueError(f"hogwild: snapshots must be an int >= 0, got {snapshots!r}")
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    if len(x) != len(y) or len(x) < workers:
        raise ValueError(f"hogwild: x and y must hold the same number of samples, at least one per worker; got "
                         f"{len(x)} and {len(y)} for {workers} workers")
    if not lr > 0:
        raise ValueError(f"hogwild: lr must be positive, got {lr!r}")
    model = build_fn()
    if not isinstance(model, Module):
        raise TypeError(f"hogwild: build_fn must return an ember.nn.Module, got {type(model).__name__}")
    flat = FlatBuffer(list(model.parameters()))
    blocks: list = []
    try:
        specs = {"params": _share(flat.pack_data(), blocks), "x": _share(x, blocks), "y": _share(y, blocks),
                 "steps": _share(np.zeros(workers, dtype=np.int64), blocks),
                 "snapshots": _share(np.zeros((snapshots, flat.data.size), flat.data.dtype), blocks),
                 "snapshot_times": _share(np.full(snapshots, np.nan), blocks)}
        context = multiprocessing.get_context("spawn")
        start = time.time()
        processes = [context.Process(target=_worker, args=(build_fn, loss_fn, specs, w, workers, epochs, batch_size,
                                                           float(lr), seed, start), name=f"hogwild-{w}")
                     for w in range(workers)]
        with child_blas_threads(1):
            for process in processes:
                process.start()
        for process in processes:
            process.join()
        seconds = time.time() - start
        failed = [(p.name, p.exitcode) for p in processes if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"hogwild: worker(s) failed (name, exit code): {failed}; see their traceback above")
        params = _attach_view(blocks[0], flat.data)
        np.copyto(flat.data, params)
        del params
        flat.unpack_data()
        steps = np.ndarray((workers,), np.int64, buffer=blocks[3].buf).tolist()
        taken = []
        shots = np.ndarray((snapshots, flat.data.size), flat.data.dtype, buffer=blocks[4].buf)
        times = np.ndarray((snapshots,), np.float64, buffer=blocks[5].buf)
        for k in range(snapshots):
            if not np.isnan(times[k]):
                copy = build_fn()
                shot = FlatBuffer(list(copy.parameters()))
                np.copyto(shot.data, shots[k])
                shot.unpack_data()
                taken.append((float(times[k]), copy))
        del shots, times
    finally:
        for block in blocks:
            block.close()
            block.unlink()
    return HogwildResult(module=model, steps=steps, seconds=seconds, snapshots=taken)


def _attach_view(block: shared_memory.SharedMemory, like: np.ndarray) -> np.ndarray:
    return np.ndarray(like.shape, like.dtype, buffer=block.buf)
