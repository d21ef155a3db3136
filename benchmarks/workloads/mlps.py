"""W1 (the lectures' MNIST MLP) and W6 (an overhead-bound small MLP): one training step each.

Both reuse the spec-driven step of ``convnets.py``: the same ``nn.Sequential`` in
either framework, cross-entropy (log-softmax + NLL in one loss), SGD.
"""
from __future__ import annotations

from ..registry import register
from .convnets import training_step

MNIST_MLP = [("Linear", 784, 1000), ("ReLU",), ("Linear", 1000, 10)]
SMALL_MLP = [("Linear", 32, 64), ("ReLU",), ("Linear", 64, 64), ("ReLU",), ("Linear", 64, 10)]


def _mlp_flops(batch, sizes):
    """Forward GEMMs, weight gradients, and input gradients of all but the first layer."""
    forward = sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    first = 2 * batch * sizes[0] * sizes[1]
    return 3 * forward - first


@register("W1", "MLP 784-1000-10 training step: ReLU, log-softmax + NLL, batch 128, SGD", target=1.0,
          flops=_mlp_flops(128, (784, 1000, 10)))
def mnist_mlp(framework):
    return training_step(framework, MNIST_MLP, (784,), 128, "sgd", 0.01)


@register("W6", "overhead-bound MLP 32-64-64-10 training step: ReLU, batch 32, SGD", target=1.0,
          flops=_mlp_flops(32, (32, 64, 64, 10)))
def small_mlp(framework):
    return training_step(framework, SMALL_MLP, (32,), 32, "sgd", 0.01)
