"""An embedding lookup folded into a recurrent layer's input projection.

``lstm_scan(table, ..., lookup=(indices, padding_idx))`` must equal
``lstm_scan(embedding(indices, table), ...)`` in values and gradients, and the
layer functions must fold exactly when no one can observe the difference.
"""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import recurrent as R
from ember.ops.nn import embedding

KINDS = ["lstm", "gru", "rnn_tanh"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1}
V, I, H, T, B = 5, 3, 2, 4, 3


def _scan(kind):
    if kind == "lstm":
        return R.lstm_scan
    if kind == "gru":
        return R.gru_scan
    return lambda x, w_ih, w_hh, b, h, **kw: R.rnn_scan(x, w_ih, w_hh, b, h, "tanh", **kw)


def _inputs(kind, rng, dtype="float64"):
    """``[table, w_ih, w_hh, *biases, *states]``."""
    G = GATES[kind]
    arrays = [rng.standard_normal((V, I)), rng.standard_normal((G * H, I)) * 0.8,
              rng.standard_normal((G * H, H)) * 0.7, rng.standard_normal(G * H) * 0.5]
    if kind == "gru":
        arrays.append(rng.standard_normal(G * H) * 0.5)
    arrays += [rng.standard_normal((B, H)) for _ in range(2 if kind == "lstm" else 1)]
    return [a.astype(dtype) for a in arrays]


def _tokens(rng, batch_first):
    tokens = rng.integers(0, V, (B, T) if batch_first else (T, B))
    tokens.flat[:3] = 2  # repeated rows, and the padding row in the padded cases
    return tokens


OPTIONS = [dict(), dict(batch_first=True, padding_idx=2), dict(reverse=True, padding_idx=2),
           dict(batch_first=True, masked=True)]


def _case(option, rng):
    batch_first = option.get("batch_first", False)
    tokens = _tokens(rng, batch_first)
    kw = {"batch_first": batch_first, "reverse": option.get("reverse", False)}
    if option.get("masked"):
        mask = rng.random((T, B)) > 0.3
        mask[:, 0] = True
        kw["mask"] = mask
    return tokens, option.get("padding_idx"), kw


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("kind", KINDS)
def test_fast_backward_gradcheck(kind, option):
    rng = np.random.default_rng(0)
    tokens, _, kw = _case(option, rng)  # padding_idx drops a true derivative by design: not here
    inputs = [ember.tensor(a) for a in _inputs(kind, rng)]
    assert gradcheck(lambda *a: _scan(kind)(*a, lookup=(tokens, None), **kw), inputs)


@pytest.mark.parametrize("kind", KINDS)
def test_second_order_through_the_reference(kind):
    rng = np.random.default_rng(1)
    tokens, _, kw = _case(dict(batch_first=True, reverse=True), rng)
    inputs = [ember.tensor(a, requires_grad=True) for a in _inputs(kind, rng)]
    assert gradgradcheck(lambda *a: _scan(kind)(*a, lookup=(tokens, None), **kw), inputs)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("kind", KINDS)
