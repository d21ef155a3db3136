"""EASGD: the elastic updates of Zhang et al. (2015), checked against a direct simulation."""
import numpy as np
import pytest
from distributed.mpirun import needs_mpi, run_mpi
from distributed.training import build, data, load_rank, loss_of

import ember
from ember.distributed import EASGD
from ember.optim import SGD

STEPS, BATCH, PERIOD, LR = 5, 8, 2, 0.1


def _simulate(initial: dict, ranks: int, alpha: float):
    """Both workers and the center, by the paper's equations, in one process."""
    models = []
    for _ in range(ranks):
        model = build("mlp", seed=0)
        model.load_state_dict(initial)
        models.append(model)
    center = {n: p.detach().clone() for n, p in models[0].named_parameters()}
    x, y = data(STEPS * ranks * BATCH)
    for t in range(1, STEPS + 1):
        for r, model in enumerate(models):
            model.zero_grad()
            start = (t - 1) * ranks * BATCH + r * BATCH
            loss_of(model, x[start:start + BATCH], y[start:start + BATCH]).backward()
        if t % PERIOD == 0:
            pulls = [{n: alpha * (p.data - center[n]) for n, p in m.named_parameters()} for m in models]
            for model, pull in zip(models, pulls):
                for n, p in model.named_parameters():
                    p.data -= pull[n]
            for n, value in center.items():
                center[n] = value + sum(pull[n] for pull in pulls)
        for model in models:
            for p in model.parameters():
                p.data -= LR * p.grad.data
    return models, center


@needs_mpi
def test_two_ranks_follow_the_elastic_equations(tmp_path):
    run_mpi("worker_train.py", "easgd", tmp_path / "e", "--steps", STEPS, "--batch", BATCH)
    saved = [load_rank(tmp_path / "e", r) for r in range(2)]
    models, center = _simulate(saved[0][0], 2, alpha=0.9 / 2)
    for (_, final, extra), model in zip(saved, models):
        for n, p in model.named_parameters():
            np.testing.assert_allclose(final[n], p.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
        flat_center = np.concatenate([center[n].numpy().ravel() for n, _ in model.named_parameters()])
        np.testing.assert_allclose(extra["center_0"], flat_center, rtol=1e-5, atol=1e-6)
    assert not np.allclose(saved[0][1]["0.weight"], saved[1][1]["0.weight"])  # workers explore apart


def test_single_process_elastic_step():
    w = ember.tensor([1.0, -1.0], requires_grad=True)
    opt = EASGD(SGD([w], lr=0.5), alpha=0.25, period=1)
    w.data += 4.0  # the worker moved away from the center [1, -1]
    (w * 0).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [4.0, 2.0])          # pulled back by 0.25 * 4
    np.testing.assert_allclose(opt.center[0], [2.0, 0.0])  # the center moved by as much
    with opt.center_weights():
        np.testing.assert_allclose(w.detach().numpy(), [2.0, 0.0])
    np.testing.assert_allclose(w.detach().numpy(), [4.0, 2.0])


def test_state_dict_round_trip():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = EASGD(SGD([w], lr=0.1), period=1)
    (w * w).sum().backward()
    opt.step()
    state = opt.state_dict()
    other = EASGD(SGD([ember.tensor([0.0, 0.0], requires_grad=True)], lr=0.1), period=1)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.center[0], opt.center[0])
    assert other.steps == 1
    state["easgd"]["center"] = [np.zeros(3)]
    with pytest.raises(ValueError, match="saved center variable does not match"):
        other.load_state_dict(state)


@pytest.mark.parametrize("alpha", [0.0, 1.5, -0.1])
def test_alpha_range(alpha):
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\]"):
        EASGD(SGD([ember.ones(2, requires_grad=True)], lr=0.1), alpha=alpha)


def test_period_must_be_a_positive_int():
    with pytest.raises(ValueError, match="EASGD: period must be a positive int, got 0"):
        EASGD(SGD([ember.ones(2, requires_grad=True)], lr=0.1), period=0)
