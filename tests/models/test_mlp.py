"""MLP: the lectures' 784-1000-10 network, its errors, and a reduced MNIST training."""
import numpy as np
import pytest

import ember
from ember.models import MLP, ClassifierConfig, train_classifier
from ember.train.recipes import load_dataset


def test_shape_and_parameter_count():
    model = MLP()
    assert model(ember.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert sum(p.numel() for p in model.parameters()) == 784 * 1000 + 1000 + 1000 * 10 + 10


def test_wrong_input_size_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"MLP: expected inputs with 784 values per sample, got shape \(2, 100\)"):
        MLP()(ember.zeros(2, 100))
    with pytest.raises(ValueError, match="activation"):
        MLP(activation="swish")


def test_matches_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    model = MLP(12, (16, 8), 3, activation="tanh")
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8),
                              torch.nn.Tanh(), torch.nn.Linear(8, 3))
    linears = [m for m in ref if isinstance(m, torch.nn.Linear)]
    ours = [p.numpy() for p in model.parameters()]
    with torch.no_grad():
        for i, layer in enumerate(linears):
            layer.weight.copy_(torch.tensor(ours[2 * i]))
            layer.bias.copy_(torch.tensor(ours[2 * i + 1]))
    x = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(model(ember.tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_reduced_mnist_training_lowers_the_loss():
    x, y = load_dataset("mnist", train=True)
    x, y = x[:1024], y[:1024]
    result = train_classifier(MLP(784, (64,), 10), x, y, x[:256], y[:256],
                              ClassifierConfig(epochs=2, batch_size=64, lr=0.05), verbose=0, log=lambda s: None)
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0] and losses[0] < 2.3
    assert result["test_error"] < 20


@pytest.mark.slow
def test_mnist_reduced_bar():
    """Two epochs of the 784-1000-10 MLP: under 3% test error (the 12-epoch run in MODELS.md: <= 1.6%)."""
    (x, y), (xt, yt) = load_dataset("mnist", True), load_dataset("mnist", False)
    result = train_classifier(MLP(), x, y, xt, yt, ClassifierConfig(epochs=2, batch_size=128, lr=0.05), verbose=0)
    assert result["test_error"] < 3.0
