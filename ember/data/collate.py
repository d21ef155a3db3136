"""Turning samples into batches, and walking nested batch structures.

A *structure* is an array (or number), or a tuple / namedtuple / list / dict of
structures. :func:`default_collate` stacks a list of samples of the same
structure into one structure of batched arrays; :func:`tree_map` applies a
function to every array leaf while keeping the structure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, List

import numpy as np


def default_collate(samples: List[Any]) -> Any:
    """Stack a list of samples into a batch, preserving tuples, namedtuples, lists and dicts.

    Arrays and NumPy scalars are stacked along a new first axis with
    :func:`numpy.stack` (keeping their dtype); Python ints become ``int64``,
    floats ``float64`` and bools ``bool``; strings and other objects are returned
    as a plain list.

    Args:
        samples: Non-empty list of samples with identical structure.

    Returns:
        The batch.

    Raises:
        ValueError: ``samples`` is empty, or the samples' structures differ.

    Example:
        >>> batch = default_collate([(np.zeros(2), 1), (np.ones(2), 0)])
        >>> batch[0].shape, batch[1]
        ((2, 2), array([1, 0]))
        >>> default_collate([{"x": 1.5}, {"x": 2.5}])
        {'x': array([1.5, 2.5])}
    """
    if len(samples) == 0:
        raise ValueError("default_collate: cannot collate an empty list of samples")
    first = samples[0]
    if isinstance(first, np.ndarray):
        return np.stack(samples)
    if isinstance(first, (np.generic, bool, int, float, complex)):
        return np.asarray(samples)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        keys = list(first.keys())
        _check_same(samples, lambda s: isinstance(s, Mapping) and list(s.keys()) == keys,
                    "dicts with the same keys")
        return {k: default_collate([s[k] for s in samples]) for k in keys}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        _check_same(samples, lambda s: len(s) == len(first), f"tuples of length {len(first)}")
        return type(first)(*(default_collate(list(field)) for field in zip(*samples)))
    if isinstance(first, Sequence):
        _check_same(samples, lambda s: isinstance(s, Sequence) and len(s) == len(first),
                    f"sequences of length {len(first)}")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    if hasattr(first, "__array__"):  # e.g. an ember.Tensor
        return np.stack([np.asarray(s) for s in samples])
    return list(samples)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply ``fn`` to every leaf of a nested tuple / list / dict structure.

    Example:
        >>> tree_map(lambda a: a * 2, (np.array([1]), {"y": np.array([2])}))
        (array([2]), {'y': array([4])})
    """
    if isinstance(tree, Mapping):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(tree_map(fn, v) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(fn, v) for v in tree)
    return fn(tree)


def tree_concat(trees: List[Any]) -> Any:
    """Concatenate batches of identical structure along their first axis.

    Example:
        >>> tree_concat([(np.array([1]), np.array([2])), (np.array([3]), np.array([4]))])
        (array([1, 3]), array([2, 4]))
    """
    first = trees[0]
    if isinstance(first, Mapping):
        return {k: tree_concat([t[k] for t in trees]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(tree_concat(list(f)) for f in zip(*trees)))
    if isinstance(first, (tuple, list)) and not _is_leaf_list(first):
        return type(first)(tree_concat(list(f)) for f in zip(*trees))
    if isinstance(first, list):  # a list leaf (e.g. strings) concatenates as a list
        return [item for t in trees for item in t]
    return np.concatenate([np.asarray(t) for t in trees])


def _is_leaf_list(value: list) -> bool:
    # default_collate returns lists of strings/objects as leaves, not as structure.
    return isinstance(value, list) and (len(value) == 0 or isinstance(value[0], (str, bytes)))


def _check_same(samples: List[Any], ok: Callable[[Any], bool], what: str) -> None:
    for i, sample in enumerate(samples):
        if not ok(sample):
            raise ValueError(f"default_collate: sample {i} does not match sample 0; "
                             f"expected {what}, got {type(sample).__name__}")
