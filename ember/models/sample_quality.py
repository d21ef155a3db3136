"""Measured sample quality for generators of 28x28 grey images: a classifier score and a Frechet distance.

Both numbers read a classifier trained by Ember on the real data (LeNet-5, trained
with the zoo's :func:`ember.models.classify.train_classifier`):

* :func:`classifier_score` is ``exp(E_x[KL(p(y|x) || p(y))])`` with ``p(y)`` the mean
  prediction over the samples: the Inception score of Salimans et al. (2016) with an
  MNIST classifier in place of Inception. It is 1 when every sample gets the same
  prediction and the number of classes when each sample is classified with certainty
  and the classes are equally frequent; the real MNIST test set scores about 9.8.
* :func:`frechet_distance` is ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`` between
  Gaussian fits of the classifier's penultimate (84-d) features (the FID of Heusel et
  al. 2017, in this classifier's feature space); 0 for identical distributions.

:func:`quality_classifier` trains that classifier once per dataset and caches its
weights (safetensors) in a folder; later calls load them.

Example:
    >>> import numpy as np
    >>> round(classifier_score(np.eye(10)), 6)  # ten certain predictions, one per class
    10.0
    >>> round(classifier_score(np.full((5, 10), 0.1)), 6)
    1.0
"""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

import ember
import ember.nn.functional as F
from ember.errors import ShapeError
from ember.tensor import Tensor

from .classify import ClassifierConfig, train_classifier
from .lenet import LeNet5

__all__ = ["DATASETS", "unit_images", "classifier_score", "gaussian_fit", "frechet_distance",
           "frechet_distance_of_features", "classify_with_features", "quality_classifier", "evaluate_samples"]

#: the datasets :func:`unit_images` and :func:`quality_classifier` know, by their ``ember.data`` class name.
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def unit_images(dataset: str, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """A split of MNIST or Fashion-MNIST: float32 images ``(N, 1, 28, 28)`` in ``[0, 1]`` and int64 labels.

    The files are read from ``$EMBER_DATA`` (``ember.data``'s root); a missing or
    corrupt file raises ``ember.data.errors.DataError`` naming it.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unit_images: dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    from ember import data

    split = getattr(data, DATASETS[dataset])(train=train)
    return (split.data.astype(np.float32) / 255.0)[:, None], split.targets.astype(np.int64)


def classifier_score(probabilities: np.ndarray) -> float:
    """``exp(mean_i KL(p(y|x_i) || p(y)))`` of class probabilities ``(N, classes)``, ``p(y)`` their mean.

    Raises ``ShapeError`` for anything but a 2-d array and ``ValueError`` when the rows
    are not probability vectors (negative entries, or sums off 1 by more than 1e-3).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ShapeError(f"classifier_score: expected probabilities of shape (N, classes) with N > 0, "
                         f"got shape {p.shape}")
    sums = p.sum(axis=1)
    if (p < 0).any() or np.abs(sums - 1.0).max() > 1e-3:
        raise ValueError(f"classifier_score: rows must be probability vectors (non-negative, summing to 1); "
                         f"got entries down to {p.min():g} and row sums in [{sums.min():g}, {sums.max():g}]")
    marginal = p.mean(axis=0)
    # 0 * log 0 = 0: classes a row gives no probability contribute nothing to its KL.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean ``(D,)`` and the (unbiased) covariance ``(D, D)`` of features ``(N, D)``, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ShapeError(f"gaussian_fit: expected features of shape (N, D) with N >= 2, got shape {x.shape}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric PSD matrix; round-off negative eigenvalues count as 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """The Frechet (2-Wasserstein squared) distance between ``N(mu1, cov1)`` and ``N(mu2, cov2)``.

    ``|mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2))``, where the last trace
    is computed without scipy as the sum of the square roots of the eigenvalues of the
    symmetric PSD matrix ``cov1^(1/2) cov2 cov1^(1/2)`` (it has the eigenvalues of
    ``cov1 cov2``), so singular covariances are safe.

    Example:
        >>> import numpy as np
        >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)  # 2 + 2 * (2 - 1)**2
        4.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != (d,) or mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ShapeError(f"frechet_distance: expected means (D,) and covariances (D, D) of one D, got means "
                         f"{mu1.shape}, {mu2.shape} and covariances {cov1.shape}, {cov2.shape}")
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt, 0.0))


