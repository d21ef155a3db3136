"""VAE: the ELBO against PyTorch's formula, seeded reparameterisation, gradchecks, the IW estimate against
numerical integration, errors, a reduced MNIST training and the ``ember train vae`` recipe."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.models.generative_recipes import binarized_mnist, mnist_unit, register_generative_recipes
from ember.models.vae import (
    VAE,
    NegativeELBO,
    evaluate_negative_elbo,
    gaussian_kl,
    importance_weighted_log_likelihood,
    negative_elbo,
    train_vae_epoch,
)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def test_shapes_and_parameter_count():
    model = VAE()
    logits, mu, logvar = model(ember.zeros(3, 1, 28, 28), generator=_gen())
    assert logits.shape == (3, 784) and mu.shape == logvar.shape == (3, 20)
    assert sum(p.numel() for p in model.parameters()) == (784 * 400 + 400 + 2 * (400 * 20 + 20)
                                                        + 20 * 400 + 400 + 400 * 784 + 784)
    assert model.sample(5, _gen()).shape == (5, 784)


def test_negative_elbo_matches_pytorch_examples_loss():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = (rng.random((6, 784)) > 0.5).astype(np.float32)
    logits, mu, logvar = (rng.standard_normal(s).astype(np.float32) for s in ((6, 784), (6, 20), (6, 20)))
    ours = negative_elbo(ember.tensor(x), ember.tensor(logits), ember.tensor(mu), ember.tensor(logvar)).numpy()
    tx, tmu, tlv = torch.tensor(x), torch.tensor(mu), torch.tensor(logvar)
    bce = torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tensor(logits)), tx, reduction="none").sum(1)
    kld = -0.5 * torch.sum(1 + tlv - tmu.pow(2) - tlv.exp(), dim=1)  # pytorch/examples vae/main.py
    np.testing.assert_allclose(ours, (bce + kld).numpy(), rtol=1e-4)
    assert float(gaussian_kl(ember.zeros(2, 3), ember.zeros(2, 3)).abs().max().item()) == 0.0


def test_reparameterisation_is_seeded_and_has_the_right_moments():
    mu, logvar = ember.full((20000, 2), 1.5), ember.full((20000, 2), math.log(0.25))
    a, b = VAE.reparameterize(mu, logvar, _gen(3)), VAE.reparameterize(mu, logvar, _gen(3))
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), VAE.reparameterize(mu, logvar, _gen(4)).numpy())
    assert abs(a.numpy().mean() - 1.5) < 0.01 and abs(a.numpy().std() - 0.5) < 0.01


def test_gradcheck_reparameterised_elbo_float64():
    rng = np.random.default_rng(1)
    x = ember.tensor((rng.random((3, 5)) > 0.5).astype(np.float64))
    model = VAE(5, 4, 2)
    model.to(ember.float64)
    mu = ember.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    logvar = ember.tensor(0.3 * rng.standard_normal((3, 2)), requires_grad=True)

    def loss(mu, logvar):  # a fresh generator per call: the same eps at every finite-difference point
        z = VAE.reparameterize(mu, logvar, _gen(7))
        return negative_elbo(x, model.decode(z), mu, logvar).sum()

    assert gradcheck(loss, (mu, logvar), check_forward=False)
    images = ember.tensor(rng.random((2, 5)), requires_grad=True)  # the encoder's input path too
    assert gradcheck(lambda v: model(v, generator=_gen(8))[0].sum(), (images,), check_forward=False)


def test_importance_weighted_estimate_matches_numerical_integration():
    ember.manual_seed(0)
    model = VAE(4, 6, 1)  # a 1-d latent: log p(x) = log of an integral over z, done on a grid
    model.to(ember.float64)
    with ember.no_grad():  # q(z|x) = N(0, 2^2) covers the posterior, so the weights vary little
        for param in (model.fc_mu.weight, model.fc_mu.bias, model.fc_logvar.weight):
            param.zero_()
        model.fc_logvar.bias.fill_(math.log(4.0))
    x = ember.tensor(np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=np.float64))
    z = np.linspace(-10, 10, 8001)
    with ember.no_grad():
        logits = model.decode(ember.tensor(z[:, None])).numpy()
    log_px_z = -(np.logaddexp(0, -logits)[:, None, :] * x.numpy() + np.logaddexp(0, logits)[:, None, :]
                 * (1 - x.numpy())).sum(-1)
    log_joint = log_px_z - 0.5 * (z[:, None] ** 2 + math.log(2 * math.pi))
    exact = np.log(np.exp(log_joint - log_joint.max(0)).sum(0) * (z[1] - z[0])) + log_joint.max(0)
    estimate = importance_weighted_log_likelihood(model, x, k=20000, chunk=5000, generator=_gen()).numpy()
    np.testing.assert_allclose(estimate, exact, atol=0.01)
    with ember.no_grad():
        elbo = -negative_elbo(x.expand(2000, 2, 4).reshape(4000, 4),
                              *model(x.expand(2000, 2, 4).reshape(4000, 4), generator=_gen())).numpy()
    assert (elbo.reshape(2000, 2).mean(0) < exact).all()  # the ELBO is a lower bound


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"VAE: expected images with 784 pixels each.*got shape \(2, 1, 32, 32\)"):
        VAE()(ember.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"negative_elbo: Bernoulli targets must lie in \[0, 1\].*255"):
        x = ember.full((2, 784), 255.0)
        negative_elbo(x, *VAE()(x / 255.0, generator=_gen()))
    with pytest.raises(ValueError, match="k and chunk must be positive"):
        importance_weighted_log_likelihood(VAE(), ember.zeros(1, 784), k=0)


def test_training_is_reproducible_and_learns_on_a_subset():
    x, _ = mnist_unit(train=True)
    x_test, _ = binarized_mnist(train=False)
    train, test = ember.tensor(x[:2000].reshape(2000, 784)), ember.tensor(x_test[:1000].reshape(1000, 784))
    results = []
    for _ in range(2):
        ember.manual_seed(0)
        model = VAE()
        optimizer = ember.optim.Adam(model.parameters(), lr=1e-3)
        g = _gen(0)
        before = evaluate_negative_elbo(model, test, generator=g)
        for _ in range(4):
            train_vae_epoch(model, train, optimizer, 128, g)
        results.append(evaluate_negative_elbo(model, test, generator=g))
    assert results[0] == results[1]  # seeded: the same run twice
    assert before > 540 and results[0] < 210, (before, results)  # 202.4 measured


def test_recipe_trains_through_the_model_loop():
    from ember.train.recipes import RECIPES, build_model, train_recipe

    register_generative_recipes()
    assert "vae" in RECIPES
    model, dataset, training = build_model("vae", overrides={"latent": 2})
    assert dataset == "binarized-mnist" and training["loss"] == "negative_elbo" and model.module.latent == 2
    _, history, test = train_recipe("vae", overrides={"epochs": 2}, max_samples=512, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0] and 150 < test["loss"] < 545
    assert isinstance(model.loss, NegativeELBO)
