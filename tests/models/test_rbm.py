"""RBM: free energy and partition function by enumeration, the Gibbs sampler against the exact distribution,
the CD statistics against autograd, seeded CD/PCD updates, AIS against the exact log Z, errors, and CD-1 on an
MNIST subset raising the AIS log-likelihood."""
import itertools

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.models.generative_recipes import binarized_mnist
from ember.models.rbm import (
    RBM,
    ContrastiveDivergence,
    ais_betas,
    ais_log_partition,
    average_log_likelihood,
    base_rate_bias,
    cd_statistics,
    exact_log_partition,
)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def _tiny(n_visible=10, n_hidden=4, seed=0, dtype=ember.float32):
    g = _gen(seed)
    rbm = RBM(n_visible, n_hidden, init_std=1.0, generator=g)
    with ember.no_grad():
        rbm.visible_bias.copy_(ember.randn(n_visible, generator=g) * 0.5)
        rbm.hidden_bias.copy_(ember.randn(n_hidden, generator=g) * 0.5)
    return rbm.to(dtype)


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def test_free_energy_and_log_z_match_enumeration_of_the_energy():
    rbm = _tiny(dtype=ember.float64)
    w, b, c = rbm.weight.numpy(), rbm.visible_bias.numpy(), rbm.hidden_bias.numpy()
    v, h = _states(10), _states(4)
    neg_energy = (v @ b)[:, None] + (h @ c)[None, :] + (h @ w @ v.T).T  # -E(v, h) for every pair
    np.testing.assert_allclose(-rbm.free_energy(ember.tensor(v)).numpy(), np.logaddexp.reduce(neg_energy, axis=1),
                               rtol=1e-10)
    log_z = np.logaddexp.reduce(neg_energy.ravel())
    assert exact_log_partition(rbm) == pytest.approx(log_z, abs=1e-9)  # sums over h
    wide = RBM(4, 10, init_std=1.0, generator=_gen(1)).to(ember.float64)  # sums over v instead
    hs, vs = _states(10), _states(4)
    expected = np.logaddexp.reduce((hs @ wide.weight.numpy() @ vs.T + (vs @ wide.visible_bias.numpy())[None]
                                    + (hs @ wide.hidden_bias.numpy())[:, None]).ravel())
    assert exact_log_partition(wide) == pytest.approx(expected, abs=1e-9)


def test_gibbs_sampler_reaches_the_exact_distribution():
    rbm = _tiny(6, 3, seed=2)
    v_all = _states(6)
    log_p = -rbm.free_energy(ember.tensor(v_all.astype(np.float32))).numpy().astype(np.float64)
    exact = np.exp(log_p - np.logaddexp.reduce(log_p))
    with ember.no_grad():
        v = ember.bernoulli(ember.full((20000, 6), 0.5), generator=_gen(3))
        for _ in range(30):
            v, _ = rbm.gibbs_step(v, _gen(4 + _))
    codes = (v.numpy() @ (2 ** np.arange(6)[::-1])).astype(int)
    empirical = np.bincount(codes, minlength=64) / len(codes)
    assert 0.5 * np.abs(empirical - exact).sum() < 0.03  # total variation


def test_cd_statistics_are_minus_the_gradient_of_the_free_energy_difference():
    rbm = _tiny(dtype=ember.float64)
    rng = np.random.default_rng(0)
    v_data = ember.tensor((rng.random((7, 10)) > 0.5).astype(np.float64))
    v_model = ember.tensor((rng.random((5, 10)) > 0.5).astype(np.float64))
    stats = cd_statistics(rbm, v_data, v_model)
    surrogate = rbm.free_energy(v_data).mean() - rbm.free_energy(v_model).mean()
    surrogate.backward()
    for stat, param in zip(stats, (rbm.weight, rbm.visible_bias, rbm.hidden_bias)):
        np.testing.assert_allclose(stat.numpy(), -param.grad.numpy(), atol=1e-12)
    v = ember.tensor(rng.random((3, 10)), requires_grad=True)
    assert gradcheck(lambda v: rbm.free_energy(v).sum(), (v,))


