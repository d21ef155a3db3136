"""``ember.nn.modules``: PyTorch's dotted module paths name Ember's own classes."""
from __future__ import annotations

import importlib

import pytest

import ember.nn as nn
from ember.nn import modules

torch = pytest.importorskip("torch")

# The paths pytorch/examples' word language model lists for ``torch.serialization.safe_globals``.
PATHS = [
    "activation.MultiheadAttention", "activation.ReLU", "container.ModuleList", "container.Sequential",
    "dropout.Dropout", "linear.Linear", "normalization.LayerNorm", "sparse.Embedding",
    "transformer.TransformerEncoder", "transformer.TransformerEncoderLayer", "rnn.GRU", "rnn.LSTM",
    "rnn.RNN", "conv.Conv2d", "batchnorm.BatchNorm1d", "pooling.MaxPool2d", "loss.NLLLoss",
    "flatten.Flatten", "module.Module",
]


@pytest.mark.parametrize("path", PATHS)
def test_path_is_the_ember_class_and_exists_in_torch(path):
    submodule, name = path.split(".")
    ours = getattr(importlib.import_module(f"ember.nn.modules.{submodule}"), name)
    assert ours is getattr(nn, name)
    assert hasattr(importlib.import_module(f"torch.nn.modules.{submodule}"), name)


def test_non_dynamically_quantizable_linear_is_a_linear():
    layer = modules.linear.NonDynamicallyQuantizableLinear(3, 2)
    assert isinstance(layer, nn.Linear)
    assert [k for k in layer.state_dict()] == ["weight", "bias"]
    assert tuple(layer(nn.Linear(1, 3).weight.T).shape) == (1, 2)
