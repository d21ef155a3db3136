"""SGD against torch.optim.SGD: 20 steps from the same weights, every option."""
import numpy as np
import pytest
from optim.oracle import assert_same_trajectory

import ember
from ember.optim import SGD

OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, weight_decay=0.1),
    dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=True),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch(torch, options, dtype):
    assert_same_trajectory(torch, lambda p: SGD(p, **options), lambda p: torch.optim.SGD(p, **options), dtype)


def test_param_groups_match_torch(torch):
    def groups(params):
        return [{"params": params[:2], "lr": 0.2, "momentum": 0.5}, {"params": params[2:]}]

    assert_same_trajectory(torch, lambda p: SGD(groups(p), lr=0.05, momentum=0.9),
                           lambda p: torch.optim.SGD(groups(p), lr=0.05, momentum=0.9))


def test_plain_step_is_w_minus_lr_grad():
    w = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w.grad = ember.tensor([0.5, 0.5, -1.0])
    SGD([w], lr=0.1).step()
    np.testing.assert_allclose(w.numpy(), [0.95, -2.05, 3.1], rtol=1e-6)


@pytest.mark.parametrize("options", [dict(momentum=0.0, nesterov=True),
                                     dict(momentum=0.9, dampening=0.1, nesterov=True)])
def test_nesterov_needs_momentum_without_dampening(options):
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0 and dampening = 0"):
        SGD([ember.ones(2, requires_grad=True)], lr=0.1, **options)


def test_nesterov_checked_per_group():
    with pytest.raises(ValueError, match="SGD: nesterov=True in param group 0 needs momentum > 0"):
        SGD([{"params": [ember.ones(2, requires_grad=True)], "momentum": 0.0}], lr=0.1, momentum=0.9, nesterov=True)


@pytest.mark.parametrize("option, value, error, message", [
    ("lr", -0.1, ValueError, r"SGD: invalid lr=-0.1; expected a finite number >= 0"),
    ("momentum", -0.5, ValueError, r"SGD: invalid momentum=-0.5"),
    ("weight_decay", float("nan"), TypeError, r"SGD: option 'weight_decay' must be a finite number"),
    ("lr", "0.1", TypeError, r"SGD: option 'lr' must be a finite number >= 0, got '0.1' of type str"),
    ("nesterov", 1, TypeError, r"SGD: option 'nesterov' must be True or False"),
])
def test_bad_options(option, value, error, message):
    with pytest.raises(error, match=message):
        SGD([ember.ones(2, requires_grad=True)], **{option: value})


def test_unknown_keyword_names_optimizer_and_option():
    with pytest.raises(TypeError, match="SGD.__init__.. got an unexpected keyword argument 'momentun'"):
        SGD([ember.ones(2, requires_grad=True)], lr=0.1, momentun=0.9)


def test_momentum_buffer_only_with_momentum():
    w = ember.ones(2, requires_grad=True)
    opt = SGD([w], lr=0.1)
    w.grad = ember.ones(2)
    opt.step()
    assert opt.state_dict()["state"] == {}
    opt = SGD([w], lr=0.1, momentum=0.9)
    opt.step()
    assert list(opt.state[w]) == ["momentum_buffer"]
