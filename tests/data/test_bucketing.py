import numpy as np
import pytest

from ember.data import BucketBatchSampler, DataLoader


def test_every_sample_once_and_batches_are_homogeneous():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, 1000)
    sampler = BucketBatchSampler(lengths, batch_size=16, seed=3, pool_batches=20)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 63
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(1000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    random_padded = sum(len(b) * lengths[b].max() for b in np.array_split(rng.permutation(1000), 63))
    assert padded < 0.6 * random_padded          # bucketing pads far less than random batches
    assert all(b.dtype == np.int64 for b in batches)


def test_epochs_reshuffle_and_replay():
    lengths = np.arange(100) % 7
    sampler = BucketBatchSampler(lengths, batch_size=8, seed=1)
    first, second = [b.tolist() for b in sampler], [b.tolist() for b in sampler]
    assert first != second
    sampler.set_epoch(0)
    assert [b.tolist() for b in sampler] == first
    assert [b.tolist() for b in BucketBatchSampler(lengths, 8, seed=1)] == first


def test_no_shuffle_and_drop_last():
    lengths = [5, 1, 9, 2, 8, 3, 7]
    sampler = BucketBatchSampler(lengths, batch_size=2, shuffle=False, pool_batches=2, drop_last=True)
    assert [b.tolist() for b in sampler] == [[1, 3], [0, 2], [5, 6]]
    assert len(sampler) == 3
    assert len(BucketBatchSampler(lengths, batch_size=2, shuffle=False, pool_batches=2)) == 4


def test_works_as_a_dataloader_batch_sampler():
    data = np.arange(20, dtype=np.float32)
    loader = DataLoader(data, batch_sampler=BucketBatchSampler(np.arange(20) % 5, batch_size=4, seed=0))
    seen = np.sort(np.concatenate([np.asarray(batch) for batch in loader]))
    assert np.array_equal(seen, data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="BucketBatchSampler: batch_size must be a positive int"):
        BucketBatchSampler([1, 2], batch_size=0)
    with pytest.raises(ValueError, match="one number \\(or one row\\) per sample"):
        BucketBatchSampler(np.zeros((2, 2, 2)), batch_size=1)


def test_rows_of_lengths_sort_by_the_first_then_the_second():
    lengths = np.array([[3, 9], [1, 5], [3, 1], [1, 2]])
    sampler = BucketBatchSampler(lengths, batch_size=1, shuffle=False, pool_batches=4)
    assert [int(b[0]) for b in sampler] == [3, 1, 2, 0]
