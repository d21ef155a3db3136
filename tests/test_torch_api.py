"""PyTorch's Tensor semantics where they differ from NumPy's (issue 17), each checked against torch."""
import numpy as np
import pytest
import torch

import ember


def _pair(array, requires_grad=False):
    return (ember.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def test_data_is_a_detached_tensor_sharing_memory():
    w = ember.ones(3, requires_grad=True)
    d = w.data
    assert isinstance(d, ember.Tensor) and not d.requires_grad and d.is_leaf
    d[0] = 5.0  # writes through, as PyTorch's .data does
    assert w.tolist() == [5.0, 1.0, 1.0] and w.requires_grad
    w.data = ember.zeros(2)  # replacing the values is allowed and bumps nothing autograd sees
    assert w.shape == (2,) and w.requires_grad


def test_numpy_is_the_raw_array():
    x = ember.arange(4.0)
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x.data.numpy())


def test_size_is_a_method_and_numel_the_count():
    x = ember.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) == torch.zeros(2, 3, 4).size()
    assert isinstance(x.size(), ember.Size) and x.size().numel() == 24
    assert x.size(1) == 3 and x.size(-1) == 4 and x.numel() == 24 and x.dim() == 3
    assert repr(x.size()) == "ember.Size([2, 3, 4])" and isinstance(x.size()[1:], ember.Size)
    with pytest.raises(IndexError, match="size: dim 3 is out of range"):
        x.size(3)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_dim_return_values_and_indices(op):
    data = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    e, t = _pair(data, requires_grad=True)
    ev, ei = getattr(e, op)(1)
    tv, ti = getattr(t, op)(1)
    np.testing.assert_array_equal(ev.numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert getattr(e, op)(dim=1, keepdim=True).values.shape == (2, 1)
    assert getattr(e, op)(1)[0].shape == (2,)  # x.max(1)[0] is the values, not the first row
    ev.sum().backward()
    tv.sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())  # the reported index gets the gradient


def test_max_of_two_tensors_and_of_everything():
    a, ta = _pair(np.array([1.0, 4.0]))
    b, tb = _pair(np.array([3.0, 2.0]))
    assert ember.max(a, b).tolist() == torch.max(ta, tb).tolist()
    assert a.max().item() == 4.0 and a.max().shape == ()


def test_a_named_tuple_is_not_silently_used_as_a_tensor():
    x = ember.ones(2, 3)
    with pytest.raises(TypeError, match="use .values"):
        x.max(1) + x


def test_repeat_tiles_and_repeat_interleave_repeats_elements():
    e, t = _pair(np.array([[1, 2], [3, 4]]))
    assert e.repeat(2, 3).tolist() == t.repeat(2, 3).tolist()
    assert e.repeat(2, 1, 1).shape == tuple(t.repeat(2, 1, 1).shape)
    assert e.repeat_interleave(2, dim=0).tolist() == t.repeat_interleave(2, dim=0).tolist()
    assert e.repeat_interleave(2).tolist() == t.repeat_interleave(2).tolist()
    with pytest.raises(RuntimeError, match="number of repeat dims"):
        e.repeat(2)


def test_view_needs_a_compatible_layout():
    x = ember.arange(12.0).reshape(3, 4)
    assert x.view(4, 3).shape == (4, 3) and x.view(-1).shape == (12,)
    assert np.shares_memory(x.view(12).numpy(), x.numpy())
    with pytest.raises(RuntimeError, match=r"view: size \(12,\) is not compatible"):
        x.t().view(12)
    assert x.t().contiguous().view(12).tolist() == torch.arange(12.0).reshape(3, 4).t().reshape(12).tolist()
    assert x.t().reshape(12).shape == (12,)
    assert x[:, 1:3].view(3, 2).shape == (3, 2)  # contiguous rows of a slice can merge when strides allow


def test_transpose_swaps_two_dims_and_permute_reorders():
    x = ember.zeros(2, 3, 4)
    assert x.transpose(0, 2).shape == (4, 3, 2) and x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.permute((2, 0, 1)).shape == (4, 2, 3) and x.mT.shape == (2, 4, 3)
    with pytest.raises(TypeError):
        x.transpose(2, 0, 1)


