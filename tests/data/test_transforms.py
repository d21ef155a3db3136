"""ember/data/transforms.py: every transform on one sample and, vectorised, on a batch."""

import numpy as np
import pytest

from ember.data.transforms import (Compose, Flatten, Lambda, Normalize, OneHot, RandomCrop,
                                   RandomHorizontalFlip, RandomNoise, Reshape, ToFloat, Transform,
                                   apply_batch, to_categorical)


def images(n=6, c=None, h=5, w=7):
    shape = (n, h, w) if c is None else (n, c, h, w)
    return np.arange(np.prod(shape)).reshape(shape).astype(np.float32)


# ----------------------------------------------------------------------- deterministic

def test_to_float_scales_exactly_and_never_in_place():
    x = np.arange(256, dtype=np.uint8)
    out = ToFloat()(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x.astype(np.float32) / np.float32(255))
    assert out[51] == np.float32(0.2)
    f = np.ones(3, np.float32)
    ToFloat(scale=0.5)(f)
    assert f.tolist() == [1, 1, 1]
    assert ToFloat(scale=0.3, dtype=np.float64)(np.array([10])).tolist() == [3.0]


def test_normalize_scalar_and_per_channel_on_samples_and_batches():
    batch = images(4, c=3)
    norm = Normalize([1.0, 2.0, 3.0], [2.0, 4.0, 8.0])
    expected = (batch - np.array([1, 2, 3]).reshape(3, 1, 1)) / np.array([2, 4, 8]).reshape(3, 1, 1)
    np.testing.assert_allclose(norm.batch(batch), expected, rtol=1e-6)
    np.testing.assert_allclose(norm(batch[1]), expected[1], rtol=1e-6)
    flat = Normalize(0.5, 0.25)
    np.testing.assert_allclose(flat(np.array([0.5, 1.0])), [0.0, 2.0])
    with pytest.raises(ValueError, match="non-zero"):
        Normalize(0.0, 0.0)


def test_reshape_and_flatten():
    assert Flatten()(np.zeros((28, 28))).shape == (784,)
    assert Flatten().batch(np.zeros((5, 28, 28))).shape == (5, 784)
    assert Reshape((1, 28, 28)).batch(np.zeros((5, 784))).shape == (5, 1, 28, 28)


def test_compose_batch_path_equals_sample_path_for_deterministic_transforms():
    x = (np.arange(2 * 3 * 4 * 4) % 256).astype(np.uint8).reshape(2, 3, 4, 4)
    pipeline = Compose([ToFloat(), Normalize([0.1, 0.2, 0.3], [0.5, 0.5, 0.5]), Flatten()])
    batched = pipeline.batch(x)
    assert batched.shape == (2, 48)
    np.testing.assert_allclose(batched, np.stack([pipeline(s) for s in x]), rtol=1e-6)
    assert "Normalize" in repr(pipeline)


def test_plain_functions_and_lambda():
    x = np.arange(6).reshape(3, 2)
    np.testing.assert_array_equal(apply_batch(lambda s: s[::-1], x), x[:, ::-1])
    assert apply_batch(None, x) is x
    calls = []
    batched = Lambda(lambda b: calls.append(b.shape) or b * 2, batched=True)
    np.testing.assert_array_equal(batched.batch(x), x * 2)
    assert calls == [(3, 2)]  # called once on the whole batch
    np.testing.assert_array_equal(Lambda(lambda s: s + 1).batch(x), x + 1)


def test_custom_transform_gets_a_default_batch_path():
    class Negate(Transform):
        def __call__(self, x):
            return -x
    np.testing.assert_array_equal(Negate().batch(np.arange(4).reshape(2, 2)), [[0, -1], [-2, -3]])


# ----------------------------------------------------------------------- one-hot

