"""Elementwise math against PyTorch: edge values (0, ±inf, NaN, negatives), zero-gradient
rounding, integer and bitwise ops, rounding division, pow's edge gradients, tensor clamp bounds.

The smooth ops' values and gradients on ordinary inputs are in the registry
(tests/ops/registry.py); this file holds what a random draw never hits.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.ops import elementwise as E

torch = pytest.importorskip("torch")

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 2.5, 3.5, 1e-30, 1e30, np.inf, -np.inf, np.nan]


def _both(values, dtype="float64", requires_grad=False):
    array = np.array(values, dtype=dtype)
    return (ember.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def _close(mine, theirs, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True)


UNARY = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10", "exp2",
         "expm1", "rsqrt", "reciprocal", "square"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_values_and_gradients_at_edges_match_torch(name, dtype):
    values = EDGES + [0.999, -0.999, 1.5, 20.0]
    ours, theirs = _both(values, dtype, requires_grad=True)
    out, ref = getattr(E, name)(ours), getattr(torch, name)(theirs)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    _close(out, ref, rtol=rtol)
    out.backward(ember.ones_like(out))
    ref.backward(torch.ones_like(ref))
    _close(ours.grad, theirs.grad, rtol=rtol * 10)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_piecewise_constant_ops_have_zero_gradients_like_torch(name):
    ours, theirs = _both(EDGES, requires_grad=True)
    out, ref = getattr(E, name)(ours), getattr(torch, name)(theirs)
    _close(out, ref)
    assert out.requires_grad
    out.backward(ember.ones_like(out))
    ref.backward(torch.ones_like(ref))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert not ours.grad.numpy().any()


def test_frac_has_gradient_one_and_the_sign_of_x():
    ours, theirs = _both([2.75, -2.75, 0.0, np.inf, np.nan], requires_grad=True)
    out, ref = E.frac(ours), torch.frac(theirs)
    _close(out, ref)
    out.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), np.ones(5))


def test_round_is_half_to_even_with_decimals_like_torch():
    for decimals in (0, 1, 2, -1, -2):
        for dtype in ("float32", "float64"):
            values = [0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.375, 1234.5, 1250.0, 1350.0, -1250.0, 2.675]
            ours, theirs = _both(values, dtype)
            _close(E.round(ours, decimals=decimals), torch.round(theirs, decimals=decimals), rtol=0)


def test_rounding_keeps_integers_and_their_dtype():
    x = ember.tensor([3, -4])
    for fn in (E.floor, E.ceil, E.trunc, E.round):
        out = fn(x)
        assert out.dtype == np.int64 and out.tolist() == [3, -4]
    with pytest.raises(TypeError, match="round: decimals=-1 needs a floating-point tensor"):
        E.round(x, decimals=-1)


def test_sign_of_nan_is_zero_and_bool_stays_bool():
    assert E.sign(ember.tensor([np.nan, -3.0, 0.0])).tolist() == [0.0, -1.0, 0.0]
    assert E.sign(ember.tensor([True, False])).dtype == np.bool_


def test_nan_inf_tests_give_bool_and_no_gradient():
    ours, theirs = _both(EDGES, requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        out = getattr(E, name)(ours)
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(theirs).numpy())
    assert E.isnan(ember.tensor([1, 2])).tolist() == [False, False]


def test_logical_ops_match_torch_on_mixed_truth_values():
    a, b = [0.0, 2.0, -1.0, 0.0], [0, 0, 3, 5]
    for name in ("logical_and", "logical_or", "logical_xor"):
        out = getattr(E, name)(ember.tensor(a), ember.tensor(b))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert out.dtype == np.bool_ and out.tolist() == ref.tolist()
    assert E.logical_not(ember.tensor(a)).tolist() == torch.logical_not(torch.tensor(a)).tolist()


def test_bitwise_ops_match_torch_for_ints_and_bools():
    a, b = [12, -7, 0, 255], [10, 3, -1, 1]
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        out = getattr(E, name)(ember.tensor(a), ember.tensor(b))
        assert out.tolist() == getattr(torch, name)(torch.tensor(a), torch.tensor(b)).tolist()
        bools = getattr(E, name)(ember.tensor([True, False, True]), ember.tensor([True, True, False]))
        assert bools.dtype == np.bool_
    assert E.bitwise_not(ember.tensor(a)).tolist() == torch.bitwise_not(torch.tensor(a)).tolist()
    assert E.bitwise_not(ember.tensor([True, False])).tolist() == [False, True]
    assert E.bitwise_and(ember.tensor([6]), 3).tolist() == [2]


def test_bitwise_ops_refuse_floats():
    with pytest.raises(TypeError, match="bitwise_and: expected integer or boolean tensors"):
        E.bitwise_and(ember.tensor([1.0]), ember.tensor([1.0]))
    with pytest.raises(TypeError, match="bitwise_not: expected an integer or boolean tensor"):
        E.bitwise_not(ember.tensor([1.0]))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
def test_shifts_follow_torch_outside_the_bit_width(dtype):
    a = np.array([1, 5, 100, 3, 7, 1], dtype=dtype)
    if dtype != "uint8":
        a[1] = -5
    b = np.array([0, 1, 3, 70, -1, 8], dtype=dtype if dtype != "uint8" else "int64")
    b = np.where(b < 0, 0, b) if dtype == "uint8" else b
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        out = getattr(E, name)(ember.tensor(a), ember.tensor(b.astype(dtype)))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b.astype(dtype)))
        assert out.tolist() == ref.tolist(), name


def test_fmod_and_remainder_sign_conventions_match_torch():
    a, b = [-3.0, 3.0, -3.0, 3.0, 5.5, -0.0], [2.0, -2.0, -2.0, 2.0, 1.5, 2.0]
    ours_a, theirs_a = _both(a, requires_grad=True)
    ours_b, theirs_b = _both(b, requires_grad=True)
    for name in ("fmod", "remainder"):
        out, ref = getattr(E, name)(ours_a, ours_b), getattr(torch, name)(theirs_a, theirs_b)
        _close(out, ref)
        grads = ember.autograd.grad(out.sum(), [ours_a, ours_b])
        ref_grads = torch.autograd.grad(ref.sum(), [theirs_a, theirs_b])
        for mine, theirs in zip(grads, ref_grads):
            _close(mine, theirs)
    ia, ib = ember.tensor([-7, 7, -7]), ember.tensor([2, -2, -2])
    assert E.fmod(ia, ib).tolist() == torch.fmod(torch.tensor([-7, 7, -7]), torch.tensor([2, -2, -2])).tolist()
    assert E.remainder(ia, ib).tolist() == [1, -1, -1]


def test_integer_division_by_zero_is_an_error_like_torch():
    for fn in (E.fmod, E.remainder, E.floor_divide):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(ember.tensor([1, 2]), ember.tensor([1, 0]))
    assert E.fmod(ember.tensor([1.0]), 0.0).isnan().tolist() == [True]


def test_div_rounding_modes_match_torch_for_ints_and_floats():
    for values in ([-7, 7, -6, 0, 9], [-7.5, 7.5, -6.0, 0.0, 9.0]):
        a, b = np.array(values), np.array([2, -2, 4, 3, -4], dtype=np.array(values).dtype)
        for mode in (None, "trunc", "floor"):
            out = E.div(ember.tensor(a), ember.tensor(b), rounding_mode=mode)
            ref = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
            assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(E.floor_divide(ember.tensor([1.0, -1.0]), 0.0).numpy(), [np.inf, -np.inf])
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        E.div(ember.tensor([1.0]), 2.0, rounding_mode="round")


def test_rounded_division_has_zero_gradients():
    a = ember.tensor([3.0, -5.0], requires_grad=True)
    b = ember.tensor([2.0, 2.0], requires_grad=True)
    out = E.div(a, b, rounding_mode="floor")
    assert out.requires_grad
    ga, gb = ember.autograd.grad(out.sum(), [a, b])
    assert ga.tolist() == [0.0, 0.0] and gb.tolist() == [0.0, 0.0]


def test_pow_gradients_at_zero_and_negative_bases_match_torch():
    base = [0.0, 0.0, 0.0, -2.0, 2.0, -2.0, 0.0]
    exponent = [0.0, -1.0, 2.0, 3.0, 0.5, 0.5, 1.0]
    ours_a, theirs_a = _both(base, requires_grad=True)
    ours_b, theirs_b = _both(exponent, requires_grad=True)
    out, ref = ours_a ** ours_b, theirs_a ** theirs_b
    _close(out, ref)
    grads = ember.autograd.grad(out.sum(), [ours_a, ours_b])
    ref_grads = torch.autograd.grad(ref.sum(), [theirs_a, theirs_b])
    for mine, theirs in zip(grads, ref_grads):
        _close(mine, theirs)


@pytest.mark.parametrize("p", [0, 0.0, 1, 2, 3, 0.5, -1])
def test_pow_scalar_gradient_at_zero_matches_torch(p):
    ours, theirs = _both([0.0, -2.0, 1.5], requires_grad=True)
    out, ref = ours ** p, theirs ** p
    _close(out, ref)
    (g,) = ember.autograd.grad(out.sum(), [ours])
    (r,) = torch.autograd.grad(ref.sum(), [theirs])
    _close(g, r)


def test_scalar_base_with_tensor_exponent_at_zero_base():
    ours, theirs = _both([0.0, 1.0, -1.0], requires_grad=True)
    out, ref = 0.0 ** ours, 0.0 ** theirs
    _close(out, ref)
    (g,) = ember.autograd.grad(out.sum(), [ours])
    (r,) = torch.autograd.grad(ref.sum(), [theirs])
    _close(g, r)


def test_clamp_with_tensor_bounds_routes_gradients_like_torch():
    # Includes NaN, low == high with x below, and low > high (the result is then high).
    x = [-2.0, 0.5, 3.0, np.nan, 1.0, 0.0, 2.0, np.nan]
    lo, hi = [-1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 3.0, 3.0], [1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0, 1.0]
    tensors = [_both(v, requires_grad=True) for v in (x, lo, hi)]
    ours, theirs = zip(*tensors)
    out, ref = E.clamp(*ours), torch.clamp(*theirs)
    _close(out, ref)
    grads = ember.autograd.grad(out.sum(), list(ours))
    ref_grads = torch.autograd.grad(ref.sum(), list(theirs))
    for mine, reference in zip(grads, ref_grads):
        _close(mine, reference)


def test_clamp_scalar_bounds_include_the_bounds_and_allow_min_above_max():
    ours, theirs = _both([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    out, ref = E.clamp(ours, 0.0, 1.0), torch.clamp(theirs, 0.0, 1.0)
    _close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    _close(ours.grad, theirs.grad)
    assert E.clamp(ember.tensor([0.0, 5.0]), 2.0, 1.0).tolist() == [1.0, 1.0]
    assert E.clip(ember.tensor([0.0, 5.0]), None, 1.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="at least one of 'min' or 'max'"):
        E.clamp(ember.tensor([1.0]))


def test_lerp_hits_end_exactly_and_matches_torch_gradients():
    start, end = _both([1e8, -3.0, 0.1], requires_grad=True), _both([1.0, 7.0, 0.3], requires_grad=True)
    weight = _both([1.0, 0.25, 0.75], requires_grad=True)
    ours, theirs = zip(start, end, weight)
    ours, theirs = list(zip(*[start, end, weight]))
    out, ref = E.lerp(*ours), torch.lerp(*theirs)
    _close(out, ref)
    assert out.tolist()[0] == 1.0
    grads = ember.autograd.grad(out.sum(), list(ours))
    ref_grads = torch.autograd.grad(ref.sum(), list(theirs))
    for mine, reference in zip(grads, ref_grads):
        _close(mine, reference)
    assert E.lerp(ember.tensor([0.0]), ember.tensor([10.0]), 0.3).tolist() == [3.0]


def test_xlogy_is_zero_where_x_is_zero_unless_y_is_nan():
    ours_x, theirs_x = _both([0.0, 0.0, 2.0, 0.0, 3.0], requires_grad=True)
    ours_y, theirs_y = _both([0.0, np.nan, 1.0, 5.0, 2.0], requires_grad=True)
    out, ref = E.xlogy(ours_x, ours_y), torch.xlogy(theirs_x, theirs_y)
    _close(out, ref)
    grads = ember.autograd.grad(out.sum(), [ours_x, ours_y])
    ref_grads = torch.autograd.grad(ref.sum(), [theirs_x, theirs_y])
    for mine, reference in zip(grads, ref_grads):
        _close(mine, reference)


def test_two_argument_functions_at_extremes_match_torch():
    a, b = [1e300, 0.0, -1.0, 1000.0, -np.inf], [1e300, -1.0, -0.0, 1000.0, 3.0]
    for name in ("hypot", "atan2", "logaddexp"):
        (ours_a, theirs_a), (ours_b, theirs_b) = _both(a), _both(b)
        _close(getattr(E, name)(ours_a, ours_b), getattr(torch, name)(theirs_a, theirs_b))


def test_integer_inputs_are_promoted_like_torch():
    assert E.reciprocal(ember.tensor([2, 4])).tolist() == [0.5, 0.25]
    assert E.square(ember.tensor([-3, 2])).dtype == np.int64
    assert E.atan2(ember.tensor([1]), ember.tensor([1])).dtype == np.float32


@pytest.mark.parametrize("fn", [E.tan, E.asinh, E.expm1, E.frac])
def test_float64_gradcheck_of_composed_graph(fn):
    x = ember.tensor(np.array([0.3, -0.7, 0.45]), requires_grad=True)
    assert gradcheck(lambda t: fn(t) * t, [x])


def test_warnings_are_silent_outside_the_domain():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(E.asin(ember.tensor([2.0])).numpy()).all()
        assert E.log2(ember.tensor([0.0])).tolist() == [-np.inf]
