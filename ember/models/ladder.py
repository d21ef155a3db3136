"""The Ladder network of Rasmus et al. (2015, arXiv:1507.02672): semi-supervised MNIST with a denoising decoder.

The fully connected "Gamma/full" model of the paper: an encoder ``784-1000-500-250-250-250-10``
run twice on every batch, once **clean** and once **corrupted** (Gaussian noise of std
``noise_std`` added to the input and to every batch-normalised pre-activation), and a
decoder that rebuilds each clean layer ``z^(l)`` from the corrupted one ``z~^(l)`` and
the decoder's signal from above ``u^(l)`` with the "vanilla" combinator ``g``:

* encoder layer ``l``: ``z^(l) = BN(W^(l) h^(l-1))`` (+ noise on the corrupted path),
  ``h^(l) = relu(z^(l) + beta^(l))``, and at the top ``y = softmax(gamma * (z^(L) + beta^(L)))``;
  the batch statistics are those of the batch itself (labelled and unlabelled halves
  each normalised by their own); the clean path's running averages serve at test time.
* decoder: ``u^(L) = BN(y~)``, ``u^(l) = BN(V^(l) z^(l+1)_hat)``, ``z^(l)_hat = g(z~^(l), u^(l))``.
* cost: cross-entropy of the corrupted output on the labelled half plus
  ``sum_l lambda_l * mean((z^(l)_hat_BN - z^(l))^2)`` on the unlabelled half, where
  ``z_hat_BN`` is the reconstruction normalised with the **clean** path's batch
  statistics of that layer (the shared statistics of the paper's Algorithm 1).

:func:`vanilla_combinator` and :func:`denoising_cost` are the two formulas, written with
Ember ops; :class:`LadderNetwork` holds the weights; :func:`ladder_step` is one Adam step
on a labelled and an unlabelled batch; :func:`train_ladder_epoch` runs a pass over the
unlabelled set; :func:`balanced_label_indices` picks the labelled examples.

Example:
    >>> import ember
    >>> model = LadderNetwork((784, 50, 10))
    >>> g = ember.Generator().manual_seed(0)
    >>> costs = model.costs(ember.rand(4, 784), ember.tensor([0, 1, 2, 3]), ember.rand(4, 784), generator=g)
    >>> sorted(costs)
    ['denoising', 'per_layer', 'supervised', 'total']
    >>> model.eval()(ember.rand(3, 784)).shape
    (3, 10)
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

from .classify import classification_error

__all__ = ["LadderNetwork", "LadderEncoderLayer", "VanillaCombinator", "vanilla_combinator", "denoising_cost",
           "balanced_label_indices", "ladder_step", "train_ladder_epoch", "evaluate_error", "linear_decay_lr",
           "PAPER_SIZES", "PAPER_DENOISING_COSTS"]

#: the layer widths of the paper's fully connected MNIST model (input first).
PAPER_SIZES = (784, 1000, 500, 250, 250, 250, 10)
#: lambda_l for layers 0 (the input) .. 6 (the softmax), the paper's best for 100 labels.
PAPER_DENOISING_COSTS = (1000.0, 10.0, 0.1, 0.1, 0.1, 0.1, 0.1)

_EPS = 1e-6  # keeps a unit of constant activation from dividing by zero in batch normalisation


def _batch_normalise(z: Tensor, groups: int) -> tuple[Tensor, Tensor, Tensor]:
    """``z (N, d)`` normalised per group of ``N / groups`` consecutive rows; returns ``(z_bn, mean, var)``.

    ``mean`` and ``var`` (biased) have shape ``(groups, 1, d)``: the labelled and unlabelled
    halves of a joined batch are normalised each by its own statistics in one op.
    """
    grouped = z.reshape(groups, z.shape[0] // groups, z.shape[1])
    mean = grouped.mean(dim=1, keepdim=True)
    var = ((grouped - mean) ** 2).mean(dim=1, keepdim=True)
    return ((grouped - mean) * (var + _EPS).rsqrt()).reshape(z.shape), mean, var


def vanilla_combinator(z_tilde: Tensor, u: Tensor, a: Sequence[Tensor]) -> Tensor:
    """The paper's vanilla combinator ``g(z~, u) = (z~ - mu(u)) * v(u) + mu(u)``, per unit.

    ``mu(u) = a1 * sigmoid(a2 * u + a3) + a4 * u + a5`` and
    ``v(u) = a6 * sigmoid(a7 * u + a8) + a9 * u + a10`` (appendix, equations 1-2).

    Args:
        z_tilde: the corrupted encoder's layer ``(N, d)``.
        u: the batch-normalised signal from the decoder's layer above ``(N, d)``.
        a: the ten per-unit parameters ``a1 .. a10``, each ``(d,)``.

    Example:
        >>> import ember
        >>> a = [ember.zeros(2)] * 10
        >>> vanilla_combinator(ember.ones(1, 2), ember.ones(1, 2), a).tolist()  # v = mu = 0 gives 0
        [[0.0, 0.0]]
    """
    if len(a) != 10:
        raise ValueError(f"vanilla_combinator: expected the 10 parameters a1..a10, got {len(a)}")
    if z_tilde.shape != u.shape or z_tilde.ndim != 2:
        raise ValueError(f"vanilla_combinator: z_tilde and u must both be (N, d), got {tuple(z_tilde.shape)} "
                         f"and {tuple(u.shape)}")
    for i, p in enumerate(a, start=1):
        if p.shape != (u.shape[1],):
            raise ValueError(f"vanilla_combinator: a{i} must have shape ({u.shape[1]},), got {tuple(p.shape)}")
    a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = a
    mu = a1 * ember.sigmoid(a2 * u + a3) + a4 * u + a5
    v = a6 * ember.sigmoid(a7 * u + a8) + a9 * u + a10
    return (z_tilde - mu) * v + mu


def denoising_cost(z_hat: Tensor, z_clean: Tensor, mean: Tensor | float, var: Tensor | float,
                   weight: float = 1.0) -> Tensor:
    """``weight * mean((z_hat_BN - z_clean)^2)`` with ``z_hat_BN = (z_hat - mean) / sqrt(var + eps)``.

    The layer's term ``lambda_l / (N m_l) * sum_n ||z^(l)(n) - z_hat_BN^(l)(n)||^2`` of the
    paper's cost, ``m_l`` being the layer's width: the reconstruction is normalised with the
    clean encoder's batch statistics ``mean`` and ``var`` (broadcastable to ``z_hat``;
    ``0`` and ``1`` for the input layer) so that it is compared on the clean target's scale.
    """
    if z_hat.shape != z_clean.shape:
        raise ValueError(f"denoising_cost: z_hat {tuple(z_hat.shape)} and z_clean {tuple(z_clean.shape)} "
                         "must have the same shape")
    scale = (var + _EPS).rsqrt() if isinstance(var, Tensor) else 1.0 / math.sqrt(var + _EPS)
    return weight * (((z_hat - mean) * scale - z_clean) ** 2).mean()


class VanillaCombinator(nn.Module):
    """The vanilla combinator ``g`` of one layer with its ten per-unit parameters ``a1 .. a10``.

    Initialised as in the reference code: ``a2 = a7 = 1`` and the rest ``0``, so that
    ``g`` starts by ignoring ``z~`` and outputs a constant ``a5 = 0``.

    Example:
        >>> import ember
        >>> VanillaCombinator(3)(ember.ones(2, 3), ember.zeros(2, 3)).shape
        (2, 3)
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = int(width)
        self.a1, self.a2, self.a3 = nn.Parameter(ember.zeros(width)), nn.Parameter(ember.ones(width)), \
            nn.Parameter(ember.zeros(width))
        self.a4, self.a5, self.a6 = (nn.Parameter(ember.zeros(width)) for _ in range(3))
        self.a7 = nn.Parameter(ember.ones(width))
        self.a8, self.a9, self.a10 = (nn.Parameter(ember.zeros(width)) for _ in range(3))

    def parameters_in_order(self) -> list[Tensor]:
        """``[a1, ..., a10]``."""
        return [self.a1, self.a2, self.a3, self.a4, self.a5, self.a6, self.a7, self.a8, self.a9, self.a10]

    def forward(self, z_tilde: Tensor, u: Tensor) -> Tensor:
        return vanilla_combinator(z_tilde, u, self.parameters_in_order())


