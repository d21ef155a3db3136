"""ONNX rules for the elementwise, reduction, linear-algebra and movement primitives.

Each rule reads one recorded call (input arrays, static params, output arrays)
and returns the ONNX names of its outputs. Shapes are static: they are read off
the traced arrays, so every shape constant is exactly what Ember computed.
"""
from __future__ import annotations

import numpy as np

from .graph import ExportError, converts

INT64_MIN = np.iinfo(np.int64).min


def _same_dtype_inputs(g, call, dtype=None):
    dtype = call.outputs[0].dtype if dtype is None else dtype
    return [g.value(a, dtype) for a in call.inputs]


# ------------------------------------------------------------------ elementwise
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max",
           "minimum": "Min"}
_UNARY = {"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "tanh": "Tanh", "sigmoid": "Sigmoid",
          "relu": "Relu", "sin": "Sin", "cos": "Cos", "abs": "Abs", "erf": "Erf", "identity": "Identity",
          "copy": "Identity", "to_device": "Identity"}


@converts(*_BINARY)
def binary(g, call):
    return [g.node(_BINARY[call.fn.name], _same_dtype_inputs(g, call))]


@converts(*_UNARY)
def unary(g, call):
    return [g.node(_UNARY[call.fn.name], _same_dtype_inputs(g, call))]


@converts("log1p")
def log1p(g, call):
    (x,) = call.inputs
    return [g.node("Log", [g.node("Add", [g.value(x), g.constant(1, x.dtype)])])]


@converts("powscalar")
def pow_scalar(g, call):
    (x,) = call.inputs
    return [g.node("Pow", [g.value(x), g.constant(call.params["exponent"], x.dtype)])]


@converts("where")
def where(g, call):
    condition, a, b = call.inputs
    dtype = call.outputs[0].dtype
    return [g.node("Where", [g.value(condition, np.bool_), g.value(a, dtype), g.value(b, dtype)])]


@converts("clip")
def clip(g, call):
    (x,) = call.inputs
    bounds = [g.constant(v, x.dtype) if v is not None else "" for v in (call.params["low"], call.params["high"])]
    return [g.node("Clip", [g.value(x)] + bounds)]


@converts("cast")
def cast(g, call):
    return [g.cast(g.value(call.inputs[0]), call.params["dtype"])]


_COMPARE = {"less": "Less", "less_equal": "LessOrEqual", "greater": "Greater", "greater_equal": "GreaterOrEqual",
            "equal": "Equal", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
            "bitwise_and": "BitwiseAnd", "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor"}


@converts("compare")
def compare(g, call):
    op = call.params["op"]
    a, b = call.inputs
    dtype = np.result_type(a, b)
    names = [g.value(a, dtype), g.value(b, dtype)]
    if op == "not_equal":
        return [g.node("Not", [g.node("Equal", names)])]
    if op not in _COMPARE:
        raise ExportError(f"compare: no ONNX operator for {op!r}")
    return [g.node(_COMPARE[op], names)]


_UNARY_NONDIFF = {"sign": "Sign", "logical_not": "Not", "isnan": "IsNaN", "isinf": "IsInf", "floor": "Floor",
                  "ceil": "Ceil", "round": "Round", "invert": "BitwiseNot"}


@converts("unarynondiff")
def unary_nondiff(g, call):
    op = call.params["op"]
    x = g.value(call.inputs[0])
    if op == "isfinite":
        return [g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])])]
    if op not in _UNARY_NONDIFF:
        raise ExportError(f"unarynondiff: no ONNX operator for {op!r}")
    return [g.node(_UNARY_NONDIFF[op], [x])]


# ------------------------------------------------------------------ reductions
def reduce(g, op: str, x: str, axes, keepdims: bool) -> str:
    """``op`` (ReduceSum, ReduceMean, ...) over ``axes``, with axes as an input or attribute per opset."""
    axes = [int(a) for a in axes]
    if op == "ReduceSum" or g.opset >= 18:
        return g.node(op, [x, g.ints(axes)], keepdims=int(keepdims))
    return g.node(op, [x], axes=axes, keepdims=int(keepdims))


