"""Learning-rate callbacks: Keras schedule functions, ember.optim schedulers, reduce on plateau."""
import numpy as np
import pytest
from train.helpers import blobs, mlp

from ember.optim.schedule import OneCycleLR, StepLR
from ember.train import Model, optimizers
from ember.train.callbacks import LearningRateScheduler, ReduceLROnPlateau


def model_and_data(lr=0.1):
    x, y = blobs(n=40)
    return Model(mlp()).compile(optimizers.sgd(lr=lr), "cross_entropy"), x, y


def test_keras_schedule_functions_set_the_rate_at_epoch_start(capsys):
    model, x, y = model_and_data()
    history = model.fit(x, y, batch_size=10, epochs=4, verbose=0,
                        callbacks=[LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch >= 2 else lr, verbose=1)])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert "Epoch 3: learning rate set to 0.05" in capsys.readouterr().out
    model, x, y = model_and_data()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert history.history["lr"] == pytest.approx([0.01, 0.02])


def test_ember_schedulers_per_epoch_and_per_batch():
    model, x, y = model_and_data()
    step = StepLR(model.optimizer, step_size=1, gamma=0.5)
    history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[LearningRateScheduler(step)])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025])  # stepped at each epoch's end
    model, x, y = model_and_data()
    cycle = OneCycleLR(model.optimizer, max_lr=1.0, total_steps=8)
    callback = LearningRateScheduler(cycle, per_batch=True)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[callback])
    assert cycle.last_epoch == 8 and callback.state_dict()["last_epoch"] == 8


def test_scheduler_errors():
    model, x, y = model_and_data()
    other, _, _ = model_and_data()
    with pytest.raises(ValueError, match="built over another optimizer"):
        model.fit(x, y, verbose=0, callbacks=[LearningRateScheduler(StepLR(other.optimizer, 1))])
    with pytest.raises(ValueError, match="returned -1"):
        model.fit(x, y, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: -1)])
    with pytest.raises(ValueError, match="per_batch=True needs"):
        LearningRateScheduler(lambda e: 0.1, per_batch=True)
    with pytest.raises(TypeError, match="schedule must be"):
        LearningRateScheduler(3)


def test_reduce_on_plateau_like_keras(capsys):
    model, x, y = model_and_data()
    # A metric that never improves: with patience 1, Keras cuts the rate after every epoch but the first,
    # down to min_lr.
    flat = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0, min_lr=0.02, verbose=1)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[flat])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02, 0.02])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    assert "reducing learning rate to 0.05" in capsys.readouterr().out
    model, x, y = model_and_data()
    patient = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=3, min_delta=10.0)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[patient])
    assert history.history["lr"] == pytest.approx([0.1] * 4 + [0.05] * 2)  # reduced after epochs 1, 2, 3 failed
    assert np.isfinite(patient.state_dict()["best"])
