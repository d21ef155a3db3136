"""LocalSGD: period 1 is data parallelism; longer periods leave the ranks equal after each averaging."""
import numpy as np
import pytest
from distributed.mpirun import needs_mpi, run_mpi
from distributed.training import build, load_rank, optimizer, single_process

import ember
from ember.distributed import LocalSGD


@needs_mpi
def test_period_one_matches_one_process_with_twice_the_batch(tmp_path):
    run_mpi("worker_train.py", "local_sgd", tmp_path / "l", "--steps", 4, "--batch", 8)
    init, final0, _ = load_rank(tmp_path / "l", 0)
    _, final1, _ = load_rank(tmp_path / "l", 1)
    for name, value in single_process("mlp", init, 4, 16).items():
        np.testing.assert_array_equal(final0[name], final1[name])
        np.testing.assert_allclose(final0[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@needs_mpi
def test_ranks_agree_after_each_averaging(tmp_path):
    run_mpi("worker_train.py", "local_sgd_3", tmp_path / "l", "--steps", 6, "--batch", 8)
    _, final0, _ = load_rank(tmp_path / "l", 0)
    _, final1, _ = load_rank(tmp_path / "l", 1)
    for name in final0:
        np.testing.assert_array_equal(final0[name], final1[name])


def test_single_process_is_the_inner_optimizer():
    a, b = build("mlp", seed=0), build("mlp", seed=0)
    wrapped, plain = LocalSGD(optimizer(a), period=2), optimizer(b)
    x = ember.randn(4, 8)
    for _ in range(3):
        for model, opt in ((a, wrapped), (b, plain)):
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert wrapped.steps == 3


@pytest.mark.parametrize("period", [0, 1.5, True])
def test_period_must_be_a_positive_int(period):
    with pytest.raises(ValueError, match="LocalSGD: period must be a positive int"):
        LocalSGD(optimizer(build("mlp", 0)), period=period)
