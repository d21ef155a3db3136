"""End to end: the lectures' Torch7 MNIST network trained with minibatch SGD.

784-1000-10 with ReLU, LogSoftMax and the NLL criterion (Torch7's
``ClassNLLCriterion``), SGD with momentum written by hand on the flat
parameter and gradient vectors of ``get_parameters`` (Torch7's
``getParameters()``), 3 epochs on the 60,000 training images: the test error
must fall under 2.5%.
"""
import gzip
import os
import pathlib
import time

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import get_parameters


def _read_idx(path):
    """A minimal IDX reader (big-endian header, unsigned bytes), the fallback when ember._data is absent."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist():
    try:
        from ember.data import load_mnist as loader
    except ImportError:
        loader = None
    if loader is not None:
        return loader()
    folder = pathlib.Path(os.environ["EMBER_DATA"]) / "mnist"
    read = lambda name: _read_idx(folder / name)  # noqa: E731
    return ((read("train-images-idx3-ubyte.gz"), read("train-labels-idx1-ubyte.gz").astype(np.int64)),
            (read("t10k-images-idx3-ubyte.gz"), read("t10k-labels-idx1-ubyte.gz").astype(np.int64)))


def _mnist_or_skip():
    folder = pathlib.Path(os.environ["EMBER_DATA"]) / "mnist"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST training set not found in {folder}")
    (x_train, y_train), (x_test, y_test) = load_mnist()
    scale = lambda x: ((x.reshape(len(x), 784).astype(np.float32) / 255) - 0.1307) / 0.3081  # noqa: E731
    return scale(x_train), y_train, scale(x_test), y_test


@pytest.mark.slow  # about 15 s of BLAS on two idle cores, over a minute on busy ones
def test_torch7_mnist_mlp_reaches_under_2_5_percent_test_error_in_3_epochs():
    x_train, y_train, x_test, y_test = _mnist_or_skip()
    ember.manual_seed(0)
    model = nn.Sequential()
    model.add(nn.Linear(784, 1000)).add(nn.ReLU()).add(nn.Linear(1000, 10)).add(nn.LogSoftmax(dim=1))
    criterion = nn.NLLLoss()
    params, grads = get_parameters(model)
    velocity = np.zeros_like(params.numpy())
    lr, momentum, batch = 0.05, 0.9, 128
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for epoch in range(3):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            grads.zero_()
            model.zero_grad()  # the per-parameter .grad would otherwise keep accumulating too
            loss = criterion(model(ember.tensor(x_train[idx])), ember.tensor(y_train[idx]))
            loss.backward()
            # Torch7's optim.sgd with momentum, on the flat vectors, in place.
            velocity *= momentum
            velocity -= lr * grads.numpy()
            params.numpy()[:] += velocity
    model.eval()
    with ember.no_grad():
        predictions = np.concatenate([model(ember.tensor(x_test[i:i + 1000])).numpy().argmax(1)
                                      for i in range(0, len(x_test), 1000)])
    error = float((predictions != y_test).mean())
    elapsed = time.perf_counter() - start
    print(f"MNIST 784-1000-10: test error {100 * error:.2f}% after 3 epochs in {elapsed:.1f} s")
    assert error < 0.025
