"""F.sampled_softmax_loss / nn.SampledSoftmax: exact identities, Monte Carlo gradient, accidental hits, gradcheck."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck
from ember.functional.sampled_softmax import SampledCandidates, log_uniform_probabilities, sample_candidates

N, D, C = 5, 4, 12


def problem(seed=0, n=N, c=C):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((c, D)), rng.standard_normal(c), rng.standard_normal((n, D)), rng.integers(0, c, n)


def full_cross_entropy(w, b, x, t, shift=None):
    z = x @ w.T + b - (0 if shift is None else np.log(shift))
    z_max = z.max(axis=1, keepdims=True)
    lse = z_max[:, 0] + np.log(np.exp(z - z_max).sum(axis=1))
    return lse - z[np.arange(len(t)), t], np.exp(z - lse[:, None])


def loss(w, b, x, t, values, **kw):
    return F.sampled_softmax_loss(ember.tensor(w), ember.tensor(b), ember.tensor(x), ember.tensor(t), len(values[0]),
                                  len(w), sampled_values=values, reduction="none", **kw).numpy()


def all_classes(t, q=None, seed=0):
    """Every class sampled once (in a random order), with expected counts ``q``."""
    q = np.ones(C) if q is None else q
    order = np.random.default_rng(seed).permutation(C)
    return SampledCandidates(order, q[t], q[order])


def test_all_classes_without_correction_is_the_full_softmax():
    w, b, x, t = problem()
    expected, _ = full_cross_entropy(w, b, x, t)
    np.testing.assert_allclose(loss(w, b, x, t, all_classes(t), subtract_log_q=False), expected, rtol=1e-12)


def test_all_classes_with_correction_is_the_softmax_of_corrected_logits():
    w, b, x, t = problem(1)
    q = np.random.default_rng(2).uniform(0.1, 1.0, C)
    expected, _ = full_cross_entropy(w, b, x, t, shift=q)
    np.testing.assert_allclose(loss(w, b, x, t, all_classes(t, q)), expected, rtol=1e-12)


def test_without_hit_removal_the_target_counts_twice():
    # Normaliser exp(z_t) + sum_k exp(z_k): the loss is the full cross-entropy plus log(1 + p_t).
    w, b, x, t = problem(3)
    expected, p = full_cross_entropy(w, b, x, t)
    got = loss(w, b, x, t, all_classes(t), subtract_log_q=False, remove_accidental_hits=False)
    np.testing.assert_allclose(got, expected + np.log1p(p[np.arange(N), t]), rtol=1e-12)


def test_sampler_drawing_every_class_gives_the_full_softmax():
    w, b, x, t = problem(4)
    expected, _ = full_cross_entropy(w, b, x, t)
    got = F.sampled_softmax_loss(ember.tensor(w), ember.tensor(b), ember.tensor(x), ember.tensor(t), C, C,
                                 subtract_log_q=False, generator=ember.Generator().manual_seed(0))
    np.testing.assert_allclose(got.item(), expected.mean(), rtol=1e-12)


def test_accidental_hits_are_removed_row_by_row():
    w, b, x, t = problem(5)
    t = np.array([0, 3, 3, 7, 11])
    sampled = np.array([3, 5, 11, 2])
    true_q, sampled_q = np.full(N, 0.3), np.array([0.5, 0.2, 0.1, 0.4])
    z_true = (x * w[t]).sum(axis=1) + b[t] - np.log(true_q)
    z_s = x @ w[sampled].T + b[sampled] - np.log(sampled_q)
    expected = []
    for i in range(N):
        keep = sampled != t[i]   # rows 1, 2 drop class 3, row 4 drops class 11
        z = np.concatenate([[z_true[i]], z_s[i, keep]])
        expected.append(np.log(np.exp(z).sum()) - z[0])
    got = loss(w, b, x, t, SampledCandidates(sampled, true_q, sampled_q))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    kept = loss(w, b, x, t, SampledCandidates(sampled, true_q, sampled_q), remove_accidental_hits=False)
    assert (kept[[1, 2, 4]] > got[[1, 2, 4]]).all() and np.allclose(kept[[0, 3]], got[[0, 3]], rtol=1e-14)


def test_gradcheck_float64():
    w, b, x, t = problem(6)
    values = SampledCandidates(np.array([3, 5, int(t[0]), 9]), np.full(N, 0.3), np.array([0.5, 0.2, 0.1, 0.4]))

    def f(weight, bias, inp):
        return F.sampled_softmax_loss(weight, bias, inp, ember.tensor(t), 4, C, sampled_values=values,
                                      reduction="none")

    assert gradcheck(f, [ember.tensor(a, requires_grad=True) for a in (w, b, x)], check_forward=False)


def _mean_gradient(num_sampled, draws, seed=0):
    w, b, x, t = problem(7, n=8, c=30)
    generator = ember.Generator().manual_seed(seed)
    total = np.zeros_like(x)
    for _ in range(draws):
        inp = ember.tensor(x, requires_grad=True)
        F.sampled_softmax_loss(ember.tensor(w), ember.tensor(b), inp, ember.tensor(t), num_sampled, 30,
                               generator=generator).backward()
        total += inp.grad.numpy()
    full = ember.tensor(x, requires_grad=True)
    F.cross_entropy(full.matmul(ember.tensor(w).transpose(0, 1)) + ember.tensor(b), ember.tensor(t)).backward()
    return total / draws, full.grad.numpy()


def test_expected_sampled_gradient_approaches_the_full_gradient():
    # Sampled softmax is consistent, not unbiased: the mean gradient nears the full one as num_sampled grows.
    few, full = _mean_gradient(3, 400)
    many, _ = _mean_gradient(20, 400)
    error_few = np.linalg.norm(few - full) / np.linalg.norm(full)
    error_many = np.linalg.norm(many - full) / np.linalg.norm(full)
    assert error_many < 0.1 and error_many < 0.5 * error_few, (error_few, error_many)


def test_seeded_draws_are_reproducible():
    w, b, x, t = problem(8, c=40)
    args = [ember.tensor(a) for a in (w, b, x, t)]
    first = F.sampled_softmax_loss(*args, 10, 40, generator=ember.Generator().manual_seed(3)).item()
    again = F.sampled_softmax_loss(*args, 10, 40, generator=ember.Generator().manual_seed(3)).item()
    other = F.sampled_softmax_loss(*args, 10, 40, generator=ember.Generator().manual_seed(4)).item()
    assert first == again and first != other
    ember.manual_seed(5)
    a = F.sampled_softmax_loss(*args, 10, 40).item()
    ember.manual_seed(5)
    assert F.sampled_softmax_loss(*args, 10, 40).item() == a


def test_candidates_are_distinct_with_tf_expected_counts():
    q = log_uniform_probabilities(1000)
    np.testing.assert_allclose(q.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(q[:2], np.log([2 / 1, 3 / 2]) / np.log(1001), rtol=1e-12)
    c = sample_candidates(50, 1000, [0, 999], generator=ember.Generator().manual_seed(0))
    assert len(np.unique(c.sampled)) == 50 and c.sampled.dtype == np.int64
    # Expected count 1 - (1 - q)^tries for one number of tries >= 50 shared by all classes.
    tries = np.log1p(-c.sampled_expected_count) / np.log1p(-q[c.sampled])
    np.testing.assert_allclose(tries, tries[0], rtol=1e-9)
    assert tries[0] >= 50 and np.isclose(tries[0], round(tries[0]))
    # One draw from a unigram table: expected count is the probability itself.
    one = sample_candidates(1, 4, [2], sampler=np.array([1.0, 2.0, 0.0, 1.0]), generator=ember.Generator())
    assert one.sampled[0] != 2
    np.testing.assert_allclose(one.true_expected_count, [0.0], atol=1e-15)
    np.testing.assert_allclose(one.sampled_expected_count, np.array([0.25, 0.5, 0.0, 0.25])[one.sampled], rtol=1e-12)


def test_unigram_sampler_follows_the_probabilities():
    probs = np.array([8.0, 4.0, 2.0, 1.0, 1.0, 0.0])
    generator = ember.Generator().manual_seed(1)
    counts = np.bincount(np.concatenate([sample_candidates(1, 6, [0], probs, generator).sampled
                                         for _ in range(2000)]), minlength=6)
    np.testing.assert_allclose(counts / 2000, probs / probs.sum(), atol=0.03)
    assert counts[5] == 0


def test_module_trains_sampled_and_evaluates_full():
    ember.manual_seed(0)
    layer = nn.SampledSoftmax(D, 50, num_sampled=8, generator=ember.Generator().manual_seed(0))
    assert sorted(k for k, _ in layer.state_dict().items()) == ["bias", "weight"]
    x, t = ember.randn(6, D), ember.tensor([0, 1, 2, 30, 40, 49])
    full = F.cross_entropy(F.linear(x, layer.weight, layer.bias), t).item()
    sampled = layer(x, t).item()
    assert sampled != full
    layer.eval()
    assert layer(x, t).item() == pytest.approx(full, rel=1e-6)
    np.testing.assert_allclose(layer.log_prob(x).exp().sum(dim=1).numpy(), 1.0, rtol=1e-5)


def test_errors():
    w, b, x, t = (ember.tensor(a) for a in problem())
    with pytest.raises(ValueError, match=r"num_sampled must be in \[1, 12\].*got 13"):
        F.sampled_softmax_loss(w, b, x, t, 13, C)
    with pytest.raises(ValueError, match="sampler must be 'log_uniform'"):
        F.sampled_softmax_loss(w, b, x, t, 3, C, sampler="uniform")
    with pytest.raises(ValueError, match=r"sampler probabilities must have shape \(12,\), got \(3,\)"):
        F.sampled_softmax_loss(w, b, x, t, 3, C, sampler=np.ones(3))
    with pytest.raises(ValueError, match=r"expected input \(N, D\) and weight \(12, D\).*\(5, 3\)"):
        F.sampled_softmax_loss(w, b, ember.randn(5, 3), t, 3, C)
    with pytest.raises(ValueError, match=r"target values must be in \[0, 11\]"):
        F.sampled_softmax_loss(w, b, x, ember.tensor([0, 1, 2, 3, 12]), 3, C)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.sampled_softmax_loss(w, b, x, t, 3, C, reduction="avg")
