"""roll and rot90 against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from ember.ops.shift import roll, rot90

X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("shifts,dims", [(1, None), (-5, None), (1, 0), (2, -1), ((1, 2), (0, 1)),
                                         ((1, 1), (1, 1)), ((7, -3), (2, 0))])
def test_roll_matches_torch(shifts, dims):
    np.testing.assert_array_equal(roll(ember.tensor(X), shifts, dims).numpy(),
                                  torch.roll(torch.tensor(X), shifts, dims).numpy())
    g = np.random.default_rng(0).standard_normal(X.shape)
    e, t = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    roll(e, shifts, dims).backward(ember.tensor(g))
    torch.roll(t, shifts, dims).backward(torch.tensor(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert gradcheck(lambda v: roll(v, shifts, dims), (ember.tensor(X[:, :2, :3].copy(), requires_grad=True),))


def test_roll_edges_and_errors():
    assert roll(ember.tensor(5), 1).item() == 5
    assert roll(ember.zeros(0, 3), 2, 1).shape == (0, 3)
    np.testing.assert_array_equal(roll(ember.tensor(X).permute(2, 0, 1), 1, 0).numpy(),
                                  torch.roll(torch.tensor(X).permute(2, 0, 1), 1, 0).numpy())
    with pytest.raises(ValueError, match="roll: shifts and dims must align: got 2 shifts and 1 dims"):
        roll(ember.tensor(X), (1, 2), 1)
    with pytest.raises(ValueError, match="got 2 shifts and no dims"):
        roll(ember.tensor(X), (1, 2))
    with pytest.raises((IndexError, ValueError), match="out of range"):
        roll(ember.tensor(X), 1, 3)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 2), (2, 0), (-1, -2)])
def test_rot90_matches_torch(k, dims):
    np.testing.assert_array_equal(rot90(ember.tensor(X), k, dims).numpy(), torch.rot90(torch.tensor(X), k, dims).numpy())


def test_rot90_gradient_and_errors():
    assert gradcheck(lambda v: rot90(v, 1, (0, 1)), (ember.tensor(X[0].copy(), requires_grad=True),))
    with pytest.raises(ValueError, match="rot90: expected rotation dims to be different"):
        rot90(ember.tensor(X), 1, (0, 0))
    with pytest.raises(ValueError, match="rot90: expected exactly 2 rotation dims"):
        rot90(ember.tensor(X), 1, (0,))
    with pytest.raises(ValueError, match="rot90: expected a tensor with at least 2 dimensions"):
        rot90(ember.arange(3))
