"""FlatBuffer and flat_buffers: tensors in and out of one contiguous array."""
import numpy as np
import pytest

import ember
from ember.distributed.flat import FlatBuffer, flat_buffers, set_grad


def test_pack_and_unpack_values():
    a, b = ember.tensor([1.0, 2.0]), ember.tensor([[3.0], [4.0]])
    flat = FlatBuffer([a, b])
    assert flat.pack_data().tolist() == [1.0, 2.0, 3.0, 4.0] and flat.nbytes == 16
    flat.data *= 10
    version = a._version
    flat.unpack_data()
    assert a.tolist() == [10.0, 20.0] and b.tolist() == [[30.0], [40.0]]
    assert a._version == version + 1


def test_pack_and_unpack_gradients():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a * 2).sum().backward()  # b has no gradient: it packs as zeros
    flat = FlatBuffer([a, b])
    assert flat.pack_grads().tolist() == [2.0, 2.0, 0.0, 0.0, 0.0]
    flat.data += 1
    flat.unpack_grads()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [1.0, 1.0, 1.0]
    flat.data[:] = 0  # the gradients own their memory
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_set_grad_reuses_a_writable_gradient():
    a = ember.ones(2, requires_grad=True)
    a.grad = ember.zeros(2)
    array = a.grad._data
    set_grad(a, np.array([5.0, 6.0], dtype=np.float32))
    assert a.grad._data is array and a.grad.tolist() == [5.0, 6.0]


def test_grouping_by_dtype_and_cap():
    ts = [ember.zeros(100), ember.zeros(3, dtype="float64"), ember.zeros(100), ember.zeros(50)]
    assert [[t.numel() for t in b.tensors] for b in flat_buffers(ts)] == [[100, 100, 50], [3]]
    assert [[t.numel() for t in b.tensors] for b in flat_buffers(ts, cap_bytes=800)] == [[100, 100], [3], [50]]
    assert [len(b.tensors) for b in flat_buffers(ts, cap_bytes=1)] == [1, 1, 1, 1]  # larger than the cap: alone


def test_errors():
    with pytest.raises(ValueError, match="needs at least one tensor"):
        FlatBuffer([])
    with pytest.raises(ValueError, match=r"share one dtype, got \['float32', 'float64'\]"):
        FlatBuffer([ember.zeros(2), ember.zeros(2, dtype="float64")])