class LadderEncoderLayer(nn.Module):
    """One encoder layer: ``z = BN(W h)`` without a bias, then the learned shift ``beta`` (and scale ``gamma`` if top).

    The clean path keeps running averages of its batch statistics (``running_mean``,
    ``running_var``, momentum ``momentum``) for evaluation, like ``nn.BatchNorm1d``.
    """

    def __init__(self, in_features: int, out_features: int, top: bool = False, momentum: float = 0.01) -> None:
        super().__init__()
        self.top, self.momentum = bool(top), float(momentum)
        self.linear = nn.Linear(in_features, out_features, bias=False)
        with ember.no_grad():  # N(0, 1/fan_in) weights, as in the reference implementations
            self.linear.weight.copy_(ember.randn(out_features, in_features) / math.sqrt(in_features))
        self.beta = nn.Parameter(ember.zeros(out_features))
        self.gamma = nn.Parameter(ember.ones(out_features)) if self.top else None
        self.register_buffer("running_mean", ember.zeros(out_features))
        self.register_buffer("running_var", ember.ones(out_features))

    def normalise(self, h: Tensor, groups: int, update_running: bool) -> tuple[Tensor, Tensor, Tensor]:
        """``(z, mean, var)``: ``W h`` normalised by batch statistics (per group) in training, running ones in eval."""
        pre = self.linear(h)
        if not self.training:
            return (pre - self.running_mean) * (self.running_var + _EPS).rsqrt(), self.running_mean, self.running_var
        z, mean, var = _batch_normalise(pre, groups)
        if update_running:  # from the last group (the unlabelled batch), the larger sample of the data
            with ember.no_grad():
                n = pre.shape[0] // groups
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean[-1, 0].detach())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var[-1, 0].detach() * n / max(n - 1, 1))
        return z, mean, var

    def activate(self, z: Tensor) -> Tensor:
        """``relu(z + beta)``, or the logits ``gamma * (z + beta)`` at the top (the softmax is taken by the caller)."""
        return self.gamma * (z + self.beta) if self.top else F.relu(z + self.beta)


