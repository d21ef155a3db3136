"""The classifier training recipe and its random-shift augmentation."""
import numpy as np
import pytest

from ember.models import MLP, ClassifierConfig, random_shift, train_classifier


def test_random_shift_moves_content_by_at_most_the_padding():
    image = np.zeros((1, 1, 9, 9), np.float32)
    image[0, 0, 4, 4] = 1.0
    shift = random_shift(2, seed=0)
    for _ in range(20):
        out = shift.batch(image)
        assert out.shape == image.shape
        row, col = np.argwhere(out[0, 0] == 1.0)[0]
        assert abs(row - 4) <= 2 and abs(col - 4) <= 2


def test_random_shift_fills_with_the_background():
    out = random_shift(3, fill=-1.0, seed=1).batch(np.ones((8, 1, 6, 6), np.float32))
    assert set(np.unique(out)) <= {-1.0, 1.0} and (out == -1.0).any()


def test_train_classifier_reports_the_test_error():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    result = train_classifier(MLP(6, (16,), 2), x, y, x, y, ClassifierConfig(epochs=5, batch_size=32, lr=0.1),
                              verbose=0, log=lambda s: None)
    assert result["test_error"] == pytest.approx(100 * (1 - result["test_accuracy"]), abs=0.01)
    assert result["test_error"] < 10
    assert result["history"]["lr"][0] > result["history"]["lr"][-1]  # the cosine decay ran
