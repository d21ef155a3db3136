"""Callback plumbing: hook order, LambdaCallback, checkpoint writers last, state dicts."""
import pytest

from ember.train.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
)


def test_lambda_callback_and_hook_aliases():
    calls = []
    callback = LambdaCallback(on_train_begin=lambda logs=None: calls.append("begin"),
                              on_batch_end=lambda batch, logs: calls.append(("batch", batch)))
    callbacks = CallbackList([callback])
    callbacks.on_train_begin()
    callbacks.on_train_batch_end(3, {})
    callbacks.on_epoch_end(0, {})  # not overridden: a no-op
    assert calls == ["begin", ("batch", 3)]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="wrap a function in LambdaCallback"):
        CallbackList([print])
    with pytest.raises(AttributeError):
        _ = callbacks.on_something


def test_checkpoint_writers_run_after_the_others(tmp_path):
    writer = ModelCheckpoint(tmp_path / "x.safetensors")
    first, second = Callback(), EarlyStopping()
    callbacks = CallbackList([writer, first, second], model="m", params={"epochs": 1})
    assert callbacks.callbacks == [first, second, writer]
    assert first.model == "m" and writer.params == {"epochs": 1}


def test_state_dicts_are_keyed_by_class_and_repeat():
    a, b = EarlyStopping(patience=1), EarlyStopping(patience=2)
    a.wait, b.wait = 1, 2
    states = CallbackList([Callback(), a, b]).state_dict()
    assert sorted(states) == ["EarlyStopping", "EarlyStopping#1"]
    c, d = EarlyStopping(), EarlyStopping()
    CallbackList([c, d]).load_state_dict(states)
    assert (c.wait, d.wait) == (1, 2)
