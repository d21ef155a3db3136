"""Transformer layers, stacks and positional encodings: PyTorch parity, causality, gradients, errors."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck
from nn.oracle import call_with_parameters, copy_state_to_torch


def _t(array, requires_grad=False):
    return ember.tensor(array, requires_grad=requires_grad)


def _check_parity(torch, ours, theirs, ember_args, torch_args, kwargs=None, rtol=1e-9, atol=1e-10):
    """Same weights, then outputs, the gradients of the tensor inputs and of every parameter."""
    kwargs = kwargs or {}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_state_to_torch(torch, ours, theirs)
    out = ours(*ember_args, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(*torch_args, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                          for k, v in kwargs.items()})
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(0).standard_normal(out.shape)
    (out * _t(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    for a, b in zip(ember_args, torch_args):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


LAYER_OPTIONS = [
    dict(norm_first=False, activation="relu", batch_first=False),
    dict(norm_first=True, activation="gelu", batch_first=True),
    dict(norm_first=True, activation="relu", batch_first=False),
    dict(norm_first=False, activation="gelu", batch_first=True, bias=False),
]


def _ids(options):
    return "-".join(f"{k}={v}" for k, v in options.items())


def _seq(rng, T, B, E, batch_first):
    return rng.standard_normal((B, T, E) if batch_first else (T, B, E))


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=_ids)
def test_encoder_layer_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    kw = dict(dim_feedforward=24, dropout=0.0, **options)
    ours = nn.TransformerEncoderLayer(8, 2, **kw).double()
    theirs = torch.nn.TransformerEncoderLayer(8, 2, **kw).double()
    x = _seq(rng, 5, 3, 8, options["batch_first"])
    padding = np.zeros((3, 5), bool)
    padding[1, -2:] = True
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype="float64").numpy()
    _check_parity(torch, ours, theirs, [_t(x, True)], [torch.tensor(x, requires_grad=True)],
                  dict(src_mask=mask, src_key_padding_mask=padding))


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=_ids)
def test_decoder_layer_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    kw = dict(dim_feedforward=24, dropout=0.0, **options)
    ours = nn.TransformerDecoderLayer(8, 2, **kw).double()
    theirs = torch.nn.TransformerDecoderLayer(8, 2, **kw).double()
    tgt, memory = _seq(rng, 4, 3, 8, options["batch_first"]), _seq(rng, 6, 3, 8, options["batch_first"])
    memory_padding = np.zeros((3, 6), bool)
    memory_padding[2, -3:] = True
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype="float64").numpy()
    _check_parity(torch, ours, theirs, [_t(tgt, True), _t(memory, True)],
                  [torch.tensor(tgt, requires_grad=True), torch.tensor(memory, requires_grad=True)],
                  dict(tgt_mask=mask, memory_key_padding_mask=memory_padding))


def test_stacks_and_full_transformer_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=nn.LayerNorm(8)).double()
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False).double()
    x = rng.standard_normal((2, 5, 8))
    _check_parity(torch, ours, theirs, [_t(x, True)], [torch.tensor(x, requires_grad=True)],
                  dict(mask=nn.Transformer.generate_square_subsequent_mask(5, dtype="float64").numpy()))
    ours = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True).double()
    theirs = torch.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True).double()
    src, tgt = rng.standard_normal((2, 6, 8)), rng.standard_normal((2, 4, 8))
    _check_parity(torch, ours, theirs, [_t(src, True), _t(tgt, True)],
                  [torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)],
                  dict(tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype="float64").numpy()))


def test_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    weights = [copy.linear1.weight for copy in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight for w in weights)
    assert "layers.2.self_attn.in_proj_weight" in encoder.state_dict()


def test_causal_encoder_ignores_the_future():
    rng = np.random.default_rng(3)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2)
    x = rng.standard_normal((1, 6, 8)).astype("float32")
    changed = x.copy()
    changed[:, 4:] = rng.standard_normal((1, 2, 8))
    a = encoder(_t(x), is_causal=True).numpy()
    b = encoder(_t(changed), is_causal=True).numpy()
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_encoder_layer_gradcheck_float64():
    rng = np.random.default_rng(4)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu").double()
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach() for p in layer.parameters()]
    x = _t(rng.standard_normal((1, 3, 4)))
    assert gradcheck(lambda x, *ps: call_with_parameters(layer, names, ps, (x,)), [x] + params)


def test_dropout_only_in_training():
    rng = np.random.default_rng(5)
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.3)
    tgt = _t(rng.standard_normal((3, 2, 8)).astype("float32"))
    memory = _t(rng.standard_normal((4, 2, 8)).astype("float32"))
    ember.manual_seed(0)
    a = layer(tgt, memory).numpy()
    ember.manual_seed(1)
    assert not np.allclose(a, layer(tgt, memory).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(tgt, memory).numpy(), layer(tgt, memory).numpy())


def test_square_subsequent_mask_and_bad_arguments():
    assert nn.Transformer.generate_square_subsequent_mask(3).tolist() == [
        [0.0, -math.inf, -math.inf], [0.0, 0.0, -math.inf], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation must be"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="num_layers must be at least 1"):
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2), 0)
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(ValueError, match=r"Transformer: expected src and tgt with last dimension 8"):
        model(ember.zeros(5, 2, 8), ember.zeros(4, 2, 6))
    with pytest.raises(ValueError, match=r"MultiheadAttention: expected query with 3 dimensions and last dimension 8"):
        nn.TransformerEncoderLayer(8, 2)(ember.zeros(5, 2, 7))


# ------------------------------------------------------------------ positional encodings
def test_sinusoidal_table_follows_the_formula():
    table = nn.sinusoidal_positions(50, 6, dtype="float64").numpy()
    p, i = 17, 2
    assert table[p, 2 * i] == pytest.approx(math.sin(p / 10000 ** (2 * i / 6)))
    assert table[p, 2 * i + 1] == pytest.approx(math.cos(p / 10000 ** (2 * i / 6)))
    odd = nn.sinusoidal_positions(4, 5).numpy()
    assert odd.shape == (4, 5) and odd[1, 4] == pytest.approx(math.sin(1 / 10000 ** (4 / 5)), rel=1e-6)


@pytest.mark.parametrize("batch_first", [False, True])
def test_sinusoidal_encoding_adds_positions_with_offset(batch_first):
    pe = nn.SinusoidalPositionalEncoding(6, max_len=20, batch_first=batch_first)
    x = ember.zeros(2, 3, 6)
    out = pe(x, offset=4).numpy()
    table = nn.sinusoidal_positions(20, 6).numpy()
    expected = table[4:7][None, :, :] if batch_first else table[4:6][:, None, :]
    np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), rtol=1e-6)
    assert "pe" not in pe.state_dict()


def test_learned_positions_are_trained_and_checked():
    wpe = nn.LearnedPositionalEmbedding(8, 4, batch_first=True)
    assert list(wpe.state_dict()) == ["weight"] and abs(wpe.weight.numpy().std() - 0.02) < 0.015
    out = wpe(ember.zeros(2, 5, 4), offset=1)
    out.sum().backward()
    grad = wpe.weight.grad.numpy()
    np.testing.assert_array_equal(grad[1:6], 2.0)
    np.testing.assert_array_equal(grad[[0, 6, 7]], 0.0)
    with pytest.raises(ValueError, match=r"LearnedPositionalEmbedding: positions \[5, 10\) exceed max_len 8"):
        wpe(ember.zeros(2, 5, 4), offset=5)
    with pytest.raises(ValueError, match=r"SinusoidalPositionalEncoding: expected input .* E = 4, got shape \(3, 5\)"):
        nn.SinusoidalPositionalEncoding(4)(ember.zeros(3, 5))
