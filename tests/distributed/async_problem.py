"""The classification problem of the asynchronous-SGD tests: worker_ps.py and test_parameter_server.py share it.

Overlapping Gaussian classes, so that accuracy saturates below 100% and a difference
of half a point between two trainings means something.
"""
import numpy as np

import ember
from ember import nn

FEATURES, CLASSES, HIDDEN = 20, 4, 32
TRAIN, TEST = 2000, 4000
EPOCHS, BATCH, LR = 8, 16, 0.05


def problem(seed: int = 0):
    """``(x_train, y_train), (x_test, y_test)``."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=0.6, size=(CLASSES, FEATURES))
    y = rng.integers(0, CLASSES, TRAIN + TEST)
    x = (centers[y] + rng.normal(size=(TRAIN + TEST, FEATURES))).astype(np.float32)
    return (x[:TRAIN], y[:TRAIN]), (x[TRAIN:], y[TRAIN:])


def build(seed: int = 0) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, CLASSES))


def loss_of(model, x, y):
    return nn.CrossEntropyLoss()(model(ember.tensor(x)), ember.tensor(y))


def accuracy(model, x, y) -> float:
    with ember.no_grad():
        predicted = model(ember.tensor(x)).numpy().argmax(axis=1)
    return float((predicted == y).mean())


def batches(x, y, batch: int, epoch: int, part: int = 0, parts: int = 1):
    """Shard ``part`` of ``parts`` of the data, shuffled by epoch, in batches of ``batch``."""
    index = np.random.default_rng([7, epoch]).permutation(len(x))[part::parts]
    for start in range(0, len(index) - batch + 1, batch):
        chosen = index[start:start + batch]
        yield x[chosen], y[chosen]


def synchronous(epochs: int = EPOCHS, batch: int = BATCH, workers: int = 2, lr: float = LR):
    """The synchronous data-parallel run, in one process: ``workers`` shards of ``batch`` averaged per step.

    Data parallelism with plain SGD is exactly one process stepping on the union of
    the ranks' batches (tests/distributed/test_data_parallel.py checks it).
    """
    (x, y), (x_test, y_test) = problem()
    model = build()
    opt = ember.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for x_b, y_b in batches(x, y, batch * workers, epoch):
            opt.zero_grad()
            loss_of(model, x_b, y_b).backward()
            opt.step()
    return accuracy(model, x_test, y_test)
