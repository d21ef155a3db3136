"""ONNX export of the elementwise math, rounding, remainders, any/all and sorting.

Every model is exported, then run in onnxruntime on fresh inputs and compared with
Ember (which the op tests compare with PyTorch). Inputs are mapped into each
function's domain inside the model, so random fresh inputs stay valid.
"""
import pathlib
import tempfile

import numpy as np
import pytest

import ember
from ember import nn

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from ember.onnx import ExportError, export, run_onnx


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def _check(fn, *inputs, fresh=None, rtol=1e-4, atol=1e-5, **kwargs):
    """Export ``fn`` traced on ``inputs``; onnxruntime and Ember must agree on ``fresh`` inputs."""
    model = Lambda(fn)
    path = pathlib.Path(tempfile.mkdtemp()) / "model.onnx"
    proto = export(model, inputs if len(inputs) > 1 else inputs[0], path, rtol=rtol, atol=atol, **kwargs)
    fresh = fresh or tuple(ember.randn(*x.shape, dtype=x.dtype) if x.dtype.kind == "f" else x
                           for x in inputs)
    expected = fn(*fresh)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = run_onnx(proto, *fresh)
    assert len(got) == len(expected)
    for e, o in zip(expected, got):
        assert o.shape == tuple(e.shape) and o.dtype == e.numpy().dtype
        np.testing.assert_allclose(o, e.numpy(), rtol=rtol, atol=atol)
    return proto


def _ops(proto):
    return {node.op_type for node in proto.graph.node}


UNARY = {
    "tan": lambda x: x.tanh().tan(),
    "asin": lambda x: (x.tanh() * 0.9).asin(),
    "acos": lambda x: (x.tanh() * 0.9).acos(),
    "atan": lambda x: x.atan(),
    "sinh": lambda x: x.sinh(),
    "cosh": lambda x: x.cosh(),
    "asinh": lambda x: x.asinh(),
    "acosh": lambda x: (x * x + 1.5).acosh(),
    "atanh": lambda x: (x.tanh() * 0.9).atanh(),
    "log2": lambda x: (x.abs() + 0.1).log2(),
    "log10": lambda x: (x.abs() + 0.1).log10(),
    "exp2": lambda x: x.exp2(),
    "expm1": lambda x: x.expm1(),
    "rsqrt": lambda x: (x.abs() + 0.1).rsqrt(),
    "reciprocal": lambda x: (x.abs() + 0.1).reciprocal() * x.sign(),
    "square": lambda x: x.square(),
    "erfc": lambda x: ember.erfc(x),
    "sign": lambda x: x.sign() * 2.0 + x,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_functions(name):
    _check(UNARY[name], ember.randn(4, 5))


def test_unary_functions_in_float64():
    fn = lambda x: x.expm1() + (x.abs() + 1).log2() + (x.abs() + 1).log10() + (x.abs() + 1).rsqrt() + x.exp2()
    _check(fn, ember.randn(3, 4, dtype=ember.float64), rtol=1e-10, atol=1e-12)


def test_float64_trigonometry_is_valid_onnx_that_onnxruntime_cannot_run(tmp_path):
    # ONNX allows Tan on doubles; onnxruntime's CPU build has no such kernel. Export says so.
    model = Lambda(lambda x: x.tan())
    x = ember.randn(3, dtype=ember.float64)
    with pytest.raises(ExportError, match="onnxruntime has no kernel .* verify=False"):
        export(model, x, tmp_path / "tan.onnx")
    assert not (tmp_path / "tan.onnx").exists()
    proto = export(model, x, tmp_path / "tan.onnx", verify=False)
    onnx.checker.check_model(proto)
    assert "Tan" in _ops(proto) and (tmp_path / "tan.onnx").exists()


def test_expm1_keeps_its_digits_near_zero():
    tiny = ember.tensor([1e-10, -3e-8, 2e-6, 0.0, -50.0, 0.5, 100.0])  # exp(100) overflows float32: inf
    _check(lambda x: x.expm1(), tiny, fresh=(tiny,), rtol=1e-6, atol=0.0)


def test_sign_of_nan_is_zero_and_integers_keep_their_dtype():
    x = ember.tensor([-2.0, 0.0, float("nan"), 3.0])
    _check(lambda t: t.sign(), x, fresh=(x,))
    ints = ember.tensor([-5, 0, 7])
    _check(lambda t: t.sign(), ints, fresh=(ember.tensor([3, -1, 0]),))


# ------------------------------------------------------------------ rounding
ROUNDING = {
    "floor": lambda x: (x * 3).floor(),
    "ceil": lambda x: (x * 3).ceil(),
    "trunc": lambda x: (x * 3).trunc(),
    "round": lambda x: (x * 3).round(),
    "round_decimals": lambda x: (x * 3).round(decimals=2),
    "round_negative_decimals": lambda x: (x * 300).round(decimals=-1),
}


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding(name):
    _check(ROUNDING[name], ember.randn(4, 6))


def test_round_is_half_to_even_and_trunc_goes_toward_zero():
    x = ember.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.7, 2.7])
    _check(lambda t: ember.stack([t.round(), t.trunc()]), x, fresh=(x,))


