"""``ember.onnx.export``: trace a forward pass and write it as an ONNX model."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import convert_basic, convert_math, convert_nn  # noqa: F401 - they register the converters
from .graph import CONVERTERS, ExportError, GraphBuilder
from .trace import record

DEFAULT_OPSET = 17


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ember.onnx.export needs the onnx package: pip install 'ember[onnx]' "
                          "(or pip install onnx onnxruntime)") from None
    return onnx


def _as_tensors(example) -> tuple:
    items = example if isinstance(example, (tuple, list)) else (example,)
    return tuple(x if isinstance(x, Tensor) else Tensor(x) for x in items)


def _outputs(result) -> tuple:
    items = result if isinstance(result, (tuple, list)) else (result,)
    for item in items:
        if not isinstance(item, Tensor):
            raise ExportError(f"export: the model returned a {type(item).__name__}; only tensors (or a tuple "
                              "of tensors) can be exported")
    return tuple(items)


def _names(given, count: int, default: str) -> list[str]:
    if given is None:
        return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    given = list(given)
    if len(given) != count:
        raise ValueError(f"export: {len(given)} {default} names given for {count} {default}s")
    return given


def trace_graph(model, example_input, opset: int = DEFAULT_OPSET, input_names=None, output_names=None):
    """Trace ``model`` on ``example_input`` into an ``onnx.ModelProto`` (nothing written).

    See :func:`export` for the arguments.
    """
    onnx = _require_onnx()
    inputs = _as_tensors(example_input)
    parameter_names = {}
    if hasattr(model, "state_dict"):
        parameter_names = {id(t._data): name for name, t in model.state_dict().items()}
    # Eval mode: dropout off, batch norm on running statistics, which is what inference runs.
    with no_grad(), record() as calls:
        outputs = _outputs(_run_in_eval(model, inputs))

    g = GraphBuilder(opset, parameter_names)
    input_names = _names(input_names, len(inputs), "input")
    for tensor, name in zip(inputs, input_names):
        g.add_input(tensor._data, name)
    for call in calls:
        convert = CONVERTERS.get(call.fn.name)
        if convert is None:
            raise ExportError(f"export: no ONNX conversion for Ember primitive {call.fn.name!r} "
                              f"({call.fn.__module__}.{call.fn.__qualname__}); supported: "
                              f"{', '.join(sorted(CONVERTERS))}")
        names = convert(g, call)
        for array, name in zip(call.outputs, names):
            g.bind(array, name)

    output_names = _names(output_names, len(outputs), "output")
    graph_outputs = []
    for tensor, name in zip(outputs, output_names):
        source = g.value(tensor._data) if g.is_traced(tensor._data) else g.constant(tensor._data)
        g.node("Identity", [source], [name])
        graph_outputs.append(onnx.helper.make_tensor_value_info(name, g.tensor_type(tensor._data),
                                                                list(tensor.shape)))
    _check_inputs_used(g, inputs, input_names)
    graph_inputs = [onnx.helper.make_tensor_value_info(name, g.tensor_type(t._data), list(t.shape))
                    for t, name in zip(inputs, input_names)]
    graph = onnx.helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, g.initializers)
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="ember")
    # The oldest IR version that carries this opset, so that older runtimes load the file.
    proto.ir_version = min(proto.ir_version, onnx.helper.find_min_ir_version_for(list(proto.opset_import)))
    onnx.checker.check_model(proto)
    return proto, outputs


def _check_inputs_used(g, inputs, names) -> None:
    consumed = {name for node in g.nodes for name in node.input}
    for tensor, name in zip(inputs, names):
        if name not in consumed:
            raise ExportError(
                f"export: input {name!r} of shape {tuple(tensor.shape)} does not reach the outputs through Ember "
                "ops (was it read with .numpy()/.data or converted outside Ember?); the exported graph would "
                "ignore it")


def export(model, example_input, path: str | os.PathLike, *, opset: int = DEFAULT_OPSET,
           input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
           verify: bool | None = None, rtol: float = 1e-4, atol: float = 1e-5):
    """Export ``model`` as an ONNX file by tracing one forward pass.

    The model runs once on ``example_input`` in eval mode (dropout off, batch
    norm on its running statistics); every Ember primitive it applies becomes
    ONNX operators, its parameters become initializers named as in its
    ``state_dict``. Shapes are those of the example (export again for another
    batch size). Python control flow is fixed at its traced branch, as in any
    tracing exporter.

    Args:
        model: a :class:`~ember.nn.Module` or any callable on tensors.
        example_input: a tensor (or array), or a tuple of them for several inputs.
        path: the ``.onnx`` file to write (atomically).
        opset: the ONNX opset (default 17).
        input_names, output_names: names of the graph's inputs and outputs
            (default ``input``/``output``, numbered when there are several).
        verify: run the file in onnxruntime on the example and on a shuffled
            copy of it (which exposes values the trace froze, such as a Python
            branch on a tensor's value), and compare with Ember's outputs
            (default: when onnxruntime is installed).
        rtol, atol: tolerances of that comparison.

    Returns:
        The ``onnx.ModelProto`` written.

    Raises:
        ExportError: the model uses an op the exporter cannot express, or the
            verification found different outputs.

    Example:
        >>> import ember, os, tempfile
        >>> from ember import nn
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
        >>> _ = ember.onnx.export(net, ember.randn(3, 4), path)
        >>> import onnxruntime
        >>> session = onnxruntime.InferenceSession(path)
        >>> session.run(None, {"input": ember.randn(3, 4).numpy()})[0].shape
        (3, 2)
    """
    from ..io.atomic import atomic_write_bytes

    proto, outputs = trace_graph(model, example_input, opset, input_names, output_names)
    if verify is None:
        try:
            import onnxruntime  # noqa: F401
            verify = True
        except ImportError:
            verify = False
    if verify:
        inputs = _as_tensors(example_input)
        _verify(proto, inputs, outputs, rtol, atol, "the example input")
        shuffled = _shuffled(inputs)
        with no_grad():
            again = _outputs(_run_in_eval(model, shuffled))
        _verify(proto, shuffled, again, rtol, atol,
                "a shuffled copy of the example input (the trace froze a value that depends on the input: a "
                "Python branch on tensor values, or arithmetic outside Ember ops)")
    atomic_write_bytes(path, proto.SerializeToString())
    return proto


def run_onnx(proto_or_path, *inputs) -> list[np.ndarray]:
    """Run an ONNX model (a ``ModelProto`` or a file) in onnxruntime on tensors or arrays."""
    import onnxruntime

    source = proto_or_path.SerializeToString() if hasattr(proto_or_path, "SerializeToString") \
        else os.fspath(proto_or_path)
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    feeds = {meta.name: np.asarray(x.numpy() if isinstance(x, Tensor) else x)
             for meta, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)


def _shuffled(inputs) -> tuple:
    """The inputs with their elements permuted: other values, still valid (token ids stay in range)."""
    rng = np.random.default_rng(0)
    return tuple(Tensor(rng.permutation(t.numpy().reshape(-1)).reshape(t.shape)) for t in inputs)


def _run_in_eval(model, inputs):
    modes = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    if hasattr(model, "eval"):
        model.eval()
    try:
        return model(*inputs)
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)


def _verify(proto, inputs, outputs, rtol, atol, on: str) -> None:
    try:
        results = run_onnx(proto, *inputs)
    except Exception as error:  # onnxruntime raises its own classes, which it does not export stably
        if "NOT_IMPLEMENTED" not in str(error):
            raise
        # The graph is valid ONNX, but this runtime lacks a kernel (its CPU build has no float64 Tan,
        # Asin, Sinh, Erf ...): say so rather than let the runtime's message pass for an export bug.
        raise ExportError(f"export: onnxruntime has no kernel for an operator of this graph, so it cannot be "
                          f"verified ({error}); the graph itself is valid ONNX: pass verify=False to write it for "
                          f"another runtime, or export the model in float32") from None
    for i, (expected, got) in enumerate(zip(outputs, results)):
        expected = expected.numpy()
        if expected.shape != got.shape or not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            worst = np.max(np.abs(got.astype(np.float64) - expected)) if expected.shape == got.shape else "n/a"
            raise ExportError(f"export: onnxruntime's output {i} differs from Ember's on {on} (shape {got.shape} "
                              f"vs {expected.shape}, max abs difference {worst})")
