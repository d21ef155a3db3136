"""OptimizerSpec: Keras names and defaults, per-batch decay, gradient clipping in fit."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import optim
from ember.train import Model, optimizers
from ember.train.optimizers import OPTIMIZERS, OptimizerSpec


def params():
    return [ember.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_name_builds_with_keras_defaults(name):
    optimizer, schedule = OptimizerSpec(name).build(params())
    cls, defaults = OPTIMIZERS[name]
    assert type(optimizer) is cls and schedule is None
    assert optimizer.param_groups[0]["lr"] == defaults["lr"]


def test_keras_argument_names():
    optimizer, _ = optimizers.rmsprop(learning_rate=0.01, rho=0.8, epsilon=1e-6).build(params())
    group = optimizer.param_groups[0]
    assert (group["lr"], group["alpha"], group["eps"]) == (0.01, 0.8, 1e-6)
    optimizer, _ = OptimizerSpec("adam", beta_2=0.98).build(params())
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.98)
    optimizer, _ = optimizers.sgd(lr=0.1, momentum=0.9, nesterov=True).build(params())
    assert isinstance(optimizer, optim.SGD) and optimizer.param_groups[0]["nesterov"]


def test_bad_settings_fail_when_the_spec_is_made():
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['momentun'\]"):
        OptimizerSpec("sgd", momentun=0.9)
    with pytest.raises(TypeError, match="beta_1/beta_2 apply to Adam"):
        OptimizerSpec("sgd", beta_1=0.9)
    with pytest.raises(ValueError, match="decay must be a non-negative number"):
        optimizers.rmsprop(decay=-1)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprob'"):
        OptimizerSpec("rmsprob")


def test_decay_is_keras_inverse_time_decay_per_batch():
    model = Model(nn.Linear(2, 1)).compile(optimizers.sgd(lr=0.1, decay=0.5), "mse")
    x, y = np.zeros((12, 2), np.float32), np.zeros((12, 1), np.float32)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)  # 3 batches per epoch
    assert history.history["lr"] == pytest.approx([0.1 / (1 + 0.5 * 3), 0.1 / (1 + 0.5 * 6)])


def test_clipnorm_limits_each_step():
    ember.manual_seed(0)
    net = nn.Linear(1, 1, bias=False)
    model = Model(net).compile(optimizers.sgd(lr=1.0, clipnorm=0.5), "mse")
    before = net.weight.numpy().copy()
    model.train_on_batch(np.full((4, 1), 100.0, np.float32), np.zeros((4, 1), np.float32))  # huge gradient
    assert abs((net.weight.numpy() - before).item()) == pytest.approx(0.5, rel=1e-5)