class LadderNetwork(nn.Module):
    """The fully connected Ladder network (Gamma/full model) of Rasmus et al. (2015).

    Args:
        sizes: layer widths, input first and classes last (the paper's ``784-1000-500-250-250-250-10``).
        noise_std: std of the Gaussian corruption at every layer of the noisy encoder (0.3 in the paper).
        denoising_costs: ``lambda_l`` for every layer ``0 .. L`` (``len(sizes)`` values).

    Calling the model gives the clean encoder's logits ``(N, classes)``: with batch statistics
    in train mode, with the running averages in eval mode (use eval to test).

    Example:
        >>> import ember
        >>> LadderNetwork().eval()(ember.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, sizes: Sequence[int] = PAPER_SIZES, noise_std: float = 0.3,
                 denoising_costs: Sequence[float] | None = None) -> None:
        super().__init__()
        self.sizes = tuple(int(s) for s in sizes)
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"LadderNetwork: sizes needs at least an input and an output width, all positive; "
                             f"got {self.sizes}")
        if denoising_costs is None:
            denoising_costs = PAPER_DENOISING_COSTS if self.sizes == PAPER_SIZES else (1.0,) * len(self.sizes)
        if len(denoising_costs) != len(self.sizes):
            raise ValueError(f"LadderNetwork: denoising_costs needs one lambda per layer 0..{len(self.sizes) - 1} "
                             f"({len(self.sizes)} values), got {len(denoising_costs)}")
        self.noise_std = float(noise_std)
        self.denoising_costs = tuple(float(c) for c in denoising_costs)
        depth = len(self.sizes) - 1
        self.encoder = nn.ModuleList([LadderEncoderLayer(self.sizes[l], self.sizes[l + 1], top=(l + 1 == depth))
                                      for l in range(depth)])
        # V^(l) maps the reconstruction of layer l+1 down to layer l's width.
        self.decoder = nn.ModuleList([nn.Linear(self.sizes[l + 1], self.sizes[l], bias=False) for l in range(depth)])
        with ember.no_grad():
            for l, v in enumerate(self.decoder):
                v.weight.copy_(ember.randn(self.sizes[l], self.sizes[l + 1]) / math.sqrt(self.sizes[l + 1]))
        self.combinators = nn.ModuleList([VanillaCombinator(width) for width in self.sizes])

    def flatten(self, x: Tensor) -> Tensor:
        """``x`` as ``(N, sizes[0])``; raises ``ValueError`` naming the sizes when it holds another number."""
        per_sample = math.prod(x.shape[1:]) if x.ndim >= 2 else 0
        if per_sample != self.sizes[0]:
            raise ValueError(f"LadderNetwork: expected inputs with {self.sizes[0]} features each, e.g. shape "
                             f"(N, {self.sizes[0]}); got shape {tuple(x.shape)}")
        return x.reshape(x.shape[0], self.sizes[0])

    def _noise(self, like: Tensor, generator: ember.Generator | None) -> Tensor:
        return ember.randn(*like.shape, generator=generator, dtype=like.dtype) * self.noise_std

    def encode(self, x: Tensor, groups: int = 1, noisy: bool = False,
               generator: ember.Generator | None = None) -> tuple[Tensor, list[Tensor], list]:
        """One pass of the encoder: ``(logits, zs, stats)``.

        ``zs[l]`` is layer ``l``'s normalised (and, if ``noisy``, corrupted) pre-activation
        ``(N, sizes[l])``, ``zs[0]`` the (corrupted) input; ``stats[l]`` is ``(mean, var)`` of
        its batch normalisation (``(0, 1)`` for the input). Only the clean path updates the
        running averages.
        """
        h = self.flatten(x)
        if noisy:
            h = h + self._noise(h, generator)
        zs, stats = [h], [(0.0, 1.0)]
        for layer in self.encoder:
            z, mean, var = layer.normalise(h, groups, update_running=not noisy)
            if noisy:
                z = z + self._noise(z, generator)
            zs.append(z)
            stats.append((mean, var))
            h = layer.activate(z)
        return h, zs, stats

    def forward(self, x: Tensor) -> Tensor:
        logits, _, _ = self.encode(x)
        return logits

    def decode(self, y_tilde: Tensor, noisy_zs: Sequence[Tensor]) -> list[Tensor]:
        """The reconstructions ``z_hat^(l)`` for ``l = 0 .. L`` (input first) from the corrupted pass.

        ``y_tilde`` is the corrupted softmax output and ``noisy_zs`` the corrupted layers,
        both of the same (unlabelled) batch.
        """
        depth = len(self.sizes) - 1
        u, _, _ = _batch_normalise(y_tilde, 1)
        z_hats = [None] * (depth + 1)
        for l in range(depth, -1, -1):
            if l < depth:
                u, _, _ = _batch_normalise(self.decoder[l](z_hats[l + 1]), 1)
            z_hats[l] = self.combinators[l](noisy_zs[l], u)
        return z_hats

    def costs(self, labelled: Tensor, labels: Tensor, unlabelled: Tensor,
              generator: ember.Generator | None = None) -> dict:
        """The training cost of one labelled and one unlabelled batch of the same size.

        Returns ``{"total", "supervised", "denoising"}`` (scalar Tensors) and ``"per_layer"``
        (the ``L + 1`` weighted denoising terms, input first). The supervised term is the
        cross-entropy of the **corrupted** encoder on the labelled batch; the denoising terms
        are computed on the unlabelled batch.
        """
        labelled, unlabelled = self.flatten(labelled), self.flatten(unlabelled)
        if labelled.shape != unlabelled.shape:
            raise ValueError(f"LadderNetwork.costs: the labelled batch {tuple(labelled.shape)} and the unlabelled "
                             f"batch {tuple(unlabelled.shape)} must have the same size (joined, each normalised "
                             "by its own batch statistics)")
        if labels.shape != (labelled.shape[0],):
            raise ValueError(f"LadderNetwork.costs: labels must be ({labelled.shape[0]},), one per labelled example, "
                             f"got {tuple(labels.shape)}")
        n = labelled.shape[0]
        noisy_logits, noisy_zs, _ = self.encode(ember.cat([labelled, unlabelled], dim=0), groups=2, noisy=True,
                                                generator=generator)
        _, clean_zs, clean_stats = self.encode(unlabelled)
        supervised = F.cross_entropy(noisy_logits[:n], labels)
        z_hats = self.decode(F.softmax(noisy_logits[n:], dim=1), [z[n:] for z in noisy_zs])
        per_layer = []
        for l, (z_hat, z, (mean, var), weight) in enumerate(zip(z_hats, clean_zs, clean_stats, self.denoising_costs)):
            if l > 0:
                mean, var = mean[0], var[0]  # (1, d): the single group of the clean batch
            per_layer.append(denoising_cost(z_hat, z, mean, var, weight))
        denoising = per_layer[0]
        for term in per_layer[1:]:
            denoising = denoising + term
        return {"total": supervised + denoising, "supervised": supervised, "denoising": denoising,
                "per_layer": per_layer}


def balanced_label_indices(targets: np.ndarray, n_labels: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n_labels`` examples, the same number of each class, drawn without replacement with ``seed``.

    Raises ``ValueError`` when ``n_labels`` is not a multiple of the number of classes or
    a class has fewer examples than its share.

    Example:
        >>> import numpy as np
        >>> idx = balanced_label_indices(np.repeat(np.arange(3), 5), 6, seed=1)
        >>> np.bincount(np.repeat(np.arange(3), 5)[idx]).tolist()
        [2, 2, 2]
    """
    targets = np.asarray(targets)
    classes = np.unique(targets)
    if n_labels < len(classes) or n_labels % len(classes):
        raise ValueError(f"balanced_label_indices: n_labels={n_labels} must be a positive multiple of the "
                         f"{len(classes)} classes")
    per_class = n_labels // len(classes)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in classes:
        members = np.flatnonzero(targets == c)
        if len(members) < per_class:
            raise ValueError(f"balanced_label_indices: class {c} has {len(members)} examples, fewer than the "
                             f"{per_class} asked for")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def linear_decay_lr(base_lr: float, total_steps: int, decay_fraction: float) -> Callable[[int], float]:
    """``step -> lr``: ``base_lr`` for the first ``1 - decay_fraction`` of training, then linearly to 0.

    The paper trains 100 epochs at 0.002 and decays to 0 over the last 50 (``decay_fraction = 1/3``).

    Example:
        >>> lr = linear_decay_lr(0.002, 300, 1 / 3)
        >>> lr(0), lr(200), round(lr(250), 6), lr(300)
        (0.002, 0.002, 0.001, 0.0)
    """
    if not 0.0 <= decay_fraction <= 1.0:
        raise ValueError(f"linear_decay_lr: decay_fraction must lie in [0, 1], got {decay_fraction}")
    decay_start = total_steps - int(round(decay_fraction * total_steps))

    def lr_at(step: int) -> float:
        if step < decay_start:
            return base_lr
        return base_lr * max(0.0, (total_steps - step) / max(total_steps - decay_start, 1))

    return lr_at


