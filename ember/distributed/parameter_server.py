"""Asynchronous SGD with a parameter server over MPI (Dean et al. 2012, bounded staleness of Ho et al. 2013).

The first ``servers`` ranks hold the parameters, split into contiguous shards of
one flat vector (server ``s`` holds shard ``s``); the other ranks are workers.
A worker step is one round trip to every server, with no global barrier:

1. the worker computes a gradient on its own batch, at the parameters it last received;
2. it sends each server that server's slice of the gradient (``Send`` of a NumPy buffer);
3. the server applies it at once (``w -= lr * g``, optionally with momentum) and
   sends back its fresh shard, which the worker copies into its model.

Workers therefore run at their own pace and their gradients are *stale*: computed
at parameters that other workers' updates have since moved. The staleness of an
update is the number of updates the server applied between the worker's last pull
and this push; :meth:`ParameterServer.serve` reports its mean and maximum. It is
bounded (stale synchronous parallel): a worker more than ``staleness`` (``K``) steps
ahead of the slowest live worker gets its reply only when that one catches up, so it
blocks. With ``W`` workers whose step counts stay within ``K`` of each other, an update
is at most ``(W - 1)(2K + 1)`` updates stale.

Failures:

* a worker whose training raises inside :meth:`ParameterServer.worker`, or that is
  sent ``SIGTERM`` (``kill PID``; its next :meth:`~ParameterServer.step` raises
  :class:`WorkerTerminated`), tells the servers and leaves; the others go on (the
  bound no longer waits for it), and the servers list it in the report;
* a worker that stops answering for ``timeout`` seconds is dropped from the bound
  the same way (it is reported as lost);
* a server that fails ends the whole job (``MPI_Abort`` from the uncaught
  exception, with its traceback), and a worker that waits more than ``timeout``
  seconds for a server's reply raises a :class:`ServerError` naming that server.

MPICH (the ``mpich`` wheel) is not fault tolerant: a worker *process* that dies
without a word (``SIGKILL``, a segfault) after it has talked to a server makes the
library abort every rank, even under ``mpiexec -disable-auto-cleanup``; that
needs an MPI with ULFM, which this module does not use.

Example (``mpiexec -n 3 python -m mpi4py train.py``: one server, two workers)::

    ps = dist.ParameterServer(model, lr=0.05, servers=1, staleness=4)
    if ps.is_server:
        report = ps.serve()                 # returns when every worker is done
    else:
        with ps.worker():
            for x, y in my_batches:
                model.zero_grad()
                loss_fn(model(x), y).backward()
                ps.step()                   # push the gradient, pull the parameters
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..nn import Module
from . import comm
from .data_parallel import broadcast_parameters
from .flat import FlatBuffer

__all__ = ["ParameterServer", "ServerError", "ServerReport", "WorkerTerminated"]

_PUSH, _DONE, _FAILED, _PARAMS, _FINAL = 11, 12, 13, 21, 31
_POLL = 2e-4  # seconds between two polls of an idle server: frees the core for the workers


class ServerError(RuntimeError):
    """A worker got no answer from a server in time: the job cannot go on (it ends with this error)."""


class WorkerTerminated(RuntimeError):
    """Raised by :meth:`ParameterServer.step` in a worker that was sent ``SIGTERM`` (``kill PID``)."""


@dataclass
class ServerReport:
    """What one server saw: updates applied, their staleness, blocked replies, workers lost.

    Attributes:
        updates: gradients applied.
        staleness: the staleness of every update, in the order they were applied.
        blocked: replies held back because the worker was too far ahead.
        finished, failed, lost: worker ranks that finished, raised, or stopped answering.
        errors: ``{rank: message}`` of the failed workers.
        seconds: time spent serving.
    """

    updates: int = 0
    staleness: list = field(default_factory=list)
    blocked: int = 0
    finished: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def max_staleness(self) -> int:
        """The largest staleness of an applied update (0 without updates)."""
        return max(self.staleness, default=0)

    @property
    def mean_staleness(self) -> float:
        """The mean staleness of the applied updates."""
        return float(np.mean(self.staleness)) if self.staleness else 0.0

    def summary(self) -> str:
        """One line for logs."""
        text = (f"{self.updates} updates in {self.seconds:.1f}s, staleness mean {self.mean_staleness:.2f} "
                f"max {self.max_staleness}, {self.blocked} blocked replies")
        if self.failed or self.lost:
            text += f"; failed workers {self.failed}, lost workers {self.lost}"
        return text


class ParameterServer:
    """Asynchronous SGD over MPI: server ranks hold parameter shards, worker ranks push gradients.

    Build it on every rank with the same module (rank 0's initial values are broadcast).

    Args:
        module: the model; every parameter must be float32 or all of one dtype, on the CPU.
        lr: the servers' learning rate.
        servers: how many ranks (0 ... ``servers - 1``) hold shards; at least one
            worker must remain.
        staleness: the bound ``K``: a worker may be at most ``K`` steps ahead of the
            slowest live worker before its replies wait.
        momentum: heavy-ball momentum applied by the servers (0: plain SGD).
        timeout: seconds after which a silent worker is dropped, or a worker stops
            waiting for a silent server and raises.

    Raises:
        ValueError: fewer than ``servers + 1`` ranks, or bad arguments.
    """

    def __init__(self, module: Module, lr: float, servers: int = 1, staleness: int = 4, momentum: float = 0.0,
                 timeout: float = 60.0) -> None:
        world = comm.world_size()
        if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
            raise ValueError(f"ParameterServer: servers must be a positive int, got {servers!r}")
        if world < servers + 1:
            raise ValueError(f"ParameterServer: {servers} server rank(s) need at least {servers + 1} ranks "
                             f"(one worker or more), got {world}; launch with mpiexec -n {servers + 1} or more")
        if isinstance(staleness, bool) or not isinstance(staleness, int) or staleness < 0:
            raise ValueError(f"ParameterServer: staleness must be an int >= 0, got {staleness!r}")
        if not lr > 0 or not 0 <= momentum < 1 or not timeout > 0:
            raise ValueError(f"ParameterServer: expected lr > 0, 0 <= momentum < 1 and timeout > 0; got lr={lr}, "
                             f"momentum={momentum}, timeout={timeout}")
        self.module, self.lr, self.momentum = module, float(lr), float(momentum)
        self.servers, self.staleness, self.timeout = servers, staleness, float(timeout)
        self.rank, self.world = comm.rank(), world
        self.comm = comm.get_comm()
        broadcast_parameters(module)
        self.flat = FlatBuffer([p for p in module.parameters()])
        bounds = np.linspace(0, self.flat.data.size, servers + 1).round().astype(int)
        self.shards = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        self.error: BaseException | None = None
        self.steps = 0
        self._signal: int | None = None

    @property
    def is_server(self) -> bool:
        """Whether this rank holds a shard (and must call :meth:`serve`)."""
        return self.rank < self.servers

    @property
    def workers(self) -> list[int]:
        """The worker ranks."""
        return list(range(self.servers, self.world))

    # ------------------------------------------------------------------ server side
    def serve(self) -> ServerReport:
        """Apply the workers' gradients to this server's shard until every worker is done or gone.

        On rank 0 the module ends up holding the full final parameters (the other
        servers send their shards); on other servers only their own shard is current.

        Returns:
            The :class:`ServerReport` of this server.
        """
        from mpi4py import MPI

        if not self.is_server:
            raise RuntimeError(f"ParameterServer.serve: rank {self.rank} is a worker (servers are ranks "
                               f"0..{self.servers - 1}); workers call step() inside worker()")
        start, stop = self.shards[self.rank]
        shard = self.flat.pack_data()[start:stop]  # a view: updates land in the flat buffer
        velocity = np.zeros_like(shard) if self.momentum else None
        grad = np.empty_like(shard)
        version, report = 0, ServerReport()
        clocks = {w: 0 for w in self.workers}           # pushes received from each worker
        pulled = {w: 0 for w in self.workers}           # the version each worker last received
        heard = {w: time.monotonic() for w in self.workers}
        live, waiting = set(self.workers), []           # waiting: workers whose reply is held back
        status, began = MPI.Status(), time.perf_counter()

        def may_reply(worker: int) -> bool:
            slowest = min((clocks[w] for w in live if w != worker), default=clocks[worker])
            return clocks[worker] - slowest <= self.staleness

        def release() -> None:
            for worker in list(waiting):
                if worker not in live or may_reply(worker):
                    waiting.remove(worker)
                    if worker in live:
                        self.comm.Send(shard, dest=worker, tag=_PARAMS)
                        pulled[worker] = version

        while live:
            if not self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
                now = time.monotonic()
                for worker in [w for w in live if w not in waiting and now - heard[w] > self.timeout]:
                    live.discard(worker)
                    report.lost.append(worker)
                    print(f"ParameterServer rank {self.rank}: worker rank {worker} silent for more than "
                          f"{self.timeout:g}s; going on without it", file=sys.stderr, flush=True)
                    release()
                time.sleep(_POLL)
                continue
            source, tag = status.Get_source(), status.Get_tag()
            heard[source] = time.monotonic()
            if tag == _PUSH:
                self.comm.Recv(grad, source=source, tag=_PUSH)
                report.staleness.append(version - pulled[source])
                if velocity is not None:
                    velocity *= self.momentum
                    velocity += grad
                    shard -= self.lr * velocity
                else:
                    shard -= self.lr * grad
                version += 1
                clocks[source] += 1
                report.updates += 1
                if may_reply(source):
                    self.comm.Send(shard, dest=source, tag=_PARAMS)
                    pulled[source] = version
                else:
                    report.blocked += 1
                    waiting.append(source)
            elif tag in (_DONE, _FAILED):
                message = bytearray(status.Get_count(MPI.BYTE))
                self.comm.Recv([message, MPI.BYTE], source=source, tag=tag)
                live.discard(source)
                if tag == _DONE:
                    report.finished.append(source)
                else:
                    report.failed.append(source)
                    report.errors[source] = message.decode(errors="replace")
            else:
                raise RuntimeError(f"ParameterServer rank {self.rank}: unexpected message tag {tag} from rank "
                                   f"{source}")
            release()
        report.seconds = time.perf_counter() - began
        self._gather_shards()
        return report

    def _gather_shards(self) -> None:
        """Put every server's final shard into rank 0's module."""
        if self.rank == 0:
            for server in range(1, self.servers):
                start, stop = self.shards[server]
                self.comm.Recv(self.flat.data[start:stop], source=server, tag=_FINAL)
        else:
            start, stop = self.shards[self.rank]
            self.comm.Send(self.flat.data[start:stop], dest=0, tag=_FINAL)
        self.flat.unpack_data()

    # ------------------------------------------------------------------ worker side
    def step(self) -> None:
        """Push this worker's gradients to the servers and load the parameters they send back.

        Raises:
            ServerError: a server did not answer within ``timeout`` seconds.
        """
        if self.is_server:
            raise RuntimeError(f"ParameterServer.step: rank {self.rank} is a server; it calls serve()")
        if self._signal is not None:  # checked between round trips: no reply is ever left in flight
            raise WorkerTerminated(f"worker rank {self.rank} received signal {signal.Signals(self._signal).name}")
        grads = self.flat.pack_grads()
        requests = []
        for server, (start, stop) in enumerate(self.shards):
            self.comm.Send(np.ascontiguousarray(grads[start:stop]), dest=server, tag=_PUSH)
        for server, (start, stop) in enumerate(self.shards):
            requests.append((server, self.comm.Irecv(self.flat.data[start:stop], source=server, tag=_PARAMS)))
        deadline = time.monotonic() + self.timeout
        for server, request in requests:
            while not request.Test():
                if time.monotonic() > deadline:
                    raise ServerError(f"ParameterServer: worker rank {self.rank} got no parameters from server "
                                       f"rank {server} within {self.timeout:g}s (the server failed or hangs)")
                time.sleep(_POLL)
        self.flat.unpack_data()
        self.steps += 1

    def finish(self) -> None:
        """Tell the servers this worker is done (:meth:`worker` calls it)."""
        self._leave(_DONE, b"")

    def _leave(self, tag: int, message: bytes) -> None:
        from mpi4py import MPI

        for server in range(self.servers):
            self.comm.Send([bytearray(message), MPI.BYTE], dest=server, tag=tag)

    @contextlib.contextmanager
    def worker(self):
        """The block in which a worker trains; on leaving it, the servers are told.

        An exception inside the block does not end the job: the servers are told
        this worker failed (with the error), the traceback goes to standard error,
        the exception is kept in :attr:`error`, and the block exits quietly so that
        the other workers finish. A :class:`ServerError` (a server is gone), a
        ``KeyboardInterrupt`` or a ``SystemExit`` is re-raised and ends the job.
        """
        if self.is_server:
            raise RuntimeError(f"ParameterServer.worker: rank {self.rank} is a server; it calls serve()")
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            yield self
        except ServerError:
            raise  # without its server the job cannot go on: end it (MPI_Abort) with this error
        except Exception as err:  # a failing worker must not stall or end the others
            self.error = err
            text = f"{type(err).__name__}: {err}"
            print(f"ParameterServer: worker rank {self.rank} failed after {self.steps} steps; the others go on.\n"
                  + traceback.format_exc(), file=sys.stderr, flush=True)
            self._leave(_FAILED, text.encode())
        else:
            self.finish()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def _on_signal(self, signum: int, frame) -> None:
        # Raising here could interrupt a round trip half-way and leave a server's reply unread;
        # the next step() raises instead.
        self._signal = signum
