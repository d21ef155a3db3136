"""Shards of predictions for the metric tests: rank 1 sees classes that rank 0 never does."""
import numpy as np

from ember.train.metrics import Accuracy, F1Score, Mean, Precision, TopKAccuracy

METRICS = [Accuracy, lambda: Precision(average="macro"), lambda: F1Score(average="weighted"),
           lambda: TopKAccuracy(2)]
SIZES = {0: 7, 1: 20, 2: 0}  # a third rank (when run on three) sees no sample at all


def shard(rank: int):
    rng = np.random.default_rng(rank)
    n = SIZES.get(rank, 5)
    classes = 2 if rank == 0 else 4
    scores = rng.random((n, classes))
    labels = rng.integers(0, classes, n)
    return scores, labels


def _pad(scores, width):
    return np.concatenate([scores, np.full((len(scores), width - scores.shape[1]), -1.0)], axis=1)


def everything(ranks: int):
    """One process's view: all shards together (narrow shards padded with never-chosen classes)."""
    parts = [shard(r) for r in range(ranks)]
    width = max(s.shape[1] for s, _ in parts)
    return (np.concatenate([_pad(s, width) for s, _ in parts]), np.concatenate([l for _, l in parts]))


__all__ = ["METRICS", "Mean", "everything", "shard"]
