"""ONNX export: every exported model is run in onnxruntime and compared with Ember.

The comparison uses fresh inputs, not the example the model was traced on, so a
value that was wrongly frozen into a constant during tracing is caught.
"""
import math
import pathlib
import tempfile

import numpy as np
import pytest

import ember
from ember import nn

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ember.onnx as eonnx
from ember.onnx import ExportError, export, run_onnx


def _check(model, *inputs, fresh=None, path=None, rtol=1e-4, atol=1e-5, **kwargs):
    """Export on ``inputs``, then compare onnxruntime and Ember on ``fresh`` inputs."""
    path = path or pathlib.Path(tempfile.mkdtemp()) / "model.onnx"
    proto = export(model, inputs if len(inputs) > 1 else inputs[0], path, **kwargs)
    assert onnx.load(str(path)) == proto
    fresh = fresh or tuple(ember.randn(*x.shape).to(x.dtype) if x.dtype.kind == "f" else x for x in inputs)
    model.eval()
    expected = model(*fresh)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = run_onnx(proto, *fresh)
    for e, o in zip(expected, got):
        assert o.shape == e.shape and o.dtype == e.dtype
        np.testing.assert_allclose(o, e.numpy(), rtol=rtol, atol=atol)
    return proto


def _ops(proto):
    return [node.op_type for node in proto.graph.node]


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


# ------------------------------------------------------------------ MLPs
def test_mlp_file_runs_in_onnxruntime(tmp_path):
    net = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16), nn.Tanh(),
                        nn.Linear(16, 4), nn.LogSoftmax(-1))
    export(net, ember.randn(5, 6), tmp_path / "first.onnx")
    assert net.training  # export ran in eval mode and put the mode back
    path = tmp_path / "mlp.onnx"
    proto = _check(net, ember.randn(5, 6), path=path)
    assert path.exists() and onnx.load(str(path)).graph.node
    assert _ops(proto) == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm", "LogSoftmax", "Identity"]
    assert sorted(i.name for i in proto.graph.initializer) == sorted(net.state_dict())
    assert [i.name for i in proto.graph.input] == ["input"]


def test_linear_on_3d_input_and_activations():
    acts = [getattr(nn, name)() for name in ("GELU", "SiLU", "Sigmoid", "ELU", "LeakyReLU", "Softplus", "Softsign")
            if hasattr(nn, name)]
    net = nn.Sequential(nn.Linear(5, 7), *acts, nn.Linear(7, 3), nn.Softmax(-1))
    _check(net, ember.randn(2, 4, 5))
    if hasattr(nn, "GELU"):
        _check(nn.Sequential(nn.Linear(5, 5), nn.GELU(approximate="tanh")), ember.randn(3, 5))


def test_float64_model():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).double()
    _check(net, ember.randn(2, 3).double(), rtol=1e-10, atol=1e-12)


def test_several_inputs_and_outputs_with_names():
    def fn(a, b):
        return (a * b).sum(dim=1), ember.maximum(a, b) - 1.0

    proto = _check(Lambda(fn), ember.randn(3, 4), ember.randn(3, 4), input_names=["a", "b"],
                   output_names=["dot", "peak"])
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["dot", "peak"]


# ------------------------------------------------------------------ elementwise / movement coverage
def _kitchen_sink(x):
    y = ember.clamp(x, -1.5, 2.0) + ember.where(x > 0, x, x * 0.1)
    y = y * ember.sqrt(ember.abs(x) + 1.0) - ember.exp(-x * x) + ember.log1p(ember.abs(x))
    y = y + ember.sin(x) * ember.cos(x) + x ** 3 + ember.minimum(x, 0.5) / 2.0
    y = ember.cat([y, ember.flip(y, (1,))], dim=1)
    y = ember.pad(y, ((0, 0), (1, 2)), value=0.25)
    parts = [y[:, 1:5], y[::-1, -4:], y[:, None, 2].squeeze(1).unsqueeze(1).expand(3, 4), y[1:, ::-2][:1, :4]
             .broadcast_to((3, 4))]
    z = ember.stack(parts, dim=0)  # (4, 3, 4)
    z = z.permute(1, 0, 2).reshape(3, 16)
    stats = ember.cat([z.sum(dim=1, keepdim=True), z.mean(dim=1, keepdim=True), z.amax(dim=1, keepdim=True),
                       z.amin(dim=1, keepdim=True), z.var(dim=1, keepdim=True),
                       ember.logsumexp(z, dim=1, keepdim=True),
                       ember.prod(z[:, :3], dim=1, keepdim=True)], dim=1)
    w = ember.einsum("ij,kj->ik", z, z) + ember.cumsum(z, 1)[:, :3].sum()
    picked = ember.gather(z, 1, ember.tensor([[0, 3], [1, 1], [15, 2]]))
    rep = ember.repeat_interleave(picked, 2, 1) + ember.tile(picked, (1, 2))
    flags = ((z > 0.1) & (z < 1.0)).to(z.dtype) + z.isnan().to(z.dtype)
    return ember.cat([stats, w, rep, flags[:, :4], z.argmax(dim=1, keepdim=True).to(z.dtype)], dim=1)


