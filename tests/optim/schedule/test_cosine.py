"""Cosine annealing (with and without warm-up) against PyTorch's schedulers."""
import pytest
from optim.oracle import assert_same_lrs

import ember
from ember.optim import SGD
from ember.optim.schedule import CosineAnnealingLR


def test_cosine_matches_torch_past_t_max(torch):
    seq = assert_same_lrs(torch, lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                          lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), steps=35)
    assert seq[10][0][0] == pytest.approx(0.001)
    assert seq[20][0][0] == pytest.approx(0.1)


@pytest.mark.parametrize("start", [1e-3, 0.25])
def test_warmup_matches_torch_linear_then_cosine(torch, start):
    lr_scheduler = torch.optim.lr_scheduler

    def theirs(o):
        warm = lr_scheduler.LinearLR(o, start_factor=start, total_iters=5)
        cosine = lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=1e-4)
        return lr_scheduler.SequentialLR(o, [warm, cosine], milestones=[5])

    seq = assert_same_lrs(torch, lambda o: CosineAnnealingLR(o, 20, 1e-4, warmup_steps=5, warmup_start_factor=start),
                          theirs, steps=26)
    assert seq[0][0][0] == pytest.approx(0.1 * start) and seq[5][0][0] == pytest.approx(0.1)


def test_bad_options():
    opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: invalid T_max=0; expected an integer > 0"):
        CosineAnnealingLR(opt, 0)
    with pytest.raises(TypeError, match="CosineAnnealingLR: option 'warmup_steps' must be an integer >= 0"):
        CosineAnnealingLR(opt, 10, warmup_steps=2.5)
