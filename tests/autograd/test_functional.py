"""Transforms: grad, value_and_grad, vjp, jvp, hvp, jacobian, hessian and their nesting."""
import numpy as np
import pytest

import ember
from ember.autograd import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp


def f(x):
    return (x.sin() * x ** 2).sum()


def df(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def d2f(x):
    return -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)


def test_grad_matches_closed_form():
    x = np.array([0.3, -1.2, 2.0])
    g = grad(f)(ember.tensor(x, dtype="float64"))
    np.testing.assert_allclose(g.numpy(), df(x), rtol=1e-12)


def test_grad_does_not_touch_dot_grad_and_leaves_graph_free():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda t: (t * t).sum())(x)
    assert x.grad is None
    assert g.tolist() == [2.0, 4.0]


def test_value_and_grad_argnums_and_aux():
    def loss(w, b, x):
        out = (x @ w + b).tanh()
        return (out ** 2).mean(), out

    w, b, x = ember.randn(3, 2), ember.randn(2), ember.randn(5, 3)
    (value, aux), (gw, gb) = value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, b, x)
    assert aux.shape == (5, 2) and gw.shape == (3, 2) and gb.shape == (2,)
    assert not value.requires_grad
    eps = 1e-3
    w2 = w.numpy().copy()
    w2[1, 0] += eps
    bumped = loss(ember.tensor(w2), b, x)[0].item()
    assert (bumped - value.item()) / eps == pytest.approx(gw.numpy()[1, 0], rel=2e-2, abs=1e-4)


def test_grad_of_grad_is_second_derivative():
    x = np.array([0.7, -0.4])
    second = grad(lambda t: grad(f)(t).sum())(ember.tensor(x, dtype="float64"))
    np.testing.assert_allclose(second.numpy(), d2f(x), rtol=1e-10)


def test_grad_rejects_non_scalar_and_integer_inputs():
    with pytest.raises(ValueError, match="one-element"):
        grad(lambda t: t * 2)(ember.ones(3))
    with pytest.raises(TypeError, match="floating"):
        grad(lambda t: t.sum())(ember.tensor([1, 2]))


def test_vjp_pullback_reusable():
    out, pullback = vjp(lambda a, b: a * b, ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    assert out.tolist() == [3.0, 8.0]
    ga, gb = pullback(ember.ones(2))
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0]
    ga2, _ = pullback(ember.tensor([2.0, 0.0]))
    assert ga2.tolist() == [6.0, 0.0]
    with pytest.raises(ValueError, match="cotangent shape"):
        pullback(ember.ones(3))


def test_jvp_is_forward_mode():
    x = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, -2.0, 0.5])
    out, tangent = jvp(lambda t: t.sin() * t ** 2, (ember.tensor(x, dtype="float64"),),
                       (ember.tensor(v, dtype="float64"),))
    np.testing.assert_allclose(tangent.numpy(), df(x) * v, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), np.sin(x) * x ** 2)


def test_jvp_of_jvp_gives_second_directional_derivative():
    x = ember.tensor([0.5, 1.5], dtype="float64")
    v = ember.ones(2, dtype="float64")

    def first(t):
        return jvp(lambda s: s.sin() * s ** 2, (t,), (v,))[1]

    _, second = jvp(first, (x,), (v,))
    np.testing.assert_allclose(second.numpy(), d2f(x.numpy()), rtol=1e-10)


def test_grad_of_jvp_reverse_over_forward():
    x = ember.tensor([0.5, 1.5], dtype="float64")
    v = ember.ones(2, dtype="float64")
    g = grad(lambda t: jvp(lambda s: (s.sin() * s ** 2).sum(), (t,), (v,))[1])(x)
    np.testing.assert_allclose(g.numpy(), d2f(x.numpy()), rtol=1e-10)


def test_hvp_matches_hessian_product():
    def quartic(x):
        return (x ** 4).sum() + (x[0] * x[1]) * 3

    x = ember.tensor([1.0, 2.0], dtype="float64")
    v = ember.tensor([1.0, -1.0], dtype="float64")
    hv = hvp(quartic, (x,), (v,))
    h = np.array([[12.0, 3.0], [3.0, 48.0]])
    np.testing.assert_allclose(hv.numpy(), h @ v.numpy())
    np.testing.assert_allclose(hessian(quartic)(x).numpy(), h)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_modes_agree_with_closed_form(mode):
    a = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    x = ember.tensor([0.1, 0.2, 0.3], dtype="float64")
    jac = jacobian(lambda t: (ember.tensor(a) @ t).tanh(), mode=mode)(x)
    expected = (1 - np.tanh(a @ x.numpy()) ** 2)[:, None] * a
    np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-12)


def test_jacobian_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        jacobian(lambda t: t, mode="sideways")


def test_pytorch_style_grad_with_unused_input():
    import torch

    x = ember.tensor(1.0, requires_grad=True)
    unused = ember.tensor(2.0, requires_grad=True)
    (gx,) = ember.autograd.grad(x * 5, x)  # always a tuple, as torch.autograd.grad
    assert gx.item() == 5.0
    gx, gu = ember.autograd.grad(x * 5, [x, unused], allow_unused=True)
    assert gx.item() == 5.0 and gu is None
    gx, gu = ember.autograd.grad(x * 5, [x, unused], materialize_grads=True)
    assert gu.item() == 0.0
    with pytest.raises(RuntimeError, match="not have been used"):
        ember.autograd.grad(x * 5, [x, unused])
    tx, tu = torch.tensor(1.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    assert len(torch.autograd.grad(tx * 5, tx)) == 1
    assert torch.autograd.grad(tx * 5, [tx, tu], allow_unused=True)[1] is None


def test_two_layer_network_fits_xor_with_manual_sgd():
    from ember.demo import fit_xor

    loss, predictions = fit_xor(steps=1500)
    assert predictions == [0, 1, 1, 0]
    assert loss < 0.05


def test_two_layer_network_fits_regression():
    from ember.demo import fit_sine

    assert fit_sine(steps=1500) < 0.02
