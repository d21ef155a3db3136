"""The variational autoencoder of Kingma & Welling (2014), with a Bernoulli decoder for binarized MNIST.

The model is pytorch/examples' VAE: an MLP encoder ``784-400`` (ReLU) giving the
mean and log-variance of a diagonal Gaussian ``q(z|x)`` over a 20-d latent, and an
MLP decoder ``20-400-784`` (ReLU) giving the logits of independent Bernoulli
pixels ``p(x|z)``; the prior ``p(z)`` is a standard normal.

* :func:`negative_elbo` is the per-sample loss ``-ELBO = -E_q[log p(x|z)] + KL(q(z|x) || p(z))``
  in nats, estimated with one reparameterised sample ``z = mu + sigma * eps``.
* :func:`importance_weighted_log_likelihood` is the importance-sampling estimate of
  ``log p(x)`` with ``k`` samples of ``q(z|x)`` (Burda et al. 2016), a tighter
  bound than the ELBO that approaches ``log p(x)`` as ``k`` grows.
* :func:`train_vae_epoch` is one epoch of Adam on the negative ELBO, with dynamic
  binarization (each batch of grey images resampled as Bernoulli pixels).

Every random draw takes an ``ember.Generator``, so a seeded run is reproducible.

Example:
    >>> import ember
    >>> model = VAE()
    >>> logits, mu, logvar = model(ember.zeros(3, 1, 28, 28), generator=ember.Generator().manual_seed(0))
    >>> logits.shape, mu.shape
    ((3, 784), (3, 20))
"""
from __future__ import annotations

import math

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["VAE", "NegativeELBO", "negative_elbo", "gaussian_kl", "importance_weighted_log_likelihood",
           "train_vae_epoch", "evaluate_negative_elbo"]

_LOG_2PI = math.log(2.0 * math.pi)


