"""default_collate / default_convert against torch's, on nested structures."""
import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate
from torch.utils.data import default_convert as torch_convert

import ember
from ember.utils.data import default_collate, default_convert

Point = collections.namedtuple("Point", "x y")


def _same(ours, theirs):
    """Same structure, container types, dtypes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


SAMPLES = {
    "python numbers": [(1, 2.5, True), (3, -1.0, False)],
    "numpy arrays and scalars": [(np.ones((2, 3), np.float32), np.int32(4), np.float64(0.5)),
                                 (np.zeros((2, 3), np.float32), np.int32(5), np.float64(1.5))],
    "uint8 images and labels": [(np.full((1, 4, 4), 7, np.uint8), 3),
                                (np.full((1, 4, 4), 9, np.uint8), 1)],
    "nested dicts and lists": [{"a": [np.arange(3), {"b": 1.0}], "s": "x"},
                               {"a": [np.arange(3) + 1, {"b": 2.0}], "s": "y"}],
    "namedtuple": [Point(np.float32(1), 2), Point(np.float32(3), 4)],
    "0-d arrays": [np.array(1.5), np.array(2.5)],
    "strings in tuples": [(1, "a"), (2, "b")],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    samples = SAMPLES[name]
    _same(default_collate(samples), torch_collate(samples))


def test_collate_of_ember_tensors_stacks_them():
    batch = default_collate([(ember.ones(2, 3), ember.zeros(1)), (ember.zeros(2, 3), ember.ones(1))])
    assert isinstance(batch, list) and batch[0].shape == (2, 2, 3) and batch[1].shape == (2, 1)
    np.testing.assert_array_equal(batch[0].numpy()[0], np.ones((2, 3)))


def test_collate_errors_like_torch():
    with pytest.raises(TypeError, match="batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(IndexError, match="empty batch"):
        default_collate([])


@pytest.mark.parametrize("data", [np.arange(4), (np.float32(2), "id"), {"k": [np.ones(2)]},
                                  Point(np.arange(2), 3)])
def test_default_convert_matches_torch(data):
    _same(default_convert(data), torch_convert(data))
