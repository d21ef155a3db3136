"""ember/data/sampler.py: epoch orders, reproducibility, weights and distributed shards."""

import numpy as np
import pytest

from ember.data.sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                                SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
                                sampler_indices)


def test_sequential():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5
    assert s.indices().dtype == np.int64


def test_random_sampler_reshuffles_every_epoch_reproducibly():
    a, b = RandomSampler(range(100), seed=3), RandomSampler(range(100), seed=3)
    epochs_a = [a.indices() for _ in range(3)]
    epochs_b = [b.indices() for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        assert np.array_equal(ea, eb)  # same seed, same sequence of epochs
        assert sorted(ea.tolist()) == list(range(100))  # each epoch is a permutation
    assert not np.array_equal(epochs_a[0], epochs_a[1])  # and a fresh one each time
    assert not np.array_equal(epochs_a[1], epochs_a[2])
    assert not np.array_equal(epochs_a[0], RandomSampler(range(100), seed=4).indices())


def test_random_sampler_set_epoch_replays_an_epoch():
    s = RandomSampler(range(50), seed=0)
    first, second = s.indices(), s.indices()
    assert s.epoch == 2
    s.set_epoch(1)
    assert np.array_equal(s.indices(), second)
    assert s.epoch == 2
    fresh = RandomSampler(range(50), seed=0)
    fresh.set_epoch(0)
    assert np.array_equal(fresh.indices(), first)


def test_random_sampler_without_seed_still_reshuffles():
    s = RandomSampler(range(1000))
    assert not np.array_equal(s.indices(), s.indices())


def test_random_sampler_with_a_generator_draws_from_it():
    rng = np.random.default_rng(0)
    s = RandomSampler(range(10), seed=rng)
    expected = np.random.default_rng(0).permutation(10)
    assert np.array_equal(s.indices(), expected)


def test_random_sampler_with_replacement():
    s = RandomSampler(range(3), replacement=True, num_samples=1000, seed=0)
    idx = s.indices()
    assert len(idx) == 1000 == len(s) and set(idx.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="replacement"):
        RandomSampler(range(3), num_samples=5)
    assert len(RandomSampler(range(10), num_samples=4, seed=0).indices()) == 4


def test_subset_random_sampler():
    s = SubsetRandomSampler([10, 20, 30, 40], seed=1)
    a, b = s.indices(), s.indices()
    assert sorted(a.tolist()) == [10, 20, 30, 40] == sorted(b.tolist())
    assert len(s) == 4


def test_weighted_sampler_frequencies_follow_the_weights():
    weights = np.array([1.0, 2.0, 0.0, 7.0])
    s = WeightedRandomSampler(weights, num_samples=100_000, seed=0)
    freq = np.bincount(s.indices(), minlength=4) / 100_000
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.006)
    assert freq[2] == 0.0  # zero weight is never drawn


def test_weighted_sampler_rebalances_classes():
    labels = np.array([0] * 900 + [1] * 100)
    weights = 1.0 / np.bincount(labels)[labels]
    drawn = labels[WeightedRandomSampler(weights, 20_000, seed=1).indices()]
    assert abs(drawn.mean() - 0.5) < 0.02


