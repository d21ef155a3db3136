"""ReduceLROnPlateau against PyTorch's, on the same metric sequences."""
import numpy as np
import pytest

import ember
from ember.optim import SGD
from ember.optim.lr_scheduler import ReduceLROnPlateau

SETTINGS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", patience=0, threshold=0.1, threshold_mode="rel", min_lr=[0.01, 0.005], factor=0.3),
    dict(patience=1, min_lr=0.02, eps=1e-3),
]


def metrics(n=60):
    rng = np.random.default_rng(1)
    # A loss that improves, then plateaus with noise, so that reductions happen.
    return list(np.concatenate([np.linspace(1.0, 0.5, 10), 0.5 + 0.02 * rng.standard_normal(n - 10)]))


def rates(make_opt, make_sched, tensor):
    opt = make_opt([{"params": [tensor()], "lr": 0.1}, {"params": [tensor()], "lr": 0.05}], lr=0.1)
    sched = make_sched(opt)
    out = []
    for value in metrics():
        opt.step()
        sched.step(value)
        out.append(sched.get_last_lr())
    return out, sched


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_matches_torch(torch, settings):
    ours, _ = rates(SGD, lambda o: ReduceLROnPlateau(o, **settings), lambda: ember.zeros(1, requires_grad=True))
    theirs, _ = rates(torch.optim.SGD, lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **settings),
                      lambda: torch.zeros(1, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[-1] != ours[0] or settings.get("mode") == "max"


def test_accepts_a_tensor_metric_and_resumes_from_state_dict():
    opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for v in [1.0, 1.0]:
        sched.step(ember.tensor(v))
    state = sched.state_dict()
    assert state["num_bad_epochs"] == 1 and "optimizer" not in state
    again = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    again.load_state_dict(state)
    again.step(1.0)
    assert again.get_last_lr() == [0.5]


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="lowest"), "ReduceLROnPlateau: mode must be 'min' or 'max', got 'lowest'"),
    (dict(threshold_mode="pct"), "threshold_mode must be 'rel' or 'abs'"),
    (dict(factor=1.0), r"ReduceLROnPlateau: invalid factor=1.0; expected a number in \(0, 1\)"),
    (dict(min_lr=[0.1, 0.2]), r"expected 1 values of min_lr \(one per param group\), got 2"),
    (dict(patience=-1), "ReduceLROnPlateau: invalid patience=-1"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReduceLROnPlateau(SGD([ember.ones(1, requires_grad=True)], lr=1.0), **kwargs)


def test_load_state_dict_of_another_scheduler():
    sched = ReduceLROnPlateau(SGD([ember.ones(1, requires_grad=True)], lr=1.0))
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.load_state_dict: unexpected keys \['T_max'\]"):
        sched.load_state_dict({"T_max": 10})
