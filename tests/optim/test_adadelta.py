"""Adadelta against torch.optim.Adadelta: 20 steps from the same weights, every option."""
import pytest
from optim.oracle import assert_same_trajectory

import ember
from ember.optim import Adadelta

OPTIONS = [
    dict(lr=1.0),
    dict(lr=5.0, rho=0.8, eps=1e-4),
    dict(lr=2.0, weight_decay=0.1),
    dict(lr=2.0, maximize=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: Adadelta(p, **options), lambda p: torch.optim.Adadelta(p, **options),
                           dtype)


@pytest.mark.parametrize("rho", [-0.1, 1.5])
def test_rho_out_of_range(rho):
    with pytest.raises(ValueError, match=r"Adadelta: invalid rho=.*; expected a number in \[0, 1\]"):
        Adadelta([ember.ones(2, requires_grad=True)], rho=rho)
