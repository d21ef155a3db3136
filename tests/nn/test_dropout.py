"""Dropout and AlphaDropout: inverted scaling, train/eval behaviour, reproducibility, gradients."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_gradients, normal


def test_training_mode_zeroes_about_p_and_scales_the_rest():
    drop = nn.Dropout(0.3)
    y = drop(ember.ones(200_000)).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation


def test_eval_mode_is_the_identity_and_mode_is_per_module():
    net = nn.Sequential(nn.Dropout(0.5), nn.Dropout(0.5))
    net[1].eval()
    assert net[0].training and not net[1].training
    x = ember.randn(100)
    assert net[1](x) is x
    net.eval()
    np.testing.assert_array_equal(net(x).numpy(), x.numpy())


def test_gradient_is_the_scaled_mask():
    x = ember.randn(1000, requires_grad=True)
    y = F.dropout(x, 0.4, training=True)
    y.backward(ember.ones(1000))
    mask = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.6, rtol=1e-6)


def test_masks_are_reproducible_with_manual_seed():
    ember.manual_seed(3)
    a = F.dropout(ember.ones(50), 0.5).numpy()
    ember.manual_seed(3)
    b = F.dropout(ember.ones(50), 0.5).numpy()
    c = F.dropout(ember.ones(50), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_extreme_probabilities():
    x = ember.randn(10, requires_grad=True)
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert (y.numpy() == 0).all() and y.requires_grad


def test_float64_and_float16_keep_their_dtype():
    for dtype in ("float64", "float16"):
        assert F.dropout(ember.ones(8, dtype=dtype), 0.5).dtype == np.dtype(dtype)


def test_alpha_dropout_keeps_standardised_statistics():
    x = ember.randn(400_000)
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_alpha_dropout_matches_pytorch_formula_on_its_mask():
    """With the mask read off the output, the affine map equals PyTorch's alpha_dropout."""
    x = ember.randn(1000)
    y = F.alpha_dropout(x, 0.3, training=True).numpy()
    alpha, p = 1.7580993408473766, 0.3
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    dropped_value = -alpha * a + alpha * a * p
    dropped = np.isclose(y, dropped_value, atol=1e-6)
    np.testing.assert_allclose(y[~dropped], x.numpy()[~dropped] * a + alpha * a * p, rtol=1e-5, atol=1e-6)
    assert 0.25 < dropped.mean() < 0.35


@pytest.mark.parametrize("case", [
    LayerCase("Dropout", lambda: nn.Dropout(0.5), None, normal(3, 4)),
    LayerCase("AlphaDropout", lambda: nn.AlphaDropout(0.5), None, normal(3, 4)),
], ids=repr)
def test_gradcheck_float64_with_a_fixed_mask(case):
    check_gradients(case)


def test_bad_probability_is_rejected():
    with pytest.raises(ValueError, match="Dropout: dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout: dropout probability has to be between 0 and 1"):
        F.dropout(ember.ones(2), -0.1)


def test_alpha_dropout_defaults_to_evaluation_like_torch():
    x = ember.randn(10)
    assert F.alpha_dropout(x, 0.5) is x
