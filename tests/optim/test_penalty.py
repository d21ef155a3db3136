"""L1 and L2 penalties: values, gradients, and the equivalence of L2 with SGD's weight decay."""
import numpy as np
import pytest
from optim.oracle import ember_loss, ember_params, problem

import ember
from ember.autograd.gradcheck import gradcheck
from ember.nn import Module, Parameter
from ember.optim import SGD, l1_penalty, l2_penalty


def test_values_and_gradients():
    a = ember.tensor([1.0, -2.0], requires_grad=True)
    b = ember.tensor([[0.5], [-0.25]], requires_grad=True)
    l1 = l1_penalty([a, b], 0.1)
    assert l1.item() == pytest.approx(0.1 * 3.75)
    l1.backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [[0.1], [-0.1]], rtol=1e-6)
    a.grad = b.grad = None
    l2 = l2_penalty([a, b], 0.5)
    assert l2.item() == pytest.approx(0.5 * (1 + 4 + 0.25 + 0.0625))
    l2.backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, -2.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [[0.5], [-0.25]], rtol=1e-6)


@pytest.mark.parametrize("penalty", [l1_penalty, l2_penalty])
def test_gradcheck(penalty):
    rng = np.random.default_rng(0)
    a = ember.tensor(rng.standard_normal((3, 2)) + 0.1, requires_grad=True)
    b = ember.tensor(rng.standard_normal(4) + 0.1, requires_grad=True)
    assert gradcheck(lambda x, y: penalty([x, y], 0.3), (a, b))


def test_l2_penalty_equals_sgd_weight_decay():
    weights, x, t = problem("float64")
    with_penalty, with_decay = ember_params(weights), ember_params(weights)
    opt_p, opt_d = SGD(with_penalty, lr=0.1), SGD(with_decay, lr=0.1, weight_decay=0.02)
    for _ in range(5):
        opt_p.zero_grad()
        (ember_loss(with_penalty, x, t) + l2_penalty(with_penalty, 0.01)).backward()
        opt_p.step()
        opt_d.zero_grad()
        ember_loss(with_decay, x, t).backward()
        opt_d.step()
    for p, d in zip(with_penalty, with_decay):
        np.testing.assert_allclose(p.data, d.data, rtol=1e-12)


def test_accepts_a_module_and_a_single_tensor():
    class Two(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(ember.tensor([3.0, 4.0]))
            self.v = Parameter(ember.tensor([-1.0]))

    assert l2_penalty(Two(), 1.0).item() == 26.0
    assert l1_penalty(ember.tensor([3.0, -4.0]), 2.0).item() == 14.0
    assert l1_penalty([], 1.0).item() == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="l2_penalty: weight must be a number >= 0, got -0.1"):
        l2_penalty([ember.ones(2)], -0.1)
    with pytest.raises(TypeError, match="l1_penalty: parameter 1 is a ndarray; expected an ember.Tensor"):
        l1_penalty([ember.ones(2), np.ones(2)], 0.1)
