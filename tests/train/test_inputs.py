"""Turning fit's data arguments into batches: arrays, datasets, loaders, validation splits."""
import numpy as np
import pytest

import ember
from ember.data import DataLoader, TensorDataset
from ember.train.inputs import (
    ArrayBatches,
    LoaderBatches,
    make_batches,
    split_validation,
)

X = np.arange(20, dtype=np.float32).reshape(10, 2)
Y = np.arange(10)


def collect(batches, epoch=0, seed=0):
    return [(tuple(a.copy() for a in inputs), target, weight) for inputs, target, weight in batches.epoch(epoch, seed)]


def test_array_batches_cover_every_sample_once_per_epoch():
    batches = make_batches(X, Y, "fit", batch_size=4, shuffle=True)
    assert isinstance(batches, ArrayBatches) and (batches.samples, batches.steps) == (10, 3)
    epoch = collect(batches)
    assert [len(t) for _, t, _ in epoch] == [4, 4, 2]
    seen = np.concatenate([t for _, t, _ in epoch])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for (x,), t, _ in epoch:
        np.testing.assert_array_equal(x, X[t])  # rows stay paired with their targets


def test_the_order_of_an_epoch_depends_on_seed_and_epoch_only():
    batches = make_batches(X, Y, "fit", batch_size=10, shuffle=True)
    first = collect(batches, epoch=3, seed=5)[0][1]
    collect(batches, epoch=0, seed=5)
    np.testing.assert_array_equal(collect(batches, epoch=3, seed=5)[0][1], first)
    assert not np.array_equal(collect(batches, epoch=4, seed=5)[0][1], first)
    no_shuffle = make_batches(X, Y, "fit", batch_size=10, shuffle=False)
    np.testing.assert_array_equal(collect(no_shuffle)[0][1], Y)


def test_several_inputs_tensors_and_sample_weights():
    w = np.linspace(0, 1, 10)
    batches = make_batches((ember.tensor(X), X[:, :1]), Y, "fit", batch_size=5, sample_weight=w)
    (a, b), target, weight = collect(batches)[0]
    assert a.shape == (5, 2) and b.shape == (5, 1)
    np.testing.assert_array_equal(weight, w[target])


def test_loaders_and_datasets():
    loader = DataLoader(TensorDataset(X, Y), batch_size=3, shuffle=True, seed=1)
    batches = make_batches(loader, None, "fit", batch_size=32)
    assert isinstance(batches, LoaderBatches) and (batches.steps, batches.samples) == (4, 10)
    _, target = batches.first(2)
    np.testing.assert_array_equal(target, [0, 1])  # peeked through the dataset, loader not advanced
    np.testing.assert_array_equal(collect(batches, epoch=2)[0][1], collect(batches, epoch=2)[0][1])
    from_dataset = make_batches(TensorDataset(X, Y), None, "evaluate", batch_size=4)
    assert [len(t) for _, t, _ in collect(from_dataset)] == [4, 4, 2]
    shuffled = make_batches(TensorDataset(X, Y), None, "fit", batch_size=10, shuffle=True)
    order = collect(shuffled, epoch=3, seed=5)[0][1]  # a Dataset follows the run's seed, like arrays
    assert sorted(order) == list(range(10)) and list(order) != list(range(10))
    np.testing.assert_array_equal(collect(shuffled, epoch=3, seed=5)[0][1], order)
    assert shuffled.first(3)[1].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="x must be an array, a tuple of arrays, a Dataset or a DataLoader"):
        make_batches([(X[:2], Y[:2])], None, "fit", batch_size=1)  # a list of batches is not a loader


@pytest.mark.parametrize("call, message", [
    (lambda: make_batches(X, Y[:5], "fit", batch_size=2), "x has 10, y has 5"),
    (lambda: make_batches((X, X[:3]), Y, "fit", batch_size=2), "x\\[0\\] has 10, x\\[1\\] has 3"),
    (lambda: make_batches(X, Y, "fit", batch_size=2, sample_weight=np.ones((10, 2))), "one per sample"),
    (lambda: make_batches(X, Y, "fit", batch_size=2.5), "batch_size must be a positive int"),
    (lambda: make_batches(None, None, "fit", batch_size=2), "no data given"),
    (lambda: make_batches(DataLoader(TensorDataset(X, Y)), Y, "fit", batch_size=2), "do not pass y"),
    (lambda: make_batches(np.float32(3.0), None, "predict", batch_size=2), "first \\(sample\\) dimension"),
    (lambda: split_validation(X, Y, None, 1.5, "fit"), "validation_split must lie in"),
    (lambda: split_validation(TensorDataset(X, Y), None, None, 0.2, "fit"), "needs arrays x and y"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_validation_split_takes_the_tail_before_shuffling():
    (_, y, w), (xv, yv, wv) = split_validation(X, Y, np.ones(10), 0.3, "fit")
    assert y.tolist() == list(range(7)) and yv.tolist() == [7, 8, 9]
    np.testing.assert_array_equal(xv, X[7:])
    assert len(w) == 7 and len(wv) == 3


def test_loader_batch_forms():
    def gen_batches():
        return [(X[:2], Y[:2], np.ones(2)), X[2:4]]

    batches = make_batches(_Reiterable(gen_batches), None, "fit", batch_size=1)
    (_, _, first_weight), (_, second_target, _) = collect(batches)
    assert first_weight.tolist() == [1.0, 1.0] and second_target is None
    with pytest.raises(ValueError, match="a batch must be"):
        collect(make_batches(_Reiterable(lambda: [(X, Y, Y, Y)]), None, "fit", batch_size=1))


class _Reiterable:
    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return iter(self.make())
