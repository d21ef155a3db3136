"""History: per-epoch logs, padding of late keys, best epoch, state round trip, plot."""
import math

import pytest

from ember.train import History


def filled(rows):
    history = History()
    for epoch, logs in enumerate(rows):
        history.on_epoch_end(epoch, logs)
    return history


def test_records_every_epoch_and_pads_missing_keys_with_nan():
    history = filled([{"loss": 1.0}, {"loss": 0.5, "val_loss": 0.7}, {"loss": 0.4}])
    assert history.epoch == [0, 1, 2]
    assert history["loss"] == [1.0, 0.5, 0.4]
    assert math.isnan(history["val_loss"][0]) and history["val_loss"][1] == 0.7 and math.isnan(history["val_loss"][2])
    assert repr(history) == "History(epochs=3, keys=['loss', 'val_loss'])"


def test_best_follows_the_direction_and_skips_nan():
    history = filled([{"val_loss": 0.9, "val_accuracy": 0.5}, {"val_loss": float("nan"), "val_accuracy": 0.9},
                      {"val_loss": 0.4, "val_accuracy": 0.8}])
    assert history.best("val_loss") == (2, 0.4)
    assert history.best("val_accuracy") == (1, 0.9)
    assert history.best("val_loss", mode="max") == (0, 0.9)
    with pytest.raises(KeyError, match="'val_f1' was not logged"):
        history.best("val_f1")


def test_state_round_trip():
    history = filled([{"loss": 1.0}, {"loss": 0.5}])
    other = History()
    other.load_state_dict(history.state_dict())
    assert other.history == history.history and other.epoch == history.epoch


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    history = filled([{"loss": 1.0, "val_loss": 1.2}, {"loss": 0.5, "val_loss": 0.8}])
    figure = history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [a.get_title() for a in figure.axes] == ["loss"]
