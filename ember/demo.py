"""The autodiff core at work: a two-layer network written with tensors alone.

``ember demo`` fits XOR and a noisy sine with a hand-written manual SGD loop,
checks the gradients of the network with ``gradcheck``, and prints the results.
"""
from __future__ import annotations

import numpy

import ember
from ember.autograd import gradcheck


def _init(fan_in: int, fan_out: int, dtype="float32"):
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    w = (ember.rand(fan_in, fan_out, dtype=dtype) * 2 - 1) * bound
    return w.requires_grad_(), ember.zeros(fan_out, dtype=dtype, requires_grad=True)


def two_layer(params, x, activation="tanh"):
    """``tanh(x W1 + b1) W2 + b2``: the network both tasks use."""
    w1, b1, w2, b2 = params
    hidden = (x @ w1 + b1).tanh() if activation == "tanh" else (x @ w1 + b1).relu()
    return hidden @ w2 + b2


def sgd(params, loss_fn, steps: int, lr: float):
    """Plain gradient descent with ``backward`` and an in-place update under ``no_grad``."""
    for _ in range(steps):
        loss = loss_fn()
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= lr * p.grad
    return loss_fn().item()


def fit_xor(steps: int = 2000) -> tuple[float, list[int]]:
    """Fit XOR with 2-8-1 tanh units and a logistic output; returns (loss, predictions)."""
    x = ember.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = ember.tensor([[0], [1], [1], [0]], dtype="float32")
    params = [*_init(2, 8), *_init(8, 1)]

    def loss_fn():
        p = two_layer(params, x).sigmoid()
        return -(y * (p + 1e-7).log() + (1 - y) * (1 - p + 1e-7).log()).mean()

    loss = sgd(params, loss_fn, steps, lr=1.0)
    with ember.no_grad():
        predictions = (two_layer(params, x).sigmoid() > 0.5).numpy().astype(int).ravel().tolist()
    return loss, predictions


def fit_sine(steps: int = 2000) -> float:
    """Regress ``sin(3x)`` plus noise on [-1, 1] with 1-32-1 tanh units; returns the MSE."""
    rng = numpy.random.default_rng(0)
    xs = numpy.linspace(-1, 1, 128, dtype=numpy.float32)[:, None]
    ys = numpy.sin(3 * xs) + 0.05 * rng.standard_normal(xs.shape).astype(numpy.float32)
    x, y = ember.tensor(xs), ember.tensor(ys)
    params = [*_init(1, 32), *_init(32, 1)]
    return sgd(params, lambda: ((two_layer(params, x) - y) ** 2).mean(), steps, lr=0.2)


def check_network_gradients() -> bool:
    """gradcheck the two-layer network in float64."""
    params = [p.detach().requires_grad_() for p in (*_init(3, 4, "float64"), *_init(4, 2, "float64"))]
    x = ember.randn(5, 3, dtype="float64")
    return gradcheck(lambda *ps: two_layer(ps, x), params)


def run_demo(seed: int = 0, steps: int = 2000) -> int:
    """Run the three parts and print what they achieved; returns a process exit code."""
    ember.manual_seed(seed)
    loss, predictions = fit_xor(steps)
    print(f"XOR: loss {loss:.4f}, predictions {predictions} (target [0, 1, 1, 0])")
    mse = fit_sine(steps)
    print(f"sin(3x) regression: mean squared error {mse:.4f} (noise variance 0.0025)")
    ok = check_network_gradients()
    print(f"gradcheck of the two-layer network (float64, reverse and forward mode): {'passed' if ok else 'FAILED'}")
    return 0 if ok and predictions == [0, 1, 1, 0] else 1