@pytest.mark.parametrize("key", [
    (0, slice(None), [1, 2]),
    ([0, 1], slice(None), 0),
    (slice(None), 0, slice(None), [1, 2]),
    (0, [1, 2], slice(None), [0, 1]),
    (None, 0, slice(None), [1, 2]),
    (Ellipsis, [1, 2], 0),
    (range(2),),
    (((0, 1), (1, 2)),),
])
def test_indexing_orders_dimensions_as_pytorch(key):
    data = np.random.default_rng(0).standard_normal((3, 4, 5, 6))
    e, t = _pair(data, requires_grad=True)
    out, expected = e[key], t[key]
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    weights = np.arange(out.numel(), dtype=np.float64).reshape(out.shape)
    (out * ember.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_setitem_uses_pytorch_order_too():
    e, t = ember.zeros(3, 4, 5), torch.zeros(3, 4, 5)
    e[0, :, [1, 2]] = ember.arange(8.0).reshape(4, 2)
    t[0, :, [1, 2]] = torch.arange(8.0).reshape(4, 2)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_reductions_take_dim_and_keepdim_with_numpy_aliases():
    data = np.arange(24.0).reshape(2, 3, 4)
    e, t = _pair(data)
    assert e.sum(dim=(0, 2), keepdim=True).tolist() == t.sum(dim=(0, 2), keepdim=True).tolist()
    assert e.sum(axis=1, keepdims=True).shape == (2, 1, 4)
    np.testing.assert_allclose(e.std(1, unbiased=False).numpy(), t.std(1, unbiased=False).numpy())
    np.testing.assert_allclose(e.var(1, correction=0).numpy(), t.var(1, correction=0).numpy())
    assert ember.tensor([True, True]).sum().dtype == np.int64  # bools sum as int64, as in PyTorch
    with pytest.raises(TypeError, match="both dim=1 and its alias axis=1"):
        e.sum(dim=1, axis=1)
    with pytest.raises(TypeError, match="mean: input dtype should be floating point"):
        ember.tensor([1, 2]).mean()


def test_any_and_all_are_replayed_by_compile():
    f = ember.compile(lambda x: (x > 0).any())
    assert not bool(f(ember.tensor([-1.0, -2.0])))
    assert bool(f(ember.tensor([1.0, -2.0])))


def test_in_place_methods_write_through_and_record():
    x = ember.ones(3)
    alias = x.data
    x.add_(ember.ones(3), alpha=2).clamp_(max=2.5).mul_(2)
    assert x.tolist() == [5.0, 5.0, 5.0] and alias.tolist() == [5.0, 5.0, 5.0]
    w = ember.tensor([1.0, -2.0], requires_grad=True)
    y = w * 1
    y.clamp_(min=0).masked_fill_(ember.tensor([False, True]), 3.0)
    y.sum().backward()
    assert y.tolist() == [1.0, 3.0] and w.grad.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.zero_()


def test_operators_follow_pytorch():
    e, t = _pair(np.array([-7, 5, 9]))
    for fn in (lambda a: a % 4, lambda a: a // 4, lambda a: 11 % a, lambda a: a << 1, lambda a: a >> 1,
               lambda a: a & 3, lambda a: 6 | a, lambda a: ~a):
        assert fn(e).tolist() == fn(t).tolist()
    assert f"{ember.tensor(3.14159):.2f}" == f"{torch.tensor(3.14159):.2f}" == "3.14"


def test_dtype_names_and_conversions():
    x = ember.tensor([1.5, 2.5])
    assert ember.long == np.int64 and ember.float == np.float32 and ember.double == np.float64
    assert ember.int == np.int32 and ember.half == np.float16 and ember.bool == np.bool_
    assert x.to(ember.long).dtype == np.int64 and x.to(float).dtype == np.float64
    assert x.type() == "ember.FloatTensor" and x.type(ember.double).dtype == np.float64
    assert x.long().type_as(x).dtype == np.float32
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_ones((2,)).dtype == np.float32
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == np.float32


def test_device_objects_and_cuda_queries_tell_the_truth():
    d = ember.device("cuda", 1)
    assert d == "cuda:1" and d.type == "cuda" and d.index == 1 and repr(d) == "device(type='cuda', index=1)"
    assert ember.device("cpu").index is None and ember.device(ember.device("cpu")) == "cpu"
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        ember.device("tpu")
    x = ember.ones(2)
    assert x.to(ember.device("cpu")) is x and x.to("cpu", ember.float64).dtype == np.float64
    assert ember.cuda.is_available() == (ember.backend.cupy_module() is not None)
    assert ember.cuda.device_count() == (0 if not ember.cuda.is_available() else ember.cuda.device_count())
    ember.cuda.manual_seed_all(0)  # harmless without a GPU, as in PyTorch
    ember.backends.cudnn.deterministic = True
    assert ember.backends.cudnn.is_available() is False and ember.backends.mps.is_available() is False
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device is available"):
            ember.cuda.current_device()


def test_generators_are_independent_streams():
    g1 = ember.Generator().manual_seed(3)
    first = g1.get_state()
    a = ember.rand(3, generator=g1)
    g1.set_state(first)
    assert ember.rand(3, generator=g1).tolist() == a.tolist()
    assert g1.initial_seed() == 3
    with pytest.raises(ValueError, match="non-negative integer"):
        ember.Generator().manual_seed(-1)


def test_errors_are_catchable_as_runtime_error():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(2, 3\)"):
        ember.ones(2, 3) @ ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        ember.ones(2) + ember.ones(3)
    with pytest.raises(RuntimeError, match="cat: shapes|concat: shapes"):
        ember.cat([ember.ones(2, 2), ember.ones(3, 3)], dim=1)
    with pytest.raises(IndexError, match="dim 4 is out of range"):
        ember.ones(2, 2).sum(4)


def test_nn_functional_is_importable_under_pytorch_paths():
    import ember.nn.functional as F
    import ember.optim.lr_scheduler as lr_scheduler
    import ember.utils.data as data

    assert F is ember.functional and callable(F.relu) and callable(F.cross_entropy)
    assert lr_scheduler.StepLR and data.DataLoader and data.TensorDataset


def test_randint_draws_pytorchs_integers_and_its_state_resumes():
    ember.manual_seed(7)
    torch.manual_seed(7)
    assert ember.randint(-5, 50, (20,)).tolist() == torch.randint(-5, 50, (20,)).tolist()
    assert ember.randint(0, 2 ** 40, (3,)).tolist() == torch.randint(0, 2 ** 40, (3,)).tolist()
    state = ember.get_rng_state()
    first = ember.randint(0, 1000, (8,)).tolist()
    ember.set_rng_state(state)
    assert ember.randint(0, 1000, (8,)).tolist() == first


@pytest.mark.parametrize("p", [2, 3, 1, float("inf"), "fro"])
def test_norm_matches_torch_including_the_zero_vector_gradient(p):
    data = np.array([[3.0, -4.0, 0.0], [0.0, 0.0, 0.0]])
    e, t = _pair(data, requires_grad=True)
    out, expected = e.norm(p, dim=1), t.norm(p, dim=1)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-12)
