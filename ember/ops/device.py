"""Moving tensors between devices (CPU and CUDA), differentiably."""
from __future__ import annotations

from ..autograd.function import Function, apply
from .. import backend
from ..errors import ArgumentError


class ToDevice(Function):
    name = "to_device"

    @staticmethod
    def forward(ctx, x, device):
        if ctx is not None:
            ctx.stash = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def vjp(ctx, g):
        return to_device(g, ctx.stash)

    @staticmethod
    def jvp(ctx, t):
        return to_device(t, ctx.params["device"])


def to_device(x, device: str):
    """Copy ``x`` to ``device`` ('cpu', 'cuda', 'cuda:N'); gradients flow back across."""
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ArgumentError(f"to: unknown device {device!r}; expected 'cpu' or 'cuda[:N]'")
    if x.device == device or (device == "cuda" and x.device.startswith("cuda")):
        return x
    return apply(ToDevice, (x,), {"device": device})
