"""Adagrad against torch.optim.Adagrad: 20 steps from the same weights, every option."""
import pytest
from optim.oracle import assert_same_trajectory

import ember
from ember.optim import Adagrad

OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: Adagrad(p, **options), lambda p: torch.optim.Adagrad(p, **options),
                           dtype)


def test_accumulator_starts_at_initial_value():
    w = ember.ones(3, requires_grad=True)
    w.grad = ember.tensor([1.0, 2.0, 0.0])
    opt = Adagrad([w], initial_accumulator_value=0.25)
    opt.step()
    assert opt.state[w]["sum"].tolist() == [1.25, 4.25, 0.25]


def test_negative_lr_decay():
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay=-1"):
        Adagrad([ember.ones(2, requires_grad=True)], lr_decay=-1)