def test_folded_equals_lookup_then_layer_in_float32(kind, option):
    rng = np.random.default_rng(2)
    tokens, pad, kw = _case(option, rng)
    arrays = _inputs(kind, rng, "float32")
    folded_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    folded = _scan(kind)(*folded_in, lookup=(tokens, pad), **kw)
    plain_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    plain = _scan(kind)(embedding(tokens, plain_in[0], pad), *plain_in[1:], **kw)
    weights = [rng.standard_normal(o.shape).astype("float32") for o in folded]
    for a, b in zip(folded, plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for outs in (folded, plain):
        sum(((o * w).sum() for o, w in zip(outs, weights)), ember.tensor(0.0)).backward()
    for a, b in zip(folded_in, plain_in):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    if pad is not None:
        np.testing.assert_array_equal(folded_in[0].grad.numpy()[pad], 0.0)


def _lookup_of_layer_input(out):
    """The ``lookup`` parameter of the layer primitive that produced ``out``."""
    return out.node.params["lookup"]


def test_layer_function_folds_an_embedding_with_a_small_table():
    rng = np.random.default_rng(3)
    table = ember.tensor(rng.standard_normal((V, I)), requires_grad=True)
    tokens = _tokens(rng, batch_first=True)
    w_ih, w_hh = ember.randn(4 * H, I, dtype="float64"), ember.randn(4 * H, H, dtype="float64")
    out, _, _ = F.lstm_layer(F.embedding(ember.tensor(tokens), table), None, None, w_ih, w_hh, batch_first=True)
    lookup = _lookup_of_layer_input(out)
    assert lookup is not None and lookup[0] is not None
    out.sum().backward()
    reference = ember.tensor(table.numpy(), requires_grad=True)
    ref_out = R.reference_layer(R._LstmCell, embedding(tokens, reference), w_ih, w_hh, ember.zeros(4 * H, dtype="float64"),
                                ember.zeros(B, H, dtype="float64"), ember.zeros(B, H, dtype="float64"), mask=None,
                                reverse=False, batch_first=True, params=None)[0]
    ref_out.sum().backward()
    np.testing.assert_allclose(out.numpy(), ref_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(table.grad.numpy(), reference.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_no_fold_when_the_table_is_large_or_the_lookup_is_observed():
    rng = np.random.default_rng(4)
    tokens = ember.tensor(_tokens(rng, batch_first=False))
    w_ih, w_hh = ember.randn(H, I), ember.randn(H, H)
    big = ember.randn(T * B, I, requires_grad=True)  # more rows than half the steps
    out, _ = F.rnn_layer(F.embedding(tokens, big), None, w_ih, w_hh)
    assert _lookup_of_layer_input(out) is None

    table = ember.randn(V, I, requires_grad=True)
    x = F.embedding(tokens, table)
    seen = []
    x.register_hook(lambda g: seen.append(g.shape))
    out, _ = F.rnn_layer(x, None, w_ih, w_hh)
    assert _lookup_of_layer_input(out) is None
    out.sum().backward()
    assert seen == [(T, B, I)]  # the hook still sees the input's gradient

    x = F.embedding(tokens, table)
    x.mul_(2.0)
    out, _ = F.rnn_layer(x, None, w_ih, w_hh)
    assert _lookup_of_layer_input(out) is None


def test_other_readers_of_the_lookup_still_send_their_gradient():
    rng = np.random.default_rng(5)
    tokens = ember.tensor(_tokens(rng, batch_first=True))
    w_ih, w_hh = ember.randn(3 * H, I, dtype="float64"), ember.randn(3 * H, H, dtype="float64")
    table = ember.tensor(rng.standard_normal((V, I)), requires_grad=True)
    x = F.embedding(tokens, table)
    out, _ = F.gru_layer(x, None, w_ih, w_hh, batch_first=True)
    assert _lookup_of_layer_input(out) is not None
    (out.sum() + (x * x).sum()).backward()
    plain = ember.tensor(table.numpy(), requires_grad=True)
    x2 = F.embedding(tokens, plain)
    out2 = R.reference_layer(R._GruCell, x2, w_ih, w_hh, ember.zeros(3 * H, dtype="float64"),
                             ember.zeros(3 * H, dtype="float64"), ember.zeros(B, H, dtype="float64"), mask=None,
                             reverse=False, batch_first=True, params=None)[0]
    (out2.sum() + (x2 * x2).sum()).backward()
    np.testing.assert_allclose(table.grad.numpy(), plain.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_embedding_then_bidirectional_lstm_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, 7, (3, 8))
    ember.manual_seed(0)
    embed, lstm = nn.Embedding(7, 5, padding_idx=0), nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True)
    t_embed, t_lstm = torch.nn.Embedding(7, 5, padding_idx=0), torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True,
                                                                             batch_first=True)
    for mine, theirs in ((embed, t_embed), (lstm, t_lstm)):
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.state_dict().items()})
    out, (h, c) = lstm(embed(ember.tensor(tokens)))
    t_out, (t_h, t_c) = t_lstm(t_embed(torch.from_numpy(tokens)))
    g = rng.standard_normal(out.shape).astype(np.float32)
    (out * ember.tensor(g)).sum().backward()
    (t_out * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(embed.weight.grad.numpy(), t_embed.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), t_p in zip(lstm.named_parameters(), t_lstm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), t_p.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
