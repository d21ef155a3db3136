"""TensorDataset, IterableDataset, random_split with PyTorch's semantics."""
import numpy as np
import pytest
import torch

import ember
from ember.utils.data import (ChainDataset, ConcatDataset, IterableDataset, Subset, TensorDataset,
                              random_split)


def test_tensor_dataset_returns_ember_tensors():
    x, y = ember.randn(5, 3), ember.tensor([0, 1, 2, 3, 4])
    ds = TensorDataset(x, y)
    xi, yi = ds[2]
    assert isinstance(xi, ember.Tensor) and isinstance(yi, ember.Tensor)
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert int(yi) == 2 and len(ds) == 5 and ds.tensors[0] is x


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(ember.zeros(3, 2), ember.zeros(4))


def test_random_split_sizes_match_torch_for_fractions():
    for n, fractions in [(10, [0.7, 0.3]), (11, [0.5, 0.25, 0.25]), (7, [0.1, 0.9])]:
        ours = [len(s) for s in random_split(range(n), fractions)]
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), fractions)]
        assert ours == theirs


def test_random_split_is_a_partition_and_reproducible():
    a = random_split(range(20), [12, 8], generator=np.random.default_rng(42))
    b = random_split(range(20), [12, 8], generator=np.random.default_rng(42))
    assert [list(s) for s in a] == [list(s) for s in b]
    assert sorted(list(a[0]) + list(a[1])) == list(range(20))
    ember.manual_seed(5)
    c = random_split(range(20), [0.5, 0.5])
    ember.manual_seed(5)
    d = random_split(range(20), [0.5, 0.5])
    assert [list(s) for s in c] == [list(s) for s in d]
    assert isinstance(a[0], Subset)


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [-0.5, 1.5])


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_iterable_and_chain_datasets():
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    assert list(ChainDataset([Stream(1), Stream(2)])) == [0, 0, 1]
    with pytest.raises(TypeError):
        len(Stream(3))


def test_concat_dataset_indexing():
    ds = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
    assert len(ds) == 5 and int(ds[3][0]) == 10
