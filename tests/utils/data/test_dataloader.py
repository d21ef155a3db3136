"""DataLoader: PyTorch's arguments and checks, batches of ember Tensors, real worker processes."""
import os

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info,
                              random_split)


class Squares(Dataset):
    """Per-sample dataset (no batch path) that reports where it was loaded."""

    def __init__(self, n=10, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"no sample {i}")
        info = get_worker_info()
        return {"x": np.float32(i * i), "pid": os.getpid(), "worker": -1 if info is None else info.id}


def _torch_batches(dataset, **kwargs):
    return list(torch.utils.data.DataLoader(dataset, **kwargs))


def test_batches_match_torch_without_workers():
    x = np.random.default_rng(0).random((10, 3)).astype(np.float32)
    y = np.arange(10)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=4))
    theirs = _torch_batches(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4)
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        assert isinstance(xb, ember.Tensor) and str(xb.dtype) == "float32" and str(yb.dtype) == "int64"
        np.testing.assert_array_equal(xb.numpy(), tx.numpy())
        np.testing.assert_array_equal(yb.numpy(), ty.numpy())


def test_per_sample_path_matches_torch_collate():
    ours = list(DataLoader(Squares(5), batch_size=2, drop_last=True))
    theirs = _torch_batches(Squares(5), batch_size=2, drop_last=True)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a["x"].numpy(), b["x"].numpy())
        assert str(a["pid"].dtype) == "int64"


def test_workers_are_separate_processes_and_keep_order():
    loader = DataLoader(Squares(12), batch_size=3, num_workers=2)
    batches = list(loader)
    assert len(loader) == 4 and len(batches) == 4
    np.testing.assert_array_equal(np.concatenate([b["x"].numpy() for b in batches]),
                                  np.arange(12, dtype=np.float32) ** 2)
    pids = {int(p) for b in batches for p in b["pid"].numpy()}
    assert os.getpid() not in pids and len(pids) == 2
    assert [int(b["worker"].numpy()[0]) for b in batches] == [0, 1, 0, 1]  # round robin, in order


def test_worker_exception_is_raised_in_parent_with_worker_and_index():
    loader = DataLoader(Squares(10, fail_at=7), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match=r"Caught KeyError in DataLoader worker process 1 while loading "
                                       r"sample index 7(.|\n)*no sample 7"):
        list(loader)


def test_worker_init_fn_and_seeds():
    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        np.save(os.path.join(folder, f"w{worker_id}.npy"), np.array([info.seed, np.random.randint(1 << 30)]))

    import tempfile
    folder = tempfile.mkdtemp()
    list(DataLoader(Squares(4), batch_size=2, num_workers=2, worker_init_fn=init))
    seeds = [np.load(os.path.join(folder, f"w{i}.npy")) for i in range(2)]
    assert seeds[1][0] == seeds[0][0] + 1  # base_seed + worker id
    assert seeds[0][1] != seeds[1][1]  # NumPy's global generator reseeded per worker
    assert get_worker_info() is None


def test_persistent_workers_reshuffle_each_epoch():
    ds = TensorDataset(np.arange(12))
    loader = DataLoader(ds, batch_size=5, shuffle=True, num_workers=2, persistent_workers=True,
                        generator=np.random.default_rng(0))
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]
    assert all(sorted(e.tolist()) == list(range(12)) for e in epochs)
    assert epochs[0].tolist() != epochs[1].tolist()
    workers = loader._iterator._workers
    assert all(w.is_alive() for w in workers)
    loader._iterator.shutdown()
    assert not any(w.is_alive() for w in workers)


def test_shuffle_is_reproducible_with_manual_seed_and_workers():
    ds = TensorDataset(np.arange(50))
    firsts = []
    for _ in range(2):
        ember.manual_seed(7)
        firsts.append(next(iter(DataLoader(ds, batch_size=10, shuffle=True, num_workers=1)))[0].tolist())
    assert firsts[0] == firsts[1] and firsts[0] != list(range(10))


class Shards(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        per = self.n // info.num_workers
        return iter(range(info.id * per, (info.id + 1) * per))

    def __len__(self):
        return self.n


class TorchShards(torch.utils.data.IterableDataset):
    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        return iter(range(info.id * 4, (info.id + 1) * 4))


def test_iterable_dataset_split_by_worker_info_like_torch():
    ours = [b.tolist() for b in DataLoader(Shards(8), batch_size=3, num_workers=2)]
    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchShards(), batch_size=3, num_workers=2)]
    assert ours == theirs == [[0, 1, 2], [4, 5, 6], [3], [7]]
    assert [b.tolist() for b in DataLoader(Shards(5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    assert len(DataLoader(Shards(5), batch_size=2)) == 3


def test_batch_size_none_converts_single_samples():
    items = list(DataLoader(TensorDataset(np.arange(3)), batch_size=None))
    assert len(items) == 3 and isinstance(items[0][0], ember.Tensor) and items[2][0].shape == ()


def test_custom_collate_fn_and_batch_sampler():
    loader = DataLoader(Squares(6), batch_sampler=[[5, 0], [1]], collate_fn=lambda s: [d["x"] for d in s],
                        num_workers=1)
    assert list(loader) == [[25.0, 0.0], [1.0]] and len(loader) == 2


def test_random_split_subsets_load_through_workers():
    train, _ = random_split(TensorDataset(np.arange(10)), [6, 4], generator=np.random.default_rng(1))
    got = np.concatenate([b[0].numpy() for b in DataLoader(train, batch_size=4, num_workers=2)])
    assert got.tolist() == [int(train[i][0]) for i in range(6)]


def test_dead_worker_is_reported():
    class Dies(Squares):
        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+ \(exit code 3\)\) exited unexpectedly"):
        list(DataLoader(Dies(4), batch_size=2, num_workers=1))


def test_timeout():
    class Slow(Squares):
        def __getitem__(self, i):
            import time
            time.sleep(1.5)
            return 0

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(DataLoader(Slow(2), batch_size=1, num_workers=1, timeout=0.3))


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size should be a positive integer value"),
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
])
def test_bad_arguments_raise_like_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        torch.utils.data.DataLoader(range(5), **kwargs)
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(np.arange(5)), **kwargs)


def test_iterable_dataset_rejects_shuffle():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Shards(4), shuffle=True)


def test_pin_memory_is_accepted():
    (xb,) = next(iter(DataLoader(TensorDataset(np.ones((4, 2), np.float32)), batch_size=4, pin_memory=True)))
    assert xb.shape == (4, 2)
