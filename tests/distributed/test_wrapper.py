"""OptimizerWrapper: it is the inner optimizer as far as schedules, checkpoints and Model are concerned."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.distributed import LocalSGD, OptimizerWrapper
from ember.optim import SGD, Adam
from ember.optim.schedule import StepLR


def test_groups_state_and_zero_grad_are_the_inner_optimizers():
    net = nn.Linear(3, 2)
    inner = Adam(net.parameters(), lr=0.01)
    opt = LocalSGD(inner, period=4)
    assert opt.param_groups is inner.param_groups and opt.defaults is inner.defaults
    net(ember.ones(1, 3)).sum().backward()
    opt.step()
    assert opt.state is inner.state and len(opt.state) == 2
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert repr(opt).startswith("LocalSGD(Adam")


def test_a_schedule_drives_the_inner_learning_rate():
    w = ember.ones(2, requires_grad=True)
    opt = LocalSGD(SGD([w], lr=1.0))
    schedule = StepLR(opt, step_size=1, gamma=0.5)
    (w * w).sum().backward()
    opt.step()
    schedule.step()
    assert opt.optimizer.param_groups[0]["lr"] == 0.5


def test_state_dict_keeps_the_inner_state_and_the_step_count():
    w = ember.ones(2, requires_grad=True)
    opt = LocalSGD(SGD([w], lr=0.1, momentum=0.9), period=3)
    (w * w).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert state["local_sgd"] == {"steps": 1} and 0 in state["state"]
    fresh = LocalSGD(SGD([ember.ones(2, requires_grad=True)], lr=0.1, momentum=0.9), period=3)
    fresh.load_state_dict(state)
    assert fresh.steps == 1
    np.testing.assert_array_equal(fresh.state[fresh.param_groups[0]["params"][0]]["momentum_buffer"],
                                  opt.state[w]["momentum_buffer"])


def test_model_compile_accepts_a_wrapped_optimizer():
    from ember.train import Model

    net = nn.Linear(3, 1)
    model = Model(net).compile(optimizer=LocalSGD(SGD(net.parameters(), lr=0.1)), loss="mse")
    history = model.fit(np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), batch_size=4, epochs=2,
                        verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_only_optimizers_can_be_wrapped():
    with pytest.raises(TypeError, match="OptimizerWrapper: expected an ember.optim optimizer, got list"):
        OptimizerWrapper([ember.ones(2)])
