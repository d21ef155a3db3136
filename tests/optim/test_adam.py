"""Adam and AdamW against PyTorch's: 20 steps from the same weights, every option."""
import pytest
from optim.oracle import assert_same_trajectory

import ember
from ember.optim import Adam, AdamW

ADAM = [
    dict(lr=0.01),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    dict(lr=0.01, maximize=True, amsgrad=True),
    dict(lr=0.02, betas=(0.3, 0.9)),  # beta1 < 0.5: torch's lerp takes its other branch
]
ADAMW = [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True), dict(lr=0.01, maximize=True)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", ADAM, ids=str)
def test_adam_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: Adam(p, **options), lambda p: torch.optim.Adam(p, **options), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", ADAMW, ids=str)
def test_adamw_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: AdamW(p, **options), lambda p: torch.optim.AdamW(p, **options), dtype)


def test_adamw_default_weight_decay_is_torchs():
    opt = AdamW([ember.ones(2, requires_grad=True)])
    assert opt.defaults["weight_decay"] == 0.01 and opt.defaults["decoupled_weight_decay"] is True


def test_first_step_is_lr_times_sign():
    # Bias correction makes the first Adam step exactly lr * g / (|g| + eps).
    w = ember.tensor([1.0, -2.0, 0.5], requires_grad=True)
    w.grad = ember.tensor([3.0, -0.001, 40.0])
    Adam([w], lr=0.1).step()
    assert w.tolist() == pytest.approx([0.9, -1.9, 0.4], rel=1e-5)


@pytest.mark.parametrize("betas, message", [
    ((0.9, 1.0), r"Adam: invalid betas=\(0.9, 1.0\); expected a pair of numbers in \[0, 1\)"),
    ((-0.1, 0.99), r"Adam: invalid betas=\(-0.1, 0.99\)"),
    ((0.9,), r"Adam: option 'betas' must be a pair of numbers"),
])
def test_betas_out_of_range(betas, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Adam([ember.ones(2, requires_grad=True)], betas=betas)


def test_betas_checked_in_groups():
    with pytest.raises(ValueError, match=r"AdamW: invalid betas=\(0.9, 1.5\) in param group 1"):
        AdamW([{"params": [ember.ones(2, requires_grad=True)]},
               {"params": [ember.ones(3, requires_grad=True)], "betas": (0.9, 1.5)}])


def test_amsgrad_state():
    w = ember.ones(2, requires_grad=True)
    w.grad = ember.ones(2)
    opt = Adam([w], amsgrad=True)
    opt.step()
    assert sorted(opt.state[w]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert opt.state[w]["step"] == 1