def test_elementwise_reduction_and_movement_ops():
    _check(Lambda(_kitchen_sink), ember.randn(3, 6))


def test_index_array_and_integer_input():
    table = ember.randn(10, 4)

    def fn(ids):
        return table[ids] * 2.0 + table[:, 1:3][ids].sum()

    ids = ember.tensor([[1, 2, 9], [0, 0, 5]])
    _check(Lambda(fn), ids, fresh=(ember.tensor([[3, 3, 3], [8, 1, 2]]),))


# ------------------------------------------------------------------ convnets
class SmallConvNet(nn.Module):
    """Conv, batch norm, max and average pooling and a dense head, from what exists."""

    def __init__(self):
        super().__init__()
        from ember.ops.conv import conv  # noqa: F401 - fails the test clearly if conv is gone
        self.w1 = nn.Parameter(ember.randn(6, 3, 3, 3) * 0.3)
        self.b1 = nn.Parameter(ember.randn(6) * 0.1)
        self.w2 = nn.Parameter(ember.randn(8, 3, 3, 3) * 0.3)  # groups=2: 6 -> 8 channels
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8 * 3 * 3, 5)

    def forward(self, x):
        from ember.ops.conv import conv
        from ember.ops.pool import avg_pool, max_pool

        x = conv(x, self.w1, self.b1, padding="same").relu()
        x = conv(x, self.w2, None, stride=1, padding=1, dilation=1, groups=2)
        x = self.bn(x).tanh()
        x = max_pool(x, 3, stride=2, padding=1, ceil_mode=True, d=2)
        x = avg_pool(x, 2, stride=2, padding=1, count_include_pad=False, d=2)
        return self.head(x.flatten(1))


def test_convnet():
    net = SmallConvNet()
    net.train()
    for _ in range(3):  # give batch norm non-trivial running statistics
        net(ember.randn(4, 3, 9, 9))
    proto = _check(net, ember.randn(2, 3, 9, 9), atol=1e-4)
    assert {"Conv", "MaxPool", "AveragePool", "Gemm"} <= set(_ops(proto))


def test_conv_layers_if_present():
    layers = [getattr(nn, n, None) for n in ("Conv1d", "Conv2d", "MaxPool2d", "ConvTranspose2d")]
    if layers[1] is None:
        pytest.skip("nn.Conv2d does not exist yet")
    Conv1d, Conv2d, MaxPool2d, ConvTranspose2d = layers
    body = [Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU()]
    if MaxPool2d is not None:
        body.append(MaxPool2d(2))
    if ConvTranspose2d is not None:
        body.append(ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1))
    _check(nn.Sequential(*body), ember.randn(2, 3, 12, 12), atol=1e-4)
    if Conv1d is not None:
        _check(nn.Sequential(Conv1d(3, 5, 4, dilation=2), nn.Tanh()), ember.randn(2, 3, 20), atol=1e-4)


def test_conv_transpose_op():
    from ember.ops.conv import conv_transpose

    w = ember.randn(4, 3, 3, 3)
    _check(Lambda(lambda x: conv_transpose(x, w, None, stride=2, padding=1, output_padding=1)),
           ember.randn(2, 4, 5, 5), atol=1e-4)


# ------------------------------------------------------------------ transformer blocks
class TinyGPT(nn.Module):
    """Token + position embeddings, one pre-LN block (causal attention, GELU MLP), tied-free head."""

    def __init__(self, vocab=11, d=16, heads=4, ctx=8):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.head = nn.Linear(d, vocab)

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, -1)
        split = lambda z: z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // self.heads))
        causal = ember.tensor(np.triu(np.ones((t, t), dtype=bool), 1))
        weights = ember.ops.nn.softmax(scores.masked_fill(causal, -1e9), -1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, ids):
        x = self.tok(ids) + self.pos(ember.arange(ids.shape[1]))
        x = x + self.attention(self.ln1(x))
        x = x + self.out(ember.ops.nn.gelu(self.fc(self.ln2(x))))
        return self.head(self.ln_f(x))


