"""Names of losses, optimizers and metrics: what they resolve to, and the errors for unknown ones."""
import pytest

import ember.nn as nn
from ember.train.losses import BinaryCrossentropy, CategoricalCrossentropy
from ember.train.metrics import Accuracy, F1Score, MeanSquaredError
from ember.train.names import LOSSES, get_loss, resolve_metrics, unknown_name_error


@pytest.mark.parametrize("name, kind", [
    ("categorical_crossentropy", CategoricalCrossentropy), ("sparse_categorical_crossentropy", CategoricalCrossentropy),
    ("binary_crossentropy", BinaryCrossentropy), ("cross_entropy", nn.CrossEntropyLoss), ("MSE", nn.MSELoss),
    ("mae", nn.L1Loss), ("nll", nn.NLLLoss), ("bce_with_logits", nn.BCEWithLogitsLoss), ("huber", nn.HuberLoss),
])
def test_loss_names(name, kind):
    assert isinstance(get_loss(name), kind)


def test_every_loss_name_builds_and_objects_pass_through():
    for name in LOSSES:
        assert callable(get_loss(name))
    loss = nn.MSELoss()
    assert get_loss(loss) is loss
    with pytest.raises(TypeError, match="loss must be a name"):
        get_loss(3)


def test_unknown_name_error_suggests_the_closest():
    err = unknown_name_error("loss", "crossentropy", ["cross_entropy", "mse"])
    assert "Did you mean 'cross_entropy'?" in str(err) and "Known losss" not in str(err)
    assert "Did you mean" not in str(unknown_name_error("loss", "zzz", ["mse"]))


def test_accuracy_follows_the_loss():
    binary_logits, = resolve_metrics(["accuracy"], nn.BCEWithLogitsLoss())
    binary_probs, = resolve_metrics(["accuracy"], BinaryCrossentropy())
    categorical, = resolve_metrics(["acc"], nn.CrossEntropyLoss(ignore_index=0))
    assert (binary_logits.mode, binary_logits.threshold) == ("binary", 0.0)
    assert (binary_probs.mode, binary_probs.threshold) == ("binary", 0.5)
    assert (categorical.mode, categorical.ignore_index, categorical.name) == ("auto", 0, "acc")


def test_resolve_metrics_forms_and_duplicates():
    metrics = resolve_metrics(["f1", MeanSquaredError(), lambda p, t: 0.0], nn.MSELoss())
    assert [type(m) for m in metrics[:2]] == [F1Score, MeanSquaredError]
    assert resolve_metrics("accuracy")[0].name == "accuracy" and isinstance(resolve_metrics("accuracy")[0], Accuracy)
    assert resolve_metrics(None) == []
    with pytest.raises(ValueError, match="two metrics are named 'accuracy'"):
        resolve_metrics(["accuracy", "accuracy"])
