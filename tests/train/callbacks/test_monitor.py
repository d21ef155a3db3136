"""Monitor: direction from the model's metrics or the name, min_delta, missing keys."""
import math
import warnings

import pytest
from train.callbacks.stub import StubModel

from ember.train.callbacks import Monitor
from ember.train.metrics import Perplexity, Precision


@pytest.mark.parametrize("name, mode", [("val_loss", "min"), ("val_accuracy", "max"), ("acc", "max"),
                                        ("val_f1", "max"), ("val_mse", "min"), ("val_top_5_accuracy", "max")])
def test_auto_mode_from_the_name(name, mode):
    assert Monitor("t", name).resolve(None).mode == mode


def test_auto_mode_from_the_models_metrics():
    model = StubModel(metrics=[Perplexity(), Precision(name="ppv")])
    assert Monitor("t", "val_perplexity").resolve(model).mode == "min"
    assert Monitor("t", "val_ppv").resolve(model).mode == "max"
    assert Monitor("t", "val_ppv", mode="min").resolve(model).mode == "min"


def test_improves_with_min_delta():
    low = Monitor("t", "loss", "min", min_delta=0.1).resolve(None)
    assert low.worst == math.inf and low.improves(0.85, 1.0) and not low.improves(0.95, 1.0)
    high = Monitor("t", "acc", "max", min_delta=-0.1).resolve(None)  # the sign of min_delta does not matter
    assert high.worst == -math.inf and high.improves(0.75, 0.6) and not high.improves(0.65, 0.6)


def test_missing_value_warns_once():
    monitor = Monitor("EarlyStopping", "val_loss")
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs \\(available: loss\\)"):
        assert monitor.value({"loss": 1.0}) is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert monitor.value({"loss": 1.0}) is None
    assert caught == []  # warned once, not every epoch
    with pytest.raises(ValueError, match="mode must be"):
        Monitor("t", "loss", mode="up")
