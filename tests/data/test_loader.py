"""ember/data/loader.py: batching, shuffling, drop_last, the fast path, prefetching, tensors."""

import sys
import threading
import types

import numpy as np
import pytest

from ember.data.dataset import Dataset, TensorDataset
from ember.data.loader import DataLoader
from ember.data.sampler import DistributedSampler, SequentialSampler
from ember.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, ToFloat


class Records(Dataset):
    """Per-sample dataset (no __getitems__) returning dict samples; counts calls."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return {"x": np.full(3, i, np.float32), "label": i % 2, "name": f"r{i}"}


class CountingTensors(TensorDataset):
    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.item_calls = self.batch_calls = 0

    def __getitem__(self, i):
        self.item_calls += 1
        return super().__getitem__(i)

    def __getitems__(self, idx):
        self.batch_calls += 1
        return super().__getitems__(idx)


def xy(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def test_sequential_batches_cover_the_dataset_once():
    loader = DataLoader(xy(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == np.float32


def test_drop_last():
    loader = DataLoader(xy(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]
    assert len(DataLoader(xy(8), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_seeded_and_reshuffled_every_epoch():
    a = DataLoader(xy(50), batch_size=8, shuffle=True, seed=11)
    b = DataLoader(xy(50), batch_size=8, shuffle=True, seed=11)
    epochs_a = [np.concatenate([y for _, y in a]) for _ in range(3)]
    epochs_b = [np.concatenate([y for _, y in b]) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        assert np.array_equal(ea, eb)
        assert sorted(ea.tolist()) == list(range(50))
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    other = DataLoader(xy(50), batch_size=8, shuffle=True, seed=12)
    assert not np.array_equal(np.concatenate([y for _, y in other]), epochs_a[0])


def test_set_epoch_replays_an_epoch():
    loader = DataLoader(xy(30), batch_size=30, shuffle=True, seed=0)
    first, second = next(iter(loader))[1], next(iter(loader))[1]
    loader.set_epoch(1)
    assert np.array_equal(next(iter(loader))[1], second)
    loader.set_epoch(0)
    assert np.array_equal(next(iter(loader))[1], first)


def test_fast_path_is_one_fancy_index_per_batch():
    ds = CountingTensors(np.arange(100), np.arange(100))
    for _ in DataLoader(ds, batch_size=10, shuffle=True, seed=0):
        pass
    assert ds.batch_calls == 10 and ds.item_calls == 0


def test_per_sample_datasets_collate_dicts():
    ds = Records(5)
    batches = list(DataLoader(ds, batch_size=2))
    assert ds.calls == 5
    first = batches[0]
    assert set(first) == {"x", "label", "name"}
    assert first["x"].shape == (2, 3) and first["label"].tolist() == [0, 1]
    assert first["name"] == ["r0", "r1"]


def test_custom_collate_gets_the_list_of_samples():
    seen = []
    loader = DataLoader(xy(5), batch_size=2, collate_fn=lambda samples: seen.append(samples) or
                        len(samples))
    assert list(loader) == [2, 2, 1]
    assert isinstance(seen[0], list) and isinstance(seen[0][0], tuple)


def test_samplers_and_batch_samplers():
    shard = DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(xy(10), batch_size=2, sampler=shard)
    assert [y.tolist() for _, y in loader] == [[1, 3], [5, 7], [9]]
    loader = DataLoader(xy(10), batch_sampler=[[9, 8], [0]])
    assert [y.tolist() for _, y in loader] == [[9, 8], [0]]


def test_conflicting_options_are_refused():
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(xy(), shuffle=True, sampler=SequentialSampler(range(10)))
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(xy(), batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(xy(), prefetch=-1)


def augmented_loader(prefetch):
    images = (np.arange(64 * 3 * 8 * 8) % 251).astype(np.uint8).reshape(64, 3, 8, 8)
    transform = Compose([RandomCrop(8, padding=2, seed=1), RandomHorizontalFlip(seed=2), ToFloat()])
    ds = TensorDataset(images, np.arange(64), transforms=[transform, None])
    return DataLoader(ds, batch_size=10, shuffle=True, seed=3, prefetch=prefetch)


def test_prefetch_gives_identical_batches():
    plain, ahead = augmented_loader(0), augmented_loader(3)
    for _ in range(2):  # two epochs: shuffling and augmentation advance identically
        batches = list(plain)
        prefetched = list(ahead)
        assert len(batches) == len(prefetched) == 7
        for (x0, y0), (x1, y1) in zip(batches, prefetched):
            assert np.array_equal(x0, x1) and np.array_equal(y0, y1)


def test_prefetch_runs_in_a_background_thread_and_stops_on_break():
    seen_threads = set()

    class Spy(TensorDataset):
        def __getitems__(self, idx):
            seen_threads.add(threading.current_thread().name)
            return super().__getitems__(idx)

    loader = DataLoader(Spy(np.arange(1000)), batch_size=1, prefetch=2)
    it = iter(loader)
    next(it)
    assert seen_threads == {"ember-data-prefetch"}
    it.close()  # what a `break` in a for loop does once the iterator is dropped
    assert not any(t.name == "ember-data-prefetch" and t.is_alive()
                   for t in threading.enumerate())


def test_prefetch_reraises_errors_from_the_thread():
    class Broken(TensorDataset):
        def __getitems__(self, idx):
            if idx[0] >= 4:
                raise KeyError("batch two is broken")
            return super().__getitems__(idx)

    loader = DataLoader(Broken(np.arange(10)), batch_size=4, prefetch=2)
    it = iter(loader)
    assert next(it)[0].tolist() == [0, 1, 2, 3]
    with pytest.raises(KeyError, match="batch two is broken"):
        next(it)


def test_as_tensor_wraps_each_array_without_copy(monkeypatch):
    class FakeTensor:
        def __init__(self, data):
            self.data = data

    monkeypatch.setitem(sys.modules, "ember", types.SimpleNamespace(Tensor=FakeTensor))
    ds = Records(4)
    batch = next(iter(DataLoader(ds, batch_size=2, as_tensor=True)))
    assert isinstance(batch["x"], FakeTensor) and isinstance(batch["label"], FakeTensor)
    assert batch["name"] == ["r0", "r1"]  # non-arrays are left alone
    x = np.arange(6.0).reshape(3, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=3, as_tensor=True)))
    assert np.array_equal(xb.data, x)


def test_as_tensor_without_the_core_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "ember", types.SimpleNamespace())
    with pytest.raises(ImportError, match="ember.Tensor"):
        iter(DataLoader(xy(), as_tensor=True))


def test_as_tensor_with_the_real_core():
    ember = pytest.importorskip("ember")
    if not hasattr(ember, "Tensor"):
        pytest.skip("ember.Tensor is not available yet")
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    xb, yb = next(iter(DataLoader(TensorDataset(x, np.arange(6)), batch_size=6, as_tensor=True)))
    assert isinstance(xb, ember.Tensor) and isinstance(yb, ember.Tensor)
    assert np.array_equal(np.asarray(xb.data), x)


def test_repr_mentions_the_essentials():
    text = repr(DataLoader(xy(10), batch_size=4, prefetch=1))
    assert "batch_size=4" in text and "batches=3" in text and "prefetch=1" in text
