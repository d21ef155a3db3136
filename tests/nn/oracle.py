"""Shared checks of the layer tests: PyTorch parity through ``state_dict`` and float64 gradchecks.

``LayerCase`` describes one layer: how to build it in Ember and in PyTorch and
which inputs to feed it. ``check_against_torch`` copies the Ember weights into
the PyTorch layer with ``load_state_dict(strict=True)`` (which also proves that
the parameter names and shapes match), then compares outputs, input gradients,
parameter gradients and buffers. ``check_gradients`` runs ``gradcheck`` in
float64 over the inputs *and* the parameters.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

import ember
from ember.autograd import gradcheck, gradgradcheck


@dataclasses.dataclass
class LayerCase:
    name: str
    ember: Callable                # () -> ember module
    torch: Callable | None         # (torch) -> torch module
    inputs: Callable               # (rng) -> list of float64 numpy arrays (or integer arrays)
    second_order: bool = False     # also run gradgradcheck
    train: bool = True             # module mode during the checks
    rtol: float = 1e-4
    atol: float = 1e-5
    grad_inputs: tuple | None = None  # indices of the inputs to differentiate (default: all floating)

    def __repr__(self) -> str:
        return self.name

    def wants_grad(self, i, array) -> bool:
        return _is_float(array) and (self.grad_inputs is None or i in self.grad_inputs)

    def arrays(self, rng) -> list:
        """The inputs as a list (``inputs`` may return one array)."""
        made = self.inputs(rng)
        return [made] if isinstance(made, np.ndarray) else list(made)


def normal(*shape, scale=1.0):
    return lambda rng: rng.standard_normal(shape) * scale


def to_torch(torch, array, requires_grad=False):
    t = torch.tensor(np.array(array))
    if requires_grad:
        t.requires_grad_(True)
    return t


def copy_state_to_torch(torch, module, torch_module) -> None:
    """Load Ember's ``state_dict`` into the PyTorch module, strictly."""
    state = {k: torch.tensor(np.array(v.numpy())) for k, v in module.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)


def _is_float(array) -> bool:
    return np.asarray(array).dtype.kind == "f"


def check_against_torch(torch, case: LayerCase, dtype="float32", seed=0) -> None:
    """Outputs, input and parameter gradients and buffers equal PyTorch's for the same weights."""
    rng = np.random.default_rng(seed)
    arrays = [a.astype(dtype) if _is_float(a) else a for a in case.arrays(rng)]
    module, reference = case.ember(), case.torch(torch)
    if dtype == "float64":
        module.double()
        reference.double()
    module.train(case.train)
    reference.train(case.train)
    copy_state_to_torch(torch, module, reference)
    ours = [ember.tensor(a, requires_grad=case.wants_grad(i, a)) for i, a in enumerate(arrays)]
    theirs = [to_torch(torch, a, requires_grad=case.wants_grad(i, a)) for i, a in enumerate(arrays)]
    out = module(*ours)
    expected = reference(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=case.rtol, atol=case.atol,
                               err_msg=f"{case.name}: forward")
    cotangent = rng.standard_normal(out.shape).astype(out.dtype)
    out.backward(ember.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    for i, (mine, ref) in enumerate(zip(ours, theirs)):
        if mine.requires_grad:
            np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=case.rtol, atol=case.atol,
                                       err_msg=f"{case.name}: gradient of input {i}")
    their_params = dict(reference.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=case.rtol,
                                   atol=case.atol, err_msg=f"{case.name}: gradient of {name}")
    their_buffers = dict(reference.named_buffers())
    for name, b in module.named_buffers():
        np.testing.assert_allclose(b.numpy(), their_buffers[name].numpy(), rtol=case.rtol, atol=case.atol,
                                   err_msg=f"{case.name}: buffer {name}")


def call_with_parameters(module, names, params, inputs):
    """Run ``module(*inputs)`` with its parameters ``names`` temporarily replaced by ``params``."""
    owners = []
    for name, value in zip(names, params):
        *path, leaf = name.split(".")
        owner = module
        for part in path:
            owner = owner._modules[part]
        owners.append((owner, leaf, owner._parameters[leaf]))
        owner._parameters[leaf] = value
    try:
        return module(*inputs)
    finally:
        for owner, leaf, original in owners:
            owner._parameters[leaf] = original


def check_gradients(case: LayerCase, seed=0, second_order=None) -> None:
    """gradcheck (reverse and forward mode) in float64 over the inputs and every parameter."""
    rng = np.random.default_rng(seed)
    module = case.ember().double()
    module.train(case.train)
    names = [name for name, _ in module.named_parameters()]
    params = [p.detach().requires_grad_() for _, p in module.named_parameters()]
    arrays = case.arrays(rng)
    inputs = [ember.tensor(a, requires_grad=case.wants_grad(i, a)) for i, a in enumerate(arrays)]
    n = len(inputs)

    def run(*args):
        ember.manual_seed(seed)  # the same dropout mask at every evaluation
        return call_with_parameters(module, names, args[n:], args[:n])

    assert gradcheck(run, inputs + params)
    if case.second_order if second_order is None else second_order:
        assert gradgradcheck(run, inputs + params)
