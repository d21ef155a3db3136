"""The factored gated autoencoder of Memisevic (2011, 2013): a model of the relation between two images.

Given a pair ``(x, y)`` whose second image is the first one transformed, factor
projections ``f_x = U x`` and ``f_y = V y`` (``F`` factors) are multiplied and pooled
into ``H`` mapping units::

    m  = sigmoid(W (U x * V y) + b_m)              # what transformation takes x to y
    y^ = V^T ((U x) * (W^T m)) + b_y               # y from x and the mapping
    x^ = U^T ((V y) * (W^T m)) + b_x               # and symmetrically x from y

The three-way multiplicative interaction makes ``m`` encode the transformation rather
than the content: trained on shifted images the filter pairs ``(U_f, V_f)`` become
phase-shifted Fourier components (Memisevic, "Gradient-based learning of higher-order
image features", ICCV 2011; "Learning to relate images", TPAMI 2013).

* :class:`GatedAutoencoder` is the model; :func:`symmetric_reconstruction_cost` its
  training cost ``mean_n (||x - x^||^2 + ||y - y^||^2) / 2`` written over the raw
  parameters (so it can be gradchecked), with the mappings inferred from corrupted
  (denoising) inputs and the reconstructions compared with the clean ones.
* :class:`PCAWhitening` is the preprocessing of the papers: PCA whitening keeping a
  fraction of the variance (99% by default), fitted on both images of the pairs.
* :func:`train_gated_autoencoder_epoch` is one epoch of minibatch training, with the
  filter normalisation of Memisevic's code after every step.
* Transformation retrieval: :meth:`GatedAutoencoder.transfer` infers ``m`` from
  ``(x, y)`` and applies it to a new image ``x2``; :class:`TransferMLP` is the
  baseline, an MLP that reads ``(x, y, x2)`` and predicts ``y2``.

Example:
    >>> import ember
    >>> model = GatedAutoencoder(16, factors=8, mappings=4, generator=ember.Generator().manual_seed(0))
    >>> x, y = ember.randn(5, 16), ember.randn(5, 16)
    >>> model.mappings(x, y).shape, model.transfer(x, y, x).shape
    ((5, 4), (5, 16))
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["GatedAutoencoder", "symmetric_reconstruction_cost", "PCAWhitening", "train_gated_autoencoder_epoch",
           "TransferMLP", "mlp_hidden_for_budget", "train_transfer_mlp_epoch", "retrieval_mse"]


def symmetric_reconstruction_cost(x: Tensor, y: Tensor, input_factors: Tensor, output_factors: Tensor,
                                  mapping_weight: Tensor, mapping_bias: Tensor, x_bias: Tensor, y_bias: Tensor,
                                  x_in: Tensor | None = None, y_in: Tensor | None = None) -> Tensor:
    """The gated autoencoder's cost ``mean_n (||x - x^||^2 + ||y - y^||^2) / 2`` over the raw parameters.

    Args:
        x, y: the clean pair ``(N, Dx)``, ``(N, Dy)``: the reconstruction targets.
        input_factors, output_factors: ``U (F, Dx)`` and ``V (F, Dy)``.
        mapping_weight, mapping_bias: ``W (H, F)`` and ``b_m (H,)``.
        x_bias, y_bias: ``b_x (Dx,)`` and ``b_y (Dy,)``.
        x_in, y_in: the (corrupted) inputs the factors and mappings are computed from;
            the clean pair when omitted.
    """
    x_in = x if x_in is None else x_in
    y_in = y if y_in is None else y_in
    fx, fy = x_in @ input_factors.t(), y_in @ output_factors.t()
    m = ember.sigmoid(F.linear(fx * fy, mapping_weight, mapping_bias))
    fh = m @ mapping_weight  # (N, F): W^T m, the mapping's gain on every factor
    x_hat = (fy * fh) @ input_factors + x_bias
    y_hat = (fx * fh) @ output_factors + y_bias
    return 0.5 * (((x - x_hat) ** 2).sum(dim=1) + ((y - y_hat) ** 2).sum(dim=1)).mean()


class GatedAutoencoder(nn.Module):
    """Factored three-way gated autoencoder with sigmoid mapping units and linear (real-valued) reconstructions.

    Args:
        in_features: dimension ``Dx`` of the first image (after whitening).
        out_features: dimension ``Dy`` of the second image (``in_features`` by default).
        factors: number of factors ``F`` (filter pairs).
        mappings: number of mapping units ``H``.
        corruption: fraction of input components set to zero (masking noise) when the
            mappings are inferred during training (the denoising criterion); 0 turns it off.
        generator: seeds the initial weights: ``U``, ``V`` normal with std ``0.01``,
            ``W`` positive, ``exp(uniform(-3, -2))``, biases zero.

    Example:
        >>> import ember
        >>> model = GatedAutoencoder(10, factors=6, mappings=3, generator=ember.Generator().manual_seed(0))
        >>> model.cost(ember.randn(4, 10), ember.randn(4, 10), generator=ember.Generator().manual_seed(1)).shape
        ()
    """

    def __init__(self, in_features: int, out_features: int | None = None, factors: int = 256, mappings: int = 100,
                 corruption: float = 0.3, generator: ember.Generator | None = None) -> None:
        super().__init__()
        out_features = in_features if out_features is None else out_features
        sizes = {"in_features": in_features, "out_features": out_features, "factors": factors, "mappings": mappings}
        for name, value in sizes.items():
            if int(value) < 1:
                raise ValueError(f"GatedAutoencoder: {name} must be >= 1, got {value} (sizes {sizes})")
        if not 0.0 <= corruption < 1.0:
            raise ValueError(f"GatedAutoencoder: corruption must lie in [0, 1), got {corruption}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.factors, self.num_mappings, self.corruption = int(factors), int(mappings), float(corruption)
        self.input_factors = nn.Parameter(0.01 * ember.randn(self.factors, self.in_features, generator=generator))
        self.output_factors = nn.Parameter(0.01 * ember.randn(self.factors, self.out_features, generator=generator))
        # Positive initial pooling weights, exp(uniform(-3, -2)) as in Memisevic's code: with weights centred on 0
        # the gains W^T m start near 0 and the three-way products give almost no gradient (a saddle at 0).
        self.mapping_weight = nn.Parameter((ember.rand(self.num_mappings, self.factors, generator=generator) - 3.0)
                                           .exp())
        self.mapping_bias = nn.Parameter(ember.zeros(self.num_mappings))
        self.x_bias = nn.Parameter(ember.zeros(self.in_features))
        self.y_bias = nn.Parameter(ember.zeros(self.out_features))

    def _check(self, t: Tensor, features: int, what: str) -> Tensor:
        if t.ndim != 2 or t.shape[1] != features:
            raise ValueError(f"GatedAutoencoder({self.in_features}->{self.out_features}, F={self.factors}, "
                             f"H={self.num_mappings}): expected {what} of shape (N, {features}), got {tuple(t.shape)}")
        return t

    def _pair(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        x, y = self._check(x, self.in_features, "x"), self._check(y, self.out_features, "y")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"GatedAutoencoder: x and y must hold as many samples, got {x.shape[0]} and {y.shape[0]}")
        return x, y

    def mappings(self, x: Tensor, y: Tensor) -> Tensor:
        """The mapping units ``m = sigmoid(W (U x * V y) + b_m)``, ``(N, H)``: the transformation taking x to y."""
        x, y = self._pair(x, y)
        fx, fy = x @ self.input_factors.t(), y @ self.output_factors.t()
        return ember.sigmoid(F.linear(fx * fy, self.mapping_weight, self.mapping_bias))

    def reconstruct_y(self, x: Tensor, m: Tensor) -> Tensor:
        """``y^ = V^T ((U x) * (W^T m)) + b_y``: the image the mapping ``m`` makes of ``x``."""
        x, m = self._check(x, self.in_features, "x"), self._check(m, self.num_mappings, "mappings")
        return ((x @ self.input_factors.t()) * (m @ self.mapping_weight)) @ self.output_factors + self.y_bias

    def reconstruct_x(self, y: Tensor, m: Tensor) -> Tensor:
        """``x^ = U^T ((V y) * (W^T m)) + b_x``: the image the mapping ``m`` came from, given ``y``."""
        y, m = self._check(y, self.out_features, "y"), self._check(m, self.num_mappings, "mappings")
        return ((y @ self.output_factors.t()) * (m @ self.mapping_weight)) @ self.input_factors + self.x_bias

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """``(x^, y^)``: both images reconstructed from the other one and their (clean) mappings."""
        m = self.mappings(x, y)
        return self.reconstruct_x(y, m), self.reconstruct_y(x, m)

    def transfer(self, x: Tensor, y: Tensor, x2: Tensor) -> Tensor:
        """Transformation retrieval: infer ``m`` from ``(x, y)`` and apply it to ``x2``, predicting ``y2 = T(x2)``."""
        return self.reconstruct_y(x2, self.mappings(x, y))

    def corrupt(self, t: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """Masking noise: each component kept with probability ``1 - corruption``, else set to 0."""
        if self.corruption == 0.0:
            return t
        keep = ember.bernoulli(ember.full(tuple(t.shape), 1.0 - self.corruption, dtype=t.dtype), generator=generator)
        return t * keep

    def cost(self, x: Tensor, y: Tensor, generator: ember.Generator | None = None) -> Tensor:
        """The symmetric squared reconstruction error of the clean pair from its corrupted copy (training mode)."""
        x, y = self._pair(x, y)
        x_in, y_in = (self.corrupt(x, generator), self.corrupt(y, generator)) if self.training else (x, y)
        return symmetric_reconstruction_cost(x, y, self.input_factors, self.output_factors, self.mapping_weight,
                                             self.mapping_bias, self.x_bias, self.y_bias, x_in, y_in)

    def normalize_filters_(self) -> None:
        """Centre every factor's filter and rescale all to their mean standard deviation (Memisevic's code does
        this after each update: it stops single filters from growing while others die)."""
        with ember.no_grad():
            for weight in (self.input_factors, self.output_factors):
                w = weight.numpy().astype(np.float64)
                w = w - w.mean(axis=1, keepdims=True)
                std = w.std(axis=1, keepdims=True) + 1e-6
                weight.copy_(ember.tensor((w * (std.mean() / std)).astype(weight.numpy().dtype)))


class PCAWhitening:
    """PCA whitening that keeps the leading components holding ``variance`` of the total variance.

    ``transform(x) = ((x - mean) @ P) / sqrt(lambda + epsilon)`` with ``P`` the kept
    eigenvectors of the covariance and ``lambda`` their eigenvalues; ``inverse_transform``
    maps back to pixels (the discarded components become 0, i.e. the mean).

    Args:
        data: ``(N, D)`` samples to fit on (the papers pool both images of the pairs).
        variance: fraction of the variance to keep, in ``(0, 1]``.
        epsilon: added to the eigenvalues (keeps near-zero directions from blowing up).

    Example:
        >>> import numpy as np
        >>> data = np.random.default_rng(0).standard_normal((500, 6)) @ np.diag([3, 2, 1, 0.1, 0.01, 0.001])
        >>> white = PCAWhitening(data, variance=0.99)
        >>> white.components, np.round(np.cov(white.transform(data).T).diagonal(), 2).tolist()
        (3, [1.0, 1.0, 1.0])
    """

    def __init__(self, data: np.ndarray, variance: float = 0.99, epsilon: float = 1e-5) -> None:
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or len(data) < 2:
            raise ValueError(f"PCAWhitening: expected at least 2 samples of shape (N, D), got shape {data.shape}")
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"PCAWhitening: variance must lie in (0, 1], got {variance}")
        self.mean = data.mean(axis=0)
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(data - self.mean, rowvar=False))
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, eigenvectors = np.clip(eigenvalues[order], 0.0, None), eigenvectors[:, order]
        kept = int(np.searchsorted(np.cumsum(eigenvalues) / eigenvalues.sum(), variance - 1e-12) + 1)
        self.components = min(kept, data.shape[1])
        scale = np.sqrt(eigenvalues[:self.components] + epsilon)
        self.whiten = eigenvectors[:, :self.components] / scale          # (D, d): pixels -> whitened
        self.dewhiten = (eigenvectors[:, :self.components] * scale).T    # (d, D): whitened -> pixels

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Whitened components ``(N, d)`` of pixel rows ``(N, D)`` (float32)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"PCAWhitening.transform: expected rows of {len(self.mean)} pixels, got shape {x.shape}")
        return ((x - self.mean) @ self.whiten).astype(np.float32)

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Pixel rows ``(N, D)`` of whitened components ``(N, d)`` (float32)."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.components:
            raise ValueError(f"PCAWhitening.inverse_transform: expected rows of {self.components} components, "
                             f"got shape {z.shape}")
        return (z @ self.dewhiten + self.mean).astype(np.float32)


def train_gated_autoencoder_epoch(model: GatedAutoencoder, x: Tensor, y: Tensor, optimizer, batch_size: int = 100,
                                  generator: ember.Generator | None = None, normalize_filters: bool = True) -> float:
    """One epoch over the pairs ``(x, y)`` in a seeded random order; returns the mean training cost.

    After every step the filters are normalised (:meth:`GatedAutoencoder.normalize_filters_`)
    unless ``normalize_filters`` is False.
    """
    model.train()
    order = ember.randperm(x.shape[0], generator=generator)
    total, seen = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        index = order[start:start + batch_size]
        loss = model.cost(x[index], y[index], generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if normalize_filters:
            model.normalize_filters_()
        total += float(loss.item()) * index.shape[0]
        seen += index.shape[0]
    return total / seen


class TransferMLP(nn.Module):
    """The retrieval baseline: an MLP reading ``(x, y, x2)`` side by side and predicting ``y2`` (one tanh layer).

    Args:
        in_features: dimension of each of ``x``, ``y``, ``x2``.
        out_features: dimension of the prediction of ``y2``.
        hidden: width of the hidden layer (see :func:`mlp_hidden_for_budget`).

    Example:
        >>> import ember
        >>> TransferMLP(5, 7, 3)(ember.zeros(2, 5), ember.zeros(2, 5), ember.zeros(2, 5)).shape
        (2, 7)
    """

    def __init__(self, in_features: int, out_features: int, hidden: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.hidden = int(in_features), int(out_features), int(hidden)
        self.fc1 = nn.Linear(3 * self.in_features, self.hidden)
        self.fc2 = nn.Linear(self.hidden, self.out_features)

    def forward(self, x: Tensor, y: Tensor, x2: Tensor) -> Tensor:
        for name, t in (("x", x), ("y", y), ("x2", x2)):
            if t.ndim != 2 or t.shape[1] != self.in_features:
                raise ValueError(f"TransferMLP(3x{self.in_features}-{self.hidden}-{self.out_features}): expected "
                                 f"{name} of shape (N, {self.in_features}), got {tuple(t.shape)}")
        return self.fc2(ember.tanh(self.fc1(ember.cat([x, y, x2], dim=1))))


def mlp_hidden_for_budget(parameters: int, in_features: int, out_features: int) -> int:
    """The hidden width giving a :class:`TransferMLP` about ``parameters`` parameters (at least 1).

    Example:
        >>> mlp_hidden_for_budget(4 * 300 * 10 + 10 + 300, 300, 300)
        10
    """
    # (3 in + 1) h + (h + 1) out = parameters
    return max(1, round((parameters - out_features) / (3 * in_features + 1 + out_features)))


def train_transfer_mlp_epoch(model: TransferMLP, x: Tensor, y: Tensor, x2: Tensor, y2: Tensor, optimizer,
                             batch_size: int = 100, generator: ember.Generator | None = None) -> float:
    """One epoch of mean-squared-error training on ``(x, y, x2) -> y2``; returns the mean per-sample squared error."""
    model.train()
    order = ember.randperm(x.shape[0], generator=generator)
    total, seen = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        index = order[start:start + batch_size]
        loss = ((model(x[index], y[index], x2[index]) - y2[index]) ** 2).sum(dim=1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.item()) * index.shape[0]
        seen += index.shape[0]
    return total / seen


def retrieval_mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error per pixel between predicted and true ``y2`` (any matching shapes)."""
    prediction, target = np.asarray(prediction, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if prediction.shape != target.shape:
        raise ValueError(f"retrieval_mse: prediction {prediction.shape} and target {target.shape} differ in shape")
    return float(np.mean((prediction - target) ** 2))
