"""ember/data/collate.py: stacking samples into batches and walking batch structures."""

from collections import namedtuple

import numpy as np
import pytest

from ember.data.collate import default_collate, tree_concat, tree_map

Pair = namedtuple("Pair", "x y")


def test_arrays_are_stacked_keeping_dtype():
    batch = default_collate([np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)])
    assert batch.shape == (2, 2, 3) and batch.dtype == np.uint8


def test_python_and_numpy_scalars():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.5, 2.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32


def test_structures_are_preserved():
    samples = [({"img": np.full(2, i), "id": i}, Pair(np.int64(i), "s%d" % i)) for i in range(3)]
    inputs, pair = default_collate(samples)
    assert isinstance(inputs, dict) and isinstance(pair, Pair)
    np.testing.assert_array_equal(inputs["img"], [[0, 0], [1, 1], [2, 2]])
    np.testing.assert_array_equal(inputs["id"], [0, 1, 2])
    np.testing.assert_array_equal(pair.x, [0, 1, 2])
    assert pair.y == ["s0", "s1", "s2"]


def test_lists_collate_per_position():
    batch = default_collate([[np.zeros(2), 1], [np.ones(2), 2]])
    assert isinstance(batch, list) and batch[0].shape == (2, 2)


def test_mismatched_samples_are_reported():
    with pytest.raises(ValueError, match="sample 1 does not match sample 0"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_tree_map_and_concat():
    tree = (np.array([1, 2]), {"k": np.array([3])}, Pair(np.array([4]), ["a"]))
    doubled = tree_map(lambda a: a * 2 if isinstance(a, np.ndarray) else a, tree)
    assert doubled[1]["k"].tolist() == [6] and isinstance(doubled[2], Pair)
    joined = tree_concat([tree, tree])
    assert joined[0].tolist() == [1, 2, 1, 2] and joined[2].y == ["a", "a"]
