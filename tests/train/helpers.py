"""Small data sets and networks shared by the training tests (import as `from train.helpers import ...`)."""
import numpy as np

import ember.nn as nn


def blobs(n=240, features=4, classes=3, seed=0):
    """Well separated Gaussian clusters: a problem an MLP solves in a few epochs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, features))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(size=(n, features))).astype(np.float32)
    return x, y.astype(np.int64)


def mlp(features=4, classes=3, hidden=16, dropout=0.0):
    layers = [nn.Linear(features, hidden), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, classes))


def build_for_search(params):
    """A build_fn for random_search; module-level so that worker processes can import it."""
    from ember.train import Model, optimizers

    net = mlp(hidden=params["hidden"], dropout=params.get("dropout", 0.0))
    return Model(net).compile(optimizers.adam(lr=params["lr"]), "cross_entropy", metrics=["accuracy"])
