"""Cosine annealing against PyTorch's scheduler, and its options."""
import pytest
from optim.oracle import assert_same_lrs

import ember
from ember.optim import SGD
from ember.optim.lr_scheduler import CosineAnnealingLR, CosineAnnealingWarmRestarts


def test_cosine_matches_torch_past_t_max(torch):
    seq = assert_same_lrs(torch, lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                          lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), steps=35)
    assert seq[10][0][0] == pytest.approx(0.001)
    assert seq[20][0][0] == pytest.approx(0.1)


def test_resumed_cosine_matches_torch(torch):
    # A scheduler rebuilt with last_epoch=k recomputes its first rate in closed form.
    e = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    t = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=1.0)
    for o in (e, t):
        o.param_groups[0]["initial_lr"] = 1.0
    ours = CosineAnnealingLR(e, T_max=10, last_epoch=3)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(t, T_max=10, last_epoch=3)
    for _ in range(5):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        t.step()
        ours.step()
        theirs.step()


def test_bad_options():
    opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: invalid T_max=0; expected an integer > 0"):
        CosineAnnealingLR(opt, 0)
    with pytest.raises(TypeError, match="CosineAnnealingLR: option 'T_max' must be an integer > 0, got 2.5"):
        CosineAnnealingLR(opt, 2.5)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: invalid T_mult=0"):
        CosineAnnealingWarmRestarts(opt, 3, T_mult=0)
    sched = CosineAnnealingWarmRestarts(opt, 3)
    with pytest.raises(ValueError, match="expected a non-negative epoch, got -1"):
        sched.step(-1)
