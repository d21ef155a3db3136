"""DCGAN (Radford, Metz & Chintala 2016) for 28x28 single-channel images (MNIST, Fashion-MNIST).

The paper's architecture guidelines, scaled to 28x28: strided convolutions instead of
pooling, batch normalisation in both networks (not on the generator's output nor the
discriminator's input), ReLU in the generator with a Tanh output, LeakyReLU(0.2) in
the discriminator, weights drawn from ``N(0, 0.02)``, Adam with ``lr = 2e-4`` and
``beta1 = 0.5``.

* :class:`Generator`: ``z (latent) -> Linear -> (2w, 7, 7) -> BN -> ReLU ->
  ConvTranspose2d(4, 2, 1) -> (w, 14, 14) -> BN -> ReLU -> ConvTranspose2d(4, 2, 1) -> (1, 28, 28) -> Tanh``.
* :class:`Discriminator`: ``(1, 28, 28) -> Conv2d(4, 2, 1) -> LeakyReLU -> Conv2d(4, 2, 1) -> BN ->
  LeakyReLU -> Linear -> one logit``.
* :func:`train_gan_step` is one alternating update with binary cross-entropy on logits:
  the discriminator on a real and a fake batch, then the generator with the
  non-saturating loss ``-log D(G(z))`` (Goodfellow et al. 2014, section 3).
* :func:`train_gan_epoch` runs the steps over a shuffled epoch.

Images are scaled to ``[-1, 1]`` (the Tanh range); :func:`to_tanh_range` does it. Every
random draw takes an ``ember.Generator`` and the initialisation uses Ember's global seed,
so ``ember.manual_seed(s)`` before building plus a seeded generator reproduce a run.

Example:
    >>> import ember
    >>> ember.manual_seed(0)
    >>> G, D = Generator(width=8), Discriminator(width=8)
    >>> z = ember.randn(4, 100, generator=ember.Generator().manual_seed(0))
    >>> G(z).shape, D(G(z)).shape
    ((4, 1, 28, 28), (4,))
"""
from __future__ import annotations

import time
from collections.abc import Callable

import ember
import ember.nn.functional as F
from ember import nn
from ember.errors import ShapeError
from ember.nn import init
from ember.tensor import Tensor

__all__ = ["Generator", "Discriminator", "dcgan_init_", "gan_optimizers", "to_tanh_range", "train_gan_step",
           "train_gan_epoch", "interpolate_latents"]

_SIDE = 28  # two stride-2 layers: 7 -> 14 -> 28


