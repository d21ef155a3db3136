"""ModelCheckpoint (every epoch, best only, weights only, per batch) and BackupAndRestore files."""
import numpy as np
import pytest
from train.helpers import blobs, mlp

import ember
from ember.io import read_checkpoint, read_metadata
from ember.train import Model
from ember.train.callbacks import BackupAndRestore, ModelCheckpoint


def fit(callbacks, epochs=3, **options):
    ember.manual_seed(0)
    x, y = blobs(n=40)
    model = Model(mlp()).compile("adam", "cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=10, epochs=epochs, validation_split=0.25, verbose=0, callbacks=callbacks,
                        **options)
    return model, history


def test_every_epoch_with_formatted_names(tmp_path):
    saver = ModelCheckpoint(str(tmp_path / "ck-{epoch:02d}-{val_loss:.3f}.safetensors"))
    _, history = fit([saver])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:5] for n in names] == ["ck-01", "ck-02", "ck-03"]
    assert names[2] == f"ck-03-{history.history['val_loss'][2]:.3f}.safetensors"
    checkpoint = read_checkpoint(tmp_path / names[2])
    assert checkpoint.epoch == 3 and checkpoint.optimizer_state is not None and checkpoint.rng_state is not None
    saved = checkpoint.extra["ember.train"]["callbacks"]["History"]
    assert saved["epoch"] == [0, 1, 2]  # the history of the epoch being saved is in it


def test_best_only_keeps_the_best_epoch(tmp_path):
    path = tmp_path / "best.safetensors"
    saver = ModelCheckpoint(path, monitor="val_loss", save_best_only=True, verbose=1)
    _, history = fit([saver], epochs=4)
    best_epoch, best = history.best("val_loss")
    assert read_checkpoint(path).epoch == best_epoch + 1 and saver.best == best


def test_weights_only_and_per_batch(tmp_path):
    saver = ModelCheckpoint(str(tmp_path / "w-{epoch}-{batch}.safetensors"), save_weights_only=True, save_freq=2)
    fit([saver], epochs=1)  # 30 training samples, batches of 10: one save at batch 2
    (path,) = tmp_path.iterdir()
    assert path.name == "w-1-2.safetensors" and read_metadata(path)["ember.kind"] == "state_dict"


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="save_freq must be"):
        ModelCheckpoint(tmp_path / "x", save_freq=0)
    with pytest.raises(KeyError, match="refers to 'val_f1'"):
        fit([ModelCheckpoint(str(tmp_path / "{val_f1}.safetensors"))], epochs=1)


def test_backup_keeps_only_the_newest_and_is_removed_at_the_end(tmp_path):
    seen = []

    class Spy(BackupAndRestore):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            seen.append(sorted(p.name for p in (tmp_path / "b").iterdir()))

    fit([Spy(tmp_path / "b")])
    assert seen == [["backup-00000001.safetensors"], ["backup-00000002.safetensors"],
                    ["backup-00000003.safetensors"]]
    assert not (tmp_path / "b").exists()
    keep = BackupAndRestore(tmp_path / "k", delete_checkpoint=False)
    model, _ = fit([keep], epochs=2)
    assert [p.name for p in (tmp_path / "k").iterdir()] == ["backup-00000002.safetensors"]
    # A new fit with the finished backup resumes at epoch 2: nothing left to do for epochs=2.
    x, y = blobs(n=40)
    again = model.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path / "k")])
    assert again.epoch == [0, 1] and np.isfinite(again.history["loss"]).all()
