"""Bernoulli restricted Boltzmann machines: contrastive divergence training and annealed importance sampling.

An RBM over binary visible units ``v`` (pixels) and binary hidden units ``h`` has the
energy ``E(v, h) = -b.v - c.h - h.W.v`` and ``p(v) = exp(-F(v)) / Z`` with the free
energy ``F(v) = -b.v - sum_j softplus(c_j + W_j.v)``.

RBMs are not trained by backprop. The log-likelihood gradient is a difference of
two expectations, ``<v h>_data - <v h>_model``; :class:`ContrastiveDivergence`
estimates the second one with ``k`` Gibbs steps started at the data (CD-k, Hinton
2002) or at persistent chains carried from one update to the next (PCD, Tieleman
2008), and applies the update with momentum and weight decay, all with Ember tensor
ops under ``ember.no_grad()``. :func:`cd_statistics` is that estimate on its own.

``Z`` is intractable for MNIST-sized models; :func:`ais_log_partition` estimates it
by annealed importance sampling from a base-rate model (Salakhutdinov & Murray
2008), and :func:`exact_log_partition` computes it by enumeration for small models
(used to test AIS). :func:`average_log_likelihood` is the test log-likelihood in nats.

Example:
    >>> import ember
    >>> g = ember.Generator().manual_seed(0)
    >>> rbm = RBM(6, 3, generator=g)
    >>> trainer = ContrastiveDivergence(rbm, lr=0.1, k=1)
    >>> error = trainer.step(ember.bernoulli(ember.full((4, 6), 0.5), generator=g), generator=g)
    >>> abs(exact_log_partition(rbm) - ais_log_partition(rbm, runs=50, betas=200, generator=g).log_z) < 0.1
    True
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["RBM", "ContrastiveDivergence", "CDStatistics", "cd_statistics", "AISEstimate", "ais_log_partition",
           "ais_betas", "base_rate_bias", "exact_log_partition", "average_log_likelihood", "check_binary"]


def check_binary(v: Tensor, who: str) -> None:
    """Raise ``ValueError`` naming ``who`` unless every value of ``v`` is 0 or 1 (a Bernoulli RBM's data)."""
    values = v.numpy()
    if not np.isin(values, (0.0, 1.0)).all():
        bad = values[~np.isin(values, (0.0, 1.0))].ravel()[0]
        raise ValueError(f"{who}: a Bernoulli RBM needs binary data (0 or 1), got a value {bad:g} in data of shape "
                         f"{tuple(v.shape)}; binarize it first, e.g. ember.bernoulli(x, generator=g)")


class RBM(nn.Module):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Args:
        n_visible: visible units (784 for MNIST).
        n_hidden: hidden units.
        init_std: the standard deviation of the initial weights (biases start at zero).
        generator: seeds the initial weights.

    Example:
        >>> import ember
        >>> RBM(784, 500).free_energy(ember.zeros(2, 1, 28, 28)).shape
        (2,)
    """

    def __init__(self, n_visible: int = 784, n_hidden: int = 500, init_std: float = 0.01,
                 generator: ember.Generator | None = None) -> None:
        super().__init__()
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        self.weight = nn.Parameter(ember.randn(self.n_hidden, self.n_visible, generator=generator) * init_std)
        self.visible_bias = nn.Parameter(ember.zeros(self.n_visible))
        self.hidden_bias = nn.Parameter(ember.zeros(self.n_hidden))

    def flatten(self, v: Tensor) -> Tensor:
        """``v`` as ``(N, n_visible)``; raises ``ValueError`` naming the sizes when it holds another number."""
        per_sample = math.prod(v.shape[1:]) if v.ndim >= 2 else 0
        if per_sample != self.n_visible:
            raise ValueError(f"RBM: expected data with {self.n_visible} visible units per sample, e.g. shape "
                             f"(N, {self.n_visible}); got shape {tuple(v.shape)}")
        return v.reshape(v.shape[0], self.n_visible)

    def hidden_probability(self, v: Tensor) -> Tensor:
        """``p(h_j = 1 | v) = sigmoid(c_j + W_j.v)``, ``(N, n_hidden)``."""
        return ember.sigmoid(F.linear(self.flatten(v), self.weight, self.hidden_bias))

    def visible_probability(self, h: Tensor) -> Tensor:
        """``p(v_i = 1 | h) = sigmoid(b_i + h.W_i)``, ``(N, n_visible)``."""
        return ember.sigmoid(h @ self.weight + self.visible_bias)

    def gibbs_step(self, v: Tensor, generator: ember.Generator | None = None) -> tuple[Tensor, Tensor]:
        """One step of block Gibbs sampling ``v -> h -> v'``; returns the binary ``v'`` and ``p(v' = 1 | h)``."""
        h = ember.bernoulli(self.hidden_probability(v), generator=generator)
        probability = self.visible_probability(h)
        return ember.bernoulli(probability, generator=generator), probability

    def free_energy(self, v: Tensor) -> Tensor:
        """``F(v) = -b.v - sum_j softplus(c_j + W_j.v)`` per sample ``(N,)``; ``p(v) = exp(-F(v)) / Z``."""
        v = self.flatten(v)
        return -(v @ self.visible_bias) - F.softplus(F.linear(v, self.weight, self.hidden_bias)).sum(dim=-1)

    def forward(self, v: Tensor) -> Tensor:
        """The free energy of each sample (see :meth:`free_energy`)."""
        return self.free_energy(v)

    def sample(self, n: int, steps: int = 1000, generator: ember.Generator | None = None,
               start: Tensor | None = None) -> Tensor:
        """Probabilities ``p(v = 1 | h)`` after ``steps`` Gibbs steps of ``n`` chains (from ``start`` or noise)."""
        with ember.no_grad():
            v = self.flatten(start) if start is not None else ember.bernoulli(
                ember.full((n, self.n_visible), 0.5), generator=generator)
            probability = v
            for _ in range(steps):
                v, probability = self.gibbs_step(v, generator)
            return probability


class CDStatistics(NamedTuple):
    """A CD estimate of the mean log-likelihood gradient of a batch, per parameter of an :class:`RBM`."""

    weight: Tensor
    visible_bias: Tensor
    hidden_bias: Tensor


def cd_statistics(rbm: RBM, v_data: Tensor, v_model: Tensor) -> CDStatistics:
    """``<h v>_data - <h v>_model`` (and the bias terms), with ``p(h|v)`` in place of sampled ``h``.

    This is minus the gradient of ``mean F(v_data) - mean F(v_model)`` with the model's
    samples ``v_model`` held fixed: the log-likelihood gradient with the model's
    expectation replaced by the Gibbs samples.
    """
    with ember.no_grad():
        v_data, v_model = rbm.flatten(v_data), rbm.flatten(v_model)
        h_data, h_model = rbm.hidden_probability(v_data), rbm.hidden_probability(v_model)
        n_data, n_model = v_data.shape[0], v_model.shape[0]
        weight = h_data.t() @ v_data / n_data - h_model.t() @ v_model / n_model
        return CDStatistics(weight, v_data.mean(dim=0) - v_model.mean(dim=0),
                            h_data.mean(dim=0) - h_model.mean(dim=0))


class ContrastiveDivergence:
    """CD-k or persistent CD updates of an :class:`RBM` (gradient ascent on the log-likelihood, with momentum).

    Each :meth:`step` runs ``k`` Gibbs steps from the batch (CD-k) or from the
    persistent chains (PCD: as many chains as the first batch has samples, started at
    it, never reset), then moves each parameter by ``velocity = momentum * velocity +
    lr * (statistic - weight_decay * weight)``. Weight decay applies to the weights only.

    Args:
        rbm: the model (its parameters are updated in place).
        lr: learning rate.
        k: Gibbs steps per update.
        persistent: PCD instead of CD-k.
        momentum: momentum of the updates (0: none).
        weight_decay: L2 penalty on the weights.
    """

    def __init__(self, rbm: RBM, lr: float = 0.05, k: int = 1, persistent: bool = False, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        if k < 1:
            raise ValueError(f"ContrastiveDivergence: k must be at least 1, got {k}")
        self.rbm, self.lr, self.k, self.persistent = rbm, float(lr), int(k), bool(persistent)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.chains: Tensor | None = None  # the persistent chains of PCD
        self.velocity = CDStatistics(*(ember.zeros_like(p) for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias)))

    def step(self, v_data: Tensor, generator: ember.Generator | None = None) -> float:
        """One update from a binary batch; returns the batch's mean squared reconstruction error ``|v - p(v|h)|^2``.

        Raises:
            ValueError: data of the wrong size or not binary (naming the model and sizes).
        """
        rbm = self.rbm
        with ember.no_grad():
            v_data = rbm.flatten(v_data)
            check_binary(v_data, "ContrastiveDivergence.step")
            start = v_data
            if self.persistent:
                if self.chains is None:
                    self.chains = v_data
                start = self.chains
            v_model, reconstruction = rbm.gibbs_step(start, generator)
            for _ in range(self.k - 1):
                v_model, _ = rbm.gibbs_step(v_model, generator)
            if self.persistent:
                self.chains = v_model
                # The chains do not start at the data, so the data's reconstruction is computed apart.
                _, reconstruction = rbm.gibbs_step(v_data, generator)
            error = float(((v_data - reconstruction) ** 2).sum(dim=-1).mean().item())
            stats = cd_statistics(rbm, v_data, v_model)
            params = (rbm.weight, rbm.visible_bias, rbm.hidden_bias)
            decays = (self.weight_decay, 0.0, 0.0)
            velocity = []
            for param, stat, old, decay in zip(params, stats, self.velocity, decays):
                update = stat - decay * param if decay else stat
                new = self.momentum * old + self.lr * update
                param.add_(new)
                velocity.append(new)
            self.velocity = CDStatistics(*velocity)
        return error


def base_rate_bias(data: Tensor, smoothing: float = 1.0) -> Tensor:
    """Visible biases ``log(p / (1 - p))`` of each pixel's frequency ``p`` in ``data`` (``smoothing``: added counts).

    The visible biases of AIS's starting model (Salakhutdinov & Murray 2008): an RBM with no
    weights matching the data's marginals, which makes the annealing path shorter.
    """
    data = data.reshape(data.shape[0], -1)
    p = (data.sum(dim=0) + smoothing) / (data.shape[0] + 2.0 * smoothing)
    return (p / (1.0 - p)).log()


def ais_betas(n: int = 14500) -> np.ndarray:
    """``n + 1`` inverse temperatures from 0 to 1; 14,500 gives Salakhutdinov & Murray's schedule.

    Their schedule spaces ``beta`` by 1e-3 up to 0.5, 1e-4 up to 0.9 and 1e-4 up to 1
    (500 + 4,000 + 10,000 steps); other ``n`` keep those three segments in proportion.
    """
    if n < 3:
        raise ValueError(f"ais_betas: need at least 3 steps, got {n}")
    first, second = max(1, round(n * 500 / 14500)), max(1, round(n * 4000 / 14500))
    third = max(1, n - first - second)
    return np.concatenate([np.linspace(0.0, 0.5, first, endpoint=False), np.linspace(0.5, 0.9, second, endpoint=False),
                           np.linspace(0.9, 1.0, third + 1)])


class AISEstimate(NamedTuple):
    """An AIS estimate of ``log Z``: the estimate and the logs of ``mean(w) -/+ 3 std(w) / sqrt(runs)``."""

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray


def ais_log_partition(rbm: RBM, runs: int = 100, betas: int | np.ndarray = 14500,
                      base_bias: Tensor | None = None, generator: ember.Generator | None = None) -> AISEstimate:
    """Estimate ``log Z`` of an RBM by annealed importance sampling (Salakhutdinov & Murray 2008).

    The path goes from a base model with visible biases ``base_bias`` (zeros by default,
    :func:`base_rate_bias` of the training data is better) and no weights, whose ``Z`` is
    known, to ``rbm`` through ``log p*_beta(v) = (1 - beta) b_A.v + beta b.v +
    sum_j softplus(beta (c_j + W_j.v))``, with one Gibbs step per temperature. The
    weights ``w`` of the ``runs`` chains give ``Z = Z_A mean(w)``, unbiased for ``Z`` (so
    ``log Z`` is underestimated on average, by little when the weights vary little).

    Args:
        rbm: the model.
        runs: independent annealing chains (run together as one batch).
        betas: the number of temperatures (see :func:`ais_betas`) or the temperatures themselves.
        base_bias: the base model's visible biases ``(n_visible,)``.
        generator: seeds the chains.
    """
    beta_values = ais_betas(betas) if isinstance(betas, (int, np.integer)) else np.asarray(betas, dtype=np.float64)
    if beta_values[0] != 0.0 or beta_values[-1] != 1.0:
        raise ValueError(f"ais_log_partition: temperatures must run from 0 to 1, got {beta_values[0]} .. "
                         f"{beta_values[-1]}")
    with ember.no_grad():
        dtype = rbm.weight.dtype
        b_a = ember.zeros(rbm.n_visible, dtype=dtype) if base_bias is None else base_bias.to(dtype).reshape(-1)
        if b_a.shape != (rbm.n_visible,):
            raise ValueError(f"ais_log_partition: base_bias must have {rbm.n_visible} values, got {b_a.shape}")
        w, b, c = rbm.weight, rbm.visible_bias, rbm.hidden_bias

        def log_p_star(v: Tensor, beta: float) -> np.ndarray:
            value = (1.0 - beta) * (v @ b_a) + beta * (v @ b) + F.softplus(beta * F.linear(v, w, c)).sum(dim=-1)
            return value.numpy().astype(np.float64)

        v = ember.bernoulli(ember.sigmoid(b_a).expand(runs, rbm.n_visible), generator=generator)
        log_w = np.zeros(runs)
        for beta_prev, beta in zip(beta_values[:-1], beta_values[1:]):
            log_w += log_p_star(v, float(beta)) - log_p_star(v, float(beta_prev))
            # One Gibbs step that leaves p_beta invariant.
            h = ember.bernoulli(ember.sigmoid(float(beta) * F.linear(v, w, c)), generator=generator)
            v = ember.bernoulli(ember.sigmoid((1.0 - beta) * b_a + beta * (h @ w + b)), generator=generator)
        log_z_a = float(F.softplus(b_a).sum().item()) + rbm.n_hidden * math.log(2.0)
    top = log_w.max()
    mean = np.exp(log_w - top).mean()
    spread = 3.0 * np.exp(log_w - top).std() / math.sqrt(runs)
    low = math.log(mean - spread) if mean > spread else -math.inf
    base = log_z_a + float(top)
    return AISEstimate(base + math.log(mean), base + low, base + math.log(mean + spread), log_w)


def exact_log_partition(rbm: RBM) -> float:
    """``log Z`` by summing over every state of the smaller layer (at most 24 units); for tests and tiny models."""
    with ember.no_grad():
        w = rbm.weight.to(ember.float64)
        b, c = rbm.visible_bias.to(ember.float64), rbm.hidden_bias.to(ember.float64)
        small = min(rbm.n_hidden, rbm.n_visible)
        if small > 24:
            raise ValueError(f"exact_log_partition: RBM({rbm.n_visible}, {rbm.n_hidden}) has 2^{small} states in its "
                             "smaller layer; enumerate at most 2^24 (use ais_log_partition)")
        states = ember.tensor(((np.arange(2 ** small)[:, None] >> np.arange(small)) & 1).astype(np.float64))
        if rbm.n_hidden <= rbm.n_visible:  # sum out v: log sum_h exp(c.h) prod_i (1 + exp(b_i + (hW)_i))
            terms = states @ c + F.softplus(states @ w + b).sum(dim=-1)
        else:  # -F(v) summed over v
            terms = states @ b + F.softplus(F.linear(states, w, c)).sum(dim=-1)
        return float(ember.logsumexp(terms, dim=0).item())


def average_log_likelihood(rbm: RBM, data: Tensor, log_z: float, batch_size: int = 1000) -> float:
    """The mean ``log p(v) = -F(v) - log Z`` of binary ``data`` in nats."""
    with ember.no_grad():
        data = rbm.flatten(data)
        check_binary(data, "average_log_likelihood")
        total = 0.0
        for start in range(0, data.shape[0], batch_size):
            total += float(rbm.free_energy(data[start:start + batch_size]).to(ember.float64).sum().item())
    return -total / data.shape[0] - log_z
