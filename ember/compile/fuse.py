"""Fusion: chains of elementwise kernels replayed as one generated numba loop.

After constant folding and dead-step elimination, :func:`fuse_steps` scans the
schedule for :class:`~ember.compile.steps.Kernel` steps whose primitive is in
:data:`ember.compile.scalar_ops.SCALAR_OPS` and groups those that feed each other
and share an output shape and float dtype. A group replaces its members by one
:class:`FusedKernel` step, run where its last member ran: one pass over the
elements, no intermediate arrays. A value a group computes is written to memory
only when something outside the group reads it (another kernel, an optimizer
call, the function's result).

Rules that keep the replay equal to eager execution:

* a group never spans a side-effecting step (an in-place update, an optimizer
  call, a random draw, a gradient handed to a parameter): moving a read past a
  write would change what it reads;
* a group is closed as soon as a step outside it reads one of its values (that
  value must exist by then);
* every member is a float32 or float64 NumPy computation (bool conditions and
  comparison results included) whose traced result is C-contiguous with at least
  one dim; operands broadcast in the patterns :func:`ember.compile.codegen.loop_layout`
  accepts;
* only *exact* ops fuse by default (bit-identical to NumPy); ``fuse="all"`` adds
  ``exp``, ``log``, ``log1p``, ``tanh`` and the sigmoid (within one ulp of NumPy).

Fusion is on by default where numba runs (``EMBER_KERNELS=numba``); turn it off
with ``ember.compile(fn, fuse=False)`` or ``EMBER_COMPILE_FUSE=0``.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from ..errors import ArgumentError
from ..kernels import engine
from ..kernels.jit import PARALLEL_MIN_ELEMENTS
from .codegen import group_source, kernel_name, load_kernel, loop_layout
from .scalar_ops import SCALAR_OPS
from .steps import InPlace, Kernel

#: The environment variable read when ``ember.compile`` is not given ``fuse=``:
#: ``0``/``off``/``false`` (no fusion), ``1``/``on``/``true`` (exact ops, the default), ``all``.
FUSE_VARIABLE = "EMBER_COMPILE_FUSE"

_MODES = {"0": "off", "off": "off", "false": "off", "no": "off", "1": "exact", "on": "exact",
          "true": "exact", "yes": "exact", "exact": "exact", "all": "all"}

#: Groups with fewer kernels stay as they are (one kernel gains nothing from a generated loop).
MIN_GROUP_SIZE = 2

#: A group of two steps fuses from this many elements: below it, calling into numba (about
#: 1.3 us) costs more than the second NumPy pass saves (measured on a 2-op chain, one thread).
#: Groups of three or more steps always fuse.
SMALL_GROUP_MIN_ELEMENTS = 1 << 14


def fusion_mode(fuse=None) -> str:
    """``"off"``, ``"exact"`` or ``"all"`` for ``ember.compile``'s ``fuse`` argument (None: the environment).

    Example:
        >>> fusion_mode(False), fusion_mode(True), fusion_mode("all")
        ('off', 'exact', 'all')
    """
    if fuse is None:
        value = os.environ.get(FUSE_VARIABLE, "1").strip().lower() or "1"
        if value not in _MODES:
            raise ArgumentError(f"ember.compile: {FUSE_VARIABLE} must be one of 0, 1, all; got {value!r}")
        return _MODES[value]
    if fuse is True or fuse is False:
        return "exact" if fuse else "off"
    if isinstance(fuse, str) and fuse.lower() in ("exact", "all", "off"):
        return fuse.lower()
    raise ArgumentError(f"ember.compile: fuse must be True, False, 'exact' or 'all'; got {fuse!r}")


def _float_type(array) -> str | None:
    return {"f": "np.float32", "d": "np.float64"}.get(array.dtype.char)


class _Node:
    """A fusible kernel: the step, its output shape and the group's float type name."""

    __slots__ = ("step", "shape", "type_name")

    def __init__(self, step, shape, type_name):
        self.step, self.shape, self.type_name = step, shape, type_name


def _node(step, arrays: dict, mode: str) -> _Node | None:
    """The step as a fusion node, or None when it must keep its own kernel."""
    if type(step) is not Kernel or step.needs_ctx or step.param_slots or step.stash_paths:
        return None
    op = SCALAR_OPS.get(step.fn)
    if op is None or (not op.exact and mode != "all") or len(step.outs) != 1 or not step.ins:
        return None
    out = arrays.get(step.outs[0])
    ins = [arrays.get(slot) for slot in step.ins]
    if type(out) is not np.ndarray or out.ndim == 0 or out.size == 0 or not out.flags.c_contiguous:
        return None
    if any(type(a) is not np.ndarray or a.dtype.char not in "fd?" for a in ins) or out.dtype.char not in "fd?":
        return None
    floats = {a.dtype.char for a in ins + [out] if a.dtype.char in "fd"}
    if len(floats) != 1:
        return None
    kinds = [a.dtype.char for a in ins]
    (float_char,) = floats
    if op.operands == "float" and (set(kinds) != {float_char} or out.dtype.char != float_char):
        return None
    if op.operands == "where" and (kinds != ["?", float_char, float_char] or out.dtype.char != float_char):
        return None
    if op.operands == "compare" and (set(kinds) != {float_char} or out.dtype.char != "?"):
        return None
    type_name = _float_type(out) or _float_type(ins[0])
    if op.emit("t", ["a"] * len(ins), step.params, type_name) is None:
        return None
    return _Node(step, out.shape, type_name)


