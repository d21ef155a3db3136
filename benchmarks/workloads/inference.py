"""Inference latency at batch 1 for W1-W3: one forward pass in evaluation mode, no gradients."""
from __future__ import annotations

import numpy as np

from ..registry import register
from .convnets import KERAS_CIFAR, LENET, build_network
from .mlps import MNIST_MLP


def forward_step(framework: str, spec, input_shape):
    """A zero-argument callable running one batch-1 forward pass of ``spec`` in ``framework``."""
    x = np.random.default_rng(0).standard_normal((1,) + input_shape).astype(np.float32)
    if framework == "torch":
        import torch

        torch.manual_seed(0)
        model, xb, no_grad = build_network(torch.nn, spec), torch.from_numpy(x), torch.no_grad
    else:
        import ember
        import ember.nn

        ember.manual_seed(0)
        model, xb, no_grad = build_network(ember.nn, spec), ember.tensor(x), ember.no_grad
    model.eval()

    def step():
        with no_grad():
            return model(xb)

    return step


@register("W1.infer", "W1 inference latency: MLP 784-1000-10 forward, batch 1", group="inference")
def mlp_inference(framework):
    return forward_step(framework, MNIST_MLP, (784,))


@register("W2.infer", "W2 inference latency: LeNet-5 forward, batch 1", group="inference")
def lenet_inference(framework):
    return forward_step(framework, LENET, (1, 32, 32))


@register("W3.infer", "W3 inference latency: Keras CIFAR-10 convnet forward, batch 1", group="inference")
def cifar_inference(framework):
    return forward_step(framework, KERAS_CIFAR, (3, 32, 32))
