"""ember/data/dataset.py: TensorDataset, ArrayDataset, Subset, ConcatDataset, random_split."""

import numpy as np
import pytest

from ember.data.dataset import (ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset,
                                fetch_batch, random_split)
from ember.data.transforms import RandomNoise, ToFloat


class Squares(Dataset):
    """A per-sample dataset without __getitems__, counting its calls."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.int64(i * i)


def test_tensor_dataset_items_and_batches():
    x, y = np.arange(20).reshape(10, 2), np.arange(10) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    item = ds[3]
    assert isinstance(item, tuple) and item[0].tolist() == [6, 7] and item[1] == 30
    bx, by = ds.__getitems__(np.array([9, 0, 9]))
    assert bx.tolist() == [[18, 19], [0, 1], [18, 19]] and by.tolist() == [90, 0, 90]
    assert ds.arrays[0] is x  # no copy of the data


def test_tensor_dataset_checks_lengths():
    with pytest.raises(ValueError, match="same length"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="transforms"):
        TensorDataset(np.zeros(3), transforms=[None, None])


def test_denoising_pairs_through_per_array_transforms():
    clean = np.full((50, 8), 0.5, dtype=np.float32)
    ds = TensorDataset(clean, clean, transforms=[RandomNoise(std=0.2, seed=0), None])
    noisy, target = ds.__getitems__(np.arange(50))
    assert np.array_equal(target, clean) and not np.array_equal(noisy, clean)
    one_noisy, one_target = ds[0]
    assert one_noisy.shape == (8,) and np.array_equal(one_target, clean[0])


def test_array_dataset_applies_transforms_on_both_paths():
    data = np.full((4, 2, 2), 255, np.uint8)
    ds = ArrayDataset(data, np.arange(4), transform=ToFloat(), target_transform=lambda y: y + 100)
    x, y = ds[2]
    assert x.dtype == np.float32 and x.max() == 1.0 and y == 102
    bx, by = ds.__getitems__(np.array([0, 3]))
    assert bx.shape == (2, 2, 2) and by.tolist() == [100, 103]
    ds.transform = None
    assert ds[0][0].dtype == np.uint8 and ds.transforms[0] is None
    assert ds.data is data and "ArrayDataset(n=4" in repr(ds)


def test_subset_maps_indices_and_keeps_the_fast_path():
    base = TensorDataset(np.arange(10) * 2)
    sub = Subset(base, [7, 1, 4])
    assert len(sub) == 3 and sub[0][0] == 14 and sub[-1][0] == 8
    assert sub.__getitems__(np.array([2, 0]))[0].tolist() == [8, 14]
    per_sample = Subset(Squares(5), np.array([4, 2]))
    assert per_sample.__getitems__([1, 0]).tolist() == [4, 16]


def test_concat_dataset_indexing_and_batch_order():
    a, b, c = (TensorDataset(np.arange(3)), TensorDataset(np.arange(100, 102)),
               TensorDataset(np.arange(200, 204)))
    ds = ConcatDataset([a, b, c])
    assert len(ds) == 9
    assert [int(ds[i][0]) for i in range(9)] == [0, 1, 2, 100, 101, 200, 201, 202, 203]
    assert int(ds[-1][0]) == 203
    order = np.array([8, 0, 4, 3, 2, 6])
    assert ds.__getitems__(order)[0].tolist() == [203, 0, 101, 100, 2, 201]
    with pytest.raises(IndexError):
        ds[9]
    with pytest.raises(IndexError):
        ds.__getitems__(np.array([0, -10]))


def test_concat_mixes_fast_and_per_sample_datasets():
    class TupleSquares(Squares):
        def __getitem__(self, i):
            return (super().__getitem__(i),)  # same structure as a TensorDataset sample

    ds = TensorDataset(np.arange(10, 13)) + TupleSquares(3)  # Dataset.__add__
    assert isinstance(ds, ConcatDataset)
    assert ds.__getitems__(np.array([4, 0, 5, 2]))[0].tolist() == [1, 10, 4, 12]


def test_fetch_batch_uses_getitems_or_falls_back_per_sample():
    squares = Squares(6)
    assert fetch_batch(squares, np.array([5, 1])).tolist() == [25, 1]
    assert squares.calls == 2


def test_random_split_is_a_disjoint_reproducible_cover():
    ds = TensorDataset(np.arange(103))
    parts = random_split(ds, [50, 50, 3], seed=7)
    assert [len(p) for p in parts] == [50, 50, 3]
    everything = np.concatenate([p.indices for p in parts])
    assert sorted(everything.tolist()) == list(range(103))
    again = random_split(ds, [50, 50, 3], seed=7)
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))
    other = random_split(ds, [50, 50, 3], seed=8)
    assert not np.array_equal(parts[0].indices, other[0].indices)


def test_random_split_fractions_and_errors():
    parts = random_split(TensorDataset(np.arange(10)), [0.5, 0.3, 0.2], seed=0)
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(np.arange(11)), [0.5, 0.5], seed=0)
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match="sum"):
        random_split(TensorDataset(np.arange(10)), [5, 6])
    with pytest.raises(ValueError, match="fractions"):
        random_split(TensorDataset(np.arange(10)), [0.5, 0.6])
