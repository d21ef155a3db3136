"""Gated autoencoder: the cost against a NumPy transcription of the equations and PyTorch's autograd, a float64
gradcheck, the whitening, filter normalisation, errors naming the sizes, and a reduced training whose
transformation retrieval beats copying the input."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.data.image_pairs import make_pairs, make_triples
from ember.models.gated_autoencoder import (
    GatedAutoencoder,
    PCAWhitening,
    TransferMLP,
    mlp_hidden_for_budget,
    retrieval_mse,
    symmetric_reconstruction_cost,
    train_gated_autoencoder_epoch,
    train_transfer_mlp_epoch,
)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def _numpy_cost(x, y, u, v, w, bm, bx, by):
    sigmoid = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    m = sigmoid((x @ u.T * (y @ v.T)) @ w.T + bm)
    y_hat = (x @ u.T * (m @ w)) @ v + by
    x_hat = (y @ v.T * (m @ w)) @ u + bx
    return 0.5 * (((x - x_hat) ** 2).sum(1) + ((y - y_hat) ** 2).sum(1)).mean(), m, y_hat


def test_parameter_shapes_and_count():
    model = GatedAutoencoder(12, 10, factors=7, mappings=5, generator=_gen())
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"input_factors": (7, 12), "output_factors": (7, 10), "mapping_weight": (5, 7),
                      "mapping_bias": (5,), "x_bias": (12,), "y_bias": (10,)}
    assert (model.mapping_weight.numpy() > 0).all()  # positive pooling weights at the start


def test_mappings_reconstructions_and_cost_match_the_equations():
    rng = np.random.default_rng(0)
    model = GatedAutoencoder(6, 5, factors=4, mappings=3, corruption=0.0, generator=_gen())
    with ember.no_grad():
        for p in model.parameters():
            p.copy_(ember.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
    x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.standard_normal((8, 5)).astype(np.float32)
    params = [p.numpy().astype(np.float64) for p in model.parameters()]
    expected_cost, expected_m, expected_y_hat = _numpy_cost(x.astype(np.float64), y.astype(np.float64), *params)
    m = model.mappings(ember.tensor(x), ember.tensor(y))
    np.testing.assert_allclose(m.numpy(), expected_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.reconstruct_y(ember.tensor(x), m).numpy(), expected_y_hat, rtol=1e-4, atol=1e-5)
    model.eval()
    assert model.cost(ember.tensor(x), ember.tensor(y)).item() == pytest.approx(expected_cost, rel=1e-5)


def test_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) * 0.5 for s in ((5, 6), (5, 4), (3, 6), (3, 4), (2, 3), (2,), (6,), (4,))]
    ours = [ember.tensor(a, requires_grad=i >= 2) for i, a in enumerate(arrays)]
    symmetric_reconstruction_cost(*ours).backward()
    theirs = [torch.tensor(a, requires_grad=i >= 2) for i, a in enumerate(arrays)]
    x, y, u, v, w, bm, bx, by = theirs
    fx, fy = x @ u.T, y @ v.T
    m = torch.sigmoid((fx * fy) @ w.T + bm)
    x_hat, y_hat = (fy * (m @ w)) @ u + bx, (fx * (m @ w)) @ v + by
    cost = 0.5 * (((x - x_hat) ** 2).sum(1) + ((y - y_hat) ** 2).sum(1)).mean()
    cost.backward()
    for a, b in zip(ours[2:], theirs[2:]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cost_gradcheck_float64_with_corrupted_inputs():
    rng = np.random.default_rng(2)
    x, y = (ember.tensor(rng.standard_normal((4, 5))) for _ in range(2))
    mask = ember.tensor((rng.random((4, 5)) > 0.3).astype(np.float64))
    params = [ember.tensor(rng.standard_normal(s) * 0.5, requires_grad=True)
              for s in ((3, 5), (3, 5), (2, 3), (2,), (5,), (5,))]
    assert gradcheck(lambda *p: symmetric_reconstruction_cost(x, y, *p, x_in=x * mask, y_in=y * mask), params)


def test_training_mode_corrupts_the_inputs_and_eval_mode_does_not():
    model = GatedAutoencoder(8, factors=4, mappings=2, corruption=0.5, generator=_gen())
    x, y = ember.randn(6, 8, generator=_gen(1)), ember.randn(6, 8, generator=_gen(2))
    model.train()
    noisy = [model.cost(x, y, generator=_gen(s)).item() for s in (3, 4)]
    assert noisy[0] != noisy[1]
    model.eval()
    assert model.cost(x, y, generator=_gen(3)).item() == model.cost(x, y, generator=_gen(4)).item()
    keep = model.corrupt(ember.ones(1000, 8), generator=_gen(5)).numpy()
    assert set(np.unique(keep)) <= {0.0, 1.0} and abs(keep.mean() - 0.5) < 0.02


def test_normalize_filters_centres_and_equalises_every_factor():
    model = GatedAutoencoder(10, factors=6, mappings=3, generator=_gen())
    with ember.no_grad():
        model.input_factors.mul_(ember.arange(1, 7, dtype=ember.float32).reshape(6, 1))
    before = model.input_factors.numpy().std(axis=1).mean()
    model.normalize_filters_()
    u = model.input_factors.numpy()
    np.testing.assert_allclose(u.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(u.std(axis=1), before, rtol=1e-3)


def test_pca_whitening_keeps_the_asked_variance_and_inverts_on_the_kept_subspace():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2000, 8)) @ np.diag([5, 4, 3, 2, 1, 0.1, 0.05, 0.01]) @ np.linalg.qr(
        rng.standard_normal((8, 8)))[0]
    white = PCAWhitening(data, variance=0.95)
    spectrum = np.sort(np.linalg.eigvalsh(np.cov(data.T)))[::-1]
    share = np.cumsum(spectrum) / spectrum.sum()
    assert white.components == int(np.argmax(share >= 0.95)) + 1
    z = white.transform(data)
    np.testing.assert_allclose(np.cov(z.T), np.eye(white.components), atol=2e-3)
    full = PCAWhitening(data, variance=1.0)
    np.testing.assert_allclose(full.inverse_transform(full.transform(data)), data, atol=1e-4)
    with pytest.raises(ValueError, match=r"PCAWhitening.transform: expected rows of 8 pixels, got shape \(2, 3\)"):
        white.transform(np.zeros((2, 3)))


def test_errors_name_the_model_and_the_sizes():
    model = GatedAutoencoder(9, 7, factors=5, mappings=3, generator=_gen())
    with pytest.raises(ValueError, match=r"GatedAutoencoder\(9->7, F=5, H=3\): expected y of shape \(N, 7\), "
                                         r"got \(2, 9\)"):
        model.mappings(ember.zeros(2, 9), ember.zeros(2, 9))
    with pytest.raises(ValueError, match=r"GatedAutoencoder\(9->7, F=5, H=3\): expected x of shape \(N, 9\), "
                                         r"got \(2, 1, 9\)"):
        model.cost(ember.zeros(2, 1, 9), ember.zeros(2, 7))
    with pytest.raises(ValueError, match="x and y must hold as many samples, got 2 and 3"):
        model.mappings(ember.zeros(2, 9), ember.zeros(3, 7))
    with pytest.raises(ValueError, match="expected mappings of shape \\(N, 3\\)"):
        model.reconstruct_y(ember.zeros(2, 9), ember.zeros(2, 4))
    with pytest.raises(ValueError, match=r"factors must be >= 1, got 0"):
        GatedAutoencoder(4, factors=0)
    with pytest.raises(ValueError, match=r"corruption must lie in \[0, 1\), got 1.0"):
        GatedAutoencoder(4, corruption=1.0)
    with pytest.raises(ValueError, match=r"TransferMLP\(3x4-2-5\): expected x2 of shape \(N, 4\)"):
        TransferMLP(4, 5, 2)(ember.zeros(1, 4), ember.zeros(1, 4), ember.zeros(1, 3))
    with pytest.raises(ValueError, match=r"retrieval_mse: prediction \(2,\) and target \(3,\)"):
        retrieval_mse(np.zeros(2), np.zeros(3))


def test_mlp_budget_matches_the_gated_autoencoder_parameter_count():
    model = GatedAutoencoder(60, factors=128, mappings=50)
    params = sum(p.numel() for p in model.parameters())
    mlp = TransferMLP(60, 196, mlp_hidden_for_budget(params, 60, 196))
    assert abs(sum(p.numel() for p in mlp.parameters()) - params) < 3 * 60 + 1 + 196


def test_reduced_training_retrieves_the_transformation_better_than_copying():
    """Random-dot images (as in Memisevic's shift experiments), wrap-around shifts of up to 1 pixel."""
    rng = np.random.default_rng(0)
    dots = rng.standard_normal((5500, 8, 8)).astype(np.float32)
    x, y, _ = make_pairs(dots[:5000], "shift", 5000, seed=0, max_shift=1)
    tx, ty, tx2, ty2, _ = make_triples(dots[5000:], "shift", 500, seed=1, max_shift=1)
    flat = lambda a: ember.tensor(a.reshape(len(a), -1))  # noqa: E731
    generator = _gen()
    model = GatedAutoencoder(64, factors=64, mappings=20, corruption=0.3, generator=generator)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    costs = [train_gated_autoencoder_epoch(model, flat(x), flat(y), optimizer, 100, generator) for _ in range(10)]
    assert costs[-1] < 0.8 * costs[0]
    model.eval()
    with ember.no_grad():
        prediction = model.transfer(flat(tx), flat(ty), flat(tx2)).numpy()
    gae, copy = retrieval_mse(prediction, ty2.reshape(500, -1)), retrieval_mse(tx2, ty2)
    mean_image = float(np.mean(ty2 ** 2))  # the dots have mean 0: predicting 0 is predicting the mean image
    assert gae < 0.75 * mean_image < 0.6 * copy  # copying a shifted white-noise image errs by 2 variances


def test_transfer_mlp_training_lowers_its_error():
    rng = np.random.default_rng(1)
    x, y, x2, y2 = (ember.tensor(a.reshape(200, -1)) for a in make_triples(
        rng.random((50, 4, 4)).astype(np.float32), "shift", 200, seed=0, max_shift=1)[:4])
    mlp = TransferMLP(16, 16, 8)
    ember.manual_seed(0)
    optimizer = ember.optim.Adam(mlp.parameters(), lr=1e-2)
    losses = [train_transfer_mlp_epoch(mlp, x, y, x2, y2, optimizer, 50, _gen()) for _ in range(10)]
    assert losses[-1] < 0.7 * losses[0]


def test_docs_example_runs():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "gated.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/gated.md", "exec"), {})  # noqa: S102 - our own docs


def test_module_docstrings_run():
    import doctest

    import ember.data.image_pairs
    import ember.models.gated_autoencoder

    for module in (ember.models.gated_autoencoder, ember.data.image_pairs):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failures == 0
