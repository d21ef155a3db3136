"""ONNX export (optional: needs ``pip install onnx``, and ``onnxruntime`` to verify).

:func:`export` traces one forward pass of a model through Ember's primitives and
writes the equivalent ONNX graph, checked against onnxruntime when it is
installed. MLPs, convnets (conv, pooling, batch norm), embeddings, recurrent
layers (unrolled over the traced length) and transformer blocks (linear, layer
norm, softmax attention, GELU) are covered.

Example:
    >>> import ember, os, tempfile
    >>> from ember import nn
    >>> path = os.path.join(tempfile.mkdtemp(), "net.onnx")
    >>> _ = ember.onnx.export(nn.Linear(3, 2), ember.ones(1, 3), path)
"""
from .export import DEFAULT_OPSET, export, run_onnx, trace_graph
from .graph import CONVERTERS, ExportError

__all__ = ["CONVERTERS", "DEFAULT_OPSET", "ExportError", "export", "run_onnx", "trace_graph"]
