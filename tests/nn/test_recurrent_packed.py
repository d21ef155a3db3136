"""RNN, LSTM and GRU on PackedSequence inputs against PyTorch; constructor signatures; flatten_parameters."""
import inspect

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pack_sequence

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _copy_weights(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first, bidirectional, num_layers", [(False, False, 1), (True, True, 2)])
def test_packed_input_gives_packed_output_like_torch(kind, batch_first, bidirectional, num_layers):
    kwargs = dict(num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    ours = getattr(nn, kind)(3, 4, dtype="float64", **kwargs)
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch.float64, **kwargs)
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(0)
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    x = rng.standard_normal(shape)
    lengths = [3, 6, 1, 4]
    hidden = (num_layers * (2 if bidirectional else 1), 4, 4)
    h0 = rng.standard_normal(hidden)
    hx_ours = (ember.tensor(h0), ember.tensor(h0 * 0.5)) if kind == "LSTM" else ember.tensor(h0)
    hx_theirs = (torch.from_numpy(h0), torch.from_numpy(h0 * 0.5)) if kind == "LSTM" else torch.from_numpy(h0)

    xe = ember.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x).requires_grad_()
    out, state = ours(pack_padded_sequence(xe, lengths, batch_first=batch_first, enforce_sorted=False), hx_ours)
    ref, ref_state = theirs(trnn.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=False),
                            hx_theirs)
    assert isinstance(out, PackedSequence)
    np.testing.assert_allclose(out.data.numpy(), ref.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert out.batch_sizes.numpy().tolist() == ref.batch_sizes.tolist()
    assert out.sorted_indices.numpy().tolist() == ref.sorted_indices.tolist()
    states = state if kind == "LSTM" else (state,)
    ref_states = ref_state if kind == "LSTM" else (ref_state,)
    for mine, expected in zip(states, ref_states):
        np.testing.assert_allclose(mine.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)

    # Gradients through the packed output and the final states.
    weights = rng.standard_normal(out.data.shape)
    loss = (out.data * ember.tensor(weights)).sum() + sum((s * s).sum() for s in states)
    loss.backward()
    ref_loss = (ref.data * torch.from_numpy(weights)).sum() + sum((s * s).sum() for s in ref_states)
    ref_loss.backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=name)


def test_sorted_pack_sequence_input():
    ours = nn.GRU(2, 3, dtype="float64")
    theirs = torch.nn.GRU(2, 3, dtype=torch.float64)
    _copy_weights(ours, theirs)
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 2)) for n in (4, 2, 2)]
    out, h = ours(pack_sequence([ember.tensor(s) for s in seqs]))
    ref, ref_h = theirs(trnn.pack_sequence([torch.from_numpy(s) for s in seqs]))
    assert out.sorted_indices is None and ref.sorted_indices is None
    np.testing.assert_allclose(out.data.numpy(), ref.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), ref_h.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_packed_input_refuses_lengths():
    lstm = nn.LSTM(2, 3)
    packed = pack_padded_sequence(ember.zeros(4, 2, 2), [4, 2])
    with pytest.raises(ValueError, match="LSTM: a PackedSequence carries its own lengths"):
        lstm(packed, lengths=[4, 2])


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Linear", "Bilinear"])
def test_constructor_signatures_are_torchs(name):
    def params(cls):
        sig = inspect.signature(cls.__init__)
        return [(p.name, p.default) for p in sig.parameters.values()]

    expected = {
        "RNN": ["self", "input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout",
                "bidirectional", "device", "dtype"],
        "LSTM": ["self", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
                 "proj_size", "device", "dtype"],
        "GRU": ["self", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
                "device", "dtype"],
    }
    ours = params(getattr(nn, name))
    if name in expected:  # torch declares these with *args, **kwargs; its documentation gives the order
        assert [n for n, _ in ours] == expected[name]
    else:
        assert ours == params(getattr(torch.nn, name))


def test_positional_arguments_in_torchs_order():
    rnn = nn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert (rnn.num_layers, rnn.nonlinearity, rnn.bias, rnn.batch_first, rnn.bidirectional) == (2, "relu", False,
                                                                                                  True, True)
    layer = nn.Linear(3, 2, True, None, "float64")
    assert layer.weight.dtype == np.float64
    lstm = nn.LSTM(3, 4, 1, True, False, 0.0, False, 0, None, "float64")
    assert lstm.weight_ih_l0.dtype == np.float64 and lstm.proj_size == 0


def test_proj_size_is_not_supported():
    with pytest.raises(NotImplementedError, match=r"LSTM: proj_size=2 \(LSTM output projections\) is not supported"):
        nn.LSTM(3, 4, proj_size=2)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="dropout=0.5 has no effect with num_layers=1"):
        nn.GRU(3, 4, dropout=0.5)


def test_flatten_parameters_is_a_documented_no_op():
    lstm = nn.LSTM(3, 4)
    before = {k: v.numpy().copy() for k, v in lstm.state_dict().items()}
    assert lstm.flatten_parameters() is None
    assert "nothing to compact" in nn.LSTM.flatten_parameters.__doc__
    for k, v in lstm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
