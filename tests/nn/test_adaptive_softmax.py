"""nn.AdaptiveLogSoftmaxWithLoss: PyTorch parity (outputs, loss, log_prob, predict, gradients), state dicts, errors."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.autograd import gradcheck

IN, CLASSES = 8, 20


def pair(cutoffs=(5, 10), div_value=2.0, head_bias=True, seed=0):
    """A torch layer (float64) and an Ember one loaded from its state dict."""
    torch.manual_seed(seed)
    reference = torch.nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, list(cutoffs), div_value=div_value,
                                                    head_bias=head_bias).double()
    layer = nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, list(cutoffs), div_value=div_value, head_bias=head_bias,
                                          dtype=ember.float64)
    result = layer.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    return reference, layer


def data(rng, n=9):
    # Targets in every cluster, the boundaries included.
    t = np.concatenate([[0, 4, 5, 9, 10, 19], rng.integers(0, CLASSES, n - 6)])
    return rng.standard_normal((n, IN)) * 2, t


@pytest.mark.parametrize("cutoffs, div_value, head_bias", [((5, 10), 2.0, True), ((5, 10), 4.0, False),
                                                           ((3,), 2.0, False), ((2, 6, 12), 1.5, True)])
def test_forward_and_gradients_match_torch(cutoffs, div_value, head_bias):
    rng = np.random.default_rng(1)
    reference, layer = pair(cutoffs, div_value, head_bias)
    x, t = data(rng)
    tx = torch.tensor(x, requires_grad=True)
    expected = reference(tx, torch.tensor(t))
    ex = ember.tensor(x, requires_grad=True)
    got = layer(ex, ember.tensor(t))
    np.testing.assert_allclose(got.output.numpy(), expected.output.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.loss.item(), expected.loss.item(), rtol=1e-12)
    # A weighted sum of the outputs plus the loss exercises every row's gradient path.
    weights = rng.standard_normal(len(t))
    ((expected.output * torch.tensor(weights)).sum() + expected.loss).backward()
    ((got.output * ember.tensor(weights)).sum() + got.loss).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    ember_params = dict(layer.named_parameters())
    for name, param in reference.named_parameters():
        if param.numel() == 0:   # a zero-width cluster projection: nothing to compare
            continue
        np.testing.assert_allclose(ember_params[name].grad.numpy(), param.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_log_prob_and_predict_match_torch():
    rng = np.random.default_rng(2)
    reference, layer = pair()
    # Large inputs so that some rows predict tail classes (both predict branches run).
    x = rng.standard_normal((40, IN)) * 4
    expected = reference.log_prob(torch.tensor(x)).detach().numpy()
    got = layer.log_prob(ember.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(got).sum(axis=1), 1.0, rtol=1e-12)
    predicted = layer.predict(ember.tensor(x)).numpy()
    assert (predicted >= layer.shortlist_size).any() and (predicted < layer.shortlist_size).any()
    np.testing.assert_array_equal(predicted, reference.predict(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(predicted, got.argmax(axis=1))


def test_forward_output_is_log_prob_at_target():
    rng = np.random.default_rng(3)
    _, layer = pair((4, 9, 15), 2.0, False)
    x, t = data(rng, 12)
    full = layer.log_prob(ember.tensor(x)).numpy()
    np.testing.assert_allclose(layer(ember.tensor(x), ember.tensor(t)).output.numpy(), full[np.arange(12), t],
                               rtol=1e-12)


def test_unbatched_input():
    rng = np.random.default_rng(4)
    reference, layer = pair()
    x = rng.standard_normal(IN)
    for target in (2, 7, 15):
        expected = reference(torch.tensor(x), torch.tensor(target))
        got = layer(ember.tensor(x), ember.tensor(target))
        assert got.output.shape == () and got.loss.shape == ()
        np.testing.assert_allclose(got.output.item(), expected.output.item(), rtol=1e-12)
        np.testing.assert_allclose(got.loss.item(), expected.loss.item(), rtol=1e-12)


def test_gradcheck_float64():
    rng = np.random.default_rng(5)
    _, layer = pair((5, 10), 2.0, True)
    x, t = data(rng, 7)
    params = [p for _, p in layer.named_parameters()]

    def f(inp, *weights):
        return layer(inp, ember.tensor(t)).output

    assert gradcheck(f, [ember.tensor(x, requires_grad=True)] + params, check_forward=False)


def test_attributes_and_state_dict_names_are_torchs():
    reference, layer = pair((5, 10), 4.0, False)
    assert (layer.shortlist_size, layer.n_clusters, layer.head_size, layer.cutoffs) == \
        (reference.shortlist_size, reference.n_clusters, reference.head_size, reference.cutoffs)
    ours = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    assert ours == {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert ours["tail.1.0.weight"] == (0, IN) and ours["tail.1.1.weight"] == (10, 0)   # 8 // 16 == 0
    assert isinstance(layer.tail, nn.ModuleList) and isinstance(layer.tail[0], nn.Sequential)
    assert layer.head.bias is None and layer.tail[0][0].bias is None


def test_state_dict_round_trip_back_to_torch():
    rng = np.random.default_rng(6)
    _, layer = pair()
    fresh = torch.nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, [5, 10], div_value=2.0, head_bias=True).double()
    fresh.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in layer.state_dict().items()})
    x, t = data(rng)
    np.testing.assert_allclose(fresh(torch.tensor(x), torch.tensor(t)).loss.item(),
                               layer(ember.tensor(x), ember.tensor(t)).loss.item(), rtol=1e-12)


def test_trains_with_autograd():
    ember.manual_seed(0)
    layer = nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, [5, 10], div_value=1.0)
    x = ember.randn(32, IN)
    t = ember.tensor(np.arange(32) % CLASSES)
    opt = ember.optim.Adam(layer.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = layer(x, t).loss
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


@pytest.mark.parametrize("cutoffs", [[10, 5], [5, 5, 10], [5, 20], [0, 5], [], [2.5]])
def test_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="cutoffs should be"):
        nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, cutoffs)
    with pytest.raises(ValueError, match="cutoffs should be"):
        torch.nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, cutoffs)


def test_bad_targets_and_shapes():
    layer = nn.AdaptiveLogSoftmaxWithLoss(IN, CLASSES, [5, 10])
    with pytest.raises(RuntimeError, match=r"AdaptiveLogSoftmaxWithLoss: Target values should be in \[0, 19\].*"
                                           r"\[0, 20\]"):
        layer(ember.randn(2, IN), ember.tensor([0, 20]))
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\].*\[-1, 3\]"):
        layer(ember.randn(2, IN), ember.tensor([-1, 3]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        layer(ember.randn(3, IN), ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        layer(ember.randn(IN), ember.tensor([0]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input"):
        layer(ember.randn(2, IN), ember.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        layer(ember.randn(2, IN), ember.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"log_prob: expected input of shape \(N, 8\), got \(2, 7\)"):
        layer.log_prob(ember.randn(2, 7))