_REDUCE = {"sum": "ReduceSum", "max": "ReduceMax", "min": "ReduceMin", "prod": "ReduceProd"}


@converts(*_REDUCE)
def reduction(g, call):
    (x,) = call.inputs
    axes, keepdims = call.params["axis"], call.params["keepdims"]
    name = g.value(x, call.outputs[0].dtype)  # numpy sums small ints into int64
    if not axes:
        return [g.node("Identity", [name])]
    return [reduce(g, _REDUCE[call.fn.name], name, axes, keepdims)]


@converts("cumsum")
def cumsum(g, call):
    return [g.node("CumSum", [g.value(call.inputs[0], call.outputs[0].dtype),
                              g.constant(np.int64(call.params["axis"]))])]


@converts("argextremum")
def arg_extremum(g, call):
    (x,) = call.inputs
    axis, keepdims, op = call.params["axis"], call.params["keepdims"], call.params["op"]
    kind = {"argmax": "ArgMax", "argmin": "ArgMin"}[op]
    name = g.value(x)
    if axis is None:
        flat = g.node(kind, [g.node("Reshape", [name, g.ints([-1])])], axis=0, keepdims=0)
        return [g.node("Reshape", [flat, g.ints(call.outputs[0].shape)])]
    return [g.node(kind, [name], axis=int(axis), keepdims=int(keepdims))]


# ------------------------------------------------------------------ linear algebra
@converts("matmul")
def matmul(g, call):
    return [g.node("MatMul", _same_dtype_inputs(g, call))]


@converts("einsum")
def einsum(g, call):
    p = call.params
    return [g.node("Einsum", _same_dtype_inputs(g, call), equation=",".join(p["terms"]) + "->" + p["output"])]


# ------------------------------------------------------------------ movement
@converts("reshape")
def reshape(g, call):
    return [g.node("Reshape", [g.value(call.inputs[0]), g.ints(call.outputs[0].shape)])]


@converts("transpose")
def transpose(g, call):
    return [g.node("Transpose", [g.value(call.inputs[0])], perm=list(call.params["axes"]))]


@converts("broadcast_to")
def broadcast_to(g, call):
    return [g.node("Expand", [g.value(call.inputs[0]), g.ints(call.params["shape"])])]


@converts("sum_to")
def sum_to(g, call):
    (x,) = call.inputs
    shape = call.params["shape"]
    lead = x.ndim - len(shape)
    axes = list(range(lead)) + [lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1]
    name = reduce(g, "ReduceSum", g.value(x), axes, True) if axes else g.value(x)
    return [g.node("Reshape", [name, g.ints(shape)])]


@converts("concat")
def concat(g, call):
    return [g.node("Concat", _same_dtype_inputs(g, call), axis=int(call.params["axis"]))]


@converts("pad")
def pad(g, call):
    (x,) = call.inputs
    widths = call.params["pad_width"]
    pads = [b for b, _ in widths] + [a for _, a in widths]
    return [g.node("Pad", [g.value(x), g.ints(pads), g.constant(call.params["value"], x.dtype)], mode="constant")]


@converts("flip")
def flip(g, call):
    axes = list(call.params["axes"])
    if not axes:
        return [g.node("Identity", [g.value(call.inputs[0])])]
    n = len(axes)
    return [g.node("Slice", [g.value(call.inputs[0]), g.ints([-1] * n), g.ints([INT64_MIN] * n), g.ints(axes),
                             g.ints([-1] * n)])]