def test_weighted_sampler_without_replacement_and_errors():
    idx = WeightedRandomSampler([1, 1, 1, 0], num_samples=3, replacement=False, seed=0).indices()
    assert sorted(idx.tolist()) == [0, 1, 2]
    for bad in ([], [-1.0, 2.0], [0.0, 0.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="weights"):
            WeightedRandomSampler(bad, 2)
    with pytest.raises(ValueError, match="non-zero"):
        WeightedRandomSampler([1, 0], 2, replacement=False)


@pytest.mark.parametrize("n,replicas", [(100, 4), (10, 3), (7, 8)])
def test_distributed_shards_are_disjoint_and_cover_the_dataset(n, replicas):
    shards = [DistributedSampler(range(n), replicas, r, seed=5).indices() for r in range(replicas)]
    per_rank = -(-n // replicas)
    assert all(len(s) == per_rank for s in shards)  # every rank does the same number of steps
    everything = np.concatenate(shards)
    assert set(everything.tolist()) == set(range(n))  # together they cover the dataset
    assert len(everything) - n == per_rank * replicas - n  # only the padding repeats
    if n % replicas == 0:
        assert len(set(everything.tolist())) == n  # disjoint


def test_distributed_drop_last_gives_disjoint_equal_shards():
    shards = [DistributedSampler(range(10), 3, r, drop_last=True, seed=1).indices()
              for r in range(3)]
    assert [len(s) for s in shards] == [3, 3, 3]
    flat = np.concatenate(shards).tolist()
    assert len(set(flat)) == 9


def test_distributed_epochs_agree_across_ranks_and_change_with_set_epoch():
    samplers = [DistributedSampler(range(40), 2, r, seed=0) for r in range(2)]
    first = [s.indices() for s in samplers]
    for s in samplers:
        s.set_epoch(1)
    second = [s.indices() for s in samplers]
    assert set(np.concatenate(second).tolist()) == set(range(40))
    assert not np.array_equal(first[0], second[0])
    samplers[0].set_epoch(0)
    assert np.array_equal(first[0], samplers[0].indices())
    # Without set_epoch each call moves on by itself, identically on every rank.
    fresh = [DistributedSampler(range(40), 2, r, seed=0) for r in range(2)]
    for _ in range(2):
        shards = [s.indices() for s in fresh]
        assert set(np.concatenate(shards).tolist()) == set(range(40))
    assert np.array_equal(shards[0], second[0])


def test_distributed_without_shuffle_is_strided():
    assert DistributedSampler(range(10), 3, 0, shuffle=False).indices().tolist() == [0, 3, 6, 9]
    # 10 samples pad to 12 by wrapping around to the start: ranks 1 and 2 get 0 and 1 again
    assert DistributedSampler(range(10), 3, 1, shuffle=False).indices().tolist() == [1, 4, 7, 0]
    assert DistributedSampler(range(10), 3, 2, shuffle=False).indices().tolist() == [2, 5, 8, 1]


def test_distributed_reads_the_mpi_environment(monkeypatch):
    for var in ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                "PMIX_SIZE", "PMIX_RANK", "WORLD_SIZE", "RANK"):
        monkeypatch.delenv(var, raising=False)
    s = DistributedSampler(range(10))
    assert (s.num_replicas, s.rank) == (1, 0)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")
    s = DistributedSampler(range(10))
    assert (s.num_replicas, s.rank, len(s)) == (4, 3, 3)
    with pytest.raises(ValueError, match="rank 4"):
        DistributedSampler(range(10), num_replicas=4, rank=4)


def test_batch_sampler_and_drop_last():
    s = SequentialSampler(range(10))
    assert [b.tolist() for b in BatchSampler(s, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.tolist() for b in BatchSampler(s, 4, drop_last=True)] == [[0, 1, 2, 3],
                                                                         [4, 5, 6, 7]]
    assert len(BatchSampler(s, 4)) == 3 and len(BatchSampler(s, 4, drop_last=True)) == 2
    assert len(BatchSampler(s, 5, drop_last=True)) == 2
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            BatchSampler(s, bad)


def test_samplers_defined_by_iter_or_plain_iterables_work():
    class Evens(Sampler):
        def __iter__(self):
            return iter([0, 2, 4])

        def __len__(self):
            return 3

    assert sampler_indices(Evens()).tolist() == [0, 2, 4]
    assert Evens().indices().tolist() == [0, 2, 4]
    assert [b.tolist() for b in BatchSampler([5, 6, 7], 2)] == [[5, 6], [7]]

    class Nothing(Sampler):
        def __len__(self):
            return 0

    with pytest.raises(NotImplementedError, match="indices"):
        Nothing().indices()
