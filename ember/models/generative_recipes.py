"""MNIST for the generative models (grey in [0, 1], or binarized) and the ``ember train vae`` recipe.

* :func:`mnist_unit` is MNIST with pixels scaled to ``[0, 1]`` (no standardisation:
  the models read pixels as Bernoulli probabilities).
* :func:`binarized_mnist` is a *fixed* stochastic binarization: each pixel drawn once
  as a Bernoulli of its intensity with a seeded generator (the same files every run),
  the binarization under which the RBM numbers of Salakhutdinov & Murray (2008) and
  the VAE test numbers here are measured. Training the VAE resamples every batch
  instead (dynamic binarization, :func:`ember.models.vae.train_vae_epoch`).

Importing this module registers the ``binarized-mnist`` dataset (targets: the
flattened binary image itself), the ``negative_elbo`` loss name and the ``vae``
recipe, so ``ember train vae`` trains the VAE through the Keras-style loop on the
fixed binarization and reports the test negative ELBO in nats as its loss. The RBM
(contrastive divergence) and the stacked denoising autoencoder (greedy
pretraining) do not train by one backprop loop, so they have no recipe here; their
scripts are ``examples/train_rbm.py`` and ``examples/train_sda.py``.

Example:
    >>> import ember.models.generative_recipes
    >>> from ember.train.recipes import RECIPES
    >>> "vae" in RECIPES
    True
"""
from __future__ import annotations

import numpy as np

import ember
from ember.train.names import register_loss
from ember.train.recipes import DatasetSpec, Recipe, register_dataset, register_recipe

from .vae import VAE, NegativeELBO

__all__ = ["mnist_unit", "binarized_mnist", "BINARIZATION_SEED", "register_generative_recipes"]

#: seeds the fixed binarization (the test split uses ``BINARIZATION_SEED + 1``).
BINARIZATION_SEED = 1234


def mnist_unit(train: bool = True, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images as float32 ``(N, 1, 28, 28)`` in ``[0, 1]`` and their int64 labels.

    Offline with no copy of MNIST this is the shipped sample (see ``mnist_or_sample``).
    """
    from ember.data.datasets import mnist_or_sample

    dataset = mnist_or_sample(train=train, download=download)
    return (dataset.data.astype(np.float32) / 255.0)[:, None], dataset.targets.astype(np.int64)


def binarized_mnist(train: bool = True, download: bool = False,
                    seed: int = BINARIZATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """MNIST with each pixel sampled once as Bernoulli(intensity), seeded: float32 ``(N, 1, 28, 28)`` of 0/1, labels.

    Example:
        >>> x, y = binarized_mnist(train=False)
        >>> np.unique(x).tolist(), x.shape[1:]
        ([0.0, 1.0], (1, 28, 28))
    """
    images, labels = mnist_unit(train, download)
    generator = ember.Generator().manual_seed(seed + (0 if train else 1))
    return ember.bernoulli(ember.tensor(images), generator=generator).numpy(), labels


def _binarized_autoencoding(train: bool, download: bool) -> tuple[np.ndarray, np.ndarray]:
    x, _ = binarized_mnist(train, download)
    return x, x.reshape(len(x), -1)  # the target of an autoencoder is its input


def register_generative_recipes() -> None:
    """Register the ``binarized-mnist`` dataset, the ``negative_elbo`` loss and the ``vae`` recipe (idempotent)."""
    register_loss("negative_elbo", NegativeELBO)
    register_dataset(DatasetSpec("binarized-mnist", _binarized_autoencoding, (1, 28, 28), 784,
                                 "MNIST binarized once (seeded Bernoulli pixels); targets are the images"))
    register_recipe(Recipe(
        "vae", "variational autoencoder 784-400-20 (Kingma & Welling 2014); loss: negative ELBO in nats",
        lambda c: VAE(784, int(c["hidden"]), int(c["latent"])),
        ("binarized-mnist",), {"hidden": 400, "latent": 20},
        {"batch_size": 128, "optimizer": "adam", "lr": 1e-3, "epochs": 10, "loss": "negative_elbo", "metrics": []}))


register_generative_recipes()