class _Group:
    """Kernels being fused: members in schedule order, their slots and the group's external inputs."""

    def __init__(self, node: _Node, position: int):
        self.nodes = [node]
        self.positions = [position]
        self.shape, self.type_name = node.shape, node.type_name
        self.produced = set(node.step.outs)
        self.inputs = list(dict.fromkeys(node.step.ins))
        self.open = True
        self.sink = None  # an InPlace step ``target op= value`` folded into the loop (see _sink_group)

    def absorb(self, other: "_Group") -> None:
        pairs = sorted(zip(self.positions + other.positions, self.nodes + other.nodes), key=lambda p: p[0])
        self.positions = [p for p, _ in pairs]
        self.nodes = [n for _, n in pairs]
        self.produced |= other.produced
        self.inputs = list(dict.fromkeys(self.inputs + other.inputs))


#: In-place updates a group can finish with: the ufunc's name -> the scalar operator.
SINK_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}


def _sink_group(step, group_of: dict, arrays: dict):
    """The open group whose value ``step`` (``target op= value``) applies in place, if it can finish it.

    The value must be computed by the group with the target's shape and dtype, the
    target a C-contiguous float array that the group does not compute itself.
    """
    if type(step) is not InPlace or step.ufunc not in SINK_OPERATORS or step.value[0] != "slot":
        return None
    group = group_of.get(step.value[1])
    target = arrays.get(step.target)
    if group is None or not group.open or group.sink is not None or step.target in group.produced:
        return None
    if type(target) is not np.ndarray or not target.flags.c_contiguous or target.shape != group.shape:
        return None
    if _float_type(target) != group.type_name or arrays[step.value[1]].dtype != target.dtype:
        return None
    return group


def find_groups(steps: list, arrays: dict, mode: str) -> list:
    """The fusion groups of ``steps`` (each a :class:`_Group`, possibly of one kernel).

    ``arrays`` maps every slot to the array it held during the trace (shapes, dtypes).
    """
    groups: list = []
    group_of: dict = {}  # slot -> the group that computes it

    def close_readers(slots):
        for slot in slots:
            group = group_of.get(slot)
            if group is not None:
                group.open = False

    for position, step in enumerate(steps):
        if step.side_effect:
            sink_group = _sink_group(step, group_of, arrays)
            if sink_group is not None:
                sink_group.sink = step
            for group in groups:
                group.open = False
            continue
        node = _node(step, arrays, mode)
        if node is None:
            close_readers(step.reads)
            continue
        producers = []
        for slot in step.ins:
            group = group_of.get(slot)
            if group is not None and group.open and group not in producers:
                if group.shape == node.shape and group.type_name == node.type_name:
                    producers.append(group)
                else:
                    group.open = False
        candidate = _Group(node, position)
        if producers:
            merged_inputs = list(dict.fromkeys(sum((g.inputs for g in producers), []) + list(step.ins)))
            produced = set(step.outs).union(*(g.produced for g in producers))
            external = [s for s in merged_inputs if s not in produced]
            if loop_layout(node.shape, [arrays[s].shape for s in external]) is not None:
                target = producers[0]
                for other in producers[1:]:
                    target.absorb(other)
                    groups.remove(other)
                    for slot in other.produced:
                        group_of[slot] = target
                target.absorb(candidate)
                target.inputs = [s for s in target.inputs if s not in target.produced]
                for slot in step.outs:
                    group_of[slot] = target
                continue
            for group in producers:  # the kernel reads their values from outside: they are final now
                group.open = False
        if loop_layout(node.shape, [arrays[s].shape for s in candidate.inputs]) is None:
            continue
        groups.append(candidate)
        for slot in step.outs:
            group_of[slot] = candidate
    return groups


def _worth_fusing(group: _Group) -> bool:
    size = len(group.nodes) + (group.sink is not None)
    if size < MIN_GROUP_SIZE:
        return False
    return size > 2 or int(np.prod(group.shape)) >= SMALL_GROUP_MIN_ELEMENTS


def fuse_steps(steps: list, arrays: dict, live: set, mode: str) -> list:
    """``steps`` with every group of :data:`MIN_GROUP_SIZE` kernels or more replaced by a :class:`FusedKernel`.

    ``live`` holds the slots the plan returns (they are written even if no step reads them).
    """
    if mode == "off":
        return steps
    groups = [g for g in find_groups(steps, arrays, mode) if _worth_fusing(g)]
    if not groups:
        return steps
    member_ids = {id(node.step): group for group in groups for node in group.nodes}
    member_ids.update({id(group.sink): group for group in groups if group.sink is not None})
    read_outside: set = set(live)
    for step in steps:
        group = member_ids.get(id(step))
        for slot in step.reads:
            if group is None or slot not in group.produced:
                read_outside.add(slot)
    last = {id(group.sink if group.sink is not None else group.nodes[-1].step): group for group in groups}
    fused = []
    for step in steps:
        group = last.get(id(step))
        if group is not None:
            fused.append(FusedKernel(group, arrays, read_outside))
        elif id(step) not in member_ids:
            fused.append(step)
    return fused


