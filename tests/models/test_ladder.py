"""Ladder network: the combinator and the denoising cost (values, float64 gradchecks), per-group batch
normalisation, the balanced label choice, the learning-rate schedule, errors, and a reduced semi-supervised
MNIST training that must beat the same network trained on the labels alone."""
import pathlib
import re

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.models.generative_recipes import mnist_unit
from ember.models.ladder import (
    PAPER_DENOISING_COSTS,
    LadderNetwork,
    VanillaCombinator,
    _batch_normalise,
    balanced_label_indices,
    denoising_cost,
    evaluate_error,
    ladder_step,
    linear_decay_lr,
    train_ladder_epoch,
    vanilla_combinator,
)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_combinator_matches_the_papers_formula():
    rng = np.random.default_rng(0)
    z, u = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    a = rng.standard_normal((10, 3))
    mu = a[0] * _sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * _sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    ours = vanilla_combinator(ember.tensor(z), ember.tensor(u), [ember.tensor(p) for p in a]).numpy()
    np.testing.assert_allclose(ours, (z - mu) * v + mu, rtol=1e-10)


def test_combinator_starts_as_the_reference_code():
    g = VanillaCombinator(4)
    values = [p.numpy() for p in g.parameters_in_order()]
    assert [float(v[0]) for v in values] == [0, 1, 0, 0, 0, 0, 1, 0, 0, 0]
    assert sum(p.numel() for p in g.parameters()) == 40
    # with v = 0 and mu = 0 the first reconstruction is 0 whatever the input
    assert np.all(g(ember.randn(2, 4), ember.randn(2, 4)).numpy() == 0)


def test_gradcheck_combinator_float64():
    rng = np.random.default_rng(1)
    z = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    u = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    a = [ember.tensor(rng.standard_normal(4), requires_grad=True) for _ in range(10)]
    assert gradcheck(lambda z, u, *a: vanilla_combinator(z, u, a), [z, u, *a])


def test_denoising_cost_value_and_gradcheck_float64():
    rng = np.random.default_rng(2)
    z_hat, z = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    mean, var = rng.standard_normal((1, 3)), rng.random((1, 3)) + 0.5
    expected = 10.0 * np.mean(((z_hat - mean) / np.sqrt(var + 1e-6) - z) ** 2)
    got = denoising_cost(ember.tensor(z_hat), ember.tensor(z), ember.tensor(mean), ember.tensor(var), 10.0)
    np.testing.assert_allclose(float(got.item()), expected, rtol=1e-10)
    inputs = [ember.tensor(x, requires_grad=True) for x in (z_hat, z, mean, var)]
    assert gradcheck(lambda a, b, m, v: denoising_cost(a, b, m, v, 10.0), inputs)
    # the input layer: mean 0, var 1 as plain numbers
    np.testing.assert_allclose(float(denoising_cost(ember.tensor(z_hat), ember.tensor(z), 0.0, 1.0).item()),
                               np.mean((z_hat / np.sqrt(1 + 1e-6) - z) ** 2), rtol=1e-10)


def test_batch_normalisation_uses_each_groups_own_statistics():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(5.0, 2.0, (50, 3)), rng.normal(-1.0, 0.5, (50, 3))])
    z, mean, var = _batch_normalise(ember.tensor(x), 2)
    z = z.numpy()
    assert mean.shape == (2, 1, 3)
    for half in (z[:50], z[50:]):
        np.testing.assert_allclose(half.mean(0), 0, atol=1e-10)
        np.testing.assert_allclose(half.var(0), 1, atol=1e-5)
    np.testing.assert_allclose(mean.numpy()[:, 0], np.stack([x[:50].mean(0), x[50:].mean(0)]), rtol=1e-10)


