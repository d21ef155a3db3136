"""Stacked denoising autoencoder: masking noise, the tied-weight reconstruction loss against PyTorch, gradchecks,
greedy pretraining (one layer at a time, loss falling), errors, and fine-tuning on an MNIST subset."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.models import ClassifierConfig, train_classifier
from ember.models.autoencoder import DenoisingAutoencoder, StackedDenoisingAutoencoder, pretrain, pretrain_layer
from ember.models.generative_recipes import mnist_unit


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def test_shapes_and_layers():
    sda = StackedDenoisingAutoencoder(784, (30, 20, 10), 10, corruption=(0.1, 0.2, 0.3))
    assert sda(ember.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert [layer.weight.shape for layer in sda.layers] == [(30, 784), (20, 30), (10, 20)]
    assert [layer.corruption for layer in sda.layers] == [0.1, 0.2, 0.3]
    assert sda.features(ember.zeros(2, 784), depth=1).shape == (2, 30)


def test_masking_noise_is_seeded_and_masks_the_given_fraction():
    dae = DenoisingAutoencoder(100, 10, corruption=0.3)
    x = ember.ones(200, 100)
    a, b = dae.corrupt(x, _gen(1)), dae.corrupt(x, _gen(1))
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), dae.corrupt(x, _gen(2)).numpy())
    assert set(np.unique(a.numpy())) == {0.0, 1.0} and abs((a.numpy() == 0).mean() - 0.3) < 0.01
    assert DenoisingAutoencoder(100, 10, corruption=0.0).corrupt(x, _gen()) is x
    dae.eval()  # no corruption outside training
    np.testing.assert_allclose(dae(x).numpy(), ember.sigmoid(dae.decode_logits(dae.encode(x))).numpy())


def test_reconstruction_loss_matches_torch_with_tied_weights():
    torch = pytest.importorskip("torch")
    dae = DenoisingAutoencoder(12, 5, corruption=0.0)
    x = np.random.default_rng(0).random((6, 12)).astype(np.float32)
    w, c, b = (torch.tensor(p.numpy()) for p in (dae.weight, dae.hidden_bias, dae.visible_bias))
    tx = torch.tensor(x)
    reconstruction = torch.sigmoid(torch.sigmoid(tx @ w.T + c) @ w + b)
    expected = torch.nn.functional.binary_cross_entropy(reconstruction, tx, reduction="sum") / 6
    assert float(dae.reconstruction_loss(ember.tensor(x)).item()) == pytest.approx(float(expected), rel=1e-5)


def test_gradcheck_denoising_loss_and_stack_float64():
    dae = DenoisingAutoencoder(6, 4, corruption=0.5).to(ember.float64)
    x = ember.tensor(np.random.default_rng(1).uniform(0.1, 0.9, (3, 6)), requires_grad=True)
    # A fresh generator per call: the same mask at every finite-difference point.
    assert gradcheck(lambda x: dae.reconstruction_loss(x, _gen(3)), (x,), check_forward=False)
    sda = StackedDenoisingAutoencoder(6, (5, 4), 3).to(ember.float64)
    assert gradcheck(lambda x: sda(x).sum(), (x,), check_forward=False)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"StackedDenoisingAutoencoder: expected images with 784 pixels.*"
                       r"\(2, 3, 28, 28\)"):
        StackedDenoisingAutoencoder(784, (10,))(ember.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"DenoisingAutoencoder: .*needs inputs in \[0, 1\].*got values in \[0, 255\]"):
        DenoisingAutoencoder(4, 2).reconstruction_loss(ember.tensor([[0.0, 255.0, 1.0, 3.0]]))
    with pytest.raises(ValueError, match="corruption must be in"):
        DenoisingAutoencoder(4, 2, corruption=1.0)
    with pytest.raises(ValueError, match="one corruption level per layer"):
        StackedDenoisingAutoencoder(784, (10, 10), corruption=(0.1,))
    with pytest.raises(ValueError, match="pretrain_layer: layer 2 of a 1-layer stack"):
        pretrain_layer(StackedDenoisingAutoencoder(784, (10,)), 2, ember.zeros(2, 784))


def test_greedy_pretraining_trains_one_layer_at_a_time():
    x, _ = mnist_unit(train=True)
    images = ember.tensor(x[:500])
    sda = StackedDenoisingAutoencoder(784, (64, 32), 10, generator=_gen(0))
    first = sda.layers[0].weight.numpy().copy()
    second = sda.layers[1].weight.numpy().copy()
    losses = pretrain_layer(sda, 1, images, epochs=3, lr=0.1, generator=_gen(1))
    assert np.array_equal(sda.layers[0].weight.numpy(), first)  # the layer below stays frozen
    assert not np.array_equal(sda.layers[1].weight.numpy(), second) and losses[-1] < losses[0]
    runs = []
    for _ in range(2):  # seeded: the same greedy pretraining twice
        stack = StackedDenoisingAutoencoder(784, (64, 32), 10, generator=_gen(0))
        runs.append((pretrain(stack, images, epochs=3, lr=0.1, generator=_gen(1)), stack.layers[1].weight.numpy()))
    histories = runs[0][0]
    assert len(histories) == 2 and all(h[-1] < h[0] for h in histories)
    assert histories == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])


def test_finetuning_a_pretrained_stack_beats_chance_on_a_subset():
    x, y = mnist_unit(train=True)
    x_test, y_test = mnist_unit(train=False)
    ember.manual_seed(0)
    sda = StackedDenoisingAutoencoder(784, (200, 200), 10, generator=_gen(0))
    pretrain(sda, ember.tensor(x[:2000]), epochs=1, lr=0.01, generator=_gen(1))
    result = train_classifier(sda, x[:2000], y[:2000], x_test[:1000], y_test[:1000],
                              ClassifierConfig(epochs=3, batch_size=20, lr=0.1, momentum=0.9), verbose=0,
                              log=lambda line: None)
    assert result["test_error"] < 20.0, result  # chance is 90%
