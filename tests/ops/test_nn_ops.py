"""The fused primitives of ember.ops.nn: first and second derivatives, accuracy, edge cases."""
import math

import numpy as np
import pytest

import ember
from ember.ops import special as S
from ember.autograd import gradcheck, gradgradcheck, hvp
from ember.ops import nn as N


def rand(*shape, scale=1.0, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape) * scale, requires_grad=True)


PRIMITIVES = {
    "log_softmax-axis0": (lambda x: N.log_softmax(x, 0), [rand(3, 4)]),
    "log_softmax-axis-1": (lambda x: N.log_softmax(x, -1), [rand(2, 3, 4, scale=3)]),
    "softmax-axis1": (lambda x: N.softmax(x, 1), [rand(2, 3, 2)]),
    "nll-mean": (lambda x: N.nll(x, ember.tensor([0, 2, 1]), ember.tensor([1.0, 2.0, 0.5], dtype="float64")),
                 [rand(3, 3)]),
    "nll-none-ignore": (lambda x: N.nll(x, ember.tensor([[0, -100], [2, 1]]), reduction="none"), [rand(2, 3, 2)]),
    "nll-single": (lambda x: N.nll(x, ember.tensor(1), reduction="sum"), [rand(4)]),
    "linear": (N.linear, [rand(3, 4), rand(2, 4, seed=1), rand(2, seed=2)]),
    "linear-3d-no-bias": (N.linear, [rand(2, 3, 4), rand(5, 4, seed=1)]),
    "linear-vector": (N.linear, [rand(4), rand(2, 4, seed=1), rand(2, seed=2)]),
    "erf": (S.erf, [rand(10, scale=2)]),
    "gelu": (N.gelu, [rand(10, scale=2)]),
    "gelu-tanh": (lambda x: N.gelu(x, "tanh"), [rand(10, scale=2)]),
    "normalize-rows": (lambda x: N.normalize(x, 1), [rand(3, 4)]),
    "normalize-channels": (lambda x: N.normalize(x, (0, 2, 3), eps=1e-3), [rand(2, 2, 2, 3)]),
    "embedding": (lambda w: N.embedding(ember.tensor([[0, 3, 3], [1, 0, 4]]), w), [rand(5, 2)]),
}


@pytest.mark.parametrize("name", PRIMITIVES)
def test_gradcheck_reverse_and_forward(name):
    f, inputs = PRIMITIVES[name]
    assert gradcheck(f, inputs)


@pytest.mark.parametrize("name", PRIMITIVES)
def test_gradgradcheck(name):
    f, inputs = PRIMITIVES[name]
    assert gradgradcheck(f, inputs)


def test_erf_is_accurate_to_float64_rounding():
    xs = np.concatenate([np.linspace(-7, 7, 14001), [0.46875, -0.46875, 4.0, -4.0, 1e-300, 30.0]])
    expected = np.array([math.erf(v) for v in xs])
    got = S.erf(ember.tensor(xs)).numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-15, atol=1e-300)


def test_erf_in_other_dtypes_and_at_special_values():
    xs32 = np.linspace(-5, 5, 101).astype(np.float32)
    np.testing.assert_allclose(S.erf(ember.tensor(xs32)).numpy(), [math.erf(v) for v in xs32], atol=2e-7)
    assert S.erf(ember.tensor([0.5], dtype="float16")).dtype == np.float16
    out = S.erf(ember.tensor([np.nan, np.inf, -np.inf, -0.0], dtype="float64")).numpy()
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == -1.0 and np.signbit(out[3])


def test_log_softmax_matches_a_float64_reference_at_any_magnitude():
    for scale in (1.0, 1e2, 1e4, 1e30):
        x = np.random.default_rng(1).standard_normal((4, 6)) * scale
        reference = x - x.max(1, keepdims=True)
        reference = reference - np.log(np.exp(reference).sum(1, keepdims=True))
        np.testing.assert_allclose(N.log_softmax(ember.tensor(x), 1).numpy(), reference, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(N.softmax(ember.tensor(x), 1).numpy(), np.exp(reference), rtol=1e-12, atol=1e-300)


def test_minus_infinity_entries_are_zero_probability():
    x = ember.tensor([[0.0, -np.inf, 0.0]], requires_grad=True)
    p = N.softmax(x, 1)
    assert p.tolist() == [[0.5, 0.0, 0.5]]
    p.backward(ember.tensor([[1.0, 5.0, 0.0]]))
    assert np.isfinite(x.grad.numpy()).all() and x.grad.tolist()[0][1] == 0.0


def test_nll_weighted_mean_divides_by_the_counted_weights():
    logp = ember.tensor([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]])
    loss = N.nll(logp, ember.tensor([0, 1, -100]), ember.tensor([2.0, 3.0]))
    assert loss.item() == pytest.approx((2 * 1 + 3 * 4) / 5)


def test_linear_matches_matmul_and_add():
    x, w, b = rand(5, 3), rand(4, 3, seed=1), rand(4, seed=2)
    np.testing.assert_allclose(N.linear(x, w, b).numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-12)


def test_normalize_with_given_statistics_equals_computing_them():
    x = rand(4, 3, 5)
    stats = tuple(t._data for t in N.moments(x, (0, 2)))
    np.testing.assert_allclose(N.normalize(x, (0, 2), stats=stats).numpy(), N.normalize(x, (0, 2)).numpy())


def test_normalize_hessian_vector_product_forward_over_reverse():
    """The jvp of normalize's vjp must see invstd depend on x (the cached constant would be wrong)."""
    x = rand(3, 4)
    v = rand(3, 4, seed=5).detach()
    w = rand(3, 4, seed=6).detach()

    def f(x):
        return (N.normalize(x, 1) * w).sum()

    got = hvp(f, (x.detach(),), (v,)).numpy()
    eps = 1e-6

    def gradient(point):
        p = ember.tensor(point, requires_grad=True)
        f(p).backward()
        return p.grad.numpy()

    expected = (gradient(x.numpy() + eps * v.numpy()) - gradient(x.numpy() - eps * v.numpy())) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_embedding_backward_equals_add_at_on_a_word_sized_table():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 10_000, (35, 20))
    g = rng.standard_normal((35, 20, 16))
    w = ember.zeros(10_000, 16, dtype="float64", requires_grad=True)
    N.embedding(ember.tensor(idx), w).backward(ember.tensor(g))
    expected = np.zeros((10_000, 16))
    np.add.at(expected, idx.reshape(-1), g.reshape(-1, 16))
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
