"""Model: compile / fit / evaluate / predict, input checks, weighting, resumption, real MNIST."""
import os

import numpy as np
import pytest
from train.helpers import blobs, mlp

import ember
import ember.nn as nn
from ember import optim
from ember.data import DataLoader, TensorDataset, to_categorical
from ember.train import Model, callbacks, fit, optimizers


def weights_of(model):
    return {k: v.copy() for k, v in model.get_weights().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------- the basic loop
def test_fit_learns_and_logs_every_epoch():
    x, y = blobs()
    model = Model(mlp()).compile(optimizers.adam(lr=0.02), "cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.25, verbose=0, seed=0)
    assert history is model.history
    assert history.epoch == list(range(8))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.history["lr"] == [pytest.approx(0.02)] * 8


def test_fit_loss_is_the_mean_of_batch_losses_weighted_by_size():
    x, y = blobs(n=50)
    model = Model(mlp()).compile(optimizers.sgd(lr=0.0), "cross_entropy")  # lr 0: the weights never move
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    full = nn.CrossEntropyLoss()(model(ember.tensor(x)), ember.tensor(y)).item()
    assert history.history["loss"][0] == pytest.approx(full, rel=1e-5)
    assert model.evaluate(x, y) == pytest.approx(full, rel=1e-5)


def test_evaluate_returns_keras_shapes_and_dict():
    x, y = blobs(n=40)
    model = Model(mlp()).compile("sgd", "cross_entropy", metrics=["accuracy", "top_2_accuracy"])
    values = model.evaluate(x, y, batch_size=7)
    logs = model.evaluate(x, y, return_dict=True)
    assert list(logs) == ["loss", "accuracy", "top_2_accuracy"]
    assert values == pytest.approx(list(logs.values()))
    predicted = model.predict(x).argmax(1)
    assert logs["accuracy"] == pytest.approx(np.mean(predicted == y))


def test_predict_batches_and_restores_training_mode():
    net = nn.Sequential(nn.Linear(3, 5), nn.Dropout(0.5), nn.Linear(5, 2))
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    model = Model(net)
    out = model.predict(x, batch_size=3)
    assert isinstance(out, np.ndarray) and out.shape == (10, 2)
    with ember.no_grad():
        expected = net.eval()(ember.tensor(x)).numpy()
    net.train()
    np.testing.assert_allclose(out, expected, rtol=1e-6)  # dropout off in predict
    assert net.training and net[1].training


def test_fit_keeps_a_frozen_submodule_mode():
    x, y = blobs(n=32)
    net = mlp(dropout=0.5)
    net[2].eval()  # a user who froze this dropout
    Model(net).compile("sgd", "cross_entropy").fit(x, y, epochs=1, verbose=0)
    assert net.training and not net[2].training


def test_functional_fit_and_train_on_batch():
    x, y = blobs(n=64)
    history = fit(mlp(), x, y, optimizer="adam", loss="cross_entropy", epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    model = Model(mlp()).compile(optimizers.sgd(lr=0.5), "cross_entropy")
    first = model.train_on_batch(x, y)
    for _ in range(20):
        last = model.train_on_batch(x, y)
    assert last < first


def test_fit_on_a_data_loader_and_a_dataset():
    x, y = blobs(n=96)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
    model = Model(mlp()).compile("adam", "cross_entropy", metrics=["accuracy"])
    history = model.fit(loader, epochs=3, validation_data=DataLoader(TensorDataset(x, y), batch_size=50), verbose=0)
    assert len(history.history["val_loss"]) == 3
    assert model.evaluate(TensorDataset(x, y), return_dict=True)["accuracy"] == pytest.approx(
        history.history["val_accuracy"][-1])
    assert model.predict(loader).shape == (96, 3)


def test_fit_with_several_inputs():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 4), nn.Linear(3, 4)

        def forward(self, u, v):
            return self.a(u) + self.b(v)

    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(20, 2)).astype(np.float32), rng.normal(size=(20, 3)).astype(np.float32)
    target = rng.normal(size=(20, 4)).astype(np.float32)
    model = Model(Pair()).compile(optimizers.sgd(lr=0.1), "mse")
    history = model.fit((u, v), target, batch_size=5, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict((u, v)).shape == (20, 4)


def test_regression_targets_of_shape_n_take_the_output_shape():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], dtype=np.float32)  # (N,), the model outputs (N, 1)
    model = Model(nn.Linear(3, 1)).compile(optimizers.sgd(lr=0.1), "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 1e-3


def test_float64_inputs_are_cast_to_the_model_dtype():
    x, y = blobs(n=16)
    model = Model(mlp()).compile("sgd", "cross_entropy")
    model.fit(x.astype(np.float64), y, epochs=1, verbose=0)
    assert all(p.dtype == np.float32 for p in model.module.parameters())


def test_stop_training_from_a_callback_ends_after_the_batch():
    x, y = blobs(n=64)
    seen = []

    def stop(batch, logs):
        seen.append(batch)
        if batch == 1:
            model.stop_training = True

    model = Model(mlp()).compile("sgd", "cross_entropy")
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0,
                        callbacks=[callbacks.LambdaCallback(on_train_batch_end=stop)])
    assert seen == [0, 1] and history.epoch == [0]


