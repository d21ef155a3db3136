"""Optimizer state dicts in PyTorch's layout: a PyTorch state dict, its tensors converted to ember
tensors, loads into the Ember optimizer and training continues exactly as in PyTorch (and back)."""
import numpy as np
import pytest
from optim.oracle import SHAPES, ember_loss, problem, tolerance, torch_loss

import ember
from ember import optim
from ember.nn import Parameter

CASES = {
    "SGD": dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "SGD-nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.01, betas=(0.8, 0.99)),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "Adadelta": dict(lr=1.0, rho=0.8, weight_decay=0.1),
}


def _name(case):
    return case.split("-")[0]


def to_ember(value):
    """A PyTorch state dict with every tensor replaced by an ember tensor (the conversion a user writes)."""
    import torch
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: to_ember(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_ember(v) for v in value]
    return value


def to_torch(value):
    import torch
    if isinstance(value, ember.Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return {k: to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_torch(v) for v in value]
    return value


def run_torch(torch, params, opt, x, t, steps):
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(torch, params, x, t).backward()
        opt.step()


def run_ember(params, opt, x, t, steps):
    for _ in range(steps):
        opt.zero_grad()
        ember_loss(params, x, t).backward()
        opt.step()


@pytest.mark.parametrize("case", CASES)
def test_torch_state_dict_loads_and_training_continues_identically(torch, case):
    options = CASES[case]
    weights, x, t = problem("float64")
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    topt = getattr(torch.optim, _name(case))(theirs, **options)
    run_torch(torch, theirs, topt, x, t, 5)

    # Ember picks up from PyTorch's weights and optimizer state.
    ours = [Parameter(ember.tensor(p.detach().numpy().copy())) for p in theirs]
    eopt = getattr(optim, _name(case))(ours, lr=123.0)  # the loaded groups bring the options back
    eopt.load_state_dict(to_ember(topt.state_dict()))
    assert eopt.param_groups[0]["lr"] == options["lr"]
    run_torch(torch, theirs, topt, x, t, 5)
    run_ember(ours, eopt, x, t, 5)
    for name, a, b in zip(SHAPES, ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), err_msg=name, **tolerance("float64"))

    # And back: PyTorch picks up from Ember's state.
    back = [torch.tensor(p.numpy().copy(), requires_grad=True) for p in ours]
    topt2 = getattr(torch.optim, _name(case))(back, lr=123.0)
    sd = eopt.state_dict()
    topt2.load_state_dict(to_torch(sd))
    run_torch(torch, back, topt2, x, t, 5)
    run_ember(ours, eopt, x, t, 5)
    for name, a, b in zip(SHAPES, ours, back):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), err_msg=name, **tolerance("float64"))


@pytest.mark.parametrize("case", CASES)
def test_state_dict_layout_matches_torch(torch, case):
    options = CASES[case]
    weights, x, t = problem("float32")
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    topt = getattr(torch.optim, _name(case))(theirs, **options)
    run_torch(torch, theirs, topt, x, t, 2)
    ours = [Parameter(ember.tensor(w.copy())) for w in weights]
    eopt = getattr(optim, _name(case))(ours, **options)
    run_ember(ours, eopt, x, t, 2)
    tsd, esd = topt.state_dict(), eopt.state_dict()
    assert esd["param_groups"] == tsd["param_groups"]
    assert set(esd["state"]) == set(tsd["state"]) == {0, 1, 2}
    for i in tsd["state"]:
        assert set(esd["state"][i]) == set(tsd["state"][i])
        for key, value in tsd["state"][i].items():
            mine = esd["state"][i][key]
            assert isinstance(mine, ember.Tensor), key
            assert mine.shape == tuple(value.shape) and str(mine.dtype) == str(value.dtype).replace("torch.", "")
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)


def test_named_parameters_keep_their_names(torch):
    layer = ember.nn.Linear(3, 2)
    opt = optim.SGD(layer.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [layer.weight, layer.bias]
    tlayer = torch.nn.Linear(3, 2)
    tsd = torch.optim.SGD(tlayer.named_parameters(), lr=0.1).state_dict()
    assert opt.state_dict()["param_groups"] == tsd["param_groups"]


def test_zero_grad_sets_to_none_by_default_or_zeroes():
    w = ember.ones(3, requires_grad=True)
    opt = optim.Adam([w])
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.numpy().tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_pytorch_implementation_switches_are_accepted(name):
    w = ember.ones(2, requires_grad=True)
    opt = getattr(optim, name)([w], lr=0.1, foreach=True)
    assert opt.param_groups[0]["foreach"] is True
    with pytest.raises(ValueError, match=rf"{name}: invalid differentiable=True; expected False \(Ember's optimizer "
                                         "steps are not differentiable\\)"):
        getattr(optim, name)([w], lr=0.1, differentiable=True)
    with pytest.raises(TypeError, match=rf"{name}: option 'foreach' must be True, False or None, got 'yes'"):
        getattr(optim, name)([w], lr=0.1, foreach="yes")
