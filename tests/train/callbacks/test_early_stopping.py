"""EarlyStopping: Keras's counting rule, baseline, best weights, and a real fit that stops."""
import numpy as np
import pytest
from train.callbacks.stub import drive
from train.helpers import mlp

import ember
from ember.train import Model, optimizers
from ember.train.callbacks import EarlyStopping


def test_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    ran, model = drive(stopper, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    assert ran == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and stopper.best == 0.8
    assert model.weights["w"][0] == 3.0  # weights not restored unless asked


def test_min_delta_patience_zero_and_start_from_epoch():
    ran, _ = drive(EarlyStopping(patience=0, min_delta=0.1), [1.0, 0.95, 0.5])
    assert ran == [0, 1]
    ran, _ = drive(EarlyStopping(patience=0, start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert ran == [0, 1, 2, 3, 4]


def test_restore_best_weights_and_max_mode():
    stopper = EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True, verbose=1)
    ran, model = drive(stopper, [0.5, 0.9, 0.8, 0.7], key="val_accuracy")
    assert ran == [0, 1, 2] and stopper.best_epoch == 1
    assert model.weights["w"][0] == 1.0


def test_baseline_must_be_beaten():
    stopper = EarlyStopping(patience=1, baseline=0.5)
    ran, _ = drive(stopper, [0.9, 0.8, 0.4, 0.3])
    assert ran == [0, 1]


def test_bad_patience():
    with pytest.raises(ValueError, match="patience must be a non-negative int"):
        EarlyStopping(patience=-1)


def test_fit_stops_when_validation_loss_rises():
    # Random labels: the training loss keeps falling while the validation loss rises (overfitting).
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    ember.manual_seed(0)
    model = Model(mlp(hidden=64)).compile(optimizers.adam(lr=0.05), "cross_entropy")
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=100, validation_split=0.5, callbacks=[stopper], verbose=0)
    assert 0 < stopper.stopped_epoch < 99 and len(history.epoch) == stopper.stopped_epoch + 1
    assert model.evaluate(x[32:], y[32:]) == pytest.approx(min(history.history["val_loss"]), rel=1e-5)
