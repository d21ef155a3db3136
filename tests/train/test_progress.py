"""Progress display: a line per epoch in logs, a live bar on a terminal, Keras number formats."""
import io

import numpy as np
import pytest
from train.helpers import blobs, mlp

from ember.train import Model
from ember.train.progress import ProgressBar, format_logs, format_rate


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(bar, epochs=2, steps=3):
    bar.set_params({"epochs": epochs, "steps": steps})
    bar.on_train_begin()
    for epoch in range(epochs):
        bar.on_epoch_begin(epoch)
        for step in range(steps):
            bar.on_train_batch_end(step, {"loss": 1.0 / (step + 1), "size": 10})
        bar.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.25, "lr": 0.1})


def test_formats():
    assert format_logs({"loss": 0.123456, "accuracy": 1, "lr": 0.1, "val_loss": 2e-5}) == \
        "loss: 0.1235 - accuracy: 1.0000 - val_loss: 2.0000e-05"
    assert format_rate(500, 1.0) == "500 samples/s" and format_rate(3e6, 1.0) == "3.0M samples/s"


def test_one_line_per_epoch_when_not_on_a_terminal():
    for verbose in (1, 2):
        out = io.StringIO()
        run(ProgressBar(verbose=verbose, stream=out))
        lines = out.getvalue().splitlines()
        assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - ")
        assert lines[0].endswith("samples/s - loss: 0.5000 - val_loss: 0.2500") and "lr" not in lines[0]


def test_live_bar_on_a_terminal_without_tqdm():
    out = Terminal()
    run(ProgressBar(verbose=1, stream=out, use_tqdm=False))
    text = out.getvalue()
    assert "\rEpoch 1/2 [==" in text and "1/3 - loss: 1.0000" in text  # drawn after the first batch
    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""
    for epoch, line in enumerate(lines[:2], 1):  # the bar is erased and replaced by the epoch's full line
        assert line.rsplit("\r", 1)[1].startswith(f"Epoch {epoch}/2 - ") and line.endswith("val_loss: 0.2500")


def test_live_bar_with_tqdm():
    pytest.importorskip("tqdm")
    out = Terminal()
    run(ProgressBar(verbose=1, stream=out))
    text = out.getvalue()
    assert "Epoch 1/2:" in text and "/3 [" in text and "batch/s" in text
    lines = text.split("\n")
    assert lines[1].rsplit("\r", 1)[1].startswith("Epoch 2/2 - ") and lines[1].endswith("val_loss: 0.2500")


def test_fit_prints_through_the_bar(capsys):
    x, y = blobs(n=32)
    Model(mlp()).compile("sgd", "cross_entropy", metrics=["accuracy"]).fit(x, y, epochs=2, verbose=2)
    Model(mlp()).compile("sgd", "cross_entropy").fit(x, y, epochs=2, verbose=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "accuracy: " in lines[0] and np.all([line.startswith("Epoch") for line in lines])
