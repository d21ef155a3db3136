"""``ember.io.serialization``: PyTorch's ``torch.serialization`` allow-list API over Ember's loader."""
from __future__ import annotations

import io

import pytest

import ember
from ember.io import serialization


@pytest.fixture(autouse=True)
def _clean():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


def test_safe_globals_block_records_then_restores_and_load_works():
    buffer = io.BytesIO()
    layer = ember.nn.Linear(2, 3)
    serialization.save(layer.state_dict(), buffer)
    buffer.seek(0)
    with serialization.safe_globals([ember.nn.Linear, ember.nn.LSTM]):
        assert serialization.get_safe_globals() == [ember.nn.Linear, ember.nn.LSTM]
        state = serialization.load(buffer)
    assert serialization.get_safe_globals() == []
    fresh = ember.nn.Linear(2, 3)
    fresh.load_state_dict(state)
    assert fresh.weight.numpy().tolist() == layer.weight.numpy().tolist()


def test_add_safe_globals_and_a_whole_module_is_still_refused():
    serialization.add_safe_globals([ember.nn.Linear])
    assert serialization.get_safe_globals() == [ember.nn.Linear]
    with pytest.raises(TypeError, match="add_safe_globals: expected a list"):
        serialization.add_safe_globals(ember.nn.Linear)
    with pytest.raises(Exception, match="(?i)state_dict|module|pickle"):
        serialization.save(ember.nn.Linear(2, 3), io.BytesIO())
