"""L-BFGS against torch.optim.LBFGS: iterates on Rosenbrock and least squares in float64, with and without
the strong-Wolfe line search; state dict round trip; errors."""
import numpy as np
import pytest

import ember
from ember.nn import Parameter
from ember.optim import LBFGS


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def least_squares_problem():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 5))
    b = rng.standard_normal(20)
    return A, b


def run_ember(start, loss_of, steps, **options):
    params = [Parameter(ember.tensor(s.copy())) for s in start]
    opt = LBFGS(params, **options)

    def closure():
        opt.zero_grad()
        loss = loss_of(*params)
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        iterates.append([p.numpy().copy() for p in params])
    return iterates, losses, opt


def run_torch(torch, start, loss_of, steps, **options):
    params = [torch.tensor(s.copy(), requires_grad=True) for s in start]
    opt = torch.optim.LBFGS(params, **options)

    def closure():
        opt.zero_grad()
        loss = loss_of(*params)
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        iterates.append([p.detach().numpy().copy() for p in params])
    return iterates, losses, opt


def assert_same_run(ours, theirs, rtol=1e-9, atol=1e-11):
    (it_a, loss_a, opt_a), (it_b, loss_b, opt_b) = ours, theirs
    np.testing.assert_allclose(loss_a, loss_b, rtol=rtol, atol=atol)
    for step, (a, b) in enumerate(zip(it_a, it_b)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"after step {step}")
    state_a = opt_a.state[opt_a.param_groups[0]["params"][0]]
    state_b = opt_b.state[opt_b.param_groups[0]["params"][0]]
    assert state_a["func_evals"] == state_b["func_evals"] and state_a["n_iter"] == state_b["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_matches_torch(torch, line_search_fn):
    start = [np.array([-1.5, 2.0])]
    lr = 1.0 if line_search_fn else 0.01
    options = dict(lr=lr, max_iter=20, history_size=10, line_search_fn=line_search_fn)
    ours = run_ember(start, lambda x: rosenbrock(x), 6, **options)
    theirs = run_torch(torch, start, lambda x: rosenbrock(x), 6, **options)
    assert_same_run(ours, theirs)
    if line_search_fn:
        np.testing.assert_allclose(ours[0][-1][0], [1.0, 1.0], atol=1e-4)  # it found the minimum


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_over_two_parameters_matches_torch(torch, line_search_fn):
    A, b = least_squares_problem()
    start = [np.zeros(3), np.zeros(2)]

    def ember_loss(u, v):
        x = ember.cat([u, v]) if hasattr(ember, "cat") else ember.ops.movement.concat([u, v])
        r = ember.tensor(A) @ x - ember.tensor(b)
        return (r * r).sum()

    def torch_loss(u, v):
        r = torch.from_numpy(A) @ torch.cat([u, v]) - torch.from_numpy(b)
        return (r * r).sum()

    options = dict(lr=0.5 if line_search_fn is None else 1.0, max_iter=7, history_size=3,
                   line_search_fn=line_search_fn)
    ours = run_ember(start, ember_loss, 3, **options)
    theirs = run_torch(torch, start, torch_loss, 3, **options)
    assert_same_run(ours, theirs)
    if line_search_fn:
        solution = np.linalg.lstsq(A, b, rcond=None)[0]
        np.testing.assert_allclose(np.concatenate(ours[0][-1]), solution, atol=1e-6)


def test_state_dict_round_trip_continues_identically():
    start = [np.array([-1.5, 2.0])]
    options = dict(max_iter=4, history_size=5, line_search_fn="strong_wolfe")
    straight = run_ember(start, rosenbrock, 4, **options)[0]
    first, _, opt = run_ember(start, rosenbrock, 2, **options)
    sd = opt.state_dict()
    state = sd["state"][0]
    assert isinstance(state["d"], ember.Tensor) and isinstance(state["old_dirs"][0], ember.Tensor)
    assert isinstance(state["n_iter"], int) and sd["param_groups"][0]["max_eval"] == 5
    x = Parameter(ember.tensor(first[-1][0].copy()))
    again = LBFGS([x], **options)
    again.load_state_dict(sd)

    def closure():
        again.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    again.step(closure)
    again.step(closure)
    np.testing.assert_array_equal(x.numpy(), straight[-1][0])


def test_errors():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"LBFGS: per-parameter options \(several param groups\) are not supported"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="LBFGS: invalid line_search_fn='wolfe'; expected None or 'strong_wolfe'"):
        LBFGS([a], line_search_fn="wolfe")
    with pytest.raises(TypeError, match="LBFGS.step: a closure is required"):
        LBFGS([a]).step(None)
