"""Data parallelism: same weights on every rank, different data, gradients averaged.

:class:`DataParallel` wraps a module the way PyTorch's ``DistributedDataParallel``
does: building it broadcasts rank 0's parameters and buffers, and every
``loss.backward()`` that flows through its forward ends with each parameter's
``.grad`` equal to the mean over the ranks, so the optimizer (and gradient
clipping, and ``ember.train.Model.fit``) runs unchanged. The mean costs one
``Allreduce`` of a flat buffer holding all the gradients, or, with
``overlap=True``, one non-blocking ``Iallreduce`` per bucket, started while
backward is still computing the earlier layers' gradients.

How backward is followed: after the wrapped forward, the recorded graph is walked
once and a *tap* (an identity node) is spliced between each parameter and the nodes
that use it. The engine runs a tap after summing all the contributions sent to it,
so the tap's hook sees the parameter's complete gradient from this forward; it
copies it into the parameter's bucket slot. When every tap has fired, the
buckets are reduced and the means written to ``.grad``.

Without MPI (one process) the wrapper only forwards calls.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..autograd.function import Function, apply
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tracing import _Trace
from ..nn.module import Module
from ..tensor import Tensor, constant
from . import comm
from .flat import FlatBuffer, flat_buffers

__all__ = ["DataParallel", "allreduce_gradients", "broadcast_parameters"]

_IDLE, _PENDING, _DONE = "idle", "pending", "done"


def _state_tensors(source: Any) -> list[Tensor]:
    if isinstance(source, Module):
        return list(source.parameters()) + list(source.buffers())
    return list(source)


def broadcast_parameters(source: Module | Iterable[Tensor], root: int = 0) -> None:
    """Give every rank ``root``'s parameters and buffers (in place; one ``Bcast`` per dtype).

    Call it once after building the model (``DataParallel`` does) so that all ranks
    start from the same weights even when each seeded its generator differently.

    Args:
        source: a module (its parameters and buffers) or an iterable of tensors.
        root: the rank whose values win.

    Example:
        >>> import ember.nn as nn
        >>> net = nn.Linear(3, 2)
        >>> broadcast_parameters(net)  # a no-op in a single process
    """
    if comm.world_size() == 1:
        return
    for flat in flat_buffers(_state_tensors(source)):
        comm.broadcast(flat.pack_data(), root)
        flat.unpack_data()


def allreduce_gradients(parameters: Iterable[Tensor]) -> None:
    """Replace each parameter's ``.grad`` by its mean over the ranks (one ``Allreduce`` per dtype).

    The explicit form of what :class:`DataParallel` does by itself: call it between
    ``loss.backward()`` and ``optimizer.step()`` in a hand-written loop over an
    unwrapped model. A parameter without a gradient counts as zeros (and gets the mean).

    Example:
        >>> import ember, ember.nn as nn
        >>> net = nn.Linear(3, 1)
        >>> net(ember.ones(2, 3)).sum().backward()
        >>> allreduce_gradients(net.parameters())
        >>> net.bias.grad
        tensor([2.])
    """
    params = [p for p in parameters if p.requires_grad]
    size = comm.world_size()
    if size == 1 or not params:
        return
    for flat in flat_buffers(params):
        comm.allreduce(flat.pack_grads())
        flat.data *= 1.0 / size
        flat.unpack_grads()


def _tensors_in(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


class _Tap(Function):
    """Identity on the way forward; on the way back it hands the gradient to the reducer.

    One tap per parameter is spliced between the parameter and the nodes of the
    wrapped forward that use it. The engine sums every contribution those nodes
    send before it runs a node, so the tap's output hook sees the parameter's whole
    gradient from this forward exactly once, however many times the parameter was
    used; returning no input gradient keeps the local value out of ``.grad``.
    Contributions from outside the forward (a weight penalty on the parameters)
    reach ``.grad`` directly, as usual.
    """

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def vjp(ctx, g):
        return None

    @staticmethod
    def jvp(ctx, t):
        return t


def splice_taps(outputs: Any, index: dict, make_hook) -> np.ndarray:
    """Route the gradients that the graph above ``outputs`` sends to the indexed leaves through taps.

    ``index`` maps ``id(leaf)`` to a position; ``make_hook(position)`` gives the
    output hook of that leaf's tap. Returns which positions got a tap.
    """
    taps: dict = {}
    tapped = np.zeros(len(index), dtype=bool)
    stack, seen = [], set()
    for t in _tensors_in(outputs):
        if t.node is not None and id(t.node) not in seen:
            seen.add(id(t.node))
            stack.append(t.node)
    while stack:
        node = stack.pop()
        edges = node.edges
        for k, edge in enumerate(edges):
            if edge is None:
                continue
            if type(edge) is tuple:
                parent = edge[0]
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
                continue
            position = index.get(id(edge))
            if position is None:
                continue
            tap = taps.get(position)
            if tap is None:
                tap = taps[position] = apply(_Tap, (edge,), {}).node
                tap.add_output_hook(0, make_hook(position))
                seen.add(id(tap))
                tapped[position] = True
            edges[k] = (tap, 0)
    return tapped


class _Reducer:
    """The gradient-averaging machinery of one :class:`DataParallel` (used with 2+ ranks)."""

    def __init__(self, named_params: list, cap_bytes: float | None, overlap: bool) -> None:
        self.names = [name for name, _ in named_params]
        self.params = [p for _, p in named_params]
        self.index = {id(p): i for i, p in enumerate(self.params)}
        self.overlap = overlap
        # Backward meets the last layers first: fill buckets in reverse registration order.
        self.buckets: list[FlatBuffer] = flat_buffers(reversed(self.params), cap_bytes)
        self.place = {}
        for b, bucket in enumerate(self.buckets):
            for s, p in enumerate(bucket.tensors):
                self.place[id(p)] = (b, s)
        self.state = _IDLE
        self.plan = 0  # which forward's taps are current; older taps must not fire
        self.tapped = np.zeros(len(self.params), dtype=bool)
        self.arrived = self.tapped.copy()
        self.requests: list = []

    # ---------------------------------------------------------------- the plan of one backward
    def prepare(self, outputs: Any) -> None:
        if self.state == _PENDING and self.arrived.any():
            late = [n for n, t, a in zip(self.names, self.tapped, self.arrived) if t and not a]
            raise RuntimeError(
                "DataParallel: the previous backward did not deliver the gradients of "
                f"{', '.join(late[:5])}{' ...' if len(late) > 5 else ''}; call dp.sync_gradients() after such a "
                "backward to finish the step")
        self.plan += 1
        plan = self.plan
        self.tapped = splice_taps(outputs, self.index, lambda i: lambda g: self.on_tap(plan, i, g))
        if self.tapped.any():
            self._arm()
        else:
            self.state = _IDLE

    def idle(self) -> None:
        self.plan += 1
        self.state = _IDLE

    def _arm(self) -> None:
        self.arrived = np.zeros(len(self.params), dtype=bool)
        self.missing = [sum(1 for p in bucket.tensors if self.tapped[self.index[id(p)]]) for bucket in self.buckets]
        self.left = int(self.tapped.sum())
        self.launched = 0
        self.state = _PENDING

    def on_tap(self, plan: int, i: int, grad: Tensor) -> None:
        if plan != self.plan:
            raise RuntimeError("DataParallel: backward through the output of an earlier forward; only the "
                               "latest forward's graph is synchronised (run forward again, or use no_sync())")
        if self.state == _DONE:
            self._arm()  # a second backward through a retained graph: a new round
        if self.arrived[i]:
            raise RuntimeError(f"DataParallel: parameter {self.names[i]!r} got two gradients in one backward")
        self._take(i, grad._data)
        if self.left == 0:
            self._finish()

    def _take(self, i: int, grad_data) -> None:
        """Move parameter ``i``'s gradient (what ``.grad`` holds plus ``grad_data``) into its slot."""
        p = self.params[i]
        b, s = self.place[id(p)]
        slot = self.buckets[b].slots[s]
        if grad_data is None:
            self.buckets[b].pack_grad(s)
        elif p.grad is None:
            np.copyto(slot, grad_data)
        else:
            np.add(p.grad._data, grad_data, out=slot)
        p.grad = None  # later local contributions start afresh and are added after the mean
        self.arrived[i] = True
        self.missing[b] -= 1
        self.left -= 1
        self._launch_ready()

    # ---------------------------------------------------------------- communication
    def _launch_ready(self) -> None:
        # Buckets start in one fixed order on every rank: MPI matches collectives by order.
        while self.launched < len(self.buckets) and self.missing[self.launched] == 0:
            self._start(self.launched)
            self.launched += 1
        if self.requests:
            from mpi4py import MPI

            MPI.Request.Testall(self.requests)  # lets MPICH progress the transfers in flight

    def _start(self, b: int) -> None:
        bucket = self.buckets[b]
        for s, p in enumerate(bucket.tensors):
            if not self.tapped[self.index[id(p)]]:
                bucket.pack_grad(s)  # not in this step's graph: its current .grad (or zeros) is averaged
                p.grad = None
        if self.overlap:
            from mpi4py import MPI

            self.requests.append(comm.get_comm().Iallreduce(MPI.IN_PLACE, bucket.data, op=MPI.SUM))

    def _finish(self) -> None:
        while self.launched < len(self.buckets):
            self._start(self.launched)
            self.launched += 1
        if self.requests:
            from mpi4py import MPI

            MPI.Request.Waitall(self.requests)
            self.requests = []
        scale = 1.0 / comm.world_size()
        for bucket in self.buckets:
            if not self.overlap:
                comm.allreduce(bucket.data)
            bucket.data *= scale
            for p, slot in zip(bucket.tensors, bucket.slots):
                local = p.grad
                # The gradient is a view of its bucket (no copy, no fresh pages every step); the next
                # step's reduction overwrites it, as with PyTorch's gradient_as_bucket_view.
                p.grad = constant(slot) if local is None else Tensor(slot + local._data)
        self.state = _DONE

    def force_finish(self) -> None:
        """End a step whose backward left some tapped gradients undelivered (they count as zeros)."""
        for i in np.flatnonzero(self.tapped & ~self.arrived):
            self._take(int(i), None)
        if self.state == _PENDING:
            self._finish()

