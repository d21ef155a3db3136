"""Samplers with PyTorch's signatures, checks and randomness rules."""
import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,
                              WeightedRandomSampler)


def test_random_sampler_is_a_permutation_and_follows_manual_seed():
    ember.manual_seed(3)
    first, second = list(RandomSampler(range(20))), list(RandomSampler(range(20)))
    assert sorted(first) == list(range(20)) and first != second
    ember.manual_seed(3)
    assert list(RandomSampler(range(20))) == first


def test_random_sampler_generator_advances_every_epoch():
    sampler = RandomSampler(range(10), generator=np.random.default_rng(0))
    epoch0, epoch1 = list(sampler), list(sampler)
    assert epoch0 != epoch1
    assert list(RandomSampler(range(10), generator=np.random.default_rng(0))) == epoch0


def test_ember_generator_is_accepted():
    Generator = pytest.importorskip("ember.generator").Generator
    a = list(RandomSampler(range(10), generator=Generator().manual_seed(4)))
    b = list(RandomSampler(range(10), generator=Generator().manual_seed(4)))
    assert a == b and sorted(a) == list(range(10))


def test_random_sampler_num_samples_beyond_length_without_replacement():
    drawn = list(RandomSampler(range(3), num_samples=7, generator=np.random.default_rng(1)))
    assert len(drawn) == 7 and sorted(drawn[:3]) == [0, 1, 2] and sorted(drawn[3:6]) == [0, 1, 2]


def test_random_sampler_with_replacement():
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}


def test_sampler_argument_errors_match_torch():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 2)
    with pytest.raises(TypeError, match="ember.Generator or a numpy.random.Generator"):
        list(RandomSampler(range(3), generator=42))


def test_batch_sampler_yields_lists_like_torch():
    assert list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3


def test_subset_random_sampler_keeps_torch_attribute():
    sampler = SubsetRandomSampler([5, 9, 2], generator=np.random.default_rng(0))
    assert sampler.indices == [5, 9, 2] and sorted(sampler) == [2, 5, 9] and len(sampler) == 3


def test_weighted_sampler_follows_weights():
    drawn = np.array(list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=np.random.default_rng(0))))
    counts = np.bincount(drawn, minlength=3)
    assert counts[0] == 0 and 2.7 < counts[2] / counts[1] < 3.3
