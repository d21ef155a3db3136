"""DLPack: zero-copy exchange with NumPy and PyTorch, both directions."""
import numpy as np
import pytest

import ember
from ember.io.dlpack import tensor_dlpack, tensor_dlpack_device


def test_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ember.from_dlpack(a)
    assert isinstance(t, ember.Tensor) and t.shape == (2, 3) and t.dtype == np.float32
    assert not t.requires_grad
    assert np.shares_memory(t.numpy(), a)
    a[0, 0] = 42.0
    assert t.numpy()[0, 0] == 42.0


def test_tensor_to_numpy_shares_memory():
    t = ember.arange(5.0)
    a = np.from_dlpack(t)
    assert np.shares_memory(a, t._data)
    t.data[1] = -1.0
    assert a[1] == -1.0
    assert t.__dlpack_device__() == (1, 0)


def test_non_contiguous_views_round_trip():
    base = ember.tensor(np.arange(12, dtype=np.float64).reshape(3, 4))
    view = base.T[::2]
    a = np.from_dlpack(view)
    np.testing.assert_array_equal(a, view.numpy())
    np.testing.assert_array_equal(ember.from_dlpack(a).numpy(), view.numpy())


def test_helpers_match_the_array_protocol():
    t = ember.ones(3)
    assert tensor_dlpack_device(t) == t.data.__dlpack_device__()
    capsule = tensor_dlpack(t)
    assert type(capsule).__name__ == "PyCapsule"


def test_from_dlpack_of_a_tensor_and_of_junk():
    t = ember.ones(2, requires_grad=True)
    shared = ember.from_dlpack(t)
    assert shared._data is t._data and not shared.requires_grad
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__.*got list"):
        ember.from_dlpack([1, 2])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"])
def test_torch_to_ember_is_zero_copy(dtype):
    torch = pytest.importorskip("torch")
    x = torch.arange(6).reshape(2, 3).to(getattr(torch, dtype))
    t = ember.from_dlpack(x)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), x.numpy())
    if dtype != "bool":
        x[0, 0] = 5
        assert t.numpy()[0, 0] == 5  # same memory


def test_ember_to_torch_is_zero_copy():
    torch = pytest.importorskip("torch")
    t = ember.randn(3, 4)
    x = torch.from_dlpack(t)
    assert x.shape == (3, 4) and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    x.mul_(2.0)
    np.testing.assert_array_equal(t.numpy(), x.numpy())  # torch wrote into Ember's buffer
    transposed = torch.from_dlpack(t.T)
    np.testing.assert_array_equal(transposed.numpy(), t.T.numpy())
    grad_tensor = ember.ones(2, requires_grad=True)
    assert torch.from_dlpack(grad_tensor).tolist() == [1.0, 1.0]  # data only, no graph
