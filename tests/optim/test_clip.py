"""Gradient clipping against torch.nn.utils, including NaN and inf gradients."""
import math

import numpy as np
import pytest

import ember
from ember.optim import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)


def grads_of(arrays):
    """Ember parameters whose .grad holds copies of ``arrays``."""
    params = []
    for a in arrays:
        p = ember.zeros(*a.shape, dtype=a.dtype, requires_grad=True)
        p.grad = ember.tensor(a.copy())
        params.append(p)
    return params


def torch_grads_of(torch, arrays):
    params = []
    for a in arrays:
        p = torch.zeros(a.shape, dtype=torch.from_numpy(a).dtype, requires_grad=True)
        p.grad = torch.from_numpy(a.copy())
        params.append(p)
    return params


def sample(dtype="float32", scale=1.0):
    rng = np.random.default_rng(0)
    return [(scale * rng.standard_normal(shape)).astype(dtype) for shape in [(5, 4), (4,), (3, 2, 2)]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, 3.0, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm, dtype):
    arrays = sample(dtype)
    ours, theirs = grads_of(arrays), torch_grads_of(torch, arrays)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, ember.Tensor) and total.shape == () and total.dtype == np.dtype(dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(total.item(), expected.item(), rtol=rtol)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol)
    if max_norm < 1:
        assert get_total_norm([p.grad for p in ours], norm_type).item() == pytest.approx(max_norm, rel=1e-4)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nonfinite_gradients_behave_like_torch(torch, bad):
    arrays = sample()
    arrays[1][2] = bad
    ours, theirs = grads_of(arrays), torch_grads_of(torch, arrays)
    total = clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert (math.isnan(total.item()) and math.isnan(expected.item())) or total.item() == expected.item()
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())  # NaNs in the same places


def test_documented_nonfinite_semantics():
    nan_case = grads_of([np.array([1.0, float("nan")], "float32"), np.array([3.0], "float32")])
    assert math.isnan(clip_grad_norm_(nan_case, 1.0).item())
    assert all(np.isnan(p.grad.numpy()).all() for p in nan_case)
    inf_case = grads_of([np.array([1.0, float("inf")], "float32"), np.array([3.0], "float32")])
    assert clip_grad_norm_(inf_case, 1.0).item() == float("inf")
    assert inf_case[1].grad.tolist() == [0.0]
    assert inf_case[0].grad.tolist()[0] == 0.0 and math.isnan(inf_case[0].grad.tolist()[1])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_error_if_nonfinite_leaves_grads_alone(bad):
    params = grads_of([np.array([1.0, bad], "float32"), np.array([30.0], "float32")])
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients is "
                                           r"(nan|inf), so it cannot be clipped"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert params[1].grad.tolist() == [30.0]


def test_small_gradients_are_not_scaled():
    params = grads_of([np.array([0.3, 0.4], "float32")])
    version = params[0].grad._version
    assert clip_grad_norm_(params, 1.0).item() == pytest.approx(0.5)
    assert params[0].grad.tolist() == pytest.approx([0.3, 0.4]) and params[0].grad._version == version


def test_params_without_grad_and_single_tensor():
    w = ember.zeros(2, requires_grad=True)
    assert clip_grad_norm_([w], 1.0).item() == 0.0
    w.grad = ember.tensor([6.0, 8.0])
    assert clip_grad_norm_(w, 5.0).item() == 10.0
    assert w.grad.tolist() == pytest.approx([3.0, 4.0], rel=1e-5)


def test_float16_norm_accumulates_in_float32():
    # 300**2 * 1000 overflows float16 if squares are summed in float16.
    params = grads_of([np.full(1000, 300, dtype=np.float16)])
    total = get_total_norm([params[0].grad])
    assert total.dtype == np.float16 and total.item() == pytest.approx(300 * math.sqrt(1000), rel=1e-3)


def test_clip_grads_with_norm_uses_the_given_norm():
    params = grads_of([np.array([3.0, 4.0], "float32")])
    clip_grads_with_norm_(params, 1.0, ember.tensor(10.0))
    assert params[0].grad.tolist() == pytest.approx([0.3, 0.4], rel=1e-5)


def test_negative_max_norm():
    with pytest.raises(ValueError, match="clip_grad_norm_: max_norm must be a number >= 0, got -1"):
        clip_grad_norm_(grads_of(sample()), -1)


def test_clip_grad_value_matches_torch(torch):
    arrays = sample(scale=3.0)
    arrays[0][0, 0] = float("nan")
    ours, theirs = grads_of(arrays), torch_grads_of(torch, arrays)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert np.nanmax(np.abs(ours[0].grad.numpy())) == 1.5


def test_clip_grad_value_negative():
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a number >= 0, got -1.0"):
        clip_grad_value_(grads_of(sample()), -1)
