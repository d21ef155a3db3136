"""Run the same small model with an Ember optimizer and with a PyTorch one, from the same weights.

The model is a tiny two-layer network, ``tanh(x @ W + b) @ V``, with a mean squared error:
each framework computes its own gradients at every step, so the comparison covers the whole
trajectory (20 steps by default), not one update in isolation.
"""
from __future__ import annotations

import numpy as np

import ember
from ember.nn import Parameter

SHAPES = {"W": (5, 4), "b": (4,), "V": (4, 3)}


def problem(dtype="float32", seed=0):
    """Initial weights, inputs and targets as NumPy arrays of ``dtype``."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES.values()]
    x = rng.standard_normal((8, 5)).astype(dtype)
    t = rng.standard_normal((8, 3)).astype(dtype)
    return weights, x, t


def ember_loss(params, x, t):
    w, b, v = params
    y = (ember.tensor(x) @ w + b).tanh() @ v
    d = y - ember.tensor(t)
    return (d * d).mean()


def torch_loss(torch, params, x, t):
    w, b, v = params
    y = torch.tanh(torch.from_numpy(x) @ w + b) @ v
    return ((y - torch.from_numpy(t)) ** 2).mean()


def ember_params(weights):
    return [Parameter(ember.tensor(w.copy())) for w in weights]


def train_ember(make, weights, x, t, steps=20, scheduler=None, params=None):
    """``make(params) -> optimizer``; returns the final weights (and keeps ``params`` if given)."""
    params = ember_params(weights) if params is None else params
    opt = make(params)
    sched = scheduler(opt) if scheduler else None
    for _ in range(steps):
        opt.zero_grad()
        ember_loss(params, x, t).backward()
        opt.step()
        if sched:
            sched.step()
    return [p.data.copy() for p in params]


def train_torch(torch, make, weights, x, t, steps=20, scheduler=None):
    params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = make(params)
    sched = scheduler(opt) if scheduler else None
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(torch, params, x, t).backward()
        opt.step()
        if sched:
            sched.step()
    return [p.detach().numpy().copy() for p in params]


def tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}


def assert_same_trajectory(torch, ember_make, torch_make, dtype="float32", steps=20, schedulers=(None, None)):
    """Train both (with ``schedulers``: Ember's and PyTorch's factories, stepped after every update)
    and compare the final weights within ~1e-5 relative (float32) or 1e-10 (float64)."""
    weights, x, t = problem(dtype)
    ours = train_ember(ember_make, weights, x, t, steps, schedulers[0])
    theirs = train_torch(torch, torch_make, weights, x, t, steps, schedulers[1])
    moved = max(np.abs(a - w).max() for a, w in zip(theirs, weights))
    assert moved > 1e-3, "the optimizer barely moved the weights: the comparison would prove nothing"
    for name, a, b in zip(SHAPES, ours, theirs):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, err_msg=f"parameter {name}", **tolerance(dtype))


def lr_sequences(torch, ember_make, torch_make, steps, lrs=(0.1, 0.02), optimizer="SGD", keys=("lr",),
                 **options):
    """The values of ``keys`` in every param group after each of ``steps`` scheduler steps, for an
    Ember scheduler and a PyTorch one built on equivalent optimizers (two groups by default)."""
    from ember import optim

    def run(make_opt, make_sched, tensor):
        opt = make_opt([{"params": [tensor()], "lr": lr} for lr in lrs], lr=lrs[0], **options)
        sched = make_sched(opt)
        seen = []
        for _ in range(steps):
            seen.append([[g[k] for k in keys] for g in opt.param_groups])
            opt.step()  # no gradients: nothing moves, but PyTorch wants the call before sched.step()
            sched.step()
        return seen, sched

    ours = run(getattr(optim, optimizer), ember_make, lambda: ember.zeros(1, requires_grad=True))
    theirs = run(getattr(torch.optim, optimizer), torch_make, lambda: torch.zeros(1, requires_grad=True))
    return ours, theirs


def _flat(values):
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in _flat(v)]
    return [float(values)]


def assert_same_lrs(torch, ember_make, torch_make, steps=30, **kwargs):
    """Compare the sequences of :func:`lr_sequences` (tuples such as ``betas`` included) within 1e-9."""
    (ours, sched), (theirs, _) = lr_sequences(torch, ember_make, torch_make, steps, **kwargs)
    assert len(_flat(ours)) == len(_flat(theirs))
    np.testing.assert_allclose(_flat(ours), _flat(theirs), rtol=1e-9, atol=1e-15)
    assert sched.get_last_lr() == [g["lr"] for g in sched.optimizer.param_groups]
    return ours
