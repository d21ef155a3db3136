"""The seeded transformation pairs: shifts and rotations exact on known images, determinism, the distribution of
the drawn transformations, the shared transformation of a retrieval quadruple, and errors naming the sizes."""
import numpy as np
import pytest

from ember.data.image_pairs import (
    make_pairs,
    make_triples,
    rotate_images,
    sample_transforms,
    shift_images,
)


def _images(n=40, side=9, seed=0):
    return np.random.default_rng(seed).random((n, side, side)).astype(np.float32)


def test_wrap_shift_is_a_cyclic_permutation_and_zero_fill_blanks_the_vacated_border():
    images = _images(3)
    shifts = np.array([[1, -2], [0, 0], [-3, 4]])
    wrapped = shift_images(images, shifts, mode="wrap")
    for i in range(3):
        np.testing.assert_array_equal(wrapped[i], np.roll(images[i], tuple(shifts[i]), axis=(0, 1)))
        assert np.isclose(wrapped[i].sum(), images[i].sum(), rtol=1e-6)
    zero = shift_images(images, shifts, mode="zero")
    np.testing.assert_array_equal(zero[0, :1], 0)      # shifted down by 1: the top row came from outside
    np.testing.assert_array_equal(zero[0, :, -2:], 0)  # shifted left by 2: the last two columns too
    np.testing.assert_array_equal(zero[0, 1:, :-2], images[0, :-1, 2:])
    np.testing.assert_array_equal(zero[1], images[1])


def test_rotation_by_multiples_of_90_degrees_is_exact_and_matches_rot90():
    images = _images(2, side=7)
    np.testing.assert_allclose(rotate_images(images, np.array([0.0, 0.0])), images, atol=1e-6)
    # counter-clockwise on screen is np.rot90's direction
    np.testing.assert_allclose(rotate_images(images, np.array([90.0, 180.0])),
                               np.stack([np.rot90(images[0], 1), np.rot90(images[1], 2)]), atol=1e-5)
    # a half-way rotation interpolates: it keeps the centre pixel and stays within the input's range
    out = rotate_images(images, np.array([45.0, -30.0]))
    np.testing.assert_allclose(out[:, 3, 3], images[:, 3, 3], atol=1e-6)
    assert out.min() >= 0.0 and out.max() <= images.max() + 1e-6


def test_rotation_zero_fills_pixels_whose_source_leaves_the_frame():
    ones = np.ones((1, 9, 9), dtype=np.float32)
    out = rotate_images(ones, np.array([45.0]))[0]
    assert out[0, 0] == 0.0 and out[4, 4] == pytest.approx(1.0)


def test_pairs_are_deterministic_from_the_seed_and_differ_across_seeds():
    images = _images()
    for kind in ("shift", "rotation"):
        first, again = make_pairs(images, kind, 20, seed=3), make_pairs(images, kind, 20, seed=3)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(first[2], make_pairs(images, kind, 20, seed=4)[2])


def test_the_second_image_is_the_first_transformed_by_the_returned_parameters():
    images = _images()
    x, y, shifts = make_pairs(images, "shift", 30, seed=0, max_shift=2, mode="zero")
    np.testing.assert_array_equal(y, shift_images(x, shifts, mode="zero"))
    x, y, angles = make_pairs(images, "rotation", 30, seed=0, max_angle=40)
    np.testing.assert_array_equal(y, rotate_images(x, angles))
    assert all(any(np.array_equal(row, image) for image in images) for row in x)  # x are stack images


def test_shift_distribution_is_uniform_over_the_integer_square():
    shifts = sample_transforms("shift", 49000, np.random.default_rng(0), max_shift=3)
    assert shifts.dtype == np.int64 and shifts.min() == -3 and shifts.max() == 3
    values, counts = np.unique(shifts[:, 0] * 7 + shifts[:, 1], return_counts=True)
    assert len(values) == 49
    expected = 1000.0
    assert ((counts - expected) ** 2 / expected).sum() < 90  # chi-square, 48 d.o.f.: 99.97% quantile ~ 90
    assert abs(np.corrcoef(shifts.T)[0, 1]) < 0.02  # dy and dx drawn independently


def test_angle_distribution_is_uniform_on_the_interval():
    angles = sample_transforms("rotation", 20000, np.random.default_rng(1), max_angle=60.0)
    assert angles.min() >= -60.0 and angles.max() <= 60.0
    assert abs(angles.mean()) < 1.0 and abs(angles.std() - 120.0 / np.sqrt(12)) < 0.5
    counts, _ = np.histogram(angles, bins=10, range=(-60, 60))
    assert counts.min() > 1800 and counts.max() < 2200


def test_a_quadruple_shares_one_transformation_over_two_different_images():
    images = _images()
    x, y, x2, y2, shifts = make_triples(images, "shift", 50, seed=2, max_shift=3)
    np.testing.assert_array_equal(y, shift_images(x, shifts))
    np.testing.assert_array_equal(y2, shift_images(x2, shifts))
    assert not any(np.array_equal(a, b) for a, b in zip(x, x2))
    x, y, x2, y2, angles = make_triples(images, "rotation", 50, seed=2)
    np.testing.assert_array_equal(y2, rotate_images(x2, angles))
    np.testing.assert_array_equal(y, rotate_images(x, angles))
    assert not any(np.array_equal(a, b) for a, b in zip(x, x2))


def test_channel_first_images_are_accepted():
    images = _images()[:, None]
    x, y, _ = make_pairs(images, "shift", 5, seed=0)
    assert x.shape == y.shape == (5, 9, 9)


def test_errors_name_the_function_and_the_sizes():
    with pytest.raises(ValueError, match=r"make_pairs: expected grey images .* got shape \(3, 4\)"):
        make_pairs(np.zeros((3, 4)), "shift", 2, seed=0)
    with pytest.raises(ValueError, match="transform must be one of .*'scale'"):
        make_pairs(_images(), "scale", 2, seed=0)
    with pytest.raises(ValueError, match=r"shift_images: expected integer shifts of shape \(2, 2\)"):
        shift_images(_images(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="mode must be one of"):
        shift_images(_images(1), np.zeros((1, 2), dtype=int), mode="reflect")
    with pytest.raises(ValueError, match="rotate_images: expected 2 angles"):
        rotate_images(_images(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"max_angle must lie in \[0, 180\]"):
        make_pairs(_images(), "rotation", 2, seed=0, max_angle=270)
    with pytest.raises(ValueError, match="make_triples: needs at least 2 images"):
        make_triples(_images(1), "shift", 2, seed=0)


def test_rotating_a_large_stack_in_chunks_matches_rotating_each_image():
    images = _images(1100, side=5)
    angles = np.random.default_rng(3).uniform(-180, 180, size=1100)
    together = rotate_images(images, angles)
    for i in (0, 1023, 1024, 1099):
        np.testing.assert_array_equal(together[i], rotate_images(images[i:i + 1], angles[i:i + 1])[0])
