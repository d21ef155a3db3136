"""The scheduler base: initial rates, resuming, state dicts, bad input."""
import pytest

import ember
from ember.optim import SGD
from ember.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR


def opt(lr=1.0):
    return SGD([ember.ones(1, requires_grad=True)], lr=lr)


def test_records_initial_lr_and_applies_step_zero():
    o = opt(0.5)
    sched = StepLR(o, step_size=1, gamma=0.1)
    assert o.param_groups[0]["initial_lr"] == 0.5 and sched.base_lrs == [0.5]
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.5]
    sched.step()
    assert o.param_groups[0]["lr"] == pytest.approx(0.05)


def test_state_dict_round_trip_continues_the_schedule():
    o = opt()
    sched = CosineAnnealingLR(o, T_max=10)
    for _ in range(4):
        sched.step()
    opt_state, sched_state = o.state_dict(), sched.state_dict()
    assert sched_state["last_epoch"] == 4 and "optimizer" not in sched_state

    o2 = opt(123.0)
    fresh = CosineAnnealingLR(o2, T_max=10)
    o2.load_state_dict(opt_state)  # brings 'lr' and 'initial_lr' back
    fresh.load_state_dict(sched_state)
    for _ in range(8):
        sched.step()
        fresh.step()
        assert fresh.get_last_lr() == sched.get_last_lr()


def test_resume_with_last_epoch_like_torch(torch):
    def run(make_opt, tensor, lrs):
        o = make_opt([tensor()], lr=1.0)
        o.param_groups[0]["initial_lr"] = 1.0
        o.param_groups[0]["lr"] = 0.5
        sched = lrs.StepLR(o, 3, 0.5, last_epoch=4)
        seen = []
        for _ in range(6):
            seen.append((sched.last_epoch, sched.get_last_lr()[0]))
            o.step()
            sched.step()
        return seen

    import ember.optim
    ours = run(ember.optim.SGD, lambda: ember.zeros(1, requires_grad=True), ember.optim.lr_scheduler)
    assert ours == run(torch.optim.SGD, lambda: torch.zeros(1, requires_grad=True), torch.optim.lr_scheduler)


def test_resume_without_initial_lr():
    with pytest.raises(KeyError, match="StepLR: resuming with last_epoch=3 needs 'initial_lr' in param group 0"):
        StepLR(opt(), 2, last_epoch=3)


def test_not_an_optimizer(torch):
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="StepLR: expected an ember.optim.Optimizer, got SGD"):
        StepLR(t, 2)


def test_group_added_after_the_scheduler():
    o = opt()
    sched = StepLR(o, 2)
    o.add_param_group({"params": [ember.ones(2, requires_grad=True)]})
    with pytest.raises(RuntimeError, match="StepLR: the optimizer has 2 param groups but the scheduler was made for 1"):
        sched.step()


def test_custom_schedule():
    class Halving(LRScheduler):
        def get_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]

    o = opt(2.0)
    sched = Halving(o)
    sched.step()
    sched.step()
    assert o.param_groups[0]["lr"] == 0.5
