"""RMSprop against torch.optim.RMSprop: 20 steps from the same weights, every option."""
import pytest
from optim.oracle import assert_same_trajectory

import ember
from ember.optim import RMSprop

OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-6),
    dict(lr=0.01, centered=True),
    dict(lr=0.005, momentum=0.9),
    dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.1),
    dict(lr=0.01, maximize=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: RMSprop(p, **options), lambda p: torch.optim.RMSprop(p, **options),
                           dtype)


def test_state_follows_options():
    w = ember.ones(2, requires_grad=True)
    w.grad = ember.ones(2)
    opt = RMSprop([w], momentum=0.9, centered=True)
    opt.step()
    assert sorted(opt.state[w]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]


def test_negative_alpha():
    with pytest.raises(ValueError, match="RMSprop: invalid alpha=-0.9"):
        RMSprop([ember.ones(2, requires_grad=True)], alpha=-0.9)
