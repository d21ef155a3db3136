"""Sample quality: the classifier score's limits and identity, the Frechet distance against closed forms and
scipy, the classifier's features against its forward pass, the weight cache, and the errors."""
import os
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.errors import ShapeError
from ember.models.lenet import LeNet5
from ember.models.sample_quality import (classifier_score, classify_with_features, evaluate_samples,
                                         frechet_distance, frechet_distance_of_features, gaussian_fit,
                                         quality_classifier, unit_images)

DATA = Path(os.environ.get("EMBER_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def _random_probabilities(rng, n, k):
    logits = 3.0 * rng.standard_normal((n, k))
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("classes", [2, 4, 10])
def test_classifier_score_is_the_number_of_classes_for_certain_balanced_predictions(classes):
    certain = np.tile(np.eye(classes), (3, 1))
    assert classifier_score(certain) == pytest.approx(classes, rel=1e-12)


def test_classifier_score_is_one_when_every_prediction_is_the_same():
    rng = np.random.default_rng(0)
    row = _random_probabilities(rng, 1, 10)
    assert classifier_score(np.repeat(row, 7, axis=0)) == pytest.approx(1.0, abs=1e-12)
    assert classifier_score(np.tile(np.eye(10)[3], (5, 1))) == pytest.approx(1.0, abs=1e-12)


def test_classifier_score_equals_exp_of_the_entropy_gap():
    """E[KL(p(y|x) || p(y))] = H(p(y)) - E[H(p(y|x))], a second way to compute the same number."""
    p = _random_probabilities(np.random.default_rng(1), 200, 10)
    marginal = p.mean(0)
    gap = -(marginal * np.log(marginal)).sum() + (p * np.log(p)).sum(1).mean()
    assert classifier_score(p) == pytest.approx(np.exp(gap), rel=1e-10)
    imbalanced = np.eye(10)[[0] * 9 + [1]]  # certain but unbalanced: exp(H(p(y))) < 10
    assert classifier_score(imbalanced) == pytest.approx(np.exp(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1))))


def test_classifier_score_errors():
    with pytest.raises(ShapeError, match=r"classifier_score: .*got shape \(10,\)"):
        classifier_score(np.full(10, 0.1))
    with pytest.raises(ValueError, match="classifier_score: rows must be probability vectors"):
        classifier_score(np.full((3, 10), 0.2))
    with pytest.raises(ValueError, match="entries down to -0.5"):
        classifier_score(np.array([[1.5, -0.5]]))


def test_frechet_distance_of_diagonal_gaussians_has_a_closed_form():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    var1, var2 = rng.uniform(0.1, 3.0, 6), rng.uniform(0.1, 3.0, 6)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(var1) - np.sqrt(var2)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-10)
    # rotating both Gaussians by one orthogonal matrix leaves the distance unchanged (non-commuting case)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    rotated = frechet_distance(q @ mu1, q @ np.diag(var1) @ q.T, q @ mu2, q @ np.diag(var2) @ q.T)
    assert rotated == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_is_zero_for_identical_gaussians_and_safe_for_singular_ones():
    rng = np.random.default_rng(3)
    b = rng.standard_normal((3, 2))
    singular = b @ b.T  # 3x3 of rank 2: its smallest eigenvalue is 0 up to round-off (possibly negative)
    mu = rng.standard_normal(3)
    assert frechet_distance(mu, singular, mu, singular) == pytest.approx(0.0, abs=1e-9)
    zeros = np.zeros((3, 3))
    assert frechet_distance(mu, zeros, mu + 1.0, zeros) == pytest.approx(3.0, rel=1e-12)  # point masses
    assert frechet_distance(mu, singular, mu, zeros) == pytest.approx(np.trace(singular), rel=1e-10)


def test_frechet_distance_matches_scipy():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((300, 8)) @ rng.standard_normal((8, 8)), rng.standard_normal((200, 8)) + 0.5
    (mu1, cov1), (mu2, cov2) = gaussian_fit(x), gaussian_fit(y)
    root = linalg.sqrtm(cov1 @ cov2).real  # the reference FID code's formula
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(root)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance_of_features(x, y) == pytest.approx(expected, rel=1e-8)


def test_gaussian_fit_and_frechet_shape_errors():
    mu, cov = gaussian_fit(np.arange(12.0).reshape(4, 3))
    np.testing.assert_allclose(cov, np.cov(np.arange(12.0).reshape(4, 3), rowvar=False))
    np.testing.assert_allclose(mu, [4.5, 5.5, 6.5])
    with pytest.raises(ShapeError, match=r"gaussian_fit: .*N >= 2, got shape \(1, 3\)"):
        gaussian_fit(np.zeros((1, 3)))
    with pytest.raises(ShapeError, match=r"frechet_distance: .*means \(3,\), \(4,\) and covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_classify_with_features_are_the_inputs_of_the_last_layer():
    ember.manual_seed(0)
    classifier = LeNet5()
    x = np.random.default_rng(5).random((7, 1, 28, 28)).astype(np.float32)
    probabilities, features = classify_with_features(classifier, x, batch_size=3)  # batches joined in order
    assert probabilities.shape == (7, 10) and features.shape == (7, 84)
    with ember.no_grad():
        expected = F.softmax(classifier(ember.tensor(x)), dim=1).numpy()
        from_features = F.softmax(classifier.classifier[-1](ember.tensor(features.astype(np.float32))), dim=1)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(from_features.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert (features >= 0).all()  # after the ReLU
    with pytest.raises(ShapeError, match=r"classify_with_features: .*\(N, 1, 28, 28\), got shape \(2, 1, 32, 32\)"):
        classify_with_features(classifier, np.zeros((2, 1, 32, 32), np.float32))


def test_evaluate_samples_of_the_reference_itself():
    ember.manual_seed(0)
    classifier = LeNet5()
    x = np.random.default_rng(6).random((50, 1, 28, 28)).astype(np.float32)
    result = evaluate_samples(classifier, x, x)
    assert result["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
    assert result["classifier_score"] == pytest.approx(classifier_score(classify_with_features(classifier, x)[0]))


def test_quality_classifier_loads_cached_weights_without_training(tmp_path):
    ember.manual_seed(7)
    trained = LeNet5()
    ember.save(trained.state_dict(), str(tmp_path / "quality_classifier_mnist.safetensors"))
    lines = []
    loaded = quality_classifier("mnist", str(tmp_path), log=lines.append)
    assert lines == [f"quality classifier: loaded {tmp_path / 'quality_classifier_mnist.safetensors'}"]
    for name, value in trained.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name].numpy(), value.numpy())


@pytest.mark.skipif(not (DATA / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Fashion-MNIST not in $EMBER_DATA")
def test_unit_images_reads_fashion_mnist_in_the_unit_range():
    x, y = unit_images("fashion-mnist", train=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and np.bincount(y).tolist() == [1000] * 10


def test_unit_images_rejects_unknown_datasets():
    with pytest.raises(ValueError, match=r"unit_images: dataset must be one of \['fashion-mnist', 'mnist'\]"):
        unit_images("cifar10", train=False)