def test_clamp_with_tensor_bounds():
    proto = _check(lambda x, low, high: ember.clamp(x, low, high), ember.randn(3, 4), ember.randn(3, 1) - 0.5,
                   ember.randn(4) + 0.5)
    assert {"Max", "Min"} <= _ops(proto)


# ------------------------------------------------------------------ division and remainders
def _away_from_zero(b):
    return b.sign() * (b.abs() + 0.5)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_with_rounding_mode_on_floats(mode):
    _check(lambda a, b: ember.div(a * 4, _away_from_zero(b), rounding_mode=mode), ember.randn(3, 5), ember.randn(3, 5))


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_with_rounding_mode_on_integers(mode):
    a, b = ember.tensor([7, -7, 7, -7, 0, 9]), ember.tensor([2, 2, -2, -2, 3, 3])
    fresh = (ember.tensor([-9, 5, 13, -1, 4, -6]), ember.tensor([4, -3, 5, 2, -3, 6]))
    _check(lambda x, y: ember.div(x, y, rounding_mode=mode), a, b, fresh=fresh)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_and_remainder_on_floats(op):
    fn = getattr(ember, op)
    proto = _check(lambda a, b: fn(a * 5, _away_from_zero(b)), ember.randn(4, 5), ember.randn(4, 5))
    assert "Mod" in _ops(proto)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_and_remainder_on_integers_and_python_operator(op):
    fn = getattr(ember, op)
    a, b = ember.tensor([7, -7, 7, -7, 0]), ember.tensor([3, 3, -3, -3, 5])
    fresh = (ember.tensor([-8, 9, 4, -1, 6]), ember.tensor([5, -4, 3, 2, -7]))
    _check(lambda x, y: fn(x, y), a, b, fresh=fresh)
    if op == "remainder":
        _check(lambda x: x % 3.0, ember.randn(6) * 10)  # Tensor.__mod__ is remainder


# ------------------------------------------------------------------ two-argument functions
def test_atan2_in_all_four_quadrants_and_on_the_axes():
    a = ember.tensor([1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 2.0, -2.0, 0.0])
    b = ember.tensor([1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 0.0, 0.0, 0.0])
    _check(lambda y, x: ember.atan2(y, x), a, b, fresh=(a, b))
    _check(lambda y, x: ember.atan2(y, x), ember.randn(3, 4), ember.randn(3, 4))


def test_hypot_logaddexp_and_xlogy():
    _check(lambda a, b: ember.hypot(a, b) + ember.logaddexp(a, b), ember.randn(3, 4), ember.randn(3, 4))
    x, y = ember.tensor([0.0, 0.0, 2.0, 1.5]), ember.tensor([0.0, float("nan"), 3.0, 0.5])
    _check(lambda a, b: ember.xlogy(a, b), x, y, fresh=(x, y))


def test_logaddexp_with_infinities():
    a, b = ember.tensor([float("-inf"), float("inf"), 1.0]), ember.tensor([float("-inf"), 2.0, float("-inf")])
    _check(lambda x, y: ember.logaddexp(x, y), a, b, fresh=(a, b))


# ------------------------------------------------------------------ any / all
def test_any_and_all_on_comparisons():
    def fn(x):
        positive = x > 0
        return (positive.any(), positive.all(), positive.any(dim=1), positive.all(dim=0, keepdim=True),
                x.any(dim=(0, 2)))

    x = ember.randn(3, 4, 2)
    _check(fn, x)
    proto = _check(fn, x, fresh=(ember.ones(3, 4, 2),))  # all true: the traced answer was not frozen
    assert "ReduceSum" in _ops(proto)


def test_any_and_all_of_floats_count_nonzero_and_nan_as_true():
    x = ember.tensor([[0.0, float("nan")], [0.0, 0.0]])
    _check(lambda t: (t.any(dim=1), t.all(dim=1)), x, fresh=(x,))


# ------------------------------------------------------------------ sorting
def test_sort_argsort_and_topk():
    def fn(x):
        values, indices = x.sort(dim=1)
        down, down_indices = ember.sort(x, dim=0, descending=True)
        top, top_indices = x.topk(2, dim=-1)
        low, _ = x.topk(3, dim=1, largest=False)
        return values, indices, down, down_indices, top, top_indices, low, x.argsort(dim=1, descending=True)

    proto = _check(fn, ember.randn(4, 6))
    assert "TopK" in _ops(proto)


def test_sort_breaks_ties_by_index_like_ember():
    x = ember.tensor([[2.0, 1.0, 2.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    _check(lambda t: (t.argsort(dim=1), t.argsort(dim=1, descending=True), t.sort(dim=1).indices), x, fresh=(x,))


def test_sort_values_keep_gradients_and_export_in_a_model():
    net = nn.Linear(5, 5)

    def fn(x):
        scores = net(x)
        return scores.topk(2, dim=1).values.sum(dim=1, keepdim=True) + scores.amax(dim=1, keepdim=True)

    _check(fn, ember.randn(3, 5))


@pytest.mark.parametrize("opset", [13, 18])
def test_new_rules_in_the_oldest_and_newest_opsets(opset):
    def fn(x):
        return ((x > 0).any(dim=1), x.topk(2, dim=1).values, ember.remainder(x, 0.7), x.trunc(),
                ember.atan2(x, x.flip(1)), x.expm1())

    proto = _check(fn, ember.randn(3, 4), opset=opset)
    assert proto.opset_import[0].version == opset