def test_transformer_block():
    import ember.ops.nn

    model = TinyGPT()
    ids = ember.randint(0, 11, (2, 8))
    proto = _check(model, ids, fresh=(ember.randint(0, 11, (2, 8)),), atol=1e-4)
    assert {"Gather", "MatMul", "Softmax", "Erf", "Where"} <= set(_ops(proto))


def test_multihead_attention_and_transformer_layers_if_present():
    if not hasattr(nn, "MultiheadAttention"):
        pytest.skip("nn.MultiheadAttention does not exist yet")
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    _check(Lambda(lambda x: mha(x, x, x)[0]), ember.randn(2, 5, 16), atol=1e-4)
    if hasattr(nn, "TransformerEncoderLayer"):
        layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        _check(layer, ember.randn(2, 5, 16), atol=1e-4)


# ------------------------------------------------------------------ recurrent layers
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_if_present(kind):
    if not hasattr(nn, kind):
        pytest.skip(f"nn.{kind} does not exist yet")
    layer = getattr(nn, kind)(5, 7, num_layers=2, batch_first=True)

    def fn(x):
        out = layer(x)
        return out[0] if isinstance(out, tuple) else out

    _check(Lambda(fn), ember.randn(3, 6, 5), atol=1e-4)


# ------------------------------------------------------------------ errors and options
def test_unsupported_primitive_is_named(tmp_path):
    class Mystery(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(ExportError, match=r"no ONNX conversion for Ember primitive 'mystery'"):
        export(Lambda(lambda x: Mystery.apply(x)), ember.ones(2), tmp_path / "model.onnx")


def test_input_read_outside_ember_ops_is_refused(tmp_path):
    def sneaky(x):
        return ember.tensor(x.numpy() * 2.0) + 1.0

    with pytest.raises(ExportError, match="input 'input' of shape \\(3,\\) does not reach the outputs"):
        export(Lambda(sneaky), ember.ones(3), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_non_tensor_output_is_refused(tmp_path):
    with pytest.raises(ExportError, match="returned a dict"):
        export(Lambda(lambda x: {"y": x}), ember.ones(2), tmp_path / "model.onnx")


def test_verification_catches_a_wrong_conversion(monkeypatch, tmp_path):
    from ember.onnx import graph

    monkeypatch.setitem(graph.CONVERTERS, "tanh", lambda g, call: [g.node("Sigmoid", [g.value(call.inputs[0])])])
    with pytest.raises(ExportError, match="onnxruntime's output 0 differs from Ember's"):
        export(nn.Tanh(), ember.randn(4), tmp_path / "model.onnx")


def test_tracing_leaves_primitives_as_they_were(tmp_path):
    from ember.ops.elementwise import Add, Exp
    from ember.ops.reduce import Max

    before = (Add.__dict__["forward"], Exp.__dict__["forward"], "forward" in Max.__dict__)
    export(Lambda(lambda x: (x + 1).exp().max()), ember.ones(3), tmp_path / "model.onnx")
    assert (Add.__dict__["forward"], Exp.__dict__["forward"], "forward" in Max.__dict__) == before


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_opsets(opset):
    net = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.ReLU())
    proto = _check(Lambda(lambda x: net(x).amax(1) + net(x).sum(dim=0)[:1]), ember.randn(3, 4), opset=opset)
    assert proto.opset_import[0].version == opset


def test_trace_records_in_order():
    from ember.onnx.trace import record

    with record() as calls:
        (ember.ones(2) * 3.0).exp().sum()
    assert [c.fn.name for c in calls] == ["mul", "exp", "sum"]
    assert eonnx.DEFAULT_OPSET == 17


def test_value_dependent_branch_is_caught_by_the_shuffled_check(tmp_path):
    def branchy(x):
        return x * 2.0 if float(x[0]) > 0 else x * -3.0  # a Python branch on a value: frozen by tracing

    with pytest.raises(ExportError, match="shuffled copy of the example input"):
        export(Lambda(branchy), ember.tensor([1.0, -2.0, -3.0, -4.0]), tmp_path / "b.onnx")
    assert not (tmp_path / "b.onnx").exists()
