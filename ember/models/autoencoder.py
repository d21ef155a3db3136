"""Stacked denoising autoencoders (Vincent et al. 2010): greedy layer-wise pretraining, then supervised fine-tuning.

A :class:`DenoisingAutoencoder` corrupts its input with masking noise (each input
set to 0 with probability ``corruption``), encodes it with ``sigmoid(W x~ + c)`` and
reconstructs the *clean* input from the code with tied weights,
``sigmoid(W^T h + b)``, trained on the Bernoulli cross-entropy of the reconstruction.

A :class:`StackedDenoisingAutoencoder` stacks such layers: :func:`pretrain_layer`
trains layer ``i`` as a denoising autoencoder on the clean codes of the layers below
it (greedy, one layer at a time, bottom up), and the stack of encoders with a linear
classifier on top is then fine-tuned as one supervised network (its ``forward``
returns logits; ``ember.models.train_classifier`` fine-tunes it).

Example:
    >>> import ember
    >>> sda = StackedDenoisingAutoencoder(784, (32, 16), 10)
    >>> sda(ember.zeros(2, 1, 28, 28)).shape
    (2, 10)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["DenoisingAutoencoder", "StackedDenoisingAutoencoder", "pretrain_layer", "pretrain"]


def _check_unit_interval(x: Tensor, who: str) -> None:
    low, high = float(x.min().item()), float(x.max().item())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{who}: the cross-entropy reconstruction needs inputs in [0, 1] (MNIST scaled by 1/255), "
                         f"got values in [{low:g}, {high:g}]")


class DenoisingAutoencoder(nn.Module):
    """One denoising autoencoder with tied weights and masking noise.

    Args:
        in_features: inputs per sample.
        hidden: code units.
        corruption: the fraction of inputs masked to 0 during training.
        generator: seeds the initial weights (uniform in ``+-4 sqrt(6 / (in + hidden))``,
            the range of Glorot & Bengio for sigmoid units used by Vincent et al.).

    Example:
        >>> import ember
        >>> dae = DenoisingAutoencoder(6, 3)
        >>> dae.reconstruction_loss(ember.ones(4, 6), generator=ember.Generator().manual_seed(0)).shape
        ()
    """

    def __init__(self, in_features: int, hidden: int, corruption: float = 0.25,
                 generator: ember.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= corruption < 1.0:
            raise ValueError(f"DenoisingAutoencoder: corruption must be in [0, 1), got {corruption}")
        self.in_features, self.hidden, self.corruption = int(in_features), int(hidden), float(corruption)
        bound = 4.0 * math.sqrt(6.0 / (self.in_features + self.hidden))
        self.weight = nn.Parameter((ember.rand(self.hidden, self.in_features, generator=generator) * 2 - 1) * bound)
        self.hidden_bias = nn.Parameter(ember.zeros(self.hidden))
        self.visible_bias = nn.Parameter(ember.zeros(self.in_features))

    def flatten(self, x: Tensor) -> Tensor:
        """``x`` as ``(N, in_features)``; raises ``ValueError`` naming the sizes when it holds another number."""
        per_sample = math.prod(x.shape[1:]) if x.ndim >= 2 else 0
        if per_sample != self.in_features:
            raise ValueError(f"DenoisingAutoencoder: expected {self.in_features} inputs per sample, got shape "
                             f"{tuple(x.shape)}")
        return x.reshape(x.shape[0], self.in_features)

    def corrupt(self, x: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """Masking noise: each input kept with probability ``1 - corruption``, else set to 0."""
        if self.corruption == 0.0:
            return x
        keep = ember.bernoulli(ember.full(tuple(x.shape), 1.0 - self.corruption, dtype=x.dtype), generator=generator)
        return x * keep

    def encode(self, x: Tensor) -> Tensor:
        """The code ``sigmoid(W x + c)``, ``(N, hidden)``."""
        return ember.sigmoid(F.linear(self.flatten(x), self.weight, self.hidden_bias))

    def decode_logits(self, h: Tensor) -> Tensor:
        """Logits ``W^T h + b`` of the reconstruction (tied weights)."""
        return h @ self.weight + self.visible_bias

    def forward(self, x: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """Reconstruction probabilities of ``x`` from its corrupted copy (no corruption in eval mode)."""
        x = self.flatten(x)
        source = self.corrupt(x, generator) if self.training else x
        return ember.sigmoid(self.decode_logits(self.encode(source)))

    def reconstruction_loss(self, x: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """Mean over the batch of the cross-entropy between ``x`` and its reconstruction from corrupted ``x``."""
        x = self.flatten(x)
        _check_unit_interval(x, "DenoisingAutoencoder")
        logits = self.decode_logits(self.encode(self.corrupt(x, generator)))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1).mean()


class StackedDenoisingAutoencoder(nn.Module):
    """Denoising autoencoders stacked as a sigmoid MLP classifier (SdA-3 of Vincent et al.: three 1000-unit layers).

    Args:
        in_features: pixels per image.
        hidden: code units of each layer, bottom up.
        classes: outputs of the linear classifier on top.
        corruption: masking fraction of each layer's pretraining (one value for all, or one per layer).
        generator: seeds the initial weights.
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (1000, 1000, 1000), classes: int = 10,
                 corruption: float | Sequence[float] = 0.25, generator: ember.Generator | None = None) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        levels = [float(corruption)] * len(hidden) if isinstance(corruption, (int, float)) else list(corruption)
        if not hidden or len(levels) != len(hidden):
            raise ValueError(f"StackedDenoisingAutoencoder: need at least one layer and one corruption level per "
                             f"layer, got hidden={hidden}, corruption={levels}")
        self.in_features = int(in_features)
        widths = [self.in_features] + hidden
        self.layers = nn.ModuleList([DenoisingAutoencoder(widths[i], widths[i + 1], levels[i], generator)
                                     for i in range(len(hidden))])
        self.classifier = nn.Linear(widths[-1], int(classes))

    def features(self, x: Tensor, depth: int | None = None) -> Tensor:
        """The clean codes of the first ``depth`` layers (all by default) for images ``x``."""
        per_sample = math.prod(x.shape[1:]) if x.ndim >= 2 else 0
        if per_sample != self.in_features:
            raise ValueError(f"StackedDenoisingAutoencoder: expected images with {self.in_features} pixels each, "
                             f"e.g. shape (N, 1, 28, 28); got shape {tuple(x.shape)}")
        h = x.reshape(x.shape[0], self.in_features)
        for layer in self.layers[:len(self.layers) if depth is None else depth]:
            h = layer.encode(h)
        return h

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``(N, classes)`` of images ``(N, ...)`` with ``in_features`` pixels each."""
        return self.classifier(self.features(x))


def pretrain_layer(sda: StackedDenoisingAutoencoder, index: int, images: Tensor, epochs: int = 15,
                   lr: float = 0.01, batch_size: int = 20, generator: ember.Generator | None = None) -> list[float]:
    """Train layer ``index`` as a denoising autoencoder on the clean codes of the layers below; SGD, in place.

    Args:
        images: training images in ``[0, 1]``.
        epochs, lr, batch_size: plain minibatch SGD on the reconstruction cross-entropy.
        generator: seeds the order of the samples and the masking noise.

    Returns:
        The mean reconstruction cross-entropy (nats per sample) of each epoch.
    """
    if not 0 <= index < len(sda.layers):
        raise ValueError(f"pretrain_layer: layer {index} of a {len(sda.layers)}-layer stack")
    with ember.no_grad():
        inputs = sda.features(images, depth=index)  # the layers below are frozen while this one trains
    layer = sda.layers[index]
    _check_unit_interval(inputs, f"pretrain_layer {index}")
    optimizer = ember.optim.SGD(layer.parameters(), lr=lr)
    layer.train()
    losses = []
    n = inputs.shape[0]
    for _ in range(epochs):
        order = ember.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = inputs[order[start:start + batch_size]]
            loss = layer.reconstruction_loss(batch, generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.item()) * batch.shape[0]
        losses.append(total / n)
    return losses


def pretrain(sda: StackedDenoisingAutoencoder, images: Tensor, epochs: int = 15, lr: float = 0.01,
             batch_size: int = 20, generator: ember.Generator | None = None,
             log: Callable[[str], None] | None = None) -> list[list[float]]:
    """Greedy layer-wise pretraining of every layer, bottom up; returns each layer's per-epoch losses."""
    histories = []
    for index in range(len(sda.layers)):
        histories.append(pretrain_layer(sda, index, images, epochs, lr, batch_size, generator))
        if log is not None:
            log(f"pretrained layer {index + 1}/{len(sda.layers)}: reconstruction cross-entropy "
                + " ".join(f"{v:.2f}" for v in histories[-1]))
    return histories
