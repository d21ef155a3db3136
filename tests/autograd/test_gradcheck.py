"""gradcheck must catch wrong rules: a check that cannot fail is worthless."""
import numpy as np
import pytest

import ember
from ember.autograd import Function, GradcheckError, gradcheck, gradgradcheck
from ember.backend import array_module


class _Square(Function):
    """x**2 with deliberately configurable rules."""

    save_inputs = (0,)
    vjp_scale = 2.0
    jvp_scale = 2.0

    @staticmethod
    def forward(ctx, x):
        return x * x


def _square_op(vjp_scale, jvp_scale):
    class Op(_Square):
        @staticmethod
        def vjp(ctx, g):
            return g * ctx.saved[0] * vjp_scale

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.inputs[0] * jvp_scale

    return Op


def x64():
    return ember.randn(3, dtype="float64", requires_grad=True)


def test_correct_rules_pass():
    assert gradcheck(_square_op(2.0, 2.0).apply, (x64(),))
    assert gradgradcheck(_square_op(2.0, 2.0).apply, (x64(),))


def test_wrong_vjp_is_caught():
    with pytest.raises(GradcheckError, match="reverse-mode"):
        gradcheck(_square_op(3.0, 2.0).apply, (x64(),))


def test_wrong_jvp_is_caught():
    with pytest.raises(GradcheckError, match="forward-mode"):
        gradcheck(_square_op(2.0, 1.0).apply, (x64(),))


def test_raise_exception_false_returns_false():
    assert gradcheck(_square_op(3.0, 2.0).apply, (x64(),), raise_exception=False) is False


def test_wrong_second_derivative_is_caught():
    # A vjp built from raw arrays is right to first order but invisible to a second pass.
    class Detached(_Square):
        @staticmethod
        def vjp(ctx, g):
            x = ctx.saved[0]
            return ember.Tensor(g.data * 2 * x.data)

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.inputs[0] * 2.0

    assert gradcheck(Detached.apply, (x64(),))
    with pytest.raises(GradcheckError):
        gradgradcheck(Detached.apply, (x64(),))


def test_float32_inputs_are_refused():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda x: x * 2, (ember.randn(3, requires_grad=True),))


def test_multiple_outputs_and_unmarked_inputs():
    a = ember.randn(2, 3, dtype="float64")
    b = ember.randn(3, dtype="float64")
    assert gradcheck(lambda a, b: (a * b, (a - b).exp().sum(axis=0)), (a, b))


def test_custom_straight_through_estimator():
    class SignSTE(Function):
        """sign(x) forward, identity backward: the straight-through estimator."""

        @staticmethod
        def forward(ctx, x):
            return array_module(x).sign(x)

        @staticmethod
        def vjp(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            return t

    x = ember.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = SignSTE.apply(x)
    assert y.tolist() == [-1.0, 1.0, 1.0]
    (y * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]
    _, tangent = ember.autograd.jvp(SignSTE.apply, (x.detach(),), (ember.ones(3),))
    assert tangent.tolist() == [1.0, 1.0, 1.0]
    assert SignSTE.name == "signste"
    np.testing.assert_array_equal(y.numpy(), [-1, 1, 1])