def frechet_distance_of_features(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """:func:`frechet_distance` between Gaussian fits of two feature sets ``(N, D)`` and ``(M, D)``."""
    return frechet_distance(*gaussian_fit(features_a), *gaussian_fit(features_b))


def classify_with_features(classifier: LeNet5, images, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``(N, classes)`` and penultimate features ``(N, D)`` of images ``(N, 1, 28, 28)`` in [0, 1].

    The features are the activations that feed the classifier's last linear layer
    (84-d for the classic LeNet-5), computed in eval mode without gradients.
    """
    x = images.numpy() if isinstance(images, Tensor) else np.asarray(images, dtype=np.float32)
    expected = (classifier.in_channels, classifier.input_size, classifier.input_size)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
        raise ShapeError(f"classify_with_features: expected images of shape (N, {', '.join(map(str, expected))}), "
                         f"got shape {x.shape}")
    layers = list(classifier.classifier.children())
    hidden, last = layers[:-1], layers[-1]
    classifier.eval()
    probabilities, features = [], []
    with ember.no_grad():
        for start in range(0, x.shape[0], batch_size):
            h = classifier.features(ember.tensor(x[start:start + batch_size]))
            for layer in hidden:
                h = layer(h)
            probabilities.append(F.softmax(last(h), dim=1).numpy())
            features.append(h.numpy())
    return np.concatenate(probabilities).astype(np.float64), np.concatenate(features).astype(np.float64)


def quality_classifier(dataset: str, directory: str, epochs: int = 5, seed: int = 0,
                       log: Callable[[str], None] = print) -> LeNet5:
    """The LeNet-5 that scores samples of ``dataset``: loaded from ``directory``, or trained there first.

    Trained on the real training images in ``[0, 1]`` (the range the GAN's samples are
    mapped to) with :func:`train_classifier`: Adam 2e-3, cosine decay, random 2-pixel
    shifts, ``epochs`` epochs, seeded by ``seed``. The weights are cached as
    ``directory/quality_classifier_<dataset>.safetensors``; delete the file to retrain.
    """
    path = os.path.join(directory, f"quality_classifier_{dataset}.safetensors")
    classifier = LeNet5()
    if os.path.exists(path):
        classifier.load_state_dict(ember.load(path))
        log(f"quality classifier: loaded {path}")
        return classifier
    x, y = unit_images(dataset, train=True)
    x_test, y_test = unit_images(dataset, train=False)
    ember.manual_seed(seed)
    classifier = LeNet5()
    log(f"quality classifier: training LeNet-5 on {dataset} for {epochs} epochs")
    train_classifier(classifier, x, y, x_test, y_test,
                     ClassifierConfig(epochs=epochs, batch_size=64, optimizer="adam", lr=2e-3, shift=2, seed=seed),
                     verbose=2, log=log)
    os.makedirs(directory, exist_ok=True)
    ember.save(classifier.state_dict(), path)
    return classifier


def evaluate_samples(classifier: LeNet5, samples, reference) -> dict[str, float]:
    """Classifier score of ``samples`` and their Frechet distance to ``reference`` (both ``(N, 1, 28, 28)`` in [0, 1]).

    Returns:
        ``{"classifier_score", "frechet_distance"}``.
    """
    probabilities, features = classify_with_features(classifier, samples)
    _, reference_features = classify_with_features(classifier, reference)
    return {"classifier_score": classifier_score(probabilities),
            "frechet_distance": frechet_distance_of_features(features, reference_features)}
