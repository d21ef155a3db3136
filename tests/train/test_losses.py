"""Keras's probability losses against PyTorch, their input checks, gradients, and per-item forms."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck
from ember.train.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    categorical_crossentropy,
    per_item,
)

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(6, 4))
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
LABELS = rng.integers(0, 4, 6)


def test_categorical_crossentropy_on_probabilities_matches_torch_on_logits():
    expected = torch.nn.functional.cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS)).item()
    loss = CategoricalCrossentropy()
    assert loss(ember.tensor(PROBS), ember.tensor(LABELS)).item() == pytest.approx(expected, rel=1e-6)
    onehot = np.eye(4)[LABELS]
    assert loss(ember.tensor(PROBS), ember.tensor(onehot)).item() == pytest.approx(expected, rel=1e-6)
    from_logits = CategoricalCrossentropy(from_logits=True)(ember.tensor(LOGITS), ember.tensor(LABELS)).item()
    assert from_logits == pytest.approx(expected, rel=1e-6)


def test_label_smoothing_matches_torch():
    expected = torch.nn.functional.cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS),
                                                 label_smoothing=0.1).item()
    for target in (LABELS, np.eye(4)[LABELS]):
        got = CategoricalCrossentropy(label_smoothing=0.1)(ember.tensor(PROBS), ember.tensor(target)).item()
        assert got == pytest.approx(expected, rel=1e-6)


def test_categorical_crossentropy_gradient():
    target = ember.tensor(np.eye(4)[LABELS])
    probs = ember.tensor(PROBS, dtype="float64", requires_grad=True)
    assert gradcheck(lambda p: categorical_crossentropy(p, target), [probs])


def test_binary_crossentropy_matches_torch_and_reshapes_targets():
    p = 1 / (1 + np.exp(-LOGITS[:, :1]))
    y = (LABELS % 2).astype(np.int64)  # (N,) integer targets of an (N, 1) output
    expected = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y[:, None], dtype=torch.float64))
    assert BinaryCrossentropy()(ember.tensor(p), ember.tensor(y)).item() == pytest.approx(expected.item(), rel=1e-6)
    logits = BinaryCrossentropy(from_logits=True)(ember.tensor(LOGITS[:, :1]), ember.tensor(y)).item()
    assert logits == pytest.approx(expected.item(), rel=1e-6)


def test_probability_losses_reject_logits():
    with pytest.raises(ValueError, match=r"categorical_crossentropy: expects probabilities, but the outputs lie in"):
        CategoricalCrossentropy()(ember.tensor(LOGITS), ember.tensor(LABELS))
    with pytest.raises(ValueError, match="sum to values up to"):
        CategoricalCrossentropy()(ember.tensor(PROBS * 0.5), ember.tensor(LABELS))
    with pytest.raises(ValueError, match="binary_crossentropy: expects probabilities.*Sigmoid"):
        BinaryCrossentropy()(ember.tensor(LOGITS[:, 0]), ember.tensor(LABELS % 2))
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(6, 4\)"):
        CategoricalCrossentropy()(ember.tensor(PROBS), ember.tensor(np.ones((6, 3))))


def test_per_item_gives_unreduced_losses_and_leaves_the_original():
    mse = nn.MSELoss()
    items = per_item(mse)(ember.tensor([1.0, 3.0]), ember.tensor([0.0, 1.0]))
    assert items.tolist() == [1.0, 4.0] and mse.reduction == "mean"
    items = per_item(CategoricalCrossentropy())(ember.tensor(PROBS), ember.tensor(LABELS))
    np.testing.assert_allclose(items.numpy(), -np.log(PROBS[np.arange(6), LABELS]), rtol=1e-6)

    def with_reduction(a, b, reduction="mean"):
        return (a - b).abs() if reduction == "none" else (a - b).abs().mean()

    assert per_item(with_reduction)(ember.tensor([1.0, -2.0]), ember.tensor([0.0, 0.0])).tolist() == [1.0, 2.0]
    assert per_item(lambda a, b: (a - b).sum()) is None
