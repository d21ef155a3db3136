"""The zoo's ``ember train NAME`` recipes: mlp, lenet, cifar_convnet (replacing the built-in ones), char_rnn, gpt.

Importing :mod:`ember.models` registers them with
:func:`ember.train.recipes.register_recipe`. The language models train through
the same Keras-style loop as the classifiers, on independent windows of Tiny
Shakespeare (the ``tinyshakespeare`` dataset: ``x`` is ``(N, T)`` character ids,
``y`` the same shifted by one); the full char-rnn training with the state carried
across windows is ``examples/train_char_rnn.py``.

Example:
    >>> import ember.models
    >>> from ember.train.recipes import RECIPES
    >>> {"char_rnn", "gpt"} <= set(RECIPES)
    True
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..tensor import Tensor
from ..train.recipes import (
    RECIPES,
    DatasetSpec,
    Recipe,
    register_dataset,
    register_recipe,
)
from .char_rnn import CharRNN
from .cifar_convnet import CifarConvNet
from .gpt import TinyGPT
from .lenet import LeNet5
from .mlp import MLP

__all__ = ["TEXT_WINDOW", "SequenceLogits"]

TEXT_WINDOW = 64  # characters per training window of the tinyshakespeare dataset


class SequenceLogits(nn.Module):
    """Adapts a language model to ``Model.fit``: logits ``(B, vocab, T)``, the layout cross-entropy expects.

    Example:
        >>> import ember
        >>> SequenceLogits(CharRNN(5, 8))(ember.tensor([[1, 2, 3]])).shape
        (1, 5, 3)
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor) -> Tensor:
        out = self.model(tokens)
        logits = out[0] if isinstance(out, tuple) else out
        return logits.permute(0, 2, 1)


def _tinyshakespeare(train: bool, download: bool):
    from ..data import tiny_shakespeare

    corpus = tiny_shakespeare(download=download)
    windows = corpus.windows(TEXT_WINDOW, "train" if train else "val")
    return windows.__getitems__(np.arange(len(windows)))


def _in_features(config: dict) -> int:
    return int(np.prod(config["input_shape"]))


def _register() -> None:
    register_dataset(DatasetSpec("tinyshakespeare", _tinyshakespeare, (TEXT_WINDOW,), 65,
                                 f"Tiny Shakespeare characters, windows of {TEXT_WINDOW} (validation: last 10%)"))
    mlp = RECIPES.get("mlp")
    register_recipe(Recipe(
        "mlp", "the lectures' MLP 784-1000-10 (ReLU); 98.4% on MNIST in 10 epochs",
        lambda c: MLP(_in_features(c), (int(c["hidden"]),) * int(c["layers"]), c["classes"],
                      dropout=float(c["dropout"])),
        mlp.datasets if mlp else ("mnist", "fashion-mnist"), {"hidden": 1000, "layers": 1, "dropout": 0.0},
        {"lr": 1e-3, "epochs": 10}))
    register_recipe(Recipe(
        "lenet", "LeNet-5 (LeCun et al. 1998; variant=torch7 for the lectures' listing)",
        lambda c: LeNet5(c["input_shape"][0], c["classes"], c["input_shape"][-1], c["activation"], c["variant"]),
        ("mnist", "fashion-mnist"), {"activation": "relu", "variant": "classic"},
        {"batch_size": 64, "epochs": 10}))
    register_recipe(Recipe(
        "cifar_convnet", "the Keras CIFAR-10 example convnet (4 conv, 2 pool, dropout)",
        lambda c: CifarConvNet(c["input_shape"][0], c["classes"], c["input_shape"][-1]),
        ("cifar10",), {}, {"batch_size": 32, "optimizer": "rmsprop", "lr": 1e-4, "epochs": 50}))
    register_recipe(Recipe(
        "char_rnn", "Karpathy's char-rnn, a 2x256 LSTM language model (loss in nats/char)",
        lambda c: SequenceLogits(CharRNN(c["classes"], int(c["hidden"]), int(c["layers"]), float(c["dropout"]))),
        ("tinyshakespeare",), {"hidden": 256, "layers": 2, "dropout": 0.2},
        {"batch_size": 32, "lr": 2e-3, "epochs": 10, "metrics": []}))
    register_recipe(Recipe(
        "gpt", "a tiny decoder-only transformer over characters (loss in nats/char)",
        lambda c: SequenceLogits(TinyGPT(c["classes"], c["input_shape"][0], int(c["d_model"]), int(c["heads"]),
                                         int(c["layers"]), float(c["dropout"]))),
        ("tinyshakespeare",), {"d_model": 128, "heads": 4, "layers": 4, "dropout": 0.1},
        {"batch_size": 32, "optimizer": "adamw", "lr": 1e-3, "epochs": 5, "metrics": []}))


_register()
