"""Step, multi-step, exponential, linear, inverse-time and lambda schedules against PyTorch's."""
import numpy as np
import pytest
from optim.oracle import assert_same_lrs

import ember
from ember.optim import SGD
from ember.optim.lr_scheduler import (
    ExponentialLR,
    InverseTimeDecay,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    StepLR,
    TimeDecay,
)


def opt(lr=1.0):
    return SGD([ember.ones(1, requires_grad=True)], lr=lr)


def test_step_lr(torch):
    assert_same_lrs(torch, lambda o: StepLR(o, 7, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5))


def test_multi_step_lr_with_repeated_milestone(torch):
    seq = assert_same_lrs(torch, lambda o: MultiStepLR(o, [12, 4, 12], gamma=0.3),
                          lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [12, 4, 12], gamma=0.3))
    assert seq[12][0][0] == pytest.approx(0.1 * 0.3 ** 3)


def test_exponential_lr(torch):
    assert_same_lrs(torch, lambda o: ExponentialLR(o, 0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9))


@pytest.mark.parametrize("start, end, total", [(0.1, 1.0, 10), (1.0, 0.2, 7), (0.5, 0.0, 30)])
def test_linear_lr(torch, start, end, total):
    assert_same_lrs(torch, lambda o: LinearLR(o, start, end, total),
                    lambda o: torch.optim.lr_scheduler.LinearLR(o, start, end, total))


def test_lambda_lr_per_group(torch):
    fns = [lambda t: 0.95 ** t, lambda t: 1 / (1 + t)]
    assert_same_lrs(torch, lambda o: LambdaLR(o, fns), lambda o: torch.optim.lr_scheduler.LambdaLR(o, fns))


def test_inverse_time_decay_is_keras_decay(torch):
    # Keras: lr / (1 + decay * iterations); PyTorch has no such class, but a LambdaLR gives it.
    assert_same_lrs(torch, lambda o: TimeDecay(o, decay_rate=0.3),
                    lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.3 * t)))


def rates(sched, steps):
    seen = []
    for _ in range(steps):
        seen.append(sched.get_last_lr()[0])
        sched.step()
    return seen


def test_inverse_time_decay_staircase():
    sched = InverseTimeDecay(opt(), decay_rate=1.0, decay_steps=3, staircase=True)
    assert rates(sched, 7) == [1, 1, 1, 0.5, 0.5, 0.5, 1 / 3]
    smooth = InverseTimeDecay(opt(), decay_rate=1.0, decay_steps=2)
    assert rates(smooth, 4)[3] == 1 / 2.5


@pytest.mark.parametrize("make, message", [
    (lambda: StepLR(opt(), 0), "StepLR: invalid step_size=0; expected an integer > 0"),
    (lambda: StepLR(opt(), 2.5), "StepLR: option 'step_size' must be an integer > 0"),
    (lambda: StepLR(opt(), 2, gamma=float("nan")), "StepLR: option 'gamma' must be a finite number"),
    (lambda: MultiStepLR(opt(), [3, -1]), "MultiStepLR: invalid milestones=-1"),
    (lambda: LinearLR(opt(), start_factor=0.0), r"LinearLR: invalid start_factor=0.0; expected a number in \(0, 1\]"),
    (lambda: InverseTimeDecay(opt(), decay_rate=-1.0), "InverseTimeDecay: invalid decay_rate=-1.0"),
    (lambda: LambdaLR(opt(), [lambda t: 1.0] * 2), r"LambdaLR: expected 1 lr_lambdas \(one per param group\), got 2"),
])
def test_bad_options(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_lambda_state_dict_leaves_functions_out():
    sched = LambdaLR(opt(), lambda t: 0.5 ** t)
    sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None] and state["last_epoch"] == 1
    again = LambdaLR(opt(), lambda t: 0.5 ** t)
    again.load_state_dict(state)
    again.step()
    assert np.isclose(again.get_last_lr()[0], 0.25)
