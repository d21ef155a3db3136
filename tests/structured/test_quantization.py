"""Fixed-point and dynamic fixed-point fake quantization (Courbariaux, David & Bengio, 2015)."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.errors import ArgumentError
from ember.quantization import (DynamicFixedPoint, QuantizedUpdates, QuantizePropagation, fixed_point,
                                fixed_point_max, overflow_rate)


def test_exact_values_rounding_and_saturation():
    x = ember.tensor([0.0, 0.124, 0.126, 0.375, 0.625, -0.3, 1.7, 1.75, 1.9, -5.0], dtype="float64")
    # integer_bits=1, fraction_bits=3: steps of 1/8, largest 2 - 1/8 = 1.875
    expected = [0.0, 0.125, 0.125, 0.375, 0.625, -0.25, 1.75, 1.75, 1.875, -1.875]
    assert fixed_point(x, 1, 3).tolist() == expected
    # ties go to even multiples of the step, as torch.round
    ties = ember.tensor([0.0625, 0.1875, -0.0625], dtype="float64")
    assert fixed_point(ties, 1, 3).tolist() == [0.0, 0.25, -0.0]
    assert fixed_point_max(1, 3) == 1.875 and fixed_point_max(-2, 6) == 0.234375


def test_negative_and_large_integer_bits():
    x = ember.tensor([0.1, 0.3, 100.0])
    assert fixed_point(x, -1, 4).tolist() == [0.125, 0.3125, 0.4375]    # steps 1/16, max 1/2 - 1/16
    assert fixed_point(x, 6, -2).tolist() == [0.0, 0.0, 60.0]           # steps of 4, max 64 - 4
    assert fixed_point(ember.tensor([61.0, 70.0]), 6, -2).tolist() == [60.0, 60.0]


def test_keeps_dtype_and_is_idempotent():
    x = ember.randn(100)
    q = fixed_point(x, 2, 5)
    assert q.dtype == x.dtype
    np.testing.assert_array_equal(fixed_point(q, 2, 5).numpy(), q.numpy())
    assert np.abs(q.numpy() - np.clip(x.numpy(), -4 + 1 / 32, 4 - 1 / 32)).max() <= 1 / 64 + 1e-7


def test_straight_through_gradients():
    x = ember.tensor([0.3, -0.7, 9.0, -9.0], requires_grad=True)
    g = ember.tensor([1.0, 2.0, 3.0, 4.0])
    (fixed_point(x, 1, 2) * g).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 4.0]
    x.grad = None
    (fixed_point(x, 1, 2, ste="clipped") * g).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 0.0]


def test_overflow_rate_counts_the_bound():
    x = np.array([0.5, 0.96875, 0.99, -2.0])          # max of (0, 5) is 1 - 1/32 = 0.96875
    assert overflow_rate(x, 0, 5) == 0.75
    assert overflow_rate(ember.tensor(x), 1, 4) == 0.25


def test_dynamic_exponent_follows_overflow_statistics():
    fmt = DynamicFixedPoint(width=8, integer_bits=0, max_overflow=0.1)
    # max at integer_bits 0 is 1 - 2**-8; at -1 it is 0.5 - 2**-9
    fmt.observe(np.array([0.1] * 8 + [2.0, 3.0]))        # 20% overflow > 10%: grow
    assert (fmt.overflow_rate, fmt.update(), fmt.integer_bits, fmt.fraction_bits) == (0.2, 1, 1, 7)
    fmt.observe(np.array([0.1] * 9 + [1.5]))               # 0% now; with 0 bits 10%, not above 10%: shrink
    assert (fmt.overflow_rate, fmt.overflow_rate_one_fewer, fmt.update()) == (0.0, 0.1, -1)
    fmt.observe(np.array([0.1] * 8 + [0.7, 0.8]))          # 0% now but 20% with one bit fewer: keep
    assert (fmt.update(), fmt.integer_bits) == (0, 0)
    fmt.observe(np.array([0.01] * 10))                     # far inside: shrink again
    assert (fmt.update(), fmt.integer_bits, fmt.fraction_bits) == (-1, -1, 9)
    assert fmt.update() == 0 and fmt.seen == 0            # nothing observed: keep


def test_dynamic_statistics_accumulate_and_update_every():
    fmt = DynamicFixedPoint(width=6, integer_bits=0, max_overflow=0.3, update_every=2)
    fmt.quantize(ember.tensor([5.0, 0.1]))                 # 1 of 2 overflows
    assert fmt.integer_bits == 0 and fmt.seen == 2
    fmt.quantize(ember.tensor([0.1, 0.1]))                 # 1 of 4 = 25% <= 30% ...
    # ... and with one bit fewer (max 0.5 - 1/128) still 1 of 4: shrink
    assert fmt.integer_bits == -1 and fmt.seen == 0


def test_dynamic_quantize_grows_until_values_fit():
    fmt = DynamicFixedPoint(width=10, integer_bits=0, max_overflow=0.0, update_every=1)
    x = ember.tensor([37.0, -12.5, 0.25])
    for _ in range(8):
        fmt.quantize(x)
    assert fmt.integer_bits == 6                           # 2**6 - 2**-4 > 37 > 2**5 - 2**-5
    assert fmt.quantize(x).tolist() == [37.0, -12.5, 0.25]


def test_propagation_quantizes_activations_and_gradients_separately():
    act = DynamicFixedPoint(4, integer_bits=2)                  # steps 1/4, max 3.75
    grad = DynamicFixedPoint(6, integer_bits=-1)                # steps 1/128, max 0.5 - 1/128
    q = QuantizePropagation(act, grad)
    x = ember.tensor([0.3, 5.0, -1.1], requires_grad=True)
    y = q(x)
    assert y.tolist() == [0.25, 3.75, -1.0]
    (y * ember.tensor([0.01, 0.2, -3.0])).sum().backward()
    assert x.grad.tolist() == [0.0078125, 0.203125, -0.4921875]
    assert (act.seen, grad.seen, grad.overflows) == (3, 3, 1)
    q.update_scales()
    # each format saw one overflow in three (5.0 forward, -3.0 backward): both ranges grow
    assert (act.integer_bits, grad.integer_bits) == (3, 0)


def test_quantized_updates_keep_parameters_on_their_grid():
    ember.manual_seed(0)
    layer = nn.Linear(4, 3)
    opt = QuantizedUpdates(ember.optim.SGD(layer.parameters(), lr=0.05), width=8, integer_bits=0,
                           max_overflow=0.0)
    x, y = ember.randn(16, 4), ember.randn(16, 3)
    for _ in range(5):
        bits = {id(p): opt.format_of(p).fraction_bits for p in layer.parameters()}
        opt.zero_grad()
        nn.functional.mse_loss(layer(x), y).backward()
        opt.step()
        for p in layer.parameters():
            scaled = p.numpy().astype(np.float64) * 2 ** bits[id(p)]
            np.testing.assert_array_equal(scaled, np.round(scaled))
            assert np.abs(p.numpy()).max() <= fixed_point_max(8 - bits[id(p)], bits[id(p)])
    state = opt.state_dict()
    assert len(state["integer_bits"]) == 2 and state["steps"] == 5


def test_quantized_updates_move_the_scale_of_large_parameters():
    p = nn.Parameter(ember.tensor([3.0, -0.5]))
    opt = QuantizedUpdates(ember.optim.SGD([p], lr=0.0), width=8, integer_bits=0, max_overflow=0.0)
    p.grad = ember.zeros(2)
    opt.step()
    assert p.tolist() == [255 / 256, -0.5] and opt.format_of(p).integer_bits == 1


@pytest.mark.parametrize("call, match", [
    (lambda: fixed_point(ember.ones(2), 0, 0), r"fixed_point: the format needs at least one magnitude bit"),
    (lambda: fixed_point(ember.ones(2), 1.5, 2), r"fixed_point: integer_bits and fraction_bits must be integers"),
    (lambda: fixed_point(ember.ones(2), 1, 2, ste="tanh"), r"fixed_point: ste must be one of"),
    (lambda: DynamicFixedPoint(0), r"DynamicFixedPoint: width must be a positive integer"),
    (lambda: DynamicFixedPoint(8, max_overflow=1.5), r"max_overflow must lie in \[0, 1\)"),
])
def test_errors(call, match):
    with pytest.raises(ArgumentError, match=match):
        call()
