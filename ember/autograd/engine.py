"""The tape: graph nodes and the reverse-mode pass over them.

Every differentiable op that sees an input requiring grad leaves a :class:`Node`
behind. A node remembers which primitive ran, the static parameters, what the
primitive's vjp asked to keep (``saved``), and an *edge* per input saying where
that input's gradient goes: to a leaf tensor's ``.grad`` or to the node that
produced it. Backward walks the nodes in reverse topological order with an
explicit work list (no recursion, so a 100,000-op chain is fine), frees what each
node saved as soon as it has run, and accumulates into leaves.
"""
from __future__ import annotations

import weakref

from .grad_mode import _State
from .tracing import _Trace


class Node:
    """One recorded application of a primitive.

    The node doubles as the ``ctx`` argument handed to the primitive's forward
    and vjp: ``ctx.saved`` holds the saved input tensors, ``ctx.out`` the output,
    ``ctx.params`` the static keyword arguments and ``ctx.needs_grad`` which
    inputs want a gradient. Forwards may stash extra arrays in ``ctx.stash``.
    """

    __slots__ = (
        "fn", "params", "edges", "in_meta", "saved", "versions", "stash",
        "out_data", "out_refs", "out_strong", "out_hooks", "freed", "inputs", "outputs",
        "__weakref__",
    )

    def __init__(self, fn, params):
        self.fn = fn
        self.params = params
        self.stash = None
        self.out_hooks = None
        self.out_strong = None
        self.freed = False

    # ----------------------------------------------------------- used by vjps
    @property
    def needs_grad(self) -> tuple:
        """Per input: whether a gradient is wanted for it."""
        return tuple(e is not None for e in self.edges)

    @property
    def out(self):
        """The primitive's (first) output as a tensor connected to this node."""
        return self.output(0)

    def output(self, index: int):
        """Output ``index`` as a graph-connected tensor (rebuilt if the user dropped it)."""
        from ..tensor import Tensor

        if self.out_strong is not None:
            return self.out_strong[index]
        ref = self.out_refs[index]
        tensor = ref() if ref is not None else None
        if tensor is None:
            tensor = Tensor._make(self.out_data[index], True, self, index)
        return tensor

    def check_unmodified(self) -> None:
        """Raise if a saved tensor was modified in place after it was saved."""
        if self.freed:
            raise RuntimeError(
                f"{self.fn.name}: trying to backward through the graph a second time (or to read "
                "saved values after they were freed); call backward(retain_graph=True) the first "
                "time if you need to backward through the graph again"
            )
        for tensor, version in zip(self.saved, self.versions):
            if tensor._version != version:
                raise RuntimeError(
                    f"{self.fn.name}: a tensor of shape {tuple(tensor.shape)} needed for the gradient "
                    f"was modified by an in-place operation (version {version} -> {tensor._version}); "
                    "use the out-of-place form (e.g. `x = x + y` instead of `x += y`)"
                )
        if self.out_refs is not None:
            for ref, version in zip(self.out_refs, self.versions[len(self.saved):]):
                tensor = ref() if ref is not None else None
                if tensor is not None and tensor._version != version:
                    raise RuntimeError(
                        f"{self.fn.name}: its output, needed for the gradient, was modified by an "
                        "in-place operation; use the out-of-place form"
                    )

    def free(self) -> None:
        if self.saved or self.out_data is not None or self.stash is not None:
            self.freed = True
        self.saved = ()
        self.out_data = None
        self.out_refs = None
        self.out_strong = None
        self.stash = None

    def add_output_hook(self, index: int, hook) -> None:
        if self.out_hooks is None:
            self.out_hooks = {}
        self.out_hooks.setdefault(index, []).append(hook)

    def __repr__(self) -> str:
        return f"<Node {self.fn.name}>"


