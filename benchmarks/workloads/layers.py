"""Single layers at the shapes W2 and W3 use: convolution and max pooling, forward and backward.

These isolate where a training step's time goes. ``conv3x3-fwd`` is the case
quoted in the convolution issue (batch 32, 32->32 channels, 32x32, 3x3).
"""
from __future__ import annotations

import numpy as np

from ..registry import register

# (id, batch, in channels, size, out channels, kernel, padding, input needs a gradient)
CONV_LAYERS = [
    ("W2.conv1", 64, 1, 32, 6, 5, 0, False),
    ("W2.conv2", 64, 6, 14, 12, 5, 0, True),
    ("W3.conv1", 32, 3, 32, 32, 3, 1, False),
    ("W3.conv2", 32, 32, 32, 32, 3, 0, True),
    ("W3.conv3", 32, 32, 15, 64, 3, 1, True),
    ("W3.conv4", 32, 64, 15, 64, 3, 0, True),
]

# (id, batch, channels, size)
POOL_LAYERS = [("W2.pool1", 64, 6, 28), ("W3.pool1", 32, 32, 30), ("W3.pool2", 32, 64, 13)]


def _framework(framework):
    if framework == "torch":
        import torch

        return torch.nn.functional, torch.from_numpy
    import ember
    import ember.functional

    return ember.functional, ember.from_numpy  # no copy: keeps the memory layout


def _channels_last(array, framework):
    """How activations and gradients arrive from neighbouring layers: Ember's are channels-last."""
    if framework == "ember":
        return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return array


def conv_step(framework, n, c, size, o, k, padding, input_grad, backward=True):
    F, wrap = _framework(framework)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    if input_grad:
        x = _channels_last(x, framework)
    xb = wrap(x).requires_grad_(input_grad)
    w = wrap(rng.standard_normal((o, c, k, k)).astype(np.float32) * 0.1).requires_grad_(True)
    b = wrap(np.zeros(o, dtype=np.float32)).requires_grad_(True)
    out = size + 2 * padding - k + 1
    g = wrap(_channels_last(rng.standard_normal((n, o, out, out)).astype(np.float32), framework))

    def step():
        y = F.conv2d(xb, w, b, padding=padding)
        if backward:
            y.backward(g)
            xb.grad = w.grad = b.grad = None
        return y

    return step


def pool_step(framework, n, c, size):
    F, wrap = _framework(framework)
    x = _channels_last(np.random.default_rng(0).standard_normal((n, c, size, size)).astype(np.float32), framework)
    xb = wrap(x).requires_grad_(True)
    g = wrap(_channels_last(np.ones((n, c, size // 2, size // 2), dtype=np.float32), framework))

    def step():
        y = F.max_pool2d(xb, 2)
        y.backward(g)
        xb.grad = None
        return y

    return step


def _register_layers():
    for name, n, c, size, o, k, p, input_grad in CONV_LAYERS:
        grads = "input and weight" if input_grad else "weight"
        register(f"{name}", f"conv2d {c}->{o} {k}x{k} pad {p} on {n}x{c}x{size}x{size}: forward + "
                 f"backward ({grads} gradients)", group="layers")(
            lambda fw, args=(n, c, size, o, k, p, input_grad): conv_step(fw, *args))
    for name, n, c, size in POOL_LAYERS:
        register(name, f"max_pool2d 2x2 on {n}x{c}x{size}x{size}: forward + backward", group="layers")(
            lambda fw, args=(n, c, size): pool_step(fw, *args))
    register("conv3x3-fwd", "conv2d 32->32 3x3 pad 1 on 32x32x32x32, forward only (the issue's example)",
             group="layers")(lambda fw: conv_step(fw, 32, 32, 32, 32, 3, 1, False, backward=False))


_register_layers()