class VAE(nn.Module):
    """Variational autoencoder with an MLP encoder and a Bernoulli MLP decoder.

    Args:
        in_features: pixels per image (784 for MNIST).
        hidden: width of the encoder's and the decoder's hidden layer.
        latent: dimension of ``z`` (2 gives a latent space that can be drawn).

    Example:
        >>> import ember
        >>> VAE(latent=2).sample(4, generator=ember.Generator().manual_seed(0)).shape
        (4, 784)
    """

    def __init__(self, in_features: int = 784, hidden: int = 400, latent: int = 20) -> None:
        super().__init__()
        self.in_features, self.hidden, self.latent = int(in_features), int(hidden), int(latent)
        self.fc1 = nn.Linear(self.in_features, self.hidden)
        self.fc_mu = nn.Linear(self.hidden, self.latent)
        self.fc_logvar = nn.Linear(self.hidden, self.latent)
        self.fc3 = nn.Linear(self.latent, self.hidden)
        self.fc4 = nn.Linear(self.hidden, self.in_features)

    def flatten(self, x: Tensor) -> Tensor:
        """``x`` as ``(N, in_features)``; raises ``ValueError`` naming the sizes when it holds another number."""
        per_sample = math.prod(x.shape[1:]) if x.ndim >= 2 else 0
        if per_sample != self.in_features:
            raise ValueError(f"VAE: expected images with {self.in_features} pixels each, e.g. shape "
                             f"(N, {self.in_features}) or (N, 1, 28, 28); got shape {tuple(x.shape)}")
        return x.reshape(x.shape[0], self.in_features)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The mean and log-variance ``(N, latent)`` of ``q(z|x)``."""
        h = F.relu(self.fc1(self.flatten(x)))
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu: Tensor, logvar: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)``: a sample whose gradient reaches mu and logvar."""
        eps = ember.randn(*mu.shape, generator=generator, dtype=mu.dtype)
        return mu + (0.5 * logvar).exp() * eps

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits ``(..., in_features)`` of ``p(x|z)`` for latents ``(..., latent)``."""
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x: Tensor, generator: ember.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """``(logits, mu, logvar)``: the decoder's logits for one sample ``z ~ q(z|x)``, and ``q``'s parameters."""
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar, generator)), mu, logvar

    def sample(self, n: int, generator: ember.Generator | None = None) -> Tensor:
        """Pixel probabilities ``(n, in_features)`` of ``n`` draws ``z ~ p(z)`` (the decoder's means)."""
        with ember.no_grad():
            z = ember.randn(n, self.latent, generator=generator, dtype=self.fc3.weight.dtype)
            return ember.sigmoid(self.decode(z))


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` per sample ``(N,)``, in closed form (Kingma & Welling, appendix B)."""
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp()).sum(dim=-1)


def _check_targets(x: Tensor, who: str) -> None:
    low, high = float(x.min().item()), float(x.max().item())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{who}: Bernoulli targets must lie in [0, 1] (binarized or grey MNIST scaled by 1/255), "
                         f"got values in [{low:g}, {high:g}]")


def negative_elbo(x: Tensor, logits: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """Per-sample negative ELBO ``(N,)`` in nats: Bernoulli reconstruction cross-entropy plus the Gaussian KL.

    Args:
        x: targets ``(N, D)`` or images ``(N, 1, H, W)`` with values in ``[0, 1]``.
        logits: the decoder's logits ``(N, D)``.
        mu, logvar: ``q(z|x)``'s parameters ``(N, latent)``.
    """
    target = x.reshape(logits.shape)
    _check_targets(target, "negative_elbo")
    reconstruction = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=-1)
    return reconstruction + gaussian_kl(mu, logvar)


class NegativeELBO(nn.Module):
    """The mean negative ELBO of a batch as a loss for ``Model.compile``: ``loss((logits, mu, logvar), x)``.

    Example:
        >>> import ember
        >>> model = VAE(8, 4, 2)
        >>> x = ember.ones(3, 8)
        >>> NegativeELBO()(model(x, generator=ember.Generator().manual_seed(0)), x).shape
        ()
    """

    def forward(self, output: tuple[Tensor, Tensor, Tensor], target: Tensor) -> Tensor:
        logits, mu, logvar = output
        return negative_elbo(target, logits, mu, logvar).mean()


def importance_weighted_log_likelihood(model: VAE, x: Tensor, k: int = 1000, chunk: int = 100,
                                       generator: ember.Generator | None = None) -> Tensor:
    """Estimate ``log p(x)`` per sample ``(N,)`` in nats with ``k`` importance samples of ``q(z|x)``.

    ``log p(x) ~= logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k`` with
    ``z_i ~ q(z|x)``; a lower bound in expectation that tightens as ``k`` grows (``k = 1``
    is the ELBO). The ``k`` samples are drawn ``chunk`` at a time, so memory grows with
    ``chunk * N``, not ``k * N``.

    Example:
        >>> import ember
        >>> model = VAE(8, 4, 2)
        >>> importance_weighted_log_likelihood(model, ember.ones(3, 8), k=10, chunk=4,
        ...                                    generator=ember.Generator().manual_seed(0)).shape
        (3,)
    """
    if k < 1 or chunk < 1:
        raise ValueError(f"importance_weighted_log_likelihood: k and chunk must be positive, got k={k}, chunk={chunk}")
    with ember.no_grad():
        x = model.flatten(x)
        _check_targets(x, "importance_weighted_log_likelihood")
        mu, logvar = model.encode(x)
        std = (0.5 * logvar).exp()
        log_weights = []
        for start in range(0, k, chunk):
            c = min(chunk, k - start)
            eps = ember.randn(c, *mu.shape, generator=generator, dtype=mu.dtype)
            z = mu + std * eps  # (c, N, latent)
            logits = model.decode(z)
            log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand(c, *x.shape), reduction="none").sum(dim=-1)
            log_pz = -0.5 * (z * z + _LOG_2PI).sum(dim=-1)
            log_qz = -0.5 * (eps * eps + logvar + _LOG_2PI).sum(dim=-1)
            log_weights.append(log_px_z + log_pz - log_qz)
        return ember.logsumexp(ember.cat(log_weights, dim=0), dim=0) - math.log(k)


def train_vae_epoch(model: VAE, images: Tensor, optimizer, batch_size: int = 128,
                    generator: ember.Generator | None = None, dynamic_binarization: bool = True) -> float:
    """One epoch over ``images`` (values in ``[0, 1]``) in a shuffled order; returns the mean negative ELBO.

    With ``dynamic_binarization`` every batch is resampled as Bernoulli pixels of the
    grey intensities (a fresh binary dataset each epoch, which regularises); otherwise
    ``images`` are used as they are (already binary, or grey targets).
    """
    model.train()
    n = images.shape[0]
    order = ember.randperm(n, generator=generator)
    total = 0.0
    for start in range(0, n, batch_size):
        batch = images[order[start:start + batch_size]]
        if dynamic_binarization:
            batch = ember.bernoulli(batch, generator=generator)
        logits, mu, logvar = model(batch, generator=generator)
        loss = negative_elbo(batch, logits, mu, logvar).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.item()) * batch.shape[0]
    return total / n


def evaluate_negative_elbo(model: VAE, images: Tensor, batch_size: int = 1000,
                           generator: ember.Generator | None = None) -> float:
    """The mean negative ELBO (nats) of ``images`` (one sample of ``z`` per image), without gradients."""
    model.eval()
    total = 0.0
    with ember.no_grad():
        for start in range(0, images.shape[0], batch_size):
            batch = images[start:start + batch_size]
            logits, mu, logvar = model(batch, generator=generator)
            total += float(negative_elbo(batch, logits, mu, logvar).sum().item())
    return total / images.shape[0]
