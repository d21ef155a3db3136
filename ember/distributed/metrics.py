"""Metrics over all ranks: sum what each rank accumulated, then compute the result once.

Averaging each rank's *result* is wrong for most metrics (an F1 score is not the
mean of the shards' F1 scores; shards of different sizes weigh differently).
:func:`allreduce_metric` instead sums the metric's running state (counts,
totals, confusion matrices), which is what ``update`` accumulates, so that
``result()`` afterwards is the metric of all the ranks' samples together.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import comm

__all__ = ["allreduce_metric", "metric_state_names"]

# The kinds of a state entry, ordered so that an allreduce of the max settles mixed cases
# (a confusion matrix that is still None on a rank that saw no batch).
_ABSENT, _FLAG, _NUMBER, _ARRAY, _NESTED = range(5)


def metric_state_names(metric: Any) -> list[str]:
    """The attributes that ``metric.reset()`` sets: its accumulated state.

    Example:
        >>> from ember.train.metrics import Mean
        >>> metric_state_names(Mean())
        ['total', 'count']
    """
    names: list[str] = []
    probe = copy.copy(metric)

    class Recorder(type(metric)):
        def __setattr__(self, name, value):
            if name not in names:
                names.append(name)
            object.__setattr__(self, name, value)

    probe.__class__ = Recorder
    probe.reset()
    return names


def _kind(value: Any) -> int:
    if value is None:
        return _ABSENT
    if isinstance(value, (bool, np.bool_)):
        return _FLAG
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _NUMBER
    if isinstance(value, np.ndarray):
        return _ARRAY
    if hasattr(value, "reset") and hasattr(value, "result"):
        return _NESTED
    return _ABSENT


def _reduce_array(value: np.ndarray | None) -> np.ndarray:
    ndim = int(comm.allreduce(np.array([-1 if value is None else value.ndim]), "max")[0])
    shape = np.full(max(ndim, 0), -1, dtype=np.int64) if value is None else np.array(value.shape, dtype=np.int64)
    shape = comm.allreduce(shape, "max")
    integral = int(comm.allreduce(np.array([1 if value is not None and value.dtype.kind in "iub" else 0]), "max")[0])
    total = np.zeros(tuple(shape), dtype=np.float64)
    if value is not None:
        # Shapes may differ (a confusion matrix grows with the classes seen): align at the origin.
        total[tuple(slice(0, n) for n in value.shape)] = value
    comm.allreduce(total)
    if value is not None and value.dtype.kind != "b":
        return total.astype(value.dtype)
    return total.astype(np.int64) if integral else total


def allreduce_metric(metric: Any) -> Any:
    """Replace ``metric``'s accumulated state by its sum over all ranks (in place); returns it.

    Works for any metric whose state (what ``reset`` sets) is made of numbers,
    arrays and nested metrics that add up across shards: means, accuracies,
    confusion matrices behind precision/recall/F1, perplexity. Flags are OR-ed.
    Every rank must call it, in the same order for several metrics.

    Example:
        >>> from ember.train.metrics import Accuracy
        >>> import numpy as np
        >>> acc = Accuracy()
        >>> acc.update(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1]))
        >>> allreduce_metric(acc).result()   # in a single process: unchanged
        0.5
    """
    if comm.world_size() == 1:
        return metric
    for name in metric_state_names(metric):
        value = getattr(metric, name, None)
        kind = int(comm.allreduce(np.array([_kind(value)]), "max")[0])
        if kind == _NESTED:
            allreduce_metric(value)
        elif kind == _FLAG:
            setattr(metric, name, bool(comm.allreduce(np.array([bool(value)], dtype=np.int64), "max")[0]))
        elif kind == _NUMBER:
            total = comm.allreduce(np.array([0.0 if value is None else float(value)]))[0]
            setattr(metric, name, round(total) if isinstance(value, (int, np.integer)) else float(total))
        elif kind == _ARRAY:
            setattr(metric, name, _reduce_array(value if isinstance(value, np.ndarray) else None))
    return metric
