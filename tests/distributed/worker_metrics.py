"""MPI worker: each rank accumulates metrics on its shard; allreduce_metric makes them global.

Usage: worker_metrics.py OUT  (rank 0 writes the reduced results to OUT as JSON lines)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metric_data import METRICS, shard

from ember import distributed as dist

metrics = [make() for make in METRICS]
scores, labels = shard(dist.rank())
if len(labels):
    for metric in metrics:
        metric.update(scores, labels)
results = [dist.allreduce_metric(metric).result() for metric in metrics]
if dist.is_main_process():
    with open(sys.argv[1], "w") as out:
        json.dump(results, out)
