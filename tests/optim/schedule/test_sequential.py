"""SequentialLR against PyTorch's."""
import pytest
from optim.oracle import assert_same_lrs

import ember
from ember.optim import SGD
from ember.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)


def test_warmup_then_exponential(torch):
    s = torch.optim.lr_scheduler

    def ours(o):
        return SequentialLR(o, [LinearLR(o, 0.1, total_iters=4), ExponentialLR(o, 0.9)], milestones=[4])

    def theirs(o):
        return s.SequentialLR(o, [s.LinearLR(o, 0.1, total_iters=4), s.ExponentialLR(o, 0.9)], milestones=[4])

    assert_same_lrs(torch, ours, theirs, steps=20)


def test_three_phases(torch):
    s = torch.optim.lr_scheduler

    def ours(o):
        return SequentialLR(o, [LinearLR(o, 0.5, total_iters=3), StepLR(o, 4, 0.5), CosineAnnealingLR(o, 8)],
                            milestones=[3, 12])

    def theirs(o):
        return s.SequentialLR(o, [s.LinearLR(o, 0.5, total_iters=3), s.StepLR(o, 4, 0.5), s.CosineAnnealingLR(o, 8)],
                              milestones=[3, 12])

    assert_same_lrs(torch, ours, theirs, steps=25)


def test_state_dict_round_trip():
    opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    sched = SequentialLR(opt, [LinearLR(opt, 0.5, total_iters=2), ExponentialLR(opt, 0.5)], milestones=[2])
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 3 and len(state["_schedulers"]) == 2
    opt2 = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    again = SequentialLR(opt2, [LinearLR(opt2, 0.5, total_iters=2), ExponentialLR(opt2, 0.5)], milestones=[2])
    again.load_state_dict(state)
    again.step()
    sched.step()
    assert again.get_last_lr() == sched.get_last_lr() == [0.25]


def test_bad_input():
    opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    other = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="SequentialLR: expected 1 milestones for 2 schedulers, got 0"):
        SequentialLR(opt, [StepLR(opt, 2), StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="SequentialLR: scheduler 1 is a ReduceLROnPlateau"):
        SequentialLR(opt, [StepLR(opt, 2), ReduceLROnPlateau(opt)], milestones=[3])
    with pytest.raises(ValueError, match=r"SequentialLR: scheduler 0 \(StepLR\) belongs to another optimizer"):
        SequentialLR(opt, [StepLR(other, 2)], milestones=[])