def test_cd_step_is_the_documented_update_and_is_seeded():
    data = ember.bernoulli(ember.full((8, 10), 0.4), generator=_gen(9))
    rbm, copy = _tiny(), _tiny()
    before = [p.numpy().copy() for p in rbm.parameters()]
    ContrastiveDivergence(rbm, lr=0.1, k=2).step(data, _gen(5))
    g = _gen(5)  # the same draws, by hand: two Gibbs steps from the data, then lr * statistics
    with ember.no_grad():
        v, _ = copy.gibbs_step(data, g)
        v, _ = copy.gibbs_step(v, g)
        stats = cd_statistics(copy, data, v)
    for old, new, stat in zip(before, rbm.parameters(), stats):
        np.testing.assert_allclose(new.numpy(), old + 0.1 * stat.numpy(), rtol=1e-6, atol=1e-7)

    def run(seed, persistent):
        model = _tiny()
        trainer = ContrastiveDivergence(model, lr=0.05, k=1, persistent=persistent, momentum=0.5,
                                        weight_decay=1e-3)
        g = _gen(seed)
        for _ in range(5):
            trainer.step(data, g)
        return model.weight.numpy(), trainer

    for persistent in (False, True):
        a, trainer = run(1, persistent)
        assert np.array_equal(a, run(1, persistent)[0]) and not np.array_equal(a, run(2, persistent)[0])
    assert trainer.chains is not None and trainer.chains.shape == (8, 10)  # PCD keeps its chains


def test_ais_matches_the_exact_partition_function():
    rbm = _tiny()
    exact = exact_log_partition(rbm)
    estimate = ais_log_partition(rbm, runs=200, betas=1000, generator=_gen(0))
    assert abs(estimate.log_z - exact) < 0.03, (estimate.log_z, exact)
    assert estimate.log_z_low <= exact <= estimate.log_z_high
    data = ember.bernoulli(ember.full((50, 10), 0.3), generator=_gen(1))
    with_base = ais_log_partition(rbm, runs=200, betas=1000, base_bias=base_rate_bias(data), generator=_gen(0))
    assert abs(with_base.log_z - exact) < 0.03
    betas = ais_betas()
    assert len(betas) == 14501 and betas[0] == 0 and betas[-1] == 1 and np.all(np.diff(betas) > 0)


def test_bad_input_raises_clear_errors():
    rbm = RBM(784, 20)
    with pytest.raises(ValueError, match=r"RBM: expected data with 784 visible units.*got shape \(2, 1, 32, 32\)"):
        rbm.free_energy(ember.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"ContrastiveDivergence.step: a Bernoulli RBM needs binary data.*0.5"):
        ContrastiveDivergence(rbm).step(ember.full((2, 784), 0.5))
    with pytest.raises(ValueError, match="average_log_likelihood: a Bernoulli RBM needs binary data"):
        average_log_likelihood(rbm, ember.full((2, 784), 0.5), 0.0)
    with pytest.raises(ValueError, match=r"exact_log_partition: RBM\(784, 30\) has 2\^30 states"):
        exact_log_partition(RBM(784, 30))
    with pytest.raises(ValueError, match="temperatures must run from 0 to 1"):
        ais_log_partition(rbm, betas=np.linspace(0.1, 1, 5))


def test_cd1_on_an_mnist_subset_raises_the_ais_log_likelihood():
    x, _ = binarized_mnist(train=True)
    data = ember.tensor(x[:1000].reshape(1000, 784))
    g = _gen(0)
    rbm = RBM(784, 50, generator=g)
    with ember.no_grad():
        rbm.visible_bias.copy_(base_rate_bias(data))

    def log_likelihood():
        estimate = ais_log_partition(rbm, runs=20, betas=1000, base_bias=base_rate_bias(data), generator=_gen(1))
        return average_log_likelihood(rbm, data, estimate.log_z)

    before = log_likelihood()
    trainer = ContrastiveDivergence(rbm, lr=0.05, k=1, momentum=0.5)
    for _ in range(5):
        order = ember.randperm(1000, generator=g)
        for start in range(0, 1000, 20):
            trainer.step(data[order[start:start + 20]], g)
    after = log_likelihood()
    assert after > before + 30, (before, after)