def test_validation_freq_and_initial_epoch():
    x, y = blobs(n=64)
    model = Model(mlp()).compile("sgd", "cross_entropy")
    history = model.fit(x, y, epochs=5, initial_epoch=1, validation_data=(x, y), validation_freq=2, verbose=0)
    assert history.epoch == [1, 2, 3, 4]
    val = history.history["val_loss"]
    assert [np.isnan(v) for v in val] == [False, True, False, True]  # Keras: when (epoch + 1) % freq == 0


def test_same_seed_same_run():
    x, y = blobs(n=64)
    runs = []
    for _ in range(2):
        ember.manual_seed(3)
        model = Model(mlp(dropout=0.2)).compile("adam", "cross_entropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        runs.append(weights_of(model))
    assert same_weights(*runs)


# ---------------------------------------------------------------------- weights
def test_class_weight_scales_each_items_loss_like_keras():
    x, y = blobs(n=12)
    model = Model(mlp()).compile(optimizers.sgd(lr=0.0), "cross_entropy")
    history = model.fit(x, y, batch_size=12, epochs=1, verbose=0, shuffle=False, class_weight={0: 1.0, 1: 3.0})
    per_item = nn.CrossEntropyLoss(reduction="none")(model(ember.tensor(x)), ember.tensor(y)).numpy()
    weights = np.array([1.0, 3.0, 1.0])[y]
    assert history.history["loss"][0] == pytest.approx(float((per_item * weights).mean()), rel=1e-5)


def test_class_weight_with_one_hot_targets_and_sample_weight():
    x, y = blobs(n=12)
    onehot = to_categorical(y, 3)
    sample = np.linspace(0.5, 2.0, 12)
    model = Model(mlp()).compile(optimizers.sgd(lr=0.0), "cross_entropy")
    history = model.fit(x, onehot, batch_size=12, epochs=1, verbose=0, shuffle=False, class_weight={2: 0.5},
                        sample_weight=sample)
    per_item = nn.CrossEntropyLoss(reduction="none")(model(ember.tensor(x)), ember.tensor(onehot)).numpy()
    weights = np.array([1.0, 1.0, 0.5])[y] * sample
    assert history.history["loss"][0] == pytest.approx(float((per_item * weights).mean()), rel=1e-5)


def test_class_weight_shifts_the_decision_towards_the_heavy_class():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(np.int64)
    counts = []
    for weight in (None, {0: 1.0, 1: 10.0}):
        ember.manual_seed(0)
        model = Model(nn.Linear(2, 2)).compile("adam", "cross_entropy")
        model.fit(x, y, epochs=20, verbose=0, class_weight=weight, seed=0)
        counts.append(int((model.predict(x).argmax(1) == 1).sum()))
    assert counts[1] > counts[0] + 20


# ---------------------------------------------------------------------- bad input, before any training
@pytest.mark.parametrize("make_call, message", [
    (lambda m, x, y: m.fit(x, y[:-5]), "x and y have different numbers of samples: x has 60, y has 55"),
    (lambda m, x, y: m.fit(x, np.where(np.arange(60) == 17, 12, y)),
     r"labels must be class indices in \[0, 3\) for a model with 3 outputs.*y\[17\] = 12"),
    (lambda m, x, y: m.fit(x, y - 1), r"labels must be class indices in \[0, 3\).*\[-1, -1\]"),
    (lambda m, x, y: m.fit(x[:, :3], y), r"the model cannot run on the data.*Linear.*784|the model cannot run"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x, y + 5)), r"validation data.*labels must be class indices"),
    (lambda m, x, y: m.fit(x, y.astype(np.float32)), "the loss .* fails on the first batch"),
    (lambda m, x, y: m.fit(x, y, batch_size=0), "batch_size must be a positive int"),
    (lambda m, x, y: m.fit(x[:0], y[:0]), "got no samples"),
    (lambda m, x, y: m.fit(x, y, validation_split=0.999), "leaves no training samples"),
    (lambda m, x, y: m.fit(x, y, class_weight={0: 1.0, "a": 2}), "class_weight keys must be class indices"),
])
def test_bad_fit_input_fails_before_any_training(make_call, message):
    x, y = blobs(n=60)
    model = Model(mlp()).compile("sgd", "cross_entropy", metrics=["accuracy"])
    before = weights_of(model)
    with pytest.raises(ValueError, match=message):
        make_call(model, x, y)
    assert same_weights(before, weights_of(model))
    assert model.optimizer.state == {}  # not a single step was taken


