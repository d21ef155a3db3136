"""Every activation against PyTorch: values and gradients at kinks and extremes, float64
gradchecks, ``inplace=True`` semantics, and the layer classes' names, signatures and reprs."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# Kinks of every piecewise activation here (0, ±0.5, ±1, ±3, 6), extremes and NaN.
EDGES = [-1e4, -50.0, -6.0, -3.0, -2.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 6.0, 7.0,
         25.0, 1e4, np.nan]

CASES = [
    ("relu", lambda f, x: f.relu(x)),
    ("relu6", lambda f, x: f.relu6(x)),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.2)),
    ("hardtanh", lambda f, x: f.hardtanh(x, -0.5, 1.0)),
    ("hardsigmoid", lambda f, x: f.hardsigmoid(x)),
    ("hardswish", lambda f, x: f.hardswish(x)),
    ("logsigmoid", lambda f, x: f.logsigmoid(x)),
    ("mish", lambda f, x: f.mish(x)),
    ("celu", lambda f, x: f.celu(x, 0.5)),
    ("selu", lambda f, x: f.selu(x)),
    ("elu", lambda f, x: f.elu(x, 1.5)),
    ("silu", lambda f, x: f.silu(x)),
    ("softsign", lambda f, x: f.softsign(x)),
    ("softshrink", lambda f, x: f.softshrink(x, 0.5)),
    ("hardshrink", lambda f, x: f.hardshrink(x, 0.5)),
    ("tanhshrink", lambda f, x: f.tanhshrink(x)),
    ("threshold", lambda f, x: f.threshold(x, 1.0, -2.0)),
    ("gelu", lambda f, x: f.gelu(x)),
    ("gelu_tanh", lambda f, x: f.gelu(x, approximate="tanh")),
    ("softplus", lambda f, x: f.softplus(x)),
    ("softplus_beta", lambda f, x: f.softplus(x, beta=2.0, threshold=5.0)),
    ("sigmoid", lambda f, x: f.sigmoid(x)),
    ("tanh", lambda f, x: f.tanh(x)),
]


@pytest.mark.parametrize("name, call", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradients_match_torch_at_kinks_and_extremes(name, call, dtype):
    values = np.array(EDGES, dtype=dtype)
    ours = ember.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out, ref = call(F, ours), call(TF, theirs)
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol, equal_nan=True)
    out.backward(ember.ones_like(out))
    ref.backward(torch.ones_like(ref))
    # PyTorch's float64 hardsigmoid slope is the float32 constant 1/6.
    grad_tol = 1e-7 if name == "hardsigmoid" else tol * 10
    # Gradients *at* NaN follow no rule worth copying (PyTorch's depend on each kernel's
    # comparison order); the values there are checked above.
    finite = ~np.isnan(values)
    np.testing.assert_allclose(ours.grad.numpy()[finite], theirs.grad.numpy()[finite], rtol=grad_tol, atol=tol)


@pytest.mark.parametrize("name, call", CASES, ids=[c[0] for c in CASES])
def test_float64_gradcheck_away_from_kinks(name, call):
    x = ember.tensor(np.array([-2.2, -0.8, -0.3, 0.35, 0.9, 2.1]), requires_grad=True)
    assert gradcheck(lambda t: call(F, t), [x])
    if name not in ("relu", "relu6", "hardtanh", "hardsigmoid", "softshrink", "hardshrink", "threshold"):
        assert gradgradcheck(lambda t: call(F, t), [x])


def test_glu_and_softmin_match_torch():
    values = np.random.default_rng(0).standard_normal((3, 4, 6))
    for call in (lambda f, x: f.glu(x), lambda f, x: f.glu(x, dim=1), lambda f, x: f.softmin(x, dim=2),
                 lambda f, x: f.softmin(x)):
        ours = ember.tensor(values, requires_grad=True)
        theirs = torch.tensor(values, requires_grad=True)
        out, ref = call(F, ours), call(TF, theirs)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
        cot = np.random.default_rng(1).standard_normal(ref.shape)
        out.backward(ember.tensor(cot))
        ref.backward(torch.tensor(cot))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_glu_needs_an_even_dimension():
    with pytest.raises(RuntimeError, match="halving dimension must be even, but dimension 1 is size 3"):
        F.glu(ember.ones(2, 3), dim=1)
    with pytest.raises(RuntimeError, match="does not support scalars"):
        F.glu(ember.tensor(1.0))


def test_softshrink_refuses_negative_lambda():
    with pytest.raises(ValueError, match="lambda must be greater or equal to 0"):
        F.softshrink(ember.ones(2), -1.0)


def test_prelu_matches_torch_for_input_and_weight_gradients():
    values = np.random.default_rng(2).standard_normal((2, 3, 4))
    values[0, 0, 0] = 0.0
    w = np.array([0.1, 0.25, -0.5])
    ours, ours_w = ember.tensor(values, requires_grad=True), ember.tensor(w, requires_grad=True)
    theirs, theirs_w = torch.tensor(values, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, ref = F.prelu(ours, ours_w), TF.prelu(theirs, theirs_w)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy())
    grads = ember.autograd.grad(out.sum(), [ours, ours_w])
    ref_grads = torch.autograd.grad(ref.sum(), [theirs, theirs_w])
    for mine, reference in zip(grads, ref_grads):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-12)


INPLACE = ["relu", "relu6", "leaky_relu", "hardtanh", "threshold", "elu", "selu", "celu", "silu", "mish",
           "hardsigmoid", "hardswish"]


def _inplace_call(f, name, x, inplace):
    extra = {"threshold": (0.5, -1.0)}.get(name, ())
    return getattr(f, name)(x, *extra, inplace=inplace)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_into_the_input_memory_without_grad(name):
    values = np.array([-4.0, -1.0, 0.0, 0.7, 3.5, 8.0], dtype=np.float32)
    x = ember.tensor(values.copy())
    view = x[1:]
    out = _inplace_call(F, name, x, True)
    expected = _inplace_call(TF, name, torch.tensor(values), False).numpy()
    assert out is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(view.numpy(), expected[1:], rtol=1e-6)  # the memory itself changed


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_a_graph_intermediate_gives_torch_gradients(name):
    values = np.array([-4.0, -1.0, -0.2, 0.7, 3.5, 8.0])
    a = ember.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    h, th = a * 1.5, t * 1.5
    out, ref = _inplace_call(F, name, h, True), _inplace_call(TF, name, th, True)
    assert out is h
    np.testing.assert_allclose(h.numpy(), th.detach().numpy(), rtol=1e-12)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-7 if name == "hardsigmoid" else 1e-12)


def test_inplace_on_a_leaf_that_requires_grad_is_refused_like_torch():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.relu(x, inplace=True)
    with ember.no_grad():
        F.relu(x, inplace=True)
    assert x.tolist() == [1.0, 0.0]


def test_inplace_invalidates_tensors_saved_before_it():
    a = ember.tensor([1.0, -2.0], requires_grad=True)
    h = a * 2.0
    saved_by_mul = h * h  # Mul saved h
    F.relu(h, inplace=True)
    with pytest.raises(RuntimeError):
        saved_by_mul.sum().backward()


def test_trailing_underscore_forms_are_in_place():
    x = ember.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 2.0])
    F.threshold_(y, 1.0, 5.0)
    assert y.tolist() == [5.0, 2.0]
    z = ember.tensor([-3.0, 3.0])
    F.hardtanh_(z)
    assert z.tolist() == [-1.0, 1.0]


LAYERS = [
    (nn.ReLU, {}, "ReLU()"), (nn.ReLU, {"inplace": True}, "ReLU(inplace=True)"),
    (nn.ReLU6, {}, "ReLU6()"), (nn.LeakyReLU, {"negative_slope": 0.2}, "LeakyReLU(negative_slope=0.2)"),
    (nn.Hardtanh, {"min_val": -2.0, "max_val": 2.0}, "Hardtanh(min_val=-2.0, max_val=2.0)"),
    (nn.Hardsigmoid, {}, "Hardsigmoid()"), (nn.Hardswish, {}, "Hardswish()"),
    (nn.LogSigmoid, {}, "LogSigmoid()"), (nn.Mish, {}, "Mish()"), (nn.CELU, {"alpha": 0.5}, "CELU(alpha=0.5)"),
    (nn.SELU, {}, "SELU()"), (nn.ELU, {"alpha": 1.5}, "ELU(alpha=1.5)"), (nn.SiLU, {}, "SiLU()"),
    (nn.Softsign, {}, "Softsign()"), (nn.Softshrink, {"lambd": 0.3}, "Softshrink(0.3)"),
    (nn.Hardshrink, {}, "Hardshrink(0.5)"), (nn.Tanhshrink, {}, "Tanhshrink()"),
    (nn.Threshold, {"threshold": 0.1, "value": 2.0}, "Threshold(threshold=0.1, value=2.0)"),
    (nn.GLU, {}, "GLU(dim=-1)"), (nn.GELU, {"approximate": "tanh"}, "GELU(approximate='tanh')"),
    (nn.Softplus, {"beta": 2.0}, "Softplus(beta=2.0, threshold=20.0)"), (nn.Softmin, {"dim": 1}, "Softmin(dim=1)"),
]


@pytest.mark.parametrize("cls, kwargs, text", LAYERS, ids=[t for _, _, t in LAYERS])
def test_layers_have_torch_names_signatures_values_and_reprs(cls, kwargs, text):
    values = np.random.default_rng(3).standard_normal((2, 4)) * 3
    ours = cls(**kwargs)
    theirs = getattr(torch.nn, cls.__name__)(**kwargs)
    assert repr(ours) == repr(theirs) == text
    np.testing.assert_allclose(ours(ember.tensor(values)).numpy(), theirs(torch.tensor(values)).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_inplace_layer_mutates_its_input():
    x = ember.tensor([-1.0, 1.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 1.0]
