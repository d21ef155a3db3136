"""The limited-precision maxout networks: each precision mode really rounds, and still trains."""
import numpy as np
import pytest

import ember
from ember.errors import ArgumentError, ShapeError
from ember.models.maxout import (FixedFormat, LimitedPrecision, MaxoutConvNet, MaxoutMLP, calibrate_ranges,
                                 error_rate, paper_loss, paper_optimizer, paper_schedule, round_to_half,
                                 train_epoch)
from ember.quantization import DynamicFixedPoint


def _on_grid(values: np.ndarray, fraction_bits: int) -> bool:
    scaled = values.astype(np.float64) * 2.0 ** fraction_bits
    return bool(np.all(scaled == np.round(scaled)))


def _on_format(values: np.ndarray, fmt) -> bool:
    if fmt is None:
        return False
    if isinstance(fmt, (DynamicFixedPoint, FixedFormat)):
        return _on_grid(values, fmt.fraction_bits) and \
            np.abs(values).max() <= 2.0 ** fmt.integer_bits
    return bool(np.array_equal(values, values.astype(np.float16).astype(np.float32)))


def _small(mode: str, update_every: int = 5) -> MaxoutMLP:
    ember.manual_seed(0)
    return MaxoutMLP(LimitedPrecision(mode, update_every=update_every), in_features=20, hidden=16, pieces=3)


def _data(n: int = 200):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 20)).astype(np.float32) * 0.5
    y = (x[:, :10].sum(1) > 0).astype(np.int64) + 2 * (x[:, 10:].sum(1) > 0)
    return ember.tensor(x), ember.tensor(y)


def test_round_to_half_matches_numpy_cast_on_ties_subnormals_and_overflow():
    halves = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)
    ties = ((halves[:-1].astype(np.float64) + halves[1:]) / 2).astype(np.float32)
    x = np.concatenate([halves, ties, -ties, [65519.0, 65520.0, 1e6, -1e6, 1e-9, -3e-8, 0.0]]).astype(np.float32)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(round_to_half(x), x.astype(np.float16).astype(np.float32))


@pytest.mark.parametrize("mode", ["float16", "fixed", "dynamic"])
def test_parameters_stay_on_their_storage_grid_after_a_step(mode):
    model, (x, y) = _small(mode), _data(32)
    optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        paper_loss(model(x), y).backward()
        optimizer.step()
    for p in model.parameters():
        values = p.numpy()
        if mode == "float16":
            assert np.array_equal(values, values.astype(np.float16).astype(np.float32))
        elif mode == "fixed":
            assert _on_grid(values, 14) and not _on_grid(values[values != 0], 10)
        else:
            fmt = optimizer.format_of(p)
            assert fmt.width == 11 and _on_grid(values, fmt.fraction_bits)


def test_float32_does_not_round():
    model, (x, y) = _small("float32"), _data(32)
    optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    optimizer.zero_grad()
    paper_loss(model(x), y).backward()
    optimizer.step()
    weights = model.layers[0].maxout.linear.weight.numpy()
    assert not _on_grid(weights, 14) and not np.array_equal(weights, weights.astype(np.float16).astype(np.float32))


@pytest.mark.parametrize("mode", ["float16", "fixed", "dynamic"])
def test_activations_forward_and_gradients_backward_are_on_the_grid(mode):
    model, (x, y) = _small(mode), _data(32)
    model.train()
    layer = model.layers[0]
    out = layer(x)
    assert _on_format(out.numpy(), layer.y_rounding.activation)
    assert not _on_format(layer.maxout(x).numpy(), layer.y_rounding.activation) or mode == "float16"
    paper_loss(model(x), y).backward()
    for layer in model.layers:
        weight = layer.maxout.linear.weight if hasattr(layer, "maxout") else layer.linear.weight
        assert _on_format(weight.grad.numpy(), layer.weight_grad_format)


def test_dynamic_radix_points_move_with_overflows_and_evaluation_does_not_count():
    model, (x, y) = _small("dynamic", update_every=1), _data(64)
    optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    grad_format = model.layers[0].weight_grad_format
    assert grad_format.integer_bits == 5
    train_epoch(model, optimizer, x, y, batch_size=16, generator=np.random.default_rng(0))
    assert grad_format.integer_bits < 5            # the small gradients pulled the radix point down
    seen = model.layers[0].y_rounding.activation.seen
    error_rate(model, x, y)
    assert model.layers[0].y_rounding.activation.seen == seen


@pytest.mark.parametrize("mode", ["float32", "float16", "fixed", "dynamic"])
def test_tiny_training_reduces_the_loss(mode):
    model, (x, y) = _small(mode), _data(200)
    optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    generator = np.random.default_rng(0)
    if mode == "dynamic":
        calibrate_ranges(model, optimizer, x, y, batch_size=20, epochs=2, generator=generator)
    model.eval()
    before = float(paper_loss(model(x), y).item())
    for _ in range(8):
        train_epoch(model, optimizer, x, y, batch_size=20, generator=generator)
    model.eval()
    after = float(paper_loss(model(x), y).item())
    assert after < 0.8 * before, (mode, before, after)


def test_calibration_restores_widths_and_parameters():
    model, (x, y) = _small("dynamic"), _data(40)
    optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    start = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    calibrate_ranges(model, optimizer, x, y, batch_size=20, epochs=1)
    assert {f.width for f in model.formats()} == {9}
    assert {f.width for f in optimizer.formats.values()} == {11}
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), start[k])


def test_max_norm_caps_each_unit():
    model, (x, y) = _small("float32"), _data(32)
    optimizer = paper_optimizer(model, lr=50.0, momentum=0.5)
    optimizer.zero_grad()
    paper_loss(model(x), y).backward()
    optimizer.step()
    # The zero-initialised softmax layer is the only one with a gradient on the first step.
    norms = np.linalg.norm(model.layers[-1].linear.weight.numpy(), axis=1)
    assert norms.max() <= 1.9365 + 1e-4 and norms.max() > 1.9


def test_conv_net_shapes_and_rounding():
    ember.manual_seed(0)
    model = MaxoutConvNet("fixed")
    optimizer = paper_optimizer(model, lr=0.02, momentum=0.5)
    x, y = ember.rand(2, 1, 28, 28), ember.tensor([3, 7])
    logits = model(x)
    assert logits.shape == (2, 10) and _on_grid(logits.numpy(), 14)
    paper_loss(logits, y).backward()
    optimizer.step()
    assert all(_on_grid(p.numpy(), 14) for p in model.parameters())
    assert all(p.grad is not None for p in model.parameters())


def test_schedule_is_the_authors_linear_ramps():
    assert paper_schedule(0, 800, 0.05) == pytest.approx((0.05, 0.5))
    assert paper_schedule(200, 800, 0.05) == pytest.approx((0.05 - 0.045 * 0.5, 0.7))
    assert paper_schedule(400, 800, 0.05) == pytest.approx((0.005, 0.7))
    assert paper_schedule(799, 800, 0.05) == pytest.approx((0.005, 0.7))


def test_errors_name_the_model_and_sizes():
    with pytest.raises(ShapeError, match=r"MaxoutMLP: expected inputs with 784 features, got shape \(2, 100\)"):
        MaxoutMLP()(ember.zeros(2, 100))
    with pytest.raises(ShapeError, match=r"MaxoutConvNet: expected images \(N, 1, 28, 28\), got shape \(2, 1, 32, 32\)"):
        MaxoutConvNet()(ember.zeros(2, 1, 32, 32))
    with pytest.raises(ArgumentError, match="LimitedPrecision: precision must be one of"):
        MaxoutMLP("int8")
