"""Channel dropout (dropout1d/2d/3d, feature alpha dropout), in-place dropout and the layers."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn


def _channels_are_constant(y, keep_value):
    flat = y.numpy().reshape(y.shape[0] * y.shape[1], -1)
    same = (flat == flat[:, :1]).all()
    return bool(same) and bool((np.isclose(flat[:, 0], 0.0) | np.isclose(flat[:, 0], keep_value)).all())


@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (4, 16, 5)), (F.dropout2d, (4, 16, 3, 3)),
                                       (F.dropout3d, (2, 16, 2, 2, 2))])
def test_whole_channels_are_dropped_and_the_rest_scaled(fn, shape):
    ember.manual_seed(0)
    y = fn(ember.ones(*shape), p=0.25)
    assert _channels_are_constant(y, 1 / 0.75)
    kept = (y.numpy().reshape(shape[0] * shape[1], -1)[:, 0] != 0).mean()
    assert 0.5 < kept < 0.95


def test_unbatched_inputs_drop_dimension_zero_channels():
    ember.manual_seed(1)
    y = F.dropout1d(ember.ones(32, 6), p=0.5)
    rows = y.numpy()
    assert all(len(set(r)) == 1 for r in rows) and {0.0, 2.0} >= set(rows[:, 0])
    z = F.dropout3d(ember.ones(32, 2, 2, 2), p=0.5).numpy().reshape(32, -1)
    assert all(len(set(r)) == 1 for r in z)


def test_dropout2d_reads_3d_input_as_batched_1d_like_torch():
    ember.manual_seed(2)
    y = F.dropout2d(ember.ones(3, 32, 5), p=0.5).numpy()
    assert all(len(set(r)) == 1 for r in y.reshape(96, 5))


def test_rank_errors_and_warnings_follow_torch():
    with pytest.raises(RuntimeError, match=r"dropout1d: expected a 2-D \(C, \*spatial\) or 3-D"):
        F.dropout1d(ember.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d: expected a 3-D"):
        F.dropout2d(ember.ones(2, 3), training=True)
    with pytest.warns(UserWarning, match="dropout3d"):
        F.dropout3d(ember.ones(2, 3, 4))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(ember.ones(1, 2, 3, 3), p=1.5)


def test_evaluation_and_p_extremes():
    x = ember.ones(2, 3, 4)
    assert F.dropout1d(x, 0.5, training=False) is x
    assert not F.dropout1d(x, 1.0).numpy().any()
    np.testing.assert_array_equal(F.dropout1d(x, 0.0).numpy(), x.numpy())


def test_channel_dropout_gradient_is_the_mask():
    ember.manual_seed(3)
    x = ember.ones(2, 8, 3, requires_grad=True)
    y = F.dropout1d(x, p=0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_inplace_dropout_writes_into_the_input():
    ember.manual_seed(4)
    x = ember.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and set(x.tolist()) == {0.0, 2.0}
    y = ember.ones(2, 8, 3)
    assert F.dropout2d(y, 0.5, inplace=True) is y


def test_feature_alpha_dropout_keeps_standardised_statistics():
    ember.manual_seed(5)
    x = ember.randn(256, 64, 4)
    y = F.feature_alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1.0) < 0.05
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(ember.ones(3), 0.2, training=True)


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                 nn.FeatureAlphaDropout])
def test_layers_match_torch_repr_and_respect_eval(cls):
    torch = pytest.importorskip("torch")
    layer = cls(0.3)
    assert repr(layer) == repr(getattr(torch.nn, cls.__name__)(0.3))
    x = ember.ones(2, 3, 2) if cls is nn.Dropout1d else ember.ones(2, 3, 2, 2, 2)
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        cls(-0.1)
