"""Flatten and Unflatten against PyTorch, and their errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients, normal

CASES = [
    LayerCase("Flatten", lambda: nn.Flatten(), lambda t: t.nn.Flatten(), lambda r: [normal(2, 3, 2, 2)(r)]),
    LayerCase("Flatten-middle", lambda: nn.Flatten(1, 2), lambda t: t.nn.Flatten(1, 2),
              lambda r: [normal(2, 3, 2, 2)(r)]),
    LayerCase("Unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda t: t.nn.Unflatten(1, (2, 3)),
              lambda r: [normal(2, 6)(r)]),
    LayerCase("Unflatten-minus-one", lambda: nn.Unflatten(-1, (-1, 2)), lambda t: t.nn.Unflatten(-1, (-1, 2)),
              lambda r: [normal(2, 6)(r)]),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


def test_flatten_then_unflatten_round_trips():
    x = ember.randn(4, 1, 28, 28)
    y = nn.Unflatten(1, (1, 28, 28))(nn.Flatten()(x))
    np.testing.assert_array_equal(y.numpy(), x.numpy())


def test_unflatten_size_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"Unflatten: cannot split dimension 1 of shape \(2, 7\)"):
        nn.Unflatten(1, (2, 3))(ember.zeros(2, 7))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
