"""The tape: accumulation, freeing, hooks, grad modes, in-place safety, deep graphs."""
import gc
import weakref

import numpy as np
import pytest

import ember


def test_gradients_accumulate_across_backward_calls():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [3 + 2, 3 + 4])


def test_diamond_graph_sums_both_paths():
    x = ember.tensor(2.0, requires_grad=True)
    a = x * x
    y = a * x + a.exp() * 0 + a  # da/dx = 2x; y = x^3 + x^2
    y.backward()
    assert x.grad.item() == pytest.approx(3 * 4 + 2 * 2)


def test_leaf_used_twice_gets_its_own_gradient_buffer():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.data[0] = 100.0  # must not leak into b.grad (the vjp of add returns g twice)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_broadcast_gradient_is_writable_and_reduced():
    b = ember.zeros(4, requires_grad=True)
    (ember.ones(3, 4) + b).sum().backward()
    assert b.grad.shape == (4,)
    b.grad.data += 1  # a real buffer, not a read-only broadcast view
    assert b.grad.tolist() == [4.0] * 4


def test_second_backward_over_freed_graph_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_saved_arrays_are_freed_after_backward():
    x = ember.randn(100, requires_grad=True)
    y = x.exp()
    node = y.node
    z = (y * x).sum()
    z.backward()
    assert node.saved == () and node.out_data is None
    assert z.node.saved == ()


def test_chain_of_100k_ops_does_not_recurse():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_released_when_output_dies():
    x = ember.randn(10, requires_grad=True)
    y = (x.exp() * 2).sum()
    ref = weakref.ref(y.node)
    del y
    gc.collect()
    assert ref() is None


def test_non_scalar_backward_needs_gradient():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(ember.tensor([1.0, 0.0, 2.0]))
    assert x.grad.tolist() == [2.0, 0.0, 4.0]


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_no_grad_and_enable_grad_as_context_and_decorator():
    w = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not (w * 2).requires_grad
        with ember.enable_grad():
            assert (w * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad
    assert ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert not (w + 1).requires_grad


def test_detach_cuts_the_graph():
    x = ember.tensor(3.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad.item() == 3.0


def test_retain_grad_and_hooks():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_integer_tensors_never_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        ember.tensor([1, 2], requires_grad=True)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert not x.argmax().requires_grad
    assert not (x > 1).requires_grad


def test_inplace_on_leaf_requiring_grad_raises():
    w = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1
    with ember.no_grad():
        w += 1
    assert w.tolist() == [2.0, 2.0, 2.0]


def test_inplace_on_saved_tensor_is_detected():
    x = ember.ones(3, requires_grad=True)
    h = x * 2
    y = (h * h).sum()   # mul saves h
    h += 1              # recorded in place: h is rebased, its version bumps
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_on_non_leaf_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h += x * x   # h = 2x + x^2
    h *= 3       # h = 6x + 3x^2
    h.sum().backward()
    assert x.grad.tolist() == [12.0, 18.0]


def test_setitem_is_differentiable():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ember.tensor(5.0, requires_grad=True)
    h = x * 1
    h[1] = v * 2
    (h * ember.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 100.0]
    assert v.grad.item() == 20.0


def test_inplace_without_grad_modifies_data():
    t = ember.zeros(2, 2)
    t[0, 1] = 4
    t *= 2
    t.add_(1)
    assert t.tolist() == [[1.0, 9.0], [1.0, 1.0]]


def test_autograd_backward_several_roots():
    x = ember.tensor(2.0, requires_grad=True)
    ember.autograd.backward([x * 3, x * x])
    assert x.grad.item() == 7.0


def test_create_graph_gives_differentiable_gradients():
    x = ember.tensor(3.0, requires_grad=True)
    y = x ** 4
    (g,) = ember.autograd.grad([y], [x], create_graph=True)
    assert g.item() == pytest.approx(108.0)
    g.backward()
    assert x.grad.item() == pytest.approx(12 * 9)


def test_max_ties_split_evenly():
    x = ember.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    y = ember.tensor([[2.0, 2.0, 2.0]], requires_grad=True)
    y.amin(1).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[1 / 3] * 3], rtol=1e-6)
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 0.0], requires_grad=True)
    ember.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


def test_prod_gradient_with_zeros():
    x = ember.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    x.prod(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


def test_logsumexp_is_stable():
    x = ember.tensor([[1e4, 1e4], [-1e4, 0.0]], requires_grad=True)
    out = x.logsumexp(axis=1)
    np.testing.assert_allclose(out.numpy(), [1e4 + np.log(2), 0.0], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5], [0.0, 1.0]], atol=1e-6)
    neg_inf = ember.tensor([[-np.inf, -np.inf]])
    assert neg_inf.logsumexp(axis=1).tolist() == [-np.inf]