def dcgan_init_(module: nn.Module) -> None:
    """The paper's initialisation: conv/linear weights ``N(0, 0.02)``, batch-norm scales ``N(1, 0.02)``, biases 0.

    Draws from Ember's global generator (seed it with ``ember.manual_seed``).
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            init.normal_(layer.weight, 1.0, 0.02)
            init.zeros_(layer.bias)


class Generator(nn.Module):
    """DCGAN generator: latent vectors ``(N, latent)`` to images ``(N, channels, 28, 28)`` in ``[-1, 1]``.

    Args:
        latent: dimension of ``z`` (100 in the paper).
        width: channels of the last hidden layer; the first has ``2 * width`` (at 7x7).
        channels: image channels (1 for MNIST).

    Example:
        >>> import ember
        >>> Generator(latent=16, width=8).sample(3, generator=ember.Generator().manual_seed(0)).shape
        (3, 1, 28, 28)
    """

    def __init__(self, latent: int = 100, width: int = 64, channels: int = 1) -> None:
        super().__init__()
        self.latent, self.width, self.channels = int(latent), int(width), int(channels)
        # No biases before batch norm: its shift makes them redundant.
        self.project = nn.Linear(self.latent, 2 * self.width * 7 * 7, bias=False)
        self.bn0 = nn.BatchNorm2d(2 * self.width)
        self.up1 = nn.ConvTranspose2d(2 * self.width, self.width, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.width)
        self.up2 = nn.ConvTranspose2d(self.width, self.channels, 4, stride=2, padding=1)
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        """Images ``(N, channels, 28, 28)`` in ``[-1, 1]`` for latents ``(N, latent)``."""
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ShapeError(f"Generator: expected latents of shape (N, {self.latent}), got shape {tuple(z.shape)}")
        h = self.project(z).reshape(z.shape[0], 2 * self.width, 7, 7)
        h = F.relu(self.bn0(h))
        h = F.relu(self.bn1(self.up1(h)))
        return ember.tanh(self.up2(h))

    def sample(self, n: int, generator: ember.Generator | None = None) -> Tensor:
        """``n`` images from ``z ~ N(0, I)``, without gradients (the current train/eval mode is kept)."""
        with ember.no_grad():
            return self(ember.randn(n, self.latent, generator=generator, dtype=self.project.weight.dtype))


class Discriminator(nn.Module):
    """DCGAN discriminator: images ``(N, channels, 28, 28)`` to one real-vs-fake logit each ``(N,)``.

    Args:
        width: channels of the first convolution; the second has ``2 * width``.
        channels: image channels.
        slope: the LeakyReLU's negative slope (0.2 in the paper).

    Example:
        >>> import ember
        >>> Discriminator(width=8)(ember.zeros(2, 1, 28, 28)).shape
        (2,)
    """

    def __init__(self, width: int = 64, channels: int = 1, slope: float = 0.2) -> None:
        super().__init__()
        self.width, self.channels, self.slope = int(width), int(channels), float(slope)
        self.down1 = nn.Conv2d(self.channels, self.width, 4, stride=2, padding=1)  # no BN on the input layer
        self.down2 = nn.Conv2d(self.width, 2 * self.width, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * self.width)
        self.classify = nn.Linear(2 * self.width * 7 * 7, 1)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N,)`` (positive: judged real) of images ``(N, channels, 28, 28)``."""
        expected = (self.channels, _SIDE, _SIDE)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ShapeError(f"Discriminator: expected images of shape (N, {', '.join(map(str, expected))}), "
                             f"got shape {tuple(x.shape)}")
        h = F.leaky_relu(self.down1(x), self.slope)
        h = F.leaky_relu(self.bn2(self.down2(h)), self.slope)
        return self.classify(h.reshape(x.shape[0], -1)).reshape(x.shape[0])


def gan_optimizers(generator_net: Generator, discriminator: Discriminator, lr: float = 2e-4,
                   betas: tuple[float, float] = (0.5, 0.999)) -> tuple[ember.optim.Adam, ember.optim.Adam]:
    """The paper's two Adam optimizers ``(for G, for D)``: ``lr = 2e-4``, ``beta1 = 0.5``."""
    return (ember.optim.Adam(generator_net.parameters(), lr=lr, betas=betas),
            ember.optim.Adam(discriminator.parameters(), lr=lr, betas=betas))


def to_tanh_range(images: Tensor) -> Tensor:
    """Pixels in ``[0, 1]`` mapped to ``[-1, 1]``, the generator's output range."""
    return images * 2.0 - 1.0


def train_gan_step(generator_net: Generator, discriminator: Discriminator, optimizer_g, optimizer_d,
                   real: Tensor, generator: ember.Generator | None = None) -> dict[str, float]:
    """One alternating DCGAN update on a batch of real images in ``[-1, 1]``.

    The discriminator takes one Adam step on ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` (the real
    and the fake batch go through it separately, so batch norm sees one kind at a time,
    as in the reference implementation); the generator then takes one step on the
    non-saturating ``BCE(D(G(z)), 1)`` with the same ``z``.

    Returns:
        ``{"loss_d", "loss_g", "d_real", "d_fake"}``: the two losses and the mean
        probabilities the discriminator gave the real and the fake batch (before its step).

    Example:
        >>> import ember
        >>> ember.manual_seed(0)
        >>> G, D = Generator(latent=8, width=4), Discriminator(width=4)
        >>> opt_g, opt_d = gan_optimizers(G, D)
        >>> sorted(train_gan_step(G, D, opt_g, opt_d, ember.zeros(4, 1, 28, 28), ember.Generator().manual_seed(0)))
        ['d_fake', 'd_real', 'loss_d', 'loss_g']
    """
    n = real.shape[0]
    ones, zeros = ember.ones(n, dtype=real.dtype), ember.zeros(n, dtype=real.dtype)
    z = ember.randn(n, generator_net.latent, generator=generator, dtype=real.dtype)
    fake = generator_net(z)

    logits_real = discriminator(real)
    logits_fake = discriminator(fake.detach())  # D's step must not reach G's parameters
    loss_d = F.binary_cross_entropy_with_logits(logits_real, ones) + F.binary_cross_entropy_with_logits(logits_fake,
                                                                                                       zeros)
    optimizer_d.zero_grad()
    loss_d.backward()
    optimizer_d.step()

    loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
    optimizer_g.zero_grad()
    loss_g.backward()  # also fills D's gradients; they are zeroed before D's next step
    optimizer_g.step()
    return {"loss_d": float(loss_d.item()), "loss_g": float(loss_g.item()),
            "d_real": float(ember.sigmoid(logits_real).mean().item()),
            "d_fake": float(ember.sigmoid(logits_fake).mean().item())}