def test_to_categorical_matches_keras_semantics():
    out = to_categorical([0, 2, 1])
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out.argmax(1), [0, 2, 1])
    assert to_categorical(np.array([[1], [0]]), 4).shape == (2, 4)  # (N, 1) is squeezed
    assert to_categorical(np.array([[1, 0]]), 2).shape == (1, 2, 2)
    assert to_categorical([1], 3, dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        to_categorical([-1], 3)
    with pytest.raises(ValueError, match="integers"):
        to_categorical([0.5])
    assert to_categorical([1.0, 0.0]).tolist() == [[0, 1], [1, 0]]


def test_one_hot_on_a_label_and_a_batch():
    np.testing.assert_array_equal(OneHot(4)(np.int64(2)), [0, 0, 1, 0])
    assert OneHot(4).batch(np.array([3, 0, 1])).shape == (3, 4)
    assert OneHot(4).batch(np.array([3])).shape == (1, 4)  # never squeezed, unlike to_categorical


# ----------------------------------------------------------------------- random crop

def window_offset(padded, crop):
    """Find the (top, left) where ``crop`` sits in ``padded`` (values are unique)."""
    h, w = crop.shape[-2:]
    for top in range(padded.shape[-2] - h + 1):
        for left in range(padded.shape[-1] - w + 1):
            if np.array_equal(padded[..., top:top + h, left:left + w], crop):
                return top, left
    return None


@pytest.mark.parametrize("channels", [None, 3])
def test_random_crop_batch_takes_a_window_of_each_padded_sample(channels):
    x = images(32, c=channels) + 1  # unique, non-zero values; padding is 0
    crop = RandomCrop((5, 7), padding=2, seed=0)
    out = crop.batch(x)
    assert out.shape == x.shape
    offsets = set()
    for sample, cropped in zip(x, out):
        widths = [(0, 0)] * (sample.ndim - 2) + [(2, 2), (2, 2)]
        offset = window_offset(np.pad(sample, widths), cropped)
        assert offset is not None
        offsets.add(offset)
    assert len(offsets) > 5  # every sample gets its own offset


def test_random_crop_single_sample_reproducible_and_checked():
    x = images(1)[0] + 1
    a = RandomCrop(4, padding=1, seed=3)
    b = RandomCrop(4, padding=1, seed=3)
    np.testing.assert_array_equal(a(x), b(x))
    assert window_offset(np.pad(x, 1), a(x)) is not None
    np.testing.assert_array_equal(RandomCrop((5, 7))(x), x)  # full size, no padding: identity
    with pytest.raises(ValueError, match="larger than padded"):
        RandomCrop(10)(x)


# ----------------------------------------------------------------------- flip

def test_horizontal_flip():
    x = images(200, c=1)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0).batch(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0).batch(x), x)
    out = RandomHorizontalFlip(p=0.5, seed=0).batch(x)
    flipped = np.array([np.array_equal(o, s[..., ::-1]) for o, s in zip(out, x)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, x)])
    assert np.all(flipped ^ kept)
    assert 70 < flipped.sum() < 130
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x[0]), x[0][..., ::-1])
    assert x[0, 0, 0, 0] == 0  # the input was not modified


# ----------------------------------------------------------------------- noise

def test_gaussian_noise_statistics_and_clipping():
    x = np.full((200, 50), 0.5, dtype=np.float32)
    noisy = RandomNoise(std=0.1, seed=0).batch(x)
    assert noisy.dtype == np.float32
    assert abs(float((noisy - x).std()) - 0.1) < 0.005
    assert abs(float((noisy - x).mean())) < 0.005
    clipped = RandomNoise(std=2.0, seed=0)(x)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    assert RandomNoise(std=2.0, clip=None, seed=0)(x).max() > 1.0
    assert x.max() == 0.5  # not in place


def test_masking_and_salt_and_pepper_noise():
    x = np.full((100, 100), 0.5)
    masked = RandomNoise(mode="masking", p=0.3, seed=1)(x)
    assert abs(float((masked == 0).mean()) - 0.3) < 0.02
    assert set(np.unique(masked).tolist()) == {0.0, 0.5}
    sp = RandomNoise(mode="salt_and_pepper", p=0.2, seed=1)(x)
    values, counts = np.unique(sp, return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert abs(counts[0] / x.size - 0.1) < 0.015 and abs(counts[2] / x.size - 0.1) < 0.015
    with pytest.raises(ValueError, match="mode"):
        RandomNoise(mode="pink")


def test_noise_is_reproducible_from_its_seed():
    x = np.zeros((4, 4))
    np.testing.assert_array_equal(RandomNoise(seed=5)(x), RandomNoise(seed=5)(x))
    assert not np.array_equal(RandomNoise(seed=5)(x + 0.5), RandomNoise(seed=6)(x + 0.5))
