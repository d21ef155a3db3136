"""A stand-in for ember.train.Model in callback unit tests (import as `from train.callbacks.stub import ...`)."""
import numpy as np


class StubModel:
    def __init__(self, metrics=()):
        self.stop_training = False
        self.metrics = list(metrics)
        self.weights = {"w": np.zeros(2)}

    def get_weights(self):
        return {k: v.copy() for k, v in self.weights.items()}

    def set_weights(self, weights):
        self.weights = {k: v.copy() for k, v in weights.items()}


def drive(callback, values, key="val_loss", model=None):
    """Run epochs whose logs hold ``key``; the weights of epoch e are [e, e]. Returns the epochs run."""
    model = model or StubModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = []
    for epoch, value in enumerate(values):
        model.weights = {"w": np.full(2, float(epoch))}
        callback.on_epoch_end(epoch, {key: value})
        ran.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model
