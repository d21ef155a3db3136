"""The one-cycle policy against torch's OneCycleLR, rates and momenta, and inside a training run."""
import pytest
from optim.oracle import assert_same_lrs, assert_same_trajectory

import ember
from ember.optim import SGD, Adagrad, Adam
from ember.optim.lr_scheduler import OneCycleLR

SETTINGS = [
    dict(max_lr=[1.0, 0.5], total_steps=40),
    dict(max_lr=0.3, total_steps=37, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.3, epochs=4, steps_per_epoch=10, three_phase=True, div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=0.3, total_steps=30, base_momentum=[0.8, 0.7], max_momentum=0.9),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_sgd_rates_and_momenta_match_torch(torch, settings):
    steps = settings.get("total_steps", 40)
    assert_same_lrs(torch, lambda o: OneCycleLR(o, **settings),
                    lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **settings),
                    steps=steps, keys=("lr", "momentum"), momentum=0.9)


def test_adam_beta1_cycles_like_torch(torch):
    seq = assert_same_lrs(torch, lambda o: OneCycleLR(o, max_lr=0.01, total_steps=20),
                          lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=20),
                          steps=20, optimizer="Adam", keys=("lr", "betas"))
    assert seq[0][0][1] == (0.95, 0.999) and seq[6][0][1][0] == pytest.approx(0.85, abs=0.01)


def test_training_with_one_cycle_matches_torch(torch):
    assert_same_trajectory(
        torch, lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01),
        schedulers=(lambda o: OneCycleLR(o, max_lr=0.05, total_steps=20),
                    lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=20)))


def test_stepping_past_the_cycle_raises():
    sched = OneCycleLR(SGD([ember.ones(1, requires_grad=True)], lr=0.1, momentum=0.9), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 4 times but total_steps is 3"):
        sched.step()


def test_momentum_cycling_needs_momentum():
    opt = Adagrad([ember.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum=True needs an optimizer with 'momentum' or "
                                         "'betas'; Adagrad has neither"):
        OneCycleLR(opt, max_lr=1.0, total_steps=10)
    OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_lr=1.0), "OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
    (dict(max_lr=1.0, total_steps=10, anneal_strategy="cosine"), "anneal_strategy must be 'cos' or 'linear'"),
    (dict(max_lr=[1.0, 2.0], total_steps=10), r"expected 1 values of max_lr \(one per param group\), got 2"),
    (dict(max_lr=1.0, total_steps=10, pct_start=1.5), "OneCycleLR: invalid pct_start=1.5"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OneCycleLR(SGD([ember.ones(1, requires_grad=True)], lr=0.1, momentum=0.9), **kwargs)