def test_unknown_names_fail_at_compile_with_a_suggestion():
    model = Model(mlp())
    with pytest.raises(ValueError, match=r"unknown loss 'categorical_crossentropyy'.*'categorical_crossentropy'"):
        model.compile("adam", "categorical_crossentropyy")
    with pytest.raises(ValueError, match=r"unknown optimizer 'adma'.*'adam'"):
        model.compile("adma", "mse")
    with pytest.raises(ValueError, match=r"unknown metric 'acuracy'.*'accuracy'"):
        model.compile("adam", "mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="a loss is required"):
        model.compile("adam")
    assert not model.compiled


def test_fit_before_compile_and_foreign_optimizer():
    model = Model(mlp())
    with pytest.raises(RuntimeError, match="call model.compile"):
        model.fit(*blobs(n=8))
    with pytest.raises(ValueError, match="holds none of"):
        model.compile(optim.SGD(mlp().parameters(), lr=0.1), "mse")
    with pytest.raises(TypeError, match="expected an ember.nn.Module"):
        Model(lambda x: x)


def test_binary_targets_outside_0_1_are_an_error():
    x, y = blobs(n=20)
    model = Model(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())).compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"binary cross-entropy needs targets in \[0, 1\], but y holds values in \[0, 2\]"):
        model.fit(x, y, verbose=0)
    model.fit(x, (y == 1).astype(np.int64), epochs=1, verbose=0)  # (N,) 0/1 integers of an (N, 1) output


def test_probabilities_loss_given_logits_is_an_error():
    x, y = blobs(n=20)
    model = Model(mlp()).compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="expects probabilities.*Softmax"):
        model.fit(x, y, verbose=0)


# ---------------------------------------------------------------------- the lectures' Keras CIFAR-10 program
def test_keras_cifar10_program_line_for_line_runs_and_its_loss_falls():
    from ember.train import optimizers as keras_like_optimizers

    batch_size = 32
    num_classes = 10
    epochs = 3

    # cifar10.load_data() stand-in: random images of the right shape, labels that the pixels reveal.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, num_classes, 96)
    images = (rng.random((96, 3, 32, 32)) * 100 + labels[:, None, None, None] * 15).astype("uint8")
    (x_train, y_train), (x_test, y_test) = (images[:64], labels[:64]), (images[64:], labels[64:])

    y_train = to_categorical(y_train, num_classes)
    y_test = to_categorical(y_test, num_classes)

    model = nn.Sequential()
    model.add(nn.Conv2d(3, 32, 3, padding="same"))
    model.add(nn.ReLU())
    model.add(nn.Conv2d(32, 32, 3))
    model.add(nn.ReLU())
    model.add(nn.MaxPool2d(2))
    model.add(nn.Dropout(0.25))

    model.add(nn.Conv2d(32, 64, 3, padding="same"))
    model.add(nn.ReLU())
    model.add(nn.Conv2d(64, 64, 3))
    model.add(nn.ReLU())
    model.add(nn.MaxPool2d(2))
    model.add(nn.Dropout(0.25))

    model.add(nn.Flatten())
    model.add(nn.Linear(64 * 6 * 6, 512))
    model.add(nn.ReLU())
    model.add(nn.Dropout(0.5))
    model.add(nn.Linear(512, num_classes))
    model.add(nn.Softmax(dim=1))
    model = Model(model)

    opt = keras_like_optimizers.rmsprop(lr=0.0001, decay=1e-6)

    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])

    x_train = x_train.astype("float32")
    x_test = x_test.astype("float32")
    x_train /= 255
    x_test /= 255

    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_test, y_test),
                        shuffle=True, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 0.01
    assert history.history["lr"][-1] == pytest.approx(1e-4 / (1 + 1e-6 * 6))  # Keras decay: 6 batches
    assert "Total params: 1,250,858" in model.summary(print_fn=None)


