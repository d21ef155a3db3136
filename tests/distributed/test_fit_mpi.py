"""``ember.train.Model.fit`` under ``mpiexec -n 2``: the ranks train as one process with twice the batch."""
import os

import numpy as np
import pytest
from distributed.mpirun import needs_mpi, run_mpi
from distributed.training import arrays, build, data, load_rank, optimizer

from ember.train import Model

BATCH, SAMPLES, EPOCHS = 8, 64, 2


def _one_process(initial):
    net = build("mlp", seed=0)
    net.load_state_dict(initial)
    model = Model(net).compile(optimizer=optimizer(net), loss="cross_entropy")
    x, y = data(SAMPLES)
    history = model.fit(x, y, batch_size=2 * BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    return arrays(net), history.history["loss"][-1]


@needs_mpi
def test_fit_on_two_ranks_matches_one_process(tmp_path):
    result = run_mpi("worker_fit.py", tmp_path / "fit", tmp_path)
    init, final0, _ = load_rank(tmp_path / "fit", 0)
    _, final1, _ = load_rank(tmp_path / "fit", 1)
    expected, _ = _one_process(init)
    for name, value in expected.items():
        np.testing.assert_array_equal(final0[name], final1[name])
        np.testing.assert_allclose(final0[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    assert result.stdout.count("Epoch 1/2") == 1
    assert sorted(os.listdir(tmp_path))[:2] == ["epoch-1.safetensors", "epoch-2.safetensors"]


@needs_mpi
def test_unchanged_fit_prints_writes_and_reduces_once(tmp_path):
    (tmp_path / "ckpt").mkdir()
    result = run_mpi("worker_fit.py", tmp_path / "fit", tmp_path / "ckpt", "--unchanged")
    init, _, extra0 = load_rank(tmp_path / "fit", 0)
    _, _, extra1 = load_rank(tmp_path / "fit", 1)
    _, loss = _one_process(init)
    assert result.stdout.count("Epoch 1/2") == 1
    assert float(extra0["loss"]) == pytest.approx(loss, rel=1e-5) == float(extra1["loss"])
    assert len(os.listdir(tmp_path / "ckpt")) == EPOCHS


@needs_mpi
def test_plain_module_and_arrays_are_sharded_and_synchronised(tmp_path):
    """A single-process script (no DataParallel, no sampler) run under mpiexec as is."""
    (tmp_path / "ckpt").mkdir()
    result = run_mpi("worker_fit.py", tmp_path / "fit", tmp_path / "ckpt", "--plain")
    init0, final0, extra0 = load_rank(tmp_path / "fit", 0)
    _, final1, extra1 = load_rank(tmp_path / "fit", 1)
    expected, loss = _one_process(init0)
    for name, value in expected.items():
        np.testing.assert_array_equal(final0[name], final1[name])
        np.testing.assert_allclose(final0[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    assert float(extra0["loss"]) == pytest.approx(loss, rel=1e-5) == float(extra1["loss"])
    assert result.stdout.count("Epoch 1/2") == 1
    assert len(os.listdir(tmp_path / "ckpt")) == EPOCHS