@converts("repeat")
def repeat(g, call):
    (x,) = call.inputs
    repeats, axis = call.params["repeats"], call.params["axis"]
    if not isinstance(repeats, (int, np.integer)):
        raise ExportError("repeat: only a single integer repeat count can be exported")
    name = g.value(x)
    shape = list(x.shape)
    if axis is None:
        name, shape, axis = g.node("Reshape", [name, g.ints([-1])]), [x.numel()], 0
    axis = int(axis) % len(shape)
    expanded = shape[:axis + 1] + [1] + shape[axis + 1:]
    reps = [1] * len(expanded)
    reps[axis + 1] = int(repeats)
    tiled = g.node("Tile", [g.node("Reshape", [name, g.ints(expanded)]), g.ints(reps)])
    return [g.node("Reshape", [tiled, g.ints(call.outputs[0].shape)])]


@converts("gather")
def gather_elements(g, call):
    (x,) = call.inputs
    return [g.node("GatherElements", [g.value(x), g.value(call.params["index"], np.int64)],
                   axis=int(call.params["axis"]))]


@converts("one_hot")
def one_hot(g, call):
    (indices,) = call.inputs
    dtype = call.outputs[0].dtype
    hot = g.node("OneHot", [g.value(indices, np.int64), g.constant(np.int64(call.params["num_classes"])),
                            g.constant(np.array([0, 1], dtype=dtype))], axis=-1)
    return [hot]


@converts("getitem")
def getitem(g, call):
    (x,) = call.inputs
    index = _expand_ellipsis(call.params["index"], x.ndim)
    name = g.value(x)
    starts, ends, axes, steps = [], [], [], []
    advanced = []
    axis = 0
    for item in index:
        if item is None:
            continue
        if isinstance(item, slice):
            start, stop, step = item.indices(x.shape[axis])
            if (start, stop, step) != (0, x.shape[axis], 1):
                starts.append(start)
                ends.append(stop if stop >= 0 else INT64_MIN)  # stop -1 of a reversed slice means "past 0"
                axes.append(axis)
                steps.append(step)
        elif isinstance(item, (int, np.integer)):
            position = int(item) % x.shape[axis]
            starts.append(position)
            ends.append(position + 1)
            axes.append(axis)
            steps.append(1)
        else:
            advanced.append((axis, item))
        axis += 1
    if starts:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if advanced:
        name = _gather_advanced(g, call, index, advanced, name)
    return [g.node("Reshape", [name, g.ints(call.outputs[0].shape)])]


@converts("split")
def split(g, call):
    """One ``Slice`` per piece (the opset's ``Split`` changed signature twice; slices did not)."""
    (x,) = call.inputs
    axis, name = int(call.params["axis"]), g.value(x)
    outputs, start = [], 0
    for size in call.params["sizes"]:
        outputs.append(g.node("Slice", [name, g.ints([start]), g.ints([start + size]), g.ints([axis])]))
        start += size
    return outputs


def _expand_ellipsis(index, ndim):
    index = tuple(index)
    consumed = sum(item.ndim if getattr(item, "dtype", None) == np.bool_ else 1
                   for item in index if item is not None and item is not Ellipsis)
    # Identity tests: `in` and .index() would compare index arrays elementwise.
    at = next((i for i, item in enumerate(index) if item is Ellipsis), None)
    if at is None:
        return index + (slice(None),) * (ndim - consumed)
    return index[:at] + (slice(None),) * (ndim - consumed) + index[at + 1:]


def _gather_advanced(g, call, index, advanced, name):
    """One integer (or 1-D boolean) index array among slices: ONNX Gather on its axis."""
    if len(advanced) > 1 or any(item is None or isinstance(item, (int, np.integer)) for item in index):
        raise ExportError("getitem: an index array can be exported only alone among slices "
                          "(no integers, None or second array beside it)")
    axis, item = advanced[0]
    if item.dtype == np.bool_:
        if item.ndim != 1 or g.is_traced(item):
            raise ExportError("getitem: boolean masks computed from the input give data-dependent shapes, "
                              "which ONNX export does not support")
        item = np.flatnonzero(item)
    return g.node("Gather", [name, g.value(item, np.int64)], axis=axis)
