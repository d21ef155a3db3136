"""ONNX rules for the neural-network primitives: softmax, linear, GELU, normalisation,
embedding, convolution and pooling."""
from __future__ import annotations

import math

import numpy as np

from .convert_basic import reduce
from .graph import ExportError, converts


@converts("log_softmax", "softmax")
def softmax(g, call):
    op = "LogSoftmax" if call.fn.name == "log_softmax" else "Softmax"
    return [g.node(op, [g.value(call.inputs[0])], axis=int(call.params["axis"]))]


@converts("linear")
def linear(g, call):
    x, weight, *bias = call.inputs
    dtype = call.outputs[0].dtype
    names = [g.value(x, dtype), g.value(weight, dtype)] + [g.value(b, dtype) for b in bias]
    if x.ndim == 2:
        return [g.node("Gemm", names, transB=1)]
    out = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=[1, 0])])
    return [g.node("Add", [out, names[2]]) if bias else out]


@converts("gelu")
def gelu(g, call):
    (x,) = call.inputs
    name = g.value(x)
    half = g.node("Mul", [name, g.constant(0.5, x.dtype)])
    if call.params["approximate"] == "tanh":
        cube = g.node("Mul", [g.node("Mul", [name, name]), name])
        inner = g.node("Add", [name, g.node("Mul", [cube, g.constant(0.044715, x.dtype)])])
        core = g.node("Tanh", [g.node("Mul", [inner, g.constant(math.sqrt(2.0 / math.pi), x.dtype)])])
    else:
        core = g.node("Erf", [g.node("Mul", [name, g.constant(1.0 / math.sqrt(2.0), x.dtype)])])
    return [g.node("Mul", [half, g.node("Add", [core, g.constant(1.0, x.dtype)])])]


@converts("normalize")
def normalize(g, call):
    x, *affine = call.inputs
    axes, eps, stats = call.params["axes"], call.params["eps"], call.params["stats"]
    name = g.value(x)
    if stats is not None:
        mean, var = stats
        if g.is_traced(mean) or g.is_traced(var):
            raise ExportError("normalize: statistics computed from the input (batch norm in training mode); "
                              "call model.eval() before exporting")
        invstd = 1.0 / np.sqrt(np.asarray(var) + eps)  # what Ember computes, so the rounding agrees
        out = g.node("Mul", [g.node("Sub", [name, g.value(mean, x.dtype)]), g.constant(invstd, x.dtype)])
    else:
        mean = reduce(g, "ReduceMean", name, axes, True)
        centered = g.node("Sub", [name, mean])
        var = reduce(g, "ReduceMean", g.node("Mul", [centered, centered]), axes, True)
        invstd = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [var, g.constant(eps, x.dtype)])])])
        out = g.node("Mul", [centered, invstd])
    # Optional affine inputs, named in order by params["affine"] (a subset of ("weight", "bias")).
    for role, value in zip(call.params.get("affine", ()), affine):
        out = g.node("Mul" if role == "weight" else "Add", [out, g.value(value, x.dtype)])
    return [out]


@converts("embedding")
def embedding(g, call):
    (weight,) = call.inputs
    return [g.node("Gather", [g.value(weight), g.value(call.params["indices"], np.int64)], axis=0)]


def _window_attributes(geom, with_groups: bool) -> dict:
    attributes = {"kernel_shape": list(geom.kernel), "strides": list(geom.stride),
                  "pads": [b for b, _ in geom.pads] + [a for _, a in geom.pads],
                  "dilations": list(geom.dilation)}
    if with_groups:
        attributes["group"] = int(geom.groups)
    return attributes


@converts("conv")
def conv(g, call):
    dtype = call.outputs[0].dtype
    return [g.node("Conv", [g.value(a, dtype) for a in call.inputs], **_window_attributes(call.params["geom"], True))]


@converts("conv_transpose")
def conv_transpose(g, call):
    y = call.inputs[0]
    geom = call.params["geom"]
    attributes = _window_attributes(geom, True)
    # ONNX's output size is stride*(n-1) + extent - pads + output_padding; Ember's geometry
    # stores the size itself (the input size of the convolution being transposed).
    attributes["output_padding"] = [
        out - (s * (n - 1) + d * (k - 1) + 1 - b - a)
        for out, n, s, d, k, (b, a) in zip(geom.in_size, y.shape[2:], geom.stride, geom.dilation, geom.kernel,
                                            geom.pads)]
    dtype = call.outputs[0].dtype
    return [g.node("ConvTranspose", [g.value(a, dtype) for a in call.inputs], **attributes)]


@converts("max_pool")
def max_pool(g, call):
    # The geometry's after-pads already include ceil_mode's extra room (padding counts as -inf).
    return [g.node("MaxPool", [g.value(call.inputs[0])], **_window_attributes(call.params["geom"], False))]


@converts("avg_pool")
def avg_pool(g, call):
    (x,) = call.inputs
    geom = call.params["geom"]
    attributes = _window_attributes(geom, False)
    if any(d != 1 for d in attributes.pop("dilations")):
        raise ExportError("avg_pool: dilated average pooling has no ONNX equivalent")
    # Ember divides window sums by PyTorch's divisor (a number, or one per output position):
    # take the zero-padded window mean, scale it back to the sum, divide by the same divisor.
    mean = g.node("AveragePool", [g.value(x)], count_include_pad=1, **attributes)
    window = float(np.prod(geom.kernel))
    divisor = call.params["divisor"]
    scale = window / np.asarray(divisor, dtype=np.float64)
    return [g.node("Mul", [mean, g.constant(scale, x.dtype)])]
