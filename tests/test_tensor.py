"""Tensor basics: properties, conversion, printing, operators, indexing and error messages."""
import numpy as np
import pytest

import ember


def test_properties_and_conversion():
    t = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.numel() == 4 and t.size() == (2, 2) and t.size(-1) == 2 and t.device == "cpu"
    assert t.is_leaf and t.grad_fn is None
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ember.tensor(2.5).item() == 2.5
    assert float(ember.tensor([3.0])) == 3.0
    assert np.asarray(t).sum() == 10
    assert len(t) == 2 and [r.tolist() for r in t] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="one-element"):
        t.item()


def test_repr_shows_grad_state():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    assert repr(w) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<mul>" in repr(w * 2)
    assert "dtype=float64" in repr(ember.zeros(1, dtype="float64"))


def test_scalar_operands_keep_tensor_dtype():
    x = ember.ones(2)
    assert (x * 2.5).dtype == np.float32
    assert (2 - x).dtype == np.float32
    assert (ember.tensor([1, 2]) * 2).dtype == np.int64
    assert (ember.tensor([1, 2]) * 0.5).dtype == np.float32
    assert (ember.tensor([1, 2]) / 2).dtype == np.float32
    assert (ember.ones(2, dtype="float64") + ember.ones(2)).dtype == np.float64
    assert (ember.tensor([1, 2]) + ember.ones(2)).dtype == np.float32


def test_mixed_precision_gradients_return_in_input_dtype():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, dtype="float64", requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_comparisons_and_logic_give_bool():
    x = ember.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).tolist() == [False, True, True]
    assert ((x > 1.5) & (x < 2.5)).tolist() == [False, True, False]
    assert (~(x == 2)).tolist() == [True, False, True]
    assert (x != 2).any().item() and not (x > 5).all().item()
    assert ember.tensor([np.nan, np.inf, 1.0]).isfinite().tolist() == [False, False, True]


def test_methods_delegate_to_ops():
    x = ember.arange(6).float().reshape(2, 3)
    assert x.T.shape == (3, 2)
    assert x.mT.shape == (3, 2)
    assert x.transpose(0, 1).shape == (3, 2)
    assert x.permute(1, 0).shape == (3, 2)
    assert x.view(3, 2).shape == (3, 2)
    assert x.unsqueeze(0).squeeze().shape == (2, 3)
    assert x.sum().item() == 15 and x.mean().item() == 2.5
    assert x.argmax(axis=1).tolist() == [2, 2]
    assert x.argmin().item() == 0
    assert x.clamp(1, 4).tolist() == [[1, 1, 2], [3, 4, 4]]
    assert [p.shape for p in x.chunk(2, 1)] == [(2, 2), (2, 1)]
    assert x.clone().tolist() == x.tolist()
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64 and x.bool().dtype == np.bool_
    assert ember.one_hot(ember.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_matmul_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned \(4 != 5\)"):
        ember.ones(3, 4) @ ember.ones(5, 2)
    with pytest.raises(TypeError, match="matmul: dtypes float32 and float64 differ"):
        ember.ones(2, 2) @ ember.ones(2, 2, dtype="float64")
    with pytest.raises(ValueError, match="at least one dimension"):
        ember.matmul(ember.tensor(1.0), ember.ones(2))


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(3,\) and \(4,\) cannot be broadcast together"):
        ember.ones(3) + ember.ones(4)
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(2,\)"):
        ember.ones(2, 3) * ember.ones(2)


def test_non_tensor_operands_raise_type_errors():
    with pytest.raises(TypeError, match="add"):
        ember.ones(2) + "a"
    with pytest.raises(TypeError, match="mul"):
        ember.ones(2) * object()


def test_movement_errors_name_the_op():
    x = ember.ones(2, 3)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(IndexError, match="dim 5 is out of range"):
        x.sum(axis=5)
    assert x.squeeze(1).shape == (2, 3)  # PyTorch leaves a named dimension of size > 1 alone
    with pytest.raises(ValueError, match="concat: shapes"):
        ember.concat([x, ember.ones(3, 3)], axis=1)
    with pytest.raises(ValueError, match="stack"):
        ember.stack([x, ember.ones(3, 2)])
    with pytest.raises(IndexError, match="getitem"):
        x[5]
    with pytest.raises(ValueError, match="split: sizes"):
        x.split([1, 1], 1)
    with pytest.raises(ValueError, match="one_hot"):
        ember.one_hot(ember.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot"):
        ember.one_hot(ember.tensor([0.0]), 3)
    with pytest.raises(ValueError, match="gather"):
        x.gather(1, ember.tensor([0, 1]))
    with pytest.raises(ValueError, match="einsum"):
        ember.einsum("ij,jk->ik", ember.ones(2, 3), ember.ones(4, 2))
    with pytest.raises(ValueError, match="max: cannot reduce an empty"):
        ember.zeros(0).max()
    with pytest.raises(ValueError, match="clamp: at least one of 'min' or 'max'"):
        x.clip()


def test_indexing_reads():
    x = ember.arange(12).reshape(3, 4)
    assert x[1].tolist() == [4, 5, 6, 7]
    assert x[1:3, [0, 3]].tolist() == [[4, 7], [8, 11]]
    assert x[x > 9].tolist() == [10, 11]
    assert x[ember.tensor([2, 0])].shape == (2, 4)
    assert x[..., -1].tolist() == [3, 7, 11]
    assert x[None, 0].shape == (1, 4)


def test_repeated_index_gradients_accumulate():
    w = ember.zeros(4, requires_grad=True)
    w[[0, 0, 3, 0]].sum().backward()
    assert w.grad.tolist() == [3.0, 0.0, 0.0, 1.0]
    src = ember.ones(3, requires_grad=True)
    out = ember.zeros(2).scatter_add(0, ember.tensor([1, 1, 0]), src)
    assert out.tolist() == [1.0, 2.0]


def test_split_backward_joins_the_pieces_in_one_concatenation():
    x = ember.randn(2, 9, requires_grad=True)
    q, k, v = x.split(3, 1)
    assert q.node is k.node is v.node  # one primitive, three outputs
    grad_of_q = ember.autograd.grad(lambda x: x.split(3, 1)[0].sum())(x)
    np.testing.assert_array_equal(grad_of_q.numpy(), np.repeat([[1.0] * 3 + [0.0] * 6], 2, axis=0))
    (q * 2 + v).sum().backward()  # k unused: its share of the gradient is zero
    np.testing.assert_array_equal(x.grad.numpy()[:, :3], 2.0)
    np.testing.assert_array_equal(x.grad.numpy()[:, 3:6], 0.0)
    np.testing.assert_array_equal(x.grad.numpy()[:, 6:], 1.0)
