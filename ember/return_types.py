"""Named tuples returned by ops with several results, as ``torch.return_types``.

``values, indices = x.max(dim=1)`` unpacks like a tuple, and ``x.max(1).values`` /
``x.max(1)[0]`` read a field, exactly as in PyTorch.

Example:
    >>> import ember
    >>> result = ember.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    >>> result.values, result.indices
    (tensor([5., 7.]), tensor([1, 0]))
"""
from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):  # noqa: N801,A001 - PyTorch's names
    """``max(dim)``: the largest values and the index of the first one."""
    values: Any
    indices: Any


class min(NamedTuple):  # noqa: N801,A001
    """``min(dim)``: the smallest values and the index of the first one."""
    values: Any
    indices: Any


class sort(NamedTuple):  # noqa: N801
    """``sort``: the sorted values and where each came from."""
    values: Any
    indices: Any


class topk(NamedTuple):  # noqa: N801
    """``topk``: the k largest (or smallest) values and their indices."""
    values: Any
    indices: Any


class kthvalue(NamedTuple):  # noqa: N801
    """``kthvalue``: the k-th smallest value and its index."""
    values: Any
    indices: Any


class median(NamedTuple):  # noqa: N801
    """``median(dim)``: the lower median and its index."""
    values: Any
    indices: Any


class nanmedian(NamedTuple):  # noqa: N801
    """``nanmedian(dim)``: the lower median ignoring NaN, and its index."""
    values: Any
    indices: Any


class mode(NamedTuple):  # noqa: N801
    """``mode(dim)``: the most frequent value and an index of it."""
    values: Any
    indices: Any


class cummax(NamedTuple):  # noqa: N801
    """``cummax``: running maxima and the index each was taken from."""
    values: Any
    indices: Any


class cummin(NamedTuple):  # noqa: N801
    """``cummin``: running minima and the index each was taken from."""
    values: Any
    indices: Any


class aminmax(NamedTuple):  # noqa: N801
    """``aminmax``: the minimum and the maximum."""
    min: Any
    max: Any


class std_mean(NamedTuple):  # noqa: N801
    """``std_mean``: the standard deviation and the mean (PyTorch returns a plain pair)."""
    std: Any
    mean: Any


class var_mean(NamedTuple):  # noqa: N801
    """``var_mean``: the variance and the mean (PyTorch returns a plain pair)."""
    var: Any
    mean: Any
