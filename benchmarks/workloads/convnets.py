"""W2 (LeNet-5) and W3 (the Keras CIFAR-10 convnet): one full training step each.

The architectures are written once as a list of ``(layer class name, args)``;
Ember and PyTorch share the class names, so both build exactly the same network.
A step is ``zero_grad``, forward, cross-entropy, backward and the optimizer's
update, on one fixed synthetic batch.
"""
from __future__ import annotations

import numpy as np

from ..registry import register

LENET = [
    ("Conv2d", 1, 6, 5), ("Tanh",), ("MaxPool2d", 2),
    ("Conv2d", 6, 12, 5), ("Tanh",), ("MaxPool2d", 2),
    ("Flatten",), ("Linear", 300, 100), ("Tanh",), ("Linear", 100, 10),
]

KERAS_CIFAR = [
    ("Conv2d", 3, 32, 3, {"padding": 1}), ("ReLU",), ("Conv2d", 32, 32, 3), ("ReLU",), ("MaxPool2d", 2),
    ("Dropout", 0.25),
    ("Conv2d", 32, 64, 3, {"padding": 1}), ("ReLU",), ("Conv2d", 64, 64, 3), ("ReLU",), ("MaxPool2d", 2),
    ("Dropout", 0.25),
    ("Flatten",), ("Linear", 64 * 6 * 6, 512), ("ReLU",), ("Dropout", 0.5), ("Linear", 512, 10),
]


def build_network(nn, spec):
    """``nn.Sequential`` of ``spec`` from either framework's ``nn`` namespace."""
    layers = []
    for name, *args in spec:
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        layers.append(getattr(nn, name)(*args, **kwargs))
    return nn.Sequential(*layers)


def training_step(framework: str, spec, input_shape, batch: int, optimizer: str, lr: float):
    """A zero-argument callable running one training step of ``spec`` in ``framework``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + input_shape).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if framework == "torch":
        import torch

        torch.manual_seed(0)
        nn, optim = torch.nn, torch.optim
        xb, yb = torch.from_numpy(x), torch.from_numpy(y)
    else:
        import ember
        import ember.nn
        import ember.optim

        ember.manual_seed(0)
        nn, optim = ember.nn, ember.optim
        xb, yb = ember.tensor(x), ember.tensor(y)
    model = build_network(nn, spec)
    model.train()
    opt = optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd" else optim.RMSprop(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


@register("W2", "LeNet-5 training step: 1x32x32, conv6 5x5, tanh, maxpool2, conv12 5x5, tanh, maxpool2, "
          "300-100-10, batch 64, SGD", target=1.15)  # issue 18: convolution workloads within 1.15x
def lenet(framework):
    return training_step(framework, LENET, (1, 32, 32), 64, "sgd", 0.01)


@register("W3", "Keras CIFAR-10 convnet training step: conv32 same, conv32, pool, drop.25, conv64 same, "
          "conv64, pool, drop.25, dense512, drop.5, dense10; batch 32, RMSprop", target=1.15)  # issue 18
def keras_cifar(framework):
    return training_step(framework, KERAS_CIFAR, (3, 32, 32), 32, "rmsprop", 1e-4)
