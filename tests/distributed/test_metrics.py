"""allreduce_metric: the metric of all ranks' samples, not the mean of the ranks' metrics."""
import json

import numpy as np
import pytest
from distributed.metric_data import METRICS, everything
from distributed.mpirun import needs_mpi, run_mpi

from ember.distributed import allreduce_metric
from ember.distributed.metrics import metric_state_names
from ember.train.metrics import F1Score, Mean


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])  # on 3 ranks, one has seen no sample (its matrix is None)
def test_ranks_together_give_the_metric_of_all_samples(tmp_path, ranks):
    run_mpi("worker_metrics.py", tmp_path / "m.json", processes=ranks)
    reduced = json.loads((tmp_path / "m.json").read_text())
    scores, labels = everything(ranks)
    for make, value in zip(METRICS, reduced):
        metric = make()
        metric.update(scores, labels)
        assert value == pytest.approx(metric.result(), rel=1e-12), metric.name


def test_state_names_are_what_reset_sets():
    assert metric_state_names(Mean()) == ["total", "count"]
    assert metric_state_names(F1Score(average="macro")) == ["matrix", "_binary"]


def test_single_process_leaves_the_metric_alone():
    metric = Mean()
    metric.update(2.0, weight=3)
    assert allreduce_metric(metric) is metric and metric.result() == 2.0
    assert np.isnan(allreduce_metric(Mean()).result())
