"""Activations: PyTorch parity (values and gradients, also at kinks), float64 gradchecks, stability."""
import math

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients, normal


def _torch_module(fn):
    """A parameter-free PyTorch module applying ``fn`` (for layers PyTorch lacks)."""
    def build(torch):
        class Wrapped(torch.nn.Module):
            def forward(self, x):
                return fn(torch, x)
        return Wrapped()
    return build


def _torch_maxout(torch, x):
    return x.reshape(x.shape[:-1] + (x.shape[-1] // 3, 3)).max(dim=-1).values


CASES = [
    LayerCase("ReLU", nn.ReLU, lambda t: t.nn.ReLU(), normal(4, 5)),
    LayerCase("LeakyReLU", lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2), normal(4, 5)),
    LayerCase("PReLU-shared", nn.PReLU, lambda t: t.nn.PReLU(), normal(4, 5)),
    LayerCase("PReLU-channels", lambda: nn.PReLU(3, init=0.1), lambda t: t.nn.PReLU(3, init=0.1), normal(2, 3, 4)),
    LayerCase("Threshold", lambda: nn.Threshold(0.1, -2.0), lambda t: t.nn.Threshold(0.1, -2.0), normal(4, 5)),
    LayerCase("ELU", lambda: nn.ELU(0.7), lambda t: t.nn.ELU(0.7), normal(4, 5, scale=2), second_order=True),
    LayerCase("SELU", nn.SELU, lambda t: t.nn.SELU(), normal(4, 5), second_order=True),
    LayerCase("GELU", nn.GELU, lambda t: t.nn.GELU(), normal(4, 5, scale=2), second_order=True),
    LayerCase("GELU-tanh", lambda: nn.GELU("tanh"), lambda t: t.nn.GELU("tanh"), normal(4, 5, scale=2),
              second_order=True),
    LayerCase("SiLU", nn.SiLU, lambda t: t.nn.SiLU(), normal(4, 5), second_order=True),
    LayerCase("Sigmoid", nn.Sigmoid, lambda t: t.nn.Sigmoid(), normal(4, 5), second_order=True),
    LayerCase("Tanh", nn.Tanh, lambda t: t.nn.Tanh(), normal(4, 5), second_order=True),
    LayerCase("Softplus", lambda: nn.Softplus(beta=2.0, threshold=5.0),
              lambda t: t.nn.Softplus(beta=2.0, threshold=5.0), normal(4, 5, scale=3), second_order=True),
    LayerCase("LogSigmoid", nn.LogSigmoid, lambda t: t.nn.LogSigmoid(), normal(4, 5, scale=3), second_order=True),
    LayerCase("Softsign", nn.Softsign, lambda t: t.nn.Softsign(), normal(4, 5), second_order=True),
    LayerCase("Hardtanh", lambda: nn.Hardtanh(-0.5, 0.8), lambda t: t.nn.Hardtanh(-0.5, 0.8), normal(4, 5)),
    LayerCase("Abs", nn.Abs, _torch_module(lambda t, x: t.abs(x)), normal(4, 5)),
    LayerCase("Maxout", lambda: nn.Maxout(3), _torch_module(_torch_maxout), normal(2, 4, 6)),
    LayerCase("Softmax", lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1), normal(3, 4, 2),
              second_order=True),
    LayerCase("Softmax-dim0", lambda: nn.Softmax(dim=0), lambda t: t.nn.Softmax(dim=0), normal(3, 4)),
    LayerCase("LogSoftmax", lambda: nn.LogSoftmax(dim=1), lambda t: t.nn.LogSoftmax(dim=1), normal(3, 5, scale=3),
              second_order=True),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


KINKS = np.array([-2.0, -1.0, -0.5, 0.0, 0.1, 0.5, 0.8, 1.0, 3.0, 25.0])
ELEMENTWISE = [c for c in CASES if c.name not in ("Maxout", "Softmax", "Softmax-dim0", "LogSoftmax")
               and "channels" not in c.name]


@pytest.mark.parametrize("case", ELEMENTWISE, ids=repr)
def test_gradients_at_kinks_and_thresholds_match_pytorch(case):
    """Exactly at 0, at the thresholds and past softplus's linear switch, the subgradients agree."""
    torch = pytest.importorskip("torch")
    kinks = case.name
    check_against_torch(torch, LayerCase(kinks, case.ember, case.torch, lambda r: [KINKS.copy()]), "float64")


def test_log_softmax_and_softmax_are_stable_for_huge_logits():
    torch = pytest.importorskip("torch")
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0]], dtype=np.float32)
    for ours, theirs in ((F.log_softmax, torch.log_softmax), (F.softmax, torch.softmax)):
        x = ember.tensor(logits, requires_grad=True)
        y = ours(x, dim=1)
        assert np.isfinite(y.numpy()).all()
        y.backward(ember.ones(*y.shape))
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(logits), 1).numpy(), rtol=1e-6, atol=1e-6)


def test_rows_of_all_minus_infinity_follow_the_documented_rule():
    """softmax gives zeros, log_softmax gives -inf, gradients are finite; other rows are untouched."""
    torch = pytest.importorskip("torch")
    inf = float("inf")
    logits = np.array([[-inf, -inf, -inf], [0.5, -inf, 1.0]], dtype=np.float32)
    x = ember.tensor(logits, requires_grad=True)
    p = F.softmax(x, dim=1)
    assert p.tolist()[0] == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(p.numpy()[1], torch.softmax(torch.tensor(logits[1]), 0).numpy(), rtol=1e-6)
    p.backward(ember.ones(2, 3))
    assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy()[0] == 0).all()
    x = ember.tensor(logits, requires_grad=True)
    logp = F.log_softmax(x, dim=1)
    assert logp.tolist()[0] == [-inf, -inf, -inf]
    np.testing.assert_allclose(logp.numpy()[1], torch.log_softmax(torch.tensor(logits[1]), 0).numpy(), rtol=1e-6)
    g = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    logp.backward(ember.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy()[0], g[0])  # passes through, as for a constant shift


def test_gelu_is_exact_in_float64():
    xs = np.linspace(-8, 8, 161)
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs]
    np.testing.assert_allclose(F.gelu(ember.tensor(xs)).numpy(), expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(F.erf(ember.tensor(xs)).numpy(), [math.erf(v) for v in xs], rtol=1e-15, atol=1e-16)


def test_softplus_slope_at_zero_is_one_half():
    x = ember.tensor([0.0], requires_grad=True)
    F.softplus(x).backward(ember.ones(1))
    assert x.grad.tolist() == [0.5]


def test_binary_entropy_pieces_do_not_overflow():
    x = ember.tensor([-1000.0, 1000.0], requires_grad=True)
    y = F.log_sigmoid(x) + F.softplus(x) + F.elu(x) + F.silu(x)
    y.backward(ember.ones(2))
    assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_prelu_slope_count_must_match_channels():
    with pytest.raises(ValueError, match=r"prelu: 3 slopes for an input of shape \(2, 4\) with 4 channels"):
        nn.PReLU(3)(ember.zeros(2, 4))


def test_maxout_rejects_indivisible_width():
    with pytest.raises(ValueError, match=r"maxout: dimension 1 of shape \(2, 5\) \(5 features\) is not a "
                                         r"multiple of pool_size 2"):
        nn.Maxout(2)(ember.zeros(2, 5))


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="GELU: approximate must be"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_modules_have_no_parameters_except_prelu_and_print_settings():
    assert list(nn.ReLU().parameters()) == []
    assert [n for n, _ in nn.PReLU(4).named_parameters()] == ["weight"]
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
