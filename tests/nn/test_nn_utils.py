"""Flat parameter vectors: PyTorch's helpers and Torch7's getParameters()."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import get_parameters, parameters_to_vector, vector_to_parameters


def test_parameters_to_vector_matches_pytorch_order():
    torch = pytest.importorskip("torch")
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in net.state_dict().items()})
    ours = parameters_to_vector(net.parameters())
    theirs = torch.nn.utils.parameters_to_vector(reference.parameters())
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())


def test_parameters_to_vector_is_differentiable():
    net = nn.Linear(3, 2)
    vec = parameters_to_vector(net.parameters())
    (vec * vec).sum().backward()
    np.testing.assert_allclose(net.weight.grad.numpy(), 2 * net.weight.numpy(), rtol=1e-6)


def test_vector_round_trip():
    net = nn.Linear(5, 3)
    vec = parameters_to_vector(net.parameters()).detach()
    other = nn.Linear(5, 3)
    vector_to_parameters(vec, other.parameters())
    np.testing.assert_array_equal(other.weight.numpy(), net.weight.numpy())
    np.testing.assert_array_equal(other.bias.numpy(), net.bias.numpy())


def test_vector_of_the_wrong_length_is_reported():
    with pytest.raises(ValueError, match="vector has 7 elements but the parameters hold 18"):
        vector_to_parameters(ember.zeros(7), nn.Linear(5, 3).parameters())
    with pytest.raises(TypeError, match="expected a 1-D tensor"):
        vector_to_parameters(ember.zeros(3, 6), nn.Linear(5, 3).parameters())


def test_get_parameters_shares_memory_both_ways():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = parameters_to_vector(net.parameters()).numpy().copy()
    params, grads = get_parameters(net)
    np.testing.assert_array_equal(params.numpy(), before)
    assert params.shape == grads.shape == (net.num_parameters(),)
    params.data[:] = 0.5
    assert (net[0].weight.numpy() == 0.5).all() and (net[2].bias.numpy() == 0.5).all()
    with ember.no_grad():
        net[0].bias -= 1.0
    assert params.numpy()[12:16].tolist() == [-0.5] * 4


def test_get_parameters_gradients_accumulate_until_zeroed():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    params, grads = get_parameters(net)
    x = ember.randn(5, 3)
    net(x).sum().backward()
    expected = parameters_to_vector([p.grad for p in net.parameters()]).numpy()
    np.testing.assert_allclose(grads.numpy(), expected, rtol=1e-6)
    net(x).sum().backward()
    np.testing.assert_allclose(grads.numpy(), 2 * expected, rtol=1e-6)
    grads.zero_()
    assert (grads.numpy() == 0).all()


def test_get_parameters_called_twice_does_not_double_count():
    net = nn.Linear(2, 1)
    get_parameters(net)
    _, grads = get_parameters(net)
    net(ember.ones(1, 2)).sum().backward()
    assert grads.tolist() == [1.0, 1.0, 1.0]


def test_sgd_on_the_flat_vectors_trains_a_network():
    """The lectures' loop: x, dl_dx = getParameters(); repeat { dl_dx:zero(); ...; x:add(-lr, dl_dx) }."""
    ember.manual_seed(0)
    xs = ember.randn(64, 2)
    ys = (xs[:, 0] * xs[:, 1] > 0).astype("int64")
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2), nn.LogSoftmax(dim=1))
    criterion = nn.NLLLoss()
    x, dl_dx = get_parameters(net)
    first = None
    for _ in range(300):
        dl_dx.zero_()
        loss = criterion(net(xs), ys)
        loss.backward()
        with ember.no_grad():
            x -= 0.5 * dl_dx
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first


def test_mixed_dtypes_are_rejected():
    with pytest.raises(TypeError, match="several dtypes"):
        get_parameters([nn.Parameter(ember.zeros(2)), nn.Parameter(ember.zeros(2, dtype="float64"))])