def _sum_to_shape(grad, shape, dtype):
    """Undo broadcasting (and dtype promotion) of a gradient: the one shared place for it."""
    if grad.shape != shape:
        from ..ops.movement import sum_to

        grad = sum_to(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _run_hooks(hooks, grad):
    for hook in hooks:
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def _accumulate_leaf(leaf, grad, fresh_ids):
    if leaf._hooks:
        grad = _run_hooks(leaf._hooks, grad)
    if leaf.grad is None:
        data = grad._data
        # The same array may reach several leaves (the vjp of `a + b` returns g twice)
        # or be a broadcast view; a leaf's .grad must be its own writable buffer.
        if id(data) in fresh_ids or not data.flags.owndata or not getattr(data.flags, "writeable", True):
            grad = grad.copy()
        fresh_ids.add(id(grad._data))
        leaf._grad = grad if _State.enabled else grad.detach()
        if _Trace.tracer is not None:
            _Trace.tracer.record_set_grad(leaf, leaf._grad, accumulated=False)
    else:
        leaf._grad = leaf._grad + grad
        if _Trace.tracer is not None:
            _Trace.tracer.record_set_grad(leaf, leaf._grad, accumulated=True)


def _node_vjp(node, grads, capture_at, captured):
    """Run one node's vjp on its completed output gradients; returns a tuple per input."""
    if node.out_hooks:
        for index, hooks in node.out_hooks.items():
            if grads[index] is not None:
                grads[index] = _run_hooks(hooks, grads[index])
    if capture_at:
        for index, grad in enumerate(grads):
            for position in capture_at.get((id(node), index), ()):
                captured[position] = grad
    node.check_unmodified()
    if node.fn.n_outputs > 1:
        from ..tensor import constant  # only multi-output nodes need zero gradients made

        grads = [
            g if g is not None else constant(node.fn.zeros_like_output(node, i))
            for i, g in enumerate(grads)
        ]
    input_grads = node.fn.vjp(node, *grads)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    return input_grads


def _collect(roots):
    """Count, for every node reachable from ``roots``, how many edges point at it."""
    dependencies = {}
    stack = list(roots)
    seen = set(id(n) for n in roots)
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if edge is None or type(edge) is not tuple:
                continue
            parent = edge[0]
            dependencies[parent] = dependencies.get(parent, 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return dependencies


def run_backward(tensors, grad_tensors, retain_graph: bool, create_graph: bool, inputs=None):
    """Propagate ``grad_tensors`` back from ``tensors`` through the recorded graph.

    With ``inputs`` (a list of tensors), gradients are returned for them instead of
    being accumulated into leaves' ``.grad`` (this is what ``autograd.grad`` uses).
    """

    captured = None
    capture_at = {}
    if inputs is not None:
        captured = [None] * len(inputs)
        for position, tensor in enumerate(inputs):
            key = id(tensor) if tensor.node is None else (id(tensor.node), tensor.out_index)
            capture_at.setdefault(key, []).append(position)

    def deliver_to_leaf(leaf, grad):
        if captured is None:
            _accumulate_leaf(leaf, grad, fresh_ids)
            return
        for position in capture_at.get(id(leaf), ()):
            captured[position] = grad if captured[position] is None else captured[position] + grad

    fresh_ids: set = set()
    buffers = {}
    roots = []
    for tensor, grad in zip(tensors, grad_tensors):
        if not tensor.requires_grad:
            raise RuntimeError(
                f"backward: tensor of shape {tuple(tensor.shape)} does not require grad and has no "
                "graph; did you create it under no_grad or from tensors without requires_grad=True?"
            )
        if tensor.node is None:
            deliver_to_leaf(tensor, grad)
            continue
        node = tensor.node
        if node not in buffers:
            buffers[node] = [None] * node.fn.n_outputs
            roots.append(node)
        slot = buffers[node]
        index = tensor.out_index
        slot[index] = grad if slot[index] is None else slot[index] + grad

    previous_mode = _State.enabled
    _State.enabled = create_graph
    try:
        dependencies = _collect(roots)
        ready = [n for n in roots if dependencies.get(n, 0) == 0]
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if all(g is None for g in grads):
                # No gradient reached this node (a vjp returned None): only release
                # the counts of its parents so that their other paths can finish.
                input_grads = (None,) * len(node.edges)
            else:
                input_grads = _node_vjp(node, grads, capture_at, captured)
            edges = node.edges
            meta = node.in_meta
            if not retain_graph:
                node.free()
            for i, edge in enumerate(edges):
                if edge is None:
                    continue
                grad = input_grads[i]
                if grad is not None:
                    grad = _sum_to_shape(grad, *meta[i])
                if type(edge) is not tuple:
                    if grad is not None:
                        deliver_to_leaf(edge, grad)
                    continue
                parent, index = edge
                slot = buffers.get(parent)
                if slot is None:
                    slot = buffers[parent] = [None] * parent.fn.n_outputs
                if grad is not None:
                    slot[index] = grad if slot[index] is None else slot[index] + grad
                dependencies[parent] -= 1
                if dependencies[parent] == 0:
                    ready.append(parent)
    finally:
        _State.enabled = previous_mode
    return captured


def retain_output_grad(tensor) -> None:
    """Make a non-leaf tensor keep its gradient in ``.grad`` after backward."""
    ref = weakref.ref(tensor)

    def store(grad):
        owner = ref()
        if owner is not None:
            owner.grad = grad if owner.grad is None else owner.grad + grad

    tensor.node.add_output_hook(tensor.out_index, store)