class DataParallel(Module):
    """Train ``module`` on every MPI rank with averaged gradients (PyTorch's DDP, over MPI).

    Building it broadcasts rank 0's parameters and buffers to every rank. Each
    forward in training mode (with gradients enabled) is followed by a backward whose
    gradients reach every rank's ``.grad`` averaged: nothing else changes in the
    training loop. Give each rank its own shard of the data
    (:class:`ember.data.DistributedSampler`); with batch ``B`` per rank, ``N`` ranks
    compute the gradient of a batch of ``N * B`` samples.

    Batch normalisation uses each rank's own batch statistics (PyTorch's default);
    with ``broadcast_buffers`` the running statistics of rank 0 are copied to every
    rank at each training forward, so ranks differ at most by their last step's
    update: call :meth:`sync_buffers` before evaluating if that matters (rank 0,
    which writes checkpoints, always holds its own consistent values).

    After a synchronised backward, each ``.grad`` is a view into the wrapper's flat
    buffer, which the next synchronised backward overwrites: copy a gradient you
    want to keep across steps.

    Args:
        module: the network.
        overlap: reduce gradients in buckets of about ``bucket_cap_mb`` with
            non-blocking ``Iallreduce`` calls started during backward, instead of one
            blocking ``Allreduce`` of everything at its end.
        bucket_cap_mb: the bucket size for ``overlap`` (MiB).
        broadcast_buffers: copy rank 0's buffers (batch-norm running statistics) to
            every rank before each training forward.

    Attributes:
        module: the wrapped network (its ``state_dict`` is the wrapper's, without a
            ``module.`` prefix, so checkpoints load into the bare network).

    Example:
        >>> import ember, ember.nn as nn
        >>> net = DataParallel(nn.Linear(4, 2))
        >>> net(ember.ones(3, 4)).sum().backward()   # .grad holds the mean over the ranks
        >>> net.module.weight.grad.shape
        (2, 4)
    """

    def __init__(self, module: Module, overlap: bool = False, bucket_cap_mb: float = 1.0,
                 broadcast_buffers: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an ember.nn.Module, got {type(module).__name__}")
        if bucket_cap_mb <= 0:
            raise ValueError(f"DataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.overlap, self.bucket_cap_mb, self.broadcast_buffers = overlap, bucket_cap_mb, broadcast_buffers
        self.world_size = comm.world_size()
        broadcast_parameters(module)
        self._sync = True
        self._reducer = None
        self._buffers_flat = None
        if self.world_size > 1:
            named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
            cap = bucket_cap_mb * 2**20 if overlap else None
            object.__setattr__(self, "_reducer", _Reducer(named, cap, overlap) if named else None)
            buffers = list(module.buffers())
            if broadcast_buffers and buffers:
                object.__setattr__(self, "_buffers_flat", flat_buffers(buffers))

    def sync_buffers(self) -> None:
        """Copy rank 0's buffers (batch-norm running statistics) to every rank; all ranks must call it."""
        for flat in self._buffers_flat or ():
            comm.broadcast(flat.pack_data(), 0)
            flat.unpack_data()

    def forward(self, *args, **kwargs):
        reducer = self._reducer
        if reducer is not None and _Trace.tracer is not None:
            # A compiled replay would skip the taps' hooks, and so the reduction, without a word.
            raise RuntimeError("DataParallel: a multi-process DataParallel cannot be traced by ember.compile; "
                               "run the distributed training step eagerly")
        if self.training:
            self.sync_buffers()
        out = self.module(*args, **kwargs)
        if reducer is not None:
            if self._sync and is_grad_enabled():
                reducer.prepare(out)
            elif not self._sync:
                reducer.idle()
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally (no communication) for forwards run inside.

        The first forward after the block (outside it) averages everything
        accumulated, so ``k`` micro-batches cost one reduction.

        Example:
            >>> import ember, ember.nn as nn
            >>> dp = DataParallel(nn.Linear(2, 1))
            >>> with dp.no_sync():
            ...     dp(ember.ones(1, 2)).sum().backward()
            >>> dp(ember.ones(1, 2)).sum().backward()   # averages both micro-batches' sum
            >>> dp.module.bias.grad
            tensor([2.])
        """
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def sync_gradients(self) -> None:
        """Average the gradients now, if the last backward has not already done it.

        Needed only when a backward did not deliver a gradient to every parameter
        its forward used (the step is then finished with what arrived), or after
        :meth:`no_sync` accumulation with no synchronised forward to follow.
        """
        reducer = self._reducer
        if reducer is None:
            return
        if reducer.state == _PENDING:
            reducer.force_finish()
        elif reducer.state == _IDLE:
            allreduce_gradients(reducer.params)
            reducer.state = _DONE

    def state_dict(self, prefix: str = ""):
        return self.module.state_dict(prefix)

    def load_state_dict(self, state_dict: dict, strict: bool = True):
        return self.module.load_state_dict(state_dict, strict)

    def extra_repr(self) -> str:
        return f"world_size={self.world_size}, overlap={self.overlap}"
