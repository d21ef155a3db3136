"""Nested state as JSON plus named arrays: exact round trips, no pickle."""
import json
import math

import numpy as np
import pytest

import ember
from ember.io.tree import flatten, unflatten


def _round_trip(obj):
    skeleton, arrays = flatten(obj, "p/")
    text = json.dumps(skeleton, allow_nan=False)  # strict JSON: no NaN literals
    return unflatten(json.loads(text), arrays, "test")


def test_optimizer_like_state_round_trips_exactly():
    state = {"state": {0: {"step": 3, "exp_avg": np.arange(4.0, dtype=np.float32)},
                       1: {"step": 3, "momentum_buffer": None}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}]}
    back = _round_trip(state)
    assert back["state"][1] == {"step": 3, "momentum_buffer": None}
    assert back["param_groups"] == state["param_groups"]
    assert isinstance(back["param_groups"][0]["betas"], tuple)
    assert back["state"][0]["exp_avg"].dtype == np.float32
    np.testing.assert_array_equal(back["state"][0]["exp_avg"], state["state"][0]["exp_avg"])


def test_special_values():
    big = 2**127 + 12345  # PCG64's state words are 128-bit
    obj = {"inf": math.inf, "ninf": -math.inf, "nan": math.nan, "big": big, "tuple_key": {(1, 2): "a"},
           "scalar": np.float32(1.5), "int_scalar": np.int64(7), "tensor": ember.ones(2), "nested": [[1, (2,)]],
           "tag_like": {"__tuple__": 1}, "unicode": "é"}
    back = _round_trip(obj)
    assert back["inf"] == math.inf and back["ninf"] == -math.inf and math.isnan(back["nan"])
    assert back["big"] == big
    assert back["tuple_key"] == {(1, 2): "a"}
    assert back["scalar"] == np.float32(1.5) and type(back["scalar"]) is np.float32
    assert type(back["int_scalar"]) is np.int64
    assert isinstance(back["tensor"], ember.Tensor) and back["tensor"].tolist() == [1.0, 1.0]
    assert back["nested"] == [[1, (2,)]]
    assert back["tag_like"] == {"__tuple__": 1}
    assert back["unicode"] == "é"


def test_rng_state_round_trips():
    ember.manual_seed(3)
    ember.randn(5)
    state = ember.get_rng_state()
    expected = ember.randn(4).numpy()
    ember.set_rng_state(_round_trip(state))
    np.testing.assert_array_equal(ember.randn(4).numpy(), expected)


def test_colliding_names_get_distinct_arrays():
    skeleton, arrays = flatten({1: np.zeros(1), "1": np.ones(1)}, "")
    assert len(arrays) == 2
    back = unflatten(skeleton, arrays)
    assert back[1][0] == 0 and back["1"][0] == 1


def test_objects_that_would_need_pickle_are_refused():
    with pytest.raises(TypeError, match=r'optimizer: cannot save opt\["state"\]\["fn"\], a object'):
        flatten({"state": {"fn": object()}}, "opt/", root="opt", op="optimizer")
    with pytest.raises(TypeError, match="nothing is pickled"):
        flatten({"f": lambda: 0}, "")


def test_bytes_ordered_dicts_and_numpy_floats_keep_their_types():
    from collections import OrderedDict

    obj = OrderedDict([("b", b"\x00raw"), ("f", np.float64(0.25)), ("nested", OrderedDict([(2, "x")]))])
    back = _round_trip(obj)
    assert type(back) is OrderedDict and list(back) == ["b", "f", "nested"]
    assert back["b"] == b"\x00raw" and type(back["f"]) is np.float64 and back["nested"] == {2: "x"}
    assert type(back["nested"]) is OrderedDict


def test_tensor_names_avoid_the_reserved_metadata_key():
    _, arrays = flatten({"__metadata__": np.ones(1)}, "")
    assert list(arrays) == ["__metadata__~1"]
    _, arrays = flatten(np.ones(1), "")
    assert list(arrays) == ["tensor"]


def test_dangling_reference_is_reported():
    with pytest.raises(ValueError, match="file.safetensors: the header refers to tensor 'x'"):
        unflatten({"__array__": "x"}, {}, "file.safetensors")
