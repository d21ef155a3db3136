"""Embedding: PyTorch parity (repeated indices, padding_idx), gradients, fast backward, errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients


def indices(*shape, high=7):
    return lambda rng: [rng.integers(0, high, shape)]


CASES = [
    LayerCase("Embedding", lambda: nn.Embedding(7, 3), lambda t: t.nn.Embedding(7, 3), indices(4, 5),
              second_order=True),
    LayerCase("Embedding-padding", lambda: nn.Embedding(7, 3, padding_idx=2),
              lambda t: t.nn.Embedding(7, 3, padding_idx=2), lambda rng: [np.array([[2, 1, 2], [0, 2, 6]])],
              second_order=True),
    LayerCase("Embedding-negative-padding", lambda: nn.Embedding(7, 3, padding_idx=-1),
              lambda t: t.nn.Embedding(7, 3, padding_idx=-1), lambda rng: [np.array([6, 6, 1])]),
    LayerCase("Embedding-scalar-index", lambda: nn.Embedding(7, 3), lambda t: t.nn.Embedding(7, 3),
              lambda rng: [np.array(4)]),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


# The padding row deliberately gets no gradient although the output depends on it,
# so finite differences disagree there by design (as in PyTorch): it is checked above.
@pytest.mark.parametrize("case", [c for c in CASES if "padding" not in c.name], ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


def test_backward_sums_repeated_rows_like_add_at():
    rng = np.random.default_rng(0)
    table = ember.randn(50, 8, requires_grad=True)
    idx = rng.integers(0, 50, (64, 33))
    grad = rng.standard_normal((64, 33, 8)).astype(np.float32)
    F.embedding(ember.tensor(idx), table).backward(ember.tensor(grad))
    expected = np.zeros((50, 8), np.float32)
    np.add.at(expected, idx.reshape(-1), grad.reshape(-1, 8))
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_padding_row_starts_at_zero_and_stays_there():
    emb = nn.Embedding(5, 4, padding_idx=0)
    assert emb.weight.numpy()[0].tolist() == [0.0] * 4
    emb(ember.tensor([[0, 1, 0]])).sum().backward()
    assert emb.weight.grad.numpy()[0].tolist() == [0.0] * 4
    assert emb.weight.grad.numpy()[1].tolist() == [1.0] * 4


def test_default_initialisation_is_standard_normal():
    w = nn.Embedding(1000, 64).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_from_pretrained_copies_and_freezes():
    table = ember.randn(4, 2)
    emb = nn.Embedding.from_pretrained(table)
    np.testing.assert_array_equal(emb.weight.numpy(), table.numpy())
    assert not emb.weight.requires_grad
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_bad_indices_are_reported():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 10\) for a table of shape "
                                         r"\(10, 3\), got values in \[0, 10\]"):
        emb(ember.tensor([0, 10]))
    with pytest.raises(IndexError, match="got values in"):
        emb(ember.tensor([-1]))
    with pytest.raises(TypeError, match="Embedding: expected integer indices, got float32"):
        emb(ember.tensor([1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx 10 is out of range for 10 embeddings"):
        nn.Embedding(10, 3, padding_idx=10)


def test_repr():
    assert repr(nn.Embedding(65, 128, padding_idx=0)) == "Embedding(65, 128, padding_idx=0)"