def test_gradcheck_whole_cost_of_a_tiny_ladder_float64():
    ember.manual_seed(0)
    model = LadderNetwork((5, 4, 3), denoising_costs=(1.0, 0.5, 0.1))
    model.to(ember.float64)
    rng = np.random.default_rng(4)
    xl, xu = ember.tensor(rng.random((4, 5))), ember.tensor(rng.random((4, 5)))
    labels = ember.tensor([0, 1, 2, 0])
    for p in model.combinators[1].parameters_in_order():  # move g away from its degenerate start (v = mu = 0)
        p.data.copy_(ember.tensor(rng.standard_normal(4)))
    weight, a1 = model.encoder[0].linear.weight, model.combinators[1].a1

    # gradients of the model's own parameters, by finite differences of the seeded cost
    model.train()
    total = model.costs(xl, labels, xu, generator=_gen(7))["total"]
    model.zero_grad()
    total.backward()
    for param, index in ((weight, (1, 2)), (a1, (3,))):
        analytic = float(param.grad.numpy()[index])
        saved, h = float(param.data.numpy()[index]), 1e-6
        values = []
        for delta in (h, -h):
            array = param.data.numpy().copy()
            array[index] = saved + delta
            param.data.copy_(ember.tensor(array))
            with ember.no_grad():
                values.append(float(model.costs(xl, labels, xu, generator=_gen(7))["total"].item()))
        array = param.data.numpy().copy()
        array[index] = saved
        param.data.copy_(ember.tensor(array))
        np.testing.assert_allclose(analytic, (values[0] - values[1]) / (2 * h), rtol=1e-4, atol=1e-7)


def test_costs_shapes_and_paper_defaults():
    model = LadderNetwork()
    assert model.sizes == (784, 1000, 500, 250, 250, 250, 10)
    assert model.denoising_costs == PAPER_DENOISING_COSTS
    costs = model.costs(ember.rand(6, 784), ember.randint(0, 10, (6,)), ember.rand(6, 1, 28, 28), generator=_gen())
    assert len(costs["per_layer"]) == 7 and costs["total"].shape == ()
    np.testing.assert_allclose(float(costs["total"].item()),
                               float(costs["supervised"].item()) + sum(float(t.item()) for t in costs["per_layer"]),
                               rtol=1e-5)
    assert model.eval()(ember.rand(3, 784)).shape == (3, 10)


def test_seeded_costs_repeat_and_noise_matters():
    ember.manual_seed(0)
    model = LadderNetwork((20, 8, 4))
    xl, xu, y = ember.rand(4, 20), ember.rand(4, 20), ember.tensor([0, 1, 2, 3])
    a = model.costs(xl, y, xu, generator=_gen(1))["total"].item()
    assert a == model.costs(xl, y, xu, generator=_gen(1))["total"].item()
    assert a != model.costs(xl, y, xu, generator=_gen(2))["total"].item()


def test_balanced_label_indices():
    targets = np.repeat(np.arange(10), 30)[np.random.default_rng(0).permutation(300)]
    idx = balanced_label_indices(targets, 100, seed=5)
    assert len(idx) == len(np.unique(idx)) == 100
    assert np.bincount(targets[idx]).tolist() == [10] * 10
    assert np.array_equal(idx, balanced_label_indices(targets, 100, seed=5))
    assert not np.array_equal(idx, balanced_label_indices(targets, 100, seed=6))
    with pytest.raises(ValueError, match="multiple of the 10 classes"):
        balanced_label_indices(targets, 95)
    with pytest.raises(ValueError, match="class 0 has 30 examples, fewer than the 40"):
        balanced_label_indices(targets, 400)


def test_linear_decay_lr():
    lr = linear_decay_lr(0.002, 90, 1 / 3)
    assert lr(0) == lr(59) == 0.002
    np.testing.assert_allclose([lr(60), lr(75), lr(90)], [0.002, 0.001, 0.0])
    assert linear_decay_lr(0.1, 10, 0.0)(9) == 0.1
    with pytest.raises(ValueError, match="decay_fraction must lie in"):
        linear_decay_lr(0.1, 10, 1.5)


