"""Copy and repeat-copy generators: layout of inputs and targets, seeding, length draws, the repeat-count channel
and the errors for bad sizes."""
import numpy as np
import pytest

from ember.data.algorithmic import (
    MAX_LENGTH,
    copy_batch,
    random_copy_batch,
    random_repeat_copy_batch,
    repeat_copy_batch,
    repeat_count_channel,
)
from ember.errors import ArgumentError


def test_copy_layout_sequence_delimiter_then_blank_output_phase():
    batch = copy_batch(np.random.default_rng(0), batch_size=4, length=6, bits=8)
    x, y = batch.inputs, batch.targets
    assert x.shape == (4, 13, 9) and y.shape == (4, 6, 8)
    assert x.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(x[:, :6, :8], y)           # the targets are the presented vectors
    assert (x[:, :6, 8] == 0).all() and (x[:, 6, 8] == 1).all() and (x[:, 6, :8] == 0).all()
    assert (x[:, 7:] == 0).all()                              # nothing is shown while the model answers
    assert set(np.unique(y)) == {0.0, 1.0} and 0.3 < y.mean() < 0.7


def test_same_seed_same_batches_and_lengths_are_drawn_in_range():
    a = random_copy_batch(np.random.default_rng(7), 3, 1, 20)
    b = random_copy_batch(np.random.default_rng(7), 3, 1, 20)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    rng = np.random.default_rng(1)
    lengths = {random_copy_batch(rng, 1, 1, 20).targets.shape[1] for _ in range(400)}
    assert lengths == set(range(1, 21))


def test_repeat_copy_layout_count_channel_and_end_marker():
    batch = repeat_copy_batch(np.random.default_rng(2), batch_size=2, length=3, repeats=4, bits=5)
    x, y = batch.inputs, batch.targets
    assert x.shape == (2, 3 + 2 + 13, 7) and y.shape == (2, 13, 6)
    seq = x[:, :3, :5]
    np.testing.assert_array_equal(y[:, :12, :5], np.concatenate([seq] * 4, axis=1))
    assert (y[:, :12, 5] == 0).all() and (y[:, 12, 5] == 1).all() and (y[:, 12, :5] == 0).all()
    assert (x[:, 3, 5] == 1).all()
    np.testing.assert_allclose(x[:, 4, 6], repeat_count_channel(4, 10))
    assert (x[:, 5:] == 0).all()


def test_repeat_count_is_standardised_over_the_training_range():
    values = np.array([repeat_count_channel(n, 10) for n in range(1, 11)])
    assert values.mean() == pytest.approx(0.0, abs=1e-12)
    assert values.var() == pytest.approx(1.0, rel=1e-12)


def test_random_repeat_copy_draws_both_sizes():
    rng = np.random.default_rng(3)
    shapes = {random_repeat_copy_batch(rng, 1, 10, 10).targets.shape[1] for _ in range(300)}
    assert min(shapes) == 2 and max(shapes) > 50


def test_bad_sizes_raise_naming_the_generator_and_sizes():
    rng = np.random.default_rng(0)
    with pytest.raises(ArgumentError, match=rf"copy_batch: length must be an integer in \[1, {MAX_LENGTH}\], got 200"):
        copy_batch(rng, 2, 200)
    with pytest.raises(ArgumentError, match=r"copy_batch: length must be an integer in \[1, 30\], got 31"):
        copy_batch(rng, 2, 31, max_length=30)
    with pytest.raises(ArgumentError, match=r"copy_batch: bits must be an integer in \[1, 65536\], got 0"):
        copy_batch(rng, 2, 5, bits=0)
    with pytest.raises(ArgumentError, match=r"copy_batch: length .* got 0"):
        copy_batch(rng, 2, 0)
    with pytest.raises(ArgumentError, match=r"repeat_copy_batch: repeats .* got 0"):
        repeat_copy_batch(rng, 2, 3, 0)
    with pytest.raises(ArgumentError, match=r"random_copy_batch: max_length \(min_length=5\) .* got 3"):
        random_copy_batch(rng, 2, 5, 3)