def train_gan_epoch(generator_net: Generator, discriminator: Discriminator, optimizer_g, optimizer_d,
                    images: Tensor, batch_size: int = 128, generator: ember.Generator | None = None,
                    log: Callable[[str], None] | None = None, log_every: int = 100,
                    max_steps: int | None = None) -> dict[str, float]:
    """One epoch of :func:`train_gan_step` over ``images`` (``(N, 1, 28, 28)`` in ``[-1, 1]``) in a seeded order.

    A last batch smaller than ``batch_size`` is dropped (batch-norm statistics of a
    handful of images are noise). ``log`` receives a progress line every ``log_every``
    steps with the elapsed seconds; ``max_steps`` stops early (reduced runs).

    Returns:
        The means over the epoch of :func:`train_gan_step`'s values, plus ``"steps"`` and ``"seconds"``.
    """
    expected = (generator_net.channels, _SIDE, _SIDE)
    if images.ndim != 4 or tuple(images.shape[1:]) != expected:
        raise ShapeError(f"train_gan_epoch: expected images of shape (N, {', '.join(map(str, expected))}), "
                         f"got shape {tuple(images.shape)}")
    if images.shape[0] < batch_size:
        raise ShapeError(f"train_gan_epoch: {images.shape[0]} images are fewer than one batch of {batch_size}")
    generator_net.train()
    discriminator.train()
    order = ember.randperm(images.shape[0], generator=generator)
    steps = images.shape[0] // batch_size
    if max_steps is not None:
        steps = min(steps, int(max_steps))
    totals = {"loss_d": 0.0, "loss_g": 0.0, "d_real": 0.0, "d_fake": 0.0}
    start = time.perf_counter()
    for step in range(steps):
        batch = images[order[step * batch_size:(step + 1) * batch_size]]
        values = train_gan_step(generator_net, discriminator, optimizer_g, optimizer_d, batch, generator)
        for key, value in values.items():
            totals[key] += value
        if log is not None and (step + 1) % log_every == 0:
            log(f"  step {step + 1}/{steps}: loss_D {values['loss_d']:.3f} loss_G {values['loss_g']:.3f} "
                f"D(x) {values['d_real']:.2f} D(G(z)) {values['d_fake']:.2f} ({time.perf_counter() - start:.0f}s)")
    result = {key: total / max(steps, 1) for key, total in totals.items()}
    result.update(steps=steps, seconds=time.perf_counter() - start)
    return result


def interpolate_latents(start: Tensor, end: Tensor, steps: int) -> Tensor:
    """Latents on the straight lines from ``start`` to ``end`` (both ``(pairs, latent)``): ``(pairs * steps, latent)``.

    Row ``i * steps + j`` is ``(1 - t_j) * start[i] + t_j * end[i]`` with ``t`` from 0 to 1,
    so a grid with ``steps`` columns shows one interpolation per row.

    Example:
        >>> import ember
        >>> interpolate_latents(ember.zeros(2, 3), ember.ones(2, 3), 5)[:5, 0].tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if start.shape != end.shape or start.ndim != 2:
        raise ShapeError(f"interpolate_latents: expected two (pairs, latent) tensors of one shape, got "
                         f"{tuple(start.shape)} and {tuple(end.shape)}")
    if steps < 2:
        raise ValueError(f"interpolate_latents: steps must be at least 2, got {steps}")
    weights = ember.linspace(0.0, 1.0, steps, dtype=start.dtype).reshape(1, steps, 1)
    path = start.unsqueeze(1) * (1 - weights) + end.unsqueeze(1) * weights
    return path.reshape(start.shape[0] * steps, start.shape[1])