def test_errors_name_the_model_and_sizes():
    model = LadderNetwork((784, 16, 10))
    with pytest.raises(ValueError, match=r"LadderNetwork: expected inputs with 784 features.*\(5, 100\)"):
        model(ember.zeros(5, 100))
    with pytest.raises(ValueError, match=r"labelled batch \(4, 784\) and the unlabelled batch \(3, 784\)"):
        model.costs(ember.zeros(4, 784), ember.tensor([0, 1, 2, 3]), ember.zeros(3, 784))
    with pytest.raises(ValueError, match=r"labels must be \(4,\).*got \(3,\)"):
        model.costs(ember.zeros(4, 784), ember.tensor([0, 1, 2]), ember.zeros(4, 784))
    with pytest.raises(ValueError, match=r"one lambda per layer 0..2 \(3 values\), got 2"):
        LadderNetwork((784, 16, 10), denoising_costs=(1.0, 2.0))
    with pytest.raises(ValueError, match="the 10 parameters a1..a10, got 9"):
        vanilla_combinator(ember.zeros(2, 3), ember.zeros(2, 3), [ember.zeros(3)] * 9)
    with pytest.raises(ValueError, match=r"a1 must have shape \(3,\), got \(4,\)"):
        vanilla_combinator(ember.zeros(2, 3), ember.zeros(2, 3), [ember.zeros(4)] * 10)
    with pytest.raises(ValueError, match=r"denoising_cost: z_hat \(2, 3\) and z_clean \(2, 4\)"):
        denoising_cost(ember.zeros(2, 3), ember.zeros(2, 4), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"batch_size=100 needs at least that many labelled \(10\)"):
        train_ladder_epoch(model, None, ember.zeros(10, 784), ember.zeros(10), ember.zeros(500, 784))


def test_running_statistics_follow_the_clean_unlabelled_batches():
    ember.manual_seed(0)
    model = LadderNetwork((6, 3, 2))
    optimizer = ember.optim.SGD(model.parameters(), lr=0.0)
    xl, y = ember.rand(8, 6), ember.tensor([0, 1] * 4)
    xu = ember.rand(8, 6) * 3 + 2
    layer = model.encoder[0]
    layer.momentum = 0.1
    for _ in range(150):  # lr 0: the weights stay, the averages converge to the unlabelled batch's statistics
        ladder_step(model, optimizer, xl, y, xu, _gen())
    pre = layer.linear(xu).numpy()
    np.testing.assert_allclose(layer.running_mean.numpy(), pre.mean(0), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.running_var.numpy(), pre.var(0, ddof=1), rtol=1e-3)


def test_guide_examples_run():
    guide = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ladder.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "docs/ladder.md", "exec"), {})  # noqa: S102 - our own docs


def _mnist_subset(n_unlabelled, n_test):
    x_train, y_train = mnist_unit(train=True)
    x_test, y_test = mnist_unit(train=False)
    x_train, x_test = x_train.reshape(len(x_train), 784), x_test.reshape(len(x_test), 784)
    chosen = balanced_label_indices(y_train[:n_unlabelled], 100, seed=0)
    return (ember.tensor(x_train[chosen]), ember.tensor(y_train[chosen]), ember.tensor(x_train[:n_unlabelled]),
            ember.tensor(x_test[:n_test]), ember.tensor(y_test[:n_test]))


@pytest.mark.slow
def test_reduced_mnist_training_beats_the_labels_alone():
    """100 labels, 5000 unlabelled images, a 784-200-100-10 ladder for 300 steps at lr 0.01.

    The same network, noise, steps and lr with every lambda at 0 (so only the noisy
    supervised cost trains it) is the baseline. Measured at lr 0.002: baseline 22.8%,
    ladder 19.4%; at lr 0.01 the ladder reaches ~15% (see docs/ladder.md).
    """
    labelled, labels, unlabelled, test_x, test_y = _mnist_subset(5000, 1000)
    errors = {}
    for name, lambdas in (("supervised", (0.0, 0.0, 0.0, 0.0)), ("ladder", (1000.0, 10.0, 0.1, 0.1))):
        ember.manual_seed(0)
        generator = _gen(0)
        model = LadderNetwork((784, 200, 100, 10), denoising_costs=lambdas)
        optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
        for _ in range(6):
            train_ladder_epoch(model, optimizer, labelled, labels, unlabelled, 100, generator)
        errors[name] = evaluate_error(model, test_x, test_y)
    assert errors["ladder"] < 18.0, errors
    assert errors["ladder"] < errors["supervised"] - 4.0, errors