# ---------------------------------------------------------------------- checkpoints and resumption
def _resumable_run(tmp_path, epochs, stop_after=None, restore=None):
    """Build, compile and fit a dropout MLP with shuffling, Adam + decay and early stopping."""
    ember.manual_seed(7)
    x, y = blobs(n=80)
    model = Model(mlp(dropout=0.3)).compile(optimizers.adam(lr=0.01, decay=0.01), "cross_entropy",
                                             metrics=["accuracy"])
    if restore is not None:
        model.load_checkpoint(restore)
    stopper = callbacks.EarlyStopping("val_loss", patience=50)
    saver = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.safetensors"))
    history = model.fit(x, y, batch_size=16, epochs=stop_after or epochs, validation_split=0.25, verbose=0,
                        callbacks=[saver, stopper])
    return model, history, stopper


def test_checkpoint_resumes_to_the_same_result_as_an_uninterrupted_run(tmp_path):
    full, full_history, full_stopper = _resumable_run(tmp_path / "a", epochs=5)
    _resumable_run(tmp_path / "b", epochs=5, stop_after=2)  # "interrupted" after epoch 2
    resumed, resumed_history, resumed_stopper = _resumable_run(tmp_path / "c", epochs=5,
                                                               restore=tmp_path / "b" / "ckpt-2.safetensors")
    assert resumed_history.epoch == [0, 1, 2, 3, 4]  # the history before the interruption came back
    assert same_weights(weights_of(full), weights_of(resumed))
    for key in full_history.history:
        np.testing.assert_array_equal(full_history.history[key], resumed_history.history[key])
    assert (resumed_stopper.best, resumed_stopper.wait) == (full_stopper.best, full_stopper.wait)
    assert resumed.optimizer.state_dict()["state"][0]["step"] == full.optimizer.state_dict()["state"][0]["step"]


def test_backup_and_restore_continues_after_a_crash(tmp_path):
    x, y = blobs(n=48)

    class Crash(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    def run(extra):
        ember.manual_seed(1)
        model = Model(mlp(dropout=0.2)).compile("adam", "cross_entropy")
        model.fit(x, y, batch_size=8, epochs=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")] + extra)
        return model

    ember.manual_seed(1)
    reference = Model(mlp(dropout=0.2)).compile("adam", "cross_entropy")
    reference.fit(x, y, batch_size=8, epochs=4, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        run([Crash()])
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["backup-00000002.safetensors"]
    resumed = run([])
    assert same_weights(weights_of(reference), weights_of(resumed))
    assert not (tmp_path / "backup").exists()  # a finished run removes its backup


def test_weights_only_files_and_load_into_a_fresh_model(tmp_path):
    x, y = blobs(n=32)
    model = Model(mlp()).compile("adam", "cross_entropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.save_weights(tmp_path / "w.safetensors")
    model.save_checkpoint(tmp_path / "c.safetensors", epoch=2)
    for name in ("w.safetensors", "c.safetensors"):
        other = Model(mlp())
        other.load_weights(tmp_path / name)
        np.testing.assert_array_equal(other.predict(x), model.predict(x))
    fresh = Model(mlp())
    checkpoint = fresh.load_checkpoint(tmp_path / "c.safetensors")  # uncompiled: weights only
    assert checkpoint.epoch == 2
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


# ---------------------------------------------------------------------- real data (the check)
def test_mnist_mlp_reaches_under_3_percent_test_error_in_2_epochs():
    from ember.data import load_mnist

    if not os.path.isdir(os.path.join(os.environ["EMBER_DATA"], "mnist")):
        pytest.skip("MNIST not found in $EMBER_DATA")
    (x_train, y_train), (x_test, y_test) = load_mnist()
    mean, std = 0.1307, 0.3081  # normalise the inputs, as the lectures advise
    x_train = (x_train.reshape(-1, 784).astype("float32") / 255 - mean) / std
    x_test = (x_test.reshape(-1, 784).astype("float32") / 255 - mean) / std
    ember.manual_seed(0)
    model = Model(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)))
    model.compile(optimizers.adam(lr=2e-3), "cross_entropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0)
    error = 1.0 - model.evaluate(x_test, y_test, batch_size=1000, return_dict=True)["accuracy"]
    assert error < 0.03
