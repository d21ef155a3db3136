"""Property-based tests (hypothesis): broadcasting and reductions over random shapes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(["add", "sub", "mul", "maximum"]))
def test_broadcasting_binary_ops(shapes, op):
    rng = np.random.default_rng(0)
    a_shape, b_shape = shapes.input_shapes
    a = rng.standard_normal(a_shape)
    b = rng.standard_normal(b_shape)
    ta = ember.tensor(a, requires_grad=True)
    tb = ember.tensor(b, requires_grad=True)
    out = getattr(ember, op)(ta, tb)
    np.testing.assert_allclose(out.numpy(), getattr(np, {"sub": "subtract", "mul": "multiply"}.get(op, op))(a, b))
    g = rng.standard_normal(out.shape)
    out.backward(ember.tensor(g))
    # Undoing the broadcast: every gradient has its input's shape, and for add the
    # gradient is the cotangent summed over the broadcast dimensions.
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    if op == "add":
        np.testing.assert_allclose(ta.grad.numpy(), _sum_to(g, a.shape), atol=1e-12)
        np.testing.assert_allclose(tb.grad.numpy(), _sum_to(g, b.shape), atol=1e-12)


def _sum_to(g, shape):
    """Reference un-broadcast: sum leading dims, then dims where the input had size 1."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


@SETTINGS
@given(data=st.data(), op=st.sampled_from(["sum", "mean", "max", "min", "prod", "logsumexp"]),
       keepdims=st.booleans())
def test_reductions_over_random_axes(data, op, keepdims):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                                   max_size=len(shape), unique=True)))
    axis = None if axes is None else tuple(axes)
    x = np.random.default_rng(1).standard_normal(shape)
    t = ember.tensor(x, requires_grad=True)
    # max/min over several dims are amax/amin in PyTorch's API (max(dim) gives (values, indices))
    method = {"max": "amax", "min": "amin"}.get(op, op) if axis is not None else op
    out = getattr(t, method)(axis=axis, keepdims=keepdims)
    if op == "logsumexp":
        expected = np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))
    else:
        expected = getattr(np, op)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    out.sum().backward()
    assert t.grad.shape == x.shape
    if op == "sum":
        np.testing.assert_array_equal(t.grad.numpy(), np.ones(shape))
    if op in ("max", "min"):
        # one unit of gradient per reduced slice
        np.testing.assert_allclose(t.grad.numpy().sum(), np.size(expected))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 1000))
def test_reshape_transpose_round_trip_gradients(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    t = ember.tensor(x, requires_grad=True)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    y = t.permute(perm).reshape(-1)
    weights = np.arange(y.numel(), dtype=float)
    (y * ember.tensor(weights)).sum().backward()
    expected = weights.reshape(np.transpose(x, perm).shape).transpose(np.argsort(perm))
    np.testing.assert_array_equal(t.grad.numpy(), expected)