def ladder_step(model: LadderNetwork, optimizer, labelled: Tensor, labels: Tensor, unlabelled: Tensor,
                generator: ember.Generator | None = None) -> dict:
    """One optimiser step on the Ladder cost; returns the step's costs as floats."""
    model.train()
    costs = model.costs(labelled, labels, unlabelled, generator)
    optimizer.zero_grad()
    costs["total"].backward()
    optimizer.step()
    return {"total": float(costs["total"].item()), "supervised": float(costs["supervised"].item()),
            "denoising": float(costs["denoising"].item())}


def train_ladder_epoch(model: LadderNetwork, optimizer, labelled: Tensor, labels: Tensor, unlabelled: Tensor,
                       batch_size: int = 100, generator: ember.Generator | None = None,
                       lr_at: Callable[[int], float] | None = None, first_step: int = 0,
                       max_steps: int | None = None) -> tuple[dict, int]:
    """One pass over the shuffled ``unlabelled`` set, each batch paired with a batch of the labelled set.

    The labelled examples are reshuffled and cycled as needed (with 100 labels and batches
    of 100, every step sees all of them). ``lr_at(step)`` sets the learning rate of every
    step (``step`` counted from ``first_step``); at most ``max_steps`` steps are taken.
    Returns ``(mean costs, steps taken)``.
    """
    n_lab, n_unl = labelled.shape[0], unlabelled.shape[0]
    if n_lab < batch_size or n_unl < batch_size:
        raise ValueError(f"train_ladder_epoch: batch_size={batch_size} needs at least that many labelled "
                         f"({n_lab}) and unlabelled ({n_unl}) examples")
    order = ember.randperm(n_unl, generator=generator)
    steps = n_unl // batch_size if max_steps is None else min(n_unl // batch_size, max_steps)
    label_order, cursor = ember.randperm(n_lab, generator=generator), 0
    totals = {"total": 0.0, "supervised": 0.0, "denoising": 0.0}
    for i in range(steps):
        if cursor + batch_size > n_lab:
            label_order, cursor = ember.randperm(n_lab, generator=generator), 0
        pick = label_order[cursor:cursor + batch_size]
        cursor += batch_size
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(first_step + i)
        step = ladder_step(model, optimizer, labelled[pick], labels[pick],
                           unlabelled[order[i * batch_size:(i + 1) * batch_size]], generator)
        for key in totals:
            totals[key] += step[key]
    return {key: value / max(steps, 1) for key, value in totals.items()}, steps


def evaluate_error(model: LadderNetwork, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Classification error in percent of the clean encoder with its running statistics (eval mode)."""
    return classification_error(model, images, labels, batch_size)
