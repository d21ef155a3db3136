"""tril, triu, diagonal, diag_embed, diag, trace, tril_indices, triu_indices against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.triangular import diag, diag_embed, diagonal, trace, tril, tril_indices, triu, triu_indices


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_tril_triu_match_torch_batched_and_keep_inf_out(k):
    x = data(2, 3, 4)
    x[0, 0, 3] = np.inf
    for mine, theirs in ((tril, torch.tril), (triu, torch.triu)):
        np.testing.assert_array_equal(mine(ember.tensor(x), k).numpy(), theirs(torch.tensor(x), k).numpy())
    assert gradcheck(lambda v: tril(v, k) * 1.5, (ember.tensor(data(3, 4), requires_grad=True),))
    assert gradcheck(lambda v: triu(v, k), (ember.tensor(data(4, 3), requires_grad=True),))


def test_tril_on_integers_and_non_contiguous_and_errors():
    x = np.arange(12).reshape(3, 4)
    assert tril(ember.tensor(x)).dtype == np.int64
    np.testing.assert_array_equal(triu(ember.tensor(x).T, -1).numpy(), torch.triu(torch.tensor(x).T, -1).numpy())
    with pytest.raises(ValueError, match="tril: input must have at least 2 dimensions"):
        tril(ember.ones(3))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, 0, 1), (1, 2, 0), (-1, 1, 2), (5, 0, 1), (-2, -1, -3)])
def test_diagonal_matches_torch(offset, dim1, dim2):
    x = data(2, 3, 4)
    g_shape = torch.diagonal(torch.tensor(x), offset, dim1, dim2).shape
    g = data(*g_shape, seed=1)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ed, td = diagonal(e, offset, dim1, dim2), torch.diagonal(t, offset, dim1, dim2)
    np.testing.assert_array_equal(ed.numpy(), td.detach().numpy())
    ed.backward(ember.tensor(g))
    td.backward(torch.tensor(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    if g.size:  # an empty diagonal has no Jacobian to check
        assert gradgradcheck(lambda v: diagonal(v, offset, dim1, dim2), (ember.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, -2, -1), (1, -2, -1), (-1, 0, 2), (2, 2, 0)])
def test_diag_embed_matches_torch(offset, dim1, dim2):
    x = data(2, 3)
    np.testing.assert_array_equal(diag_embed(ember.tensor(x), offset, dim1, dim2).numpy(),
                                  torch.diag_embed(torch.tensor(x), offset, dim1, dim2).numpy())
    assert gradcheck(lambda v: diag_embed(v, offset, dim1, dim2), (ember.tensor(x, requires_grad=True),))


def test_diag_both_directions_and_errors():
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(diag(ember.tensor([1, 2, 3]), k).numpy(), torch.diag(torch.tensor([1, 2, 3]), k).numpy())
        m = np.arange(6).reshape(2, 3)
        np.testing.assert_array_equal(diag(ember.tensor(m), k).numpy(), torch.diag(torch.tensor(m), k).numpy())
    assert diag(ember.arange(6).reshape(2, 3), 5).shape == (0,)
    with pytest.raises(ValueError, match=r"diag: expected a 1-D or 2-D tensor, got 3-D"):
        diag(ember.ones(2, 2, 2))
    with pytest.raises(ValueError, match="diag: expected a 1-D or 2-D tensor, got 0-D"):
        diag(ember.tensor(1.0))
    with pytest.raises(ValueError, match="diagonal dimensions cannot be identical"):
        diagonal(ember.ones(2, 3), 0, 0, 0)
    with pytest.raises(ValueError, match="diag_embed: diagonal dimensions cannot be identical"):
        diag_embed(ember.ones(2, 3), 0, 0, 0)
    with pytest.raises(ValueError, match="diag_embed: input must have at least 1 dimension"):
        diag_embed(ember.tensor(1.0))


def test_trace_matches_torch():
    m = np.arange(6).reshape(2, 3)
    assert trace(ember.tensor(m)).item() == torch.trace(torch.tensor(m)).item()
    assert trace(ember.tensor(m, dtype="int32")).dtype == np.int64
    x = ember.tensor(data(3, 3), requires_grad=True)
    trace(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3))
    assert gradcheck(trace, (ember.tensor(data(3, 4), requires_grad=True),))
    with pytest.raises(ValueError, match="trace: expected a matrix, got a 1-D tensor"):
        trace(ember.ones(3))


@pytest.mark.parametrize("row,col,offset", [(3, 4, 1), (3, 4, -1), (4, 3, 0), (0, 4, 0), (5, 5, -7), (2, 6, 9)])
def test_triangle_indices_match_torch(row, col, offset):
    for mine, theirs in ((tril_indices, torch.tril_indices), (triu_indices, torch.triu_indices)):
        got = mine(row, col, offset)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.numpy(), theirs(row, col, offset).numpy())


def test_triangle_indices_errors():
    with pytest.raises(ValueError, match="tril_indices: row must be non-negative, got -1"):
        tril_indices(-1, 4)
    with pytest.raises(ValueError, match="triu_indices: col must be non-negative"):
        triu_indices(2, -3)
