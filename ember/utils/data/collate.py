"""PyTorch's ``default_collate`` and ``default_convert``, producing :class:`ember.Tensor` leaves.

The rules are PyTorch's, leaf by leaf:

==========================  =================================================
sample element              batch
==========================  =================================================
``ember.Tensor``            stacked Tensor (same dtype)
NumPy array                 stacked Tensor (same dtype); string/object arrays raise
NumPy scalar                Tensor of that dtype
Python ``float``            ``float64`` Tensor
Python ``int`` / ``bool``   ``int64`` / ``bool`` Tensor
``str`` / ``bytes``         the list of them, unchanged
dict (Mapping)              dict of collated values, key by key
namedtuple                  namedtuple of collated fields
tuple                       **list** of collated fields (PyTorch's choice)
list / other sequence       same type of collated fields
==========================  =================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, List

import numpy as np

from ... import backend
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert", "to_tensor_tree"]

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")
_CONVERT_ERROR = ("default_convert: numpy arrays of strings or objects cannot become tensors; "
                  "found {}")


def _is_string_array(array: np.ndarray) -> bool:
    return array.dtype.char in "SaUO"


def _stack(arrays: List[Any], who: str) -> Tensor:
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise RuntimeError(f"{who}: stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(a.shape)} at entry {i}")
    return Tensor(backend.array_module(first).stack(arrays))


def default_collate(batch: List[Any]) -> Any:
    """Stack a list of samples into a batch of Tensors, with PyTorch's rules.

    Args:
        batch: Non-empty list of samples of identical structure.

    Returns:
        The batch: Tensors in the samples' structure (tuples become lists).

    Raises:
        IndexError: ``batch`` is empty.
        RuntimeError: Tensors (or sequences) of different sizes.
        TypeError: An element that cannot be collated (an object, a string array).

    Example:
        >>> xb, yb = default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
        >>> xb.shape, str(xb.dtype), yb.tolist(), str(yb.dtype)
        ((2, 2), 'float32', [1, 0], 'int64')
        >>> default_collate([{"p": 0.5}, {"p": 1.5}])["p"].dtype
        dtype('float64')
    """
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._data for t in batch], "default_collate")
    if isinstance(elem, np.ndarray):
        if _is_string_array(elem):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return _stack([np.asarray(a) for a in batch], "default_collate")
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_string_array(np.asarray(elem)):
            raise TypeError(_COLLATE_ERROR.format(type(elem)))
        return Tensor(np.asarray(batch))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):  # bools too: all-bool batches stay bool, as in torch.tensor
        array = np.asarray(batch)
        return Tensor(array if array.dtype == np.bool_ else array.astype(np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a Mapping type whose constructor takes no dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        fields = [default_collate(field) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside ``data`` into Tensors, without batching.

    The collate function of a DataLoader with ``batch_size=None``. Tuples become
    lists, as in PyTorch; anything else is returned unchanged.

    Example:
        >>> out = default_convert((np.arange(3), "id"))
        >>> type(out).__name__, out[0].tolist(), out[1]
        ('list', [0, 1, 2], 'id')
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_string_array(data) else Tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_, np.object_)):
        return Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def to_tensor_tree(batch: Any) -> Any:
    """An already collated NumPy batch (Ember's ``__getitems__``) as PyTorch's collate makes it.

    Arrays become Tensors (no copy) and plain tuples lists; lists of strings stay.

    Example:
        >>> xb, yb = to_tensor_tree((np.zeros((2, 3)), np.array([1, 0])))
        >>> type(xb).__name__, yb.tolist()
        ('Tensor', [1, 0])
    """
    if isinstance(batch, np.ndarray) and not _is_string_array(batch):
        return Tensor(batch)
    if isinstance(batch, Mapping):
        return {key: to_tensor_tree(value) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(to_tensor_tree(b) for b in batch))
    if isinstance(batch, (tuple, list)):
        return [to_tensor_tree(b) for b in batch]
    return batch
