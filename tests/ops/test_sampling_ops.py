"""multinomial, bernoulli, normal, randperm and the in-place fills: distributions, shapes, dtypes, errors."""
import numpy as np
import pytest

import ember
from ember.ops.sampling import bernoulli, bernoulli_, multinomial, normal, normal_, randperm, uniform_

NAN, INF = float("nan"), float("inf")


def test_multinomial_with_replacement_follows_the_weights():
    ember.manual_seed(0)
    weights = ember.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.0, 0.0]])
    draws = multinomial(weights, 20000, replacement=True)
    assert draws.shape == (2, 20000) and draws.dtype == np.int64
    freq = np.bincount(draws.numpy()[0], minlength=4) / 20000
    np.testing.assert_allclose(freq, [1 / 8, 0, 3 / 8, 4 / 8], atol=0.015)
    assert freq[1] == 0  # a weight-0 category is never drawn
    assert (draws.numpy()[1] == 2).all()


def test_multinomial_without_replacement_never_repeats_and_favours_heavy_categories():
    ember.manual_seed(1)
    weights = ember.tensor([10.0, 1.0, 1.0, 1.0, 0.0])
    firsts = [multinomial(weights, 4).tolist() for _ in range(400)]
    assert all(len(set(row)) == 4 and 4 not in row for row in firsts)
    assert np.mean([row[0] == 0 for row in firsts]) > 0.7  # expected 10/13
    everything = multinomial(ember.tensor([1.0, 0.0, 1.0]), 3).tolist()
    assert sorted(everything) == [0, 1, 2] and everything[-1] == 1  # the weight-0 category comes last


def test_multinomial_is_reproducible_and_shapes():
    ember.manual_seed(5)
    a = multinomial(ember.tensor([0.2, 0.3, 0.5]), 6, True).tolist()
    ember.manual_seed(5)
    assert multinomial(ember.tensor([0.2, 0.3, 0.5]), 6, True).tolist() == a
    assert multinomial(ember.ones(0, 3), 2).shape == (0, 2)
    assert multinomial(ember.tensor([1.0, 2.0], dtype="float64"), 1).shape == (1,)
    from ember.generator import Generator

    a = multinomial(ember.tensor([1.0, 2.0, 3.0]), 8, True, generator=Generator().manual_seed(3)).tolist()
    b = multinomial(ember.tensor([1.0, 2.0, 3.0]), 8, True, generator=Generator().manual_seed(3)).tolist()
    assert a == b and len(a) == 8
    seeded = Generator().manual_seed(9)
    assert sorted(randperm(5, generator=seeded).tolist()) == [0, 1, 2, 3, 4]
    assert bernoulli(ember.full((4,), 0.5), generator=seeded).shape == (4,)
    assert normal(0.0, 1.0, size=(3,), generator=seeded).shape == (3,)


@pytest.mark.parametrize("weights,samples,replacement,error,match", [
    ([1.0, -1.0, 1.0], 1, False, ValueError, "inf`, `nan` or element < 0"),
    ([1.0, NAN], 1, True, ValueError, "inf`, `nan` or element < 0"),
    ([1.0, INF], 1, True, ValueError, "inf`, `nan` or element < 0"),
    ([0.0, 0.0], 1, True, ValueError, "sum of probabilities is <= 0"),
    ([1.0, 1.0], 3, False, ValueError, "cannot sample 3 > 2 categories without replacement"),
    ([1.0, 1.0], 0, True, ValueError, "num_samples=0 <= 0"),
    ([[[1.0]]], 1, True, ValueError, "must be 1-D or 2-D"),
    ([1, 2], 1, True, TypeError, "only floating-point weights"),
])
def test_multinomial_errors(weights, samples, replacement, error, match):
    with pytest.raises(error, match=match):
        multinomial(ember.tensor(weights), samples, replacement)


def test_bernoulli_frequencies_dtype_and_errors():
    ember.manual_seed(2)
    p = ember.tensor([0.0, 0.25, 0.9, 1.0], dtype="float64")
    draws = np.stack([bernoulli(p).numpy() for _ in range(4000)])
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(axis=0), [0.0, 0.25, 0.9, 1.0], atol=0.025)
    half = bernoulli(ember.zeros(20000), p=0.5).numpy()
    assert abs(half.mean() - 0.5) < 0.02
    assert not bernoulli(ember.tensor([0.5], requires_grad=True)).requires_grad
    with pytest.raises(ValueError, match="bernoulli: probabilities must lie in"):
        bernoulli(ember.tensor([0.0, 1.5]))
    with pytest.raises(ValueError, match="bernoulli: p must lie in"):
        bernoulli(ember.zeros(2), p=1.5)
    with pytest.raises(TypeError, match="bernoulli: expected a floating-point tensor"):
        bernoulli(ember.tensor([0, 1]))


def test_normal_overloads_moments_and_errors():
    ember.manual_seed(3)
    sample = normal(ember.full((20000,), 2.0), ember.full((20000,), 3.0)).numpy()
    assert abs(sample.mean() - 2.0) < 0.1 and abs(sample.std() - 3.0) < 0.1
    assert normal(ember.zeros(2, 1), ember.ones(3)).shape == (2, 3)
    assert normal(ember.zeros(2, 1), 1.0).shape == (2, 1)
    assert normal(0.0, ember.ones(4, dtype="float64")).dtype == np.float64
    assert normal(0.0, 1.0, size=(2, 5)).shape == (2, 5)
    with pytest.raises(ValueError, match="normal: expected all elements of std >= 0"):
        normal(ember.zeros(2), -ember.ones(2))
    with pytest.raises(TypeError, match="give size="):
        normal(0.0, 1.0)


def test_randperm_is_a_permutation_and_uniform():
    ember.manual_seed(4)
    perm = randperm(10)
    assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(10))
    firsts = np.bincount([randperm(4)[0].item() for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(firsts, 0.25, atol=0.03)
    assert randperm(0).shape == (0,)
    assert randperm(4, dtype="float32").dtype == np.float32
    with pytest.raises(ValueError, match="randperm: n must be non-negative, got -1"):
        randperm(-1)
    with pytest.raises(TypeError, match="randperm: generator must be an ember.Generator"):
        randperm(3, generator="seed")


def test_in_place_fills():
    ember.manual_seed(6)
    w = ember.zeros(10000, requires_grad=True)
    assert uniform_(w, -2.0, 2.0) is w and w.requires_grad
    assert -2.0 <= w.numpy().min() and w.numpy().max() < 2.0 and abs(w.numpy().mean()) < 0.05
    normal_(w, 1.0, 0.5)
    assert abs(w.numpy().mean() - 1.0) < 0.03 and abs(w.numpy().std() - 0.5) < 0.03
    b = bernoulli_(ember.zeros(10000), 0.3)
    assert abs(b.numpy().mean() - 0.3) < 0.02
    with pytest.raises(ValueError, match="normal_: expected std >= 0"):
        normal_(w, 0.0, -1.0)
