"""CSVLogger, TensorBoard (tensorboardX) and TerminateOnNaN."""
import csv
import math

import numpy as np
import pytest
from train.helpers import blobs, mlp

from ember.train import Model, optimizers
from ember.train.callbacks import CSVLogger, TensorBoard, TerminateOnNaN


def fit(callbacks, epochs=3, lr=0.1, validation_freq=1, **options):
    x, y = blobs(n=40)
    model = Model(mlp()).compile(optimizers.sgd(lr=lr), "cross_entropy", metrics=["accuracy"])
    return model.fit(x, y, batch_size=10, epochs=epochs, validation_data=(x, y), validation_freq=validation_freq,
                     verbose=0, callbacks=callbacks, **options)


def test_csv_logger_writes_a_row_per_epoch_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    history = fit([CSVLogger(path)], epochs=2)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert float(rows[2][2]) == history.history["loss"][1]  # full precision
    fit([CSVLogger(path, append=True)], epochs=3, initial_epoch=2)
    rows = list(csv.reader(path.open()))
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"] and rows.count(rows[0]) == 1


def test_csv_logger_writes_na_for_epochs_without_validation(tmp_path):
    path = tmp_path / "log.csv"
    fit([CSVLogger(path, separator=";")], epochs=2, validation_freq=2)
    header, first, second = list(csv.reader(path.open(), delimiter=";"))
    assert "val_loss" in header
    assert first[header.index("val_loss")] == "NA" and second[header.index("val_loss")] != "NA"


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    guard = TerminateOnNaN()
    x, y = blobs(n=40)
    x[25] = np.nan  # third batch (unshuffled) is poisoned
    model = Model(mlp()).compile(optimizers.sgd(lr=0.1), "cross_entropy")
    history = model.fit(x, y, batch_size=10, epochs=5, verbose=0, shuffle=False, callbacks=[guard])
    assert guard.stopped_batch == 2 and history.epoch == [0] and math.isnan(history.history["loss"][0])
    assert "Batch 2: invalid loss nan, terminating training" in capsys.readouterr().out


def test_tensorboard_writes_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    fit([TensorBoard(tmp_path, histogram_freq=1, update_freq=2)], epochs=2)
    train_events = list((tmp_path / "train").glob("events.out.tfevents.*"))
    validation_events = list((tmp_path / "validation").glob("events.out.tfevents.*"))
    assert train_events and validation_events and train_events[0].stat().st_size > 100
    assert {"loss", "accuracy"} <= scalar_tags(validation_events[0])
    assert {"loss", "accuracy", "learning_rate", "batch_loss"} <= scalar_tags(train_events[0])


def scalar_tags(path):
    """The scalar tags of a TensorBoard event file (TFRecord framing: length, crc, event, crc)."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    data, tags, offset = path.read_bytes(), set(), 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        event = Event.FromString(data[offset + 12:offset + 12 + length])
        tags |= {value.tag for value in event.summary.value if value.HasField("simple_value")}
        offset += 16 + length
    return tags