class FusedKernel:
    """One generated numba loop replaying a group of elementwise kernels (see the module docstring).

    ``members`` keeps the original kernels: they run instead when numba is switched
    off (``ember.kernels.use("numpy")``) or the generated kernel fails to compile.
    """

    def __init__(self, group: _Group, arrays: dict, read_outside: set):
        self.members = [node.step for node in group.nodes] + ([group.sink] if group.sink is not None else [])
        self.sink = group.sink
        self.shape, self.type_name = group.shape, group.type_name
        self.ins = tuple(group.inputs)
        self.outs = tuple(slot for node in group.nodes for slot in node.step.outs if slot in read_outside)
        self.out_dtypes = tuple(arrays[slot].dtype for slot in self.outs)
        self.R, self.C, self.accesses = loop_layout(self.shape, [arrays[s].shape for s in self.ins])
        names = {slot: f"a{k}" for k, slot in enumerate(self.ins)}
        nodes = []
        for j, node in enumerate(group.nodes):
            step = node.step
            value = f"t{j}"
            nodes.append(SCALAR_OPS[step.fn].emit(value, [names[s] for s in step.ins], step.params,
                                                    self.type_name))
            names[step.outs[0]] = value
        self.output_values = [names[slot] for slot in self.outs]
        sink = None if self.sink is None else (SINK_OPERATORS[self.sink.ufunc], names[self.sink.value[1]])
        self.name = kernel_name(self.accesses, nodes, self.output_values, self.type_name, sink)
        self.source = group_source(self.name, self.accesses, nodes, self.output_values, self.type_name, sink)

    @property
    def side_effect(self):
        """A group that ends in an in-place update is a side effect (it must never be dropped)."""
        return self.sink is not None

    @property
    def reads(self):
        return self.ins + (() if self.sink is None else (self.sink.target,))

    @property
    def writes(self):
        return self.outs

    def describe(self) -> str:
        """One line: the fused primitives and the shape (for :meth:`ember.compile.Plan.explain`)."""
        names = " -> ".join(step.fn.name for step in self.members if isinstance(step, Kernel))
        if self.sink is not None:
            names += f" -> {self.sink.ufunc} in place"
        return f"fused[{len(self.members)}] {names} {self.shape} {self.type_name[3:]}"

    def build(self):
        """The replay closure: the generated kernel, or the members' closures when numba is off."""
        members = [step.build() for step in self.members]
        ins, outs, shape, dtypes = self.ins, self.outs, self.shape, self.out_dtypes
        R, C = self.R, self.C
        state = {"kernel": None, "failed": False}
        empty = np.empty
        target = None if self.sink is None else self.sink.target
        others = tuple(slot for slot in ins if slot != target)
        may_share = np.may_share_memory

        def run_members(slots):
            for run in members:
                run(slots)

        def run(slots):
            if engine._requested != "numba" or state["failed"]:
                return run_members(slots)
            kernel = state["kernel"]
            if kernel is None:
                lazy = load_kernel(self.name, self.source)
                # Below the parallel threshold call the serial dispatcher directly: the lazy
                # kernel's per-call choice (thread count, sizes) costs more than a small loop.
                kernel = state["kernel"] = lazy.serial() if R * C < PARALLEL_MIN_ELEMENTS else lazy
            results = [empty(shape, dtype) for dtype in dtypes]
            arguments = [slots[slot].reshape(-1) for slot in ins] + [r.reshape(-1) for r in results]
            if target is not None:
                array = slots[target]
                # The loop writes the target while reading the inputs: an input that is a view of
                # the target (p.T, say) would be read after it was updated. NumPy's ufunc copes.
                if not array.flags.c_contiguous or any(may_share(slots[s], array) for s in others):
                    return run_members(slots)
                arguments.append(array.reshape(-1))
            try:
                kernel(*arguments, R, C)
            except Exception as error:  # a typing failure in generated code must not break the step
                state["failed"] = True
                warnings.warn(f"ember.compile: the fused kernel {self.name} ({self.describe()}) failed "
                              f"({type(error).__name__}: {error}); its kernels run unfused",
                              RuntimeWarning, stacklevel=2)
                return run_members(slots)
            for slot, result in zip(outs, results):
                slots[slot] = result

        return run


__all__ = ["FUSE_VARIABLE", "FusedKernel", "find_groups", "fuse_steps", "fusion_mode", "MIN_GROUP_SIZE",
           "SINK_OPERATORS", "SMALL_GROUP_MIN_ELEMENTS"]
