"""The fused recurrent layer primitives: NumPy BPTT, the Ember reference, finite differences, each other.

First-order backward passes always run the NumPy BPTT kernel (the
``LayerBackward`` primitive); ``gradgradcheck`` differentiates that primitive,
whose vjp goes through the composed reference. Forward mode always goes through
the reference.
"""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import recurrent as R

KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _scan(kind):
    """``f(x, w_ih, w_hh, *biases, *states, **kw)`` for one cell kind."""
    if kind == "lstm":
        return R.lstm_scan
    if kind == "gru":
        return R.gru_scan
    nonlinearity = kind.split("_")[1]
    return lambda x, w_ih, w_hh, b, h, **kw: R.rnn_scan(x, w_ih, w_hh, b, h, nonlinearity, **kw)


def _cell(kind):
    return {"lstm": R._LstmCell, "gru": R._GruCell}.get(kind, R._RnnCell)


def _params(kind):
    return {"nonlinearity": kind.split("_")[1]} if kind.startswith("rnn") else None


def _arrays(kind, rng, T=4, B=3, H=2, width=2, batch_first=False, dtype="float64"):
    """``[x, w_ih, w_hh, *biases, *states]`` in the order the primitive takes them."""
    G = GATES[kind]
    x_shape = (B, T, width) if batch_first else (T, B, width)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal((G * H, width)) * 0.8,
              rng.standard_normal((G * H, H)) * 0.7, rng.standard_normal(G * H) * 0.5]
    if kind == "gru":
        arrays.append(rng.standard_normal(G * H) * 0.5)
    arrays.append(rng.standard_normal((B, H)))
    if kind == "lstm":
        arrays.append(rng.standard_normal((B, H)))
    if kind == "rnn_relu":  # keep pre-activations away from relu's kink
        arrays = [np.abs(a) * (0.5 if i in (1, 2) else 1.0) + (0.3 if i == 3 else 0.0) for i, a in enumerate(arrays)]
    return [a.astype(dtype) for a in arrays]


def _tensors(arrays, requires_grad=False):
    return [ember.tensor(a, requires_grad=requires_grad) for a in arrays]


def _mask(rng, T=4, B=3):
    mask = rng.random((T, B)) > 0.35
    mask[:, 0] = True
    mask[2:, 1] = False  # a right-padded sequence
    return mask


OPTIONS = [dict(), dict(reverse=True), dict(batch_first=True), dict(masked=True),
           dict(masked=True, reverse=True, batch_first=True)]


def _options(option, rng):
    kw = {k: v for k, v in option.items() if k != "masked"}
    if option.get("masked"):
        kw["mask"] = _mask(rng)
    return kw


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("kind", KINDS)
def test_fast_backward_gradcheck(kind, option):
    rng = np.random.default_rng(0)
    kw = _options(option, rng)
    inputs = _tensors(_arrays(kind, rng, batch_first=kw.get("batch_first", False)))
    assert gradcheck(lambda *a: _scan(kind)(*a, **kw), inputs)


@pytest.mark.parametrize("kind", KINDS)
def test_reference_second_order(kind):
    rng = np.random.default_rng(1)
    kw = {"mask": _mask(rng, T=3, B=2)[:, :2], "reverse": kind == "gru"}
    inputs = _tensors(_arrays(kind, rng, T=3, B=2, H=2), requires_grad=True)
    assert gradgradcheck(lambda *a: _scan(kind)(*a, **kw), inputs)


@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_matches_reference_in_float32(kind):
    rng = np.random.default_rng(2)
    mask = _mask(rng, T=6, B=3)
    arrays = _arrays(kind, rng, T=6, B=3, H=5, batch_first=True, dtype="float32")
    kw = dict(mask=mask, reverse=True, batch_first=True)
    fast_inputs = _tensors(arrays, requires_grad=True)
    outs = _scan(kind)(*fast_inputs, **kw)
    ref_inputs = _tensors(arrays, requires_grad=True)
    refs = R.reference_layer(_cell(kind), *ref_inputs, mask=mask, reverse=True, batch_first=True,
                             params=_params(kind))
    weights = [rng.standard_normal(o.shape).astype("float32") for o in outs]
    for o, r in zip(outs, refs):
        assert o.dtype == np.float32
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-5, atol=1e-6)
    sum(((o * w).sum() for o, w in zip(outs, weights)), ember.tensor(0.0)).backward()
    sum(((r * w).sum() for r, w in zip(refs, weights)), ember.tensor(0.0)).backward()
    for a, b in zip(fast_inputs, ref_inputs):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_hessian_vector_product_through_scan():
    rng = np.random.default_rng(3)
    x, w_ih, w_hh, b, h0, c0 = _tensors(_arrays("lstm", rng))

    def loss(x):
        out, h, c = R.lstm_scan(x, w_ih, w_hh, b, h0, c0, mask=_mask(np.random.default_rng(4)))
        return (out * out).sum() + (c * h).sum()

    v = ember.tensor(rng.standard_normal(x.shape))
    hv = ember.autograd.hvp(loss, (x,), (v,))
    grad = ember.autograd.grad(loss)
    eps = 1e-6
    numeric = (grad(x + v * eps).numpy() - grad(x - v * eps).numpy()) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_unused_outputs_receive_zero_gradients():
    rng = np.random.default_rng(5)
    arrays = _arrays("lstm", rng)
    fast = _tensors(arrays, requires_grad=True)
    _, h, _ = R.lstm_scan(*fast)
    h.sum().backward()   # neither the outputs nor c_T reach the loss
    ref = _tensors(arrays, requires_grad=True)
    R.reference_layer(R._LstmCell, *ref, mask=None, reverse=False, batch_first=False, params=None)[1].sum().backward()
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_without_grad_matches_recorded_forward(kind):
    rng = np.random.default_rng(6)
    inputs = _tensors(_arrays(kind, rng, T=5), requires_grad=True)
    mask = _mask(rng, T=5)
    with ember.no_grad():
        plain = _scan(kind)(*inputs, mask=mask)
    recorded = _scan(kind)(*inputs, mask=mask)
    for a, b in zip(recorded, plain):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.requires_grad and not b.requires_grad


def test_fully_masked_sequence_keeps_its_initial_state():
    rng = np.random.default_rng(8)
    arrays = _arrays("lstm", rng)
    mask = np.ones((4, 3), bool)
    mask[:, 2] = False
    x, w_ih, w_hh, b, h0, c0 = _tensors(arrays, requires_grad=True)
    out, h, c = R.lstm_scan(x, w_ih, w_hh, b, h0, c0, mask=mask)
    np.testing.assert_array_equal(out.numpy()[:, 2], 0.0)
    np.testing.assert_array_equal(h.numpy()[2], arrays[4][2])
    np.testing.assert_array_equal(c.numpy()[2], arrays[5][2])
    (h.sum() + c.sum() * 2 + out.sum()).backward()
    np.testing.assert_array_equal(h0.grad.numpy()[2], 1.0)   # the state passed straight through
    np.testing.assert_array_equal(c0.grad.numpy()[2], 2.0)
    np.testing.assert_array_equal(x.grad.numpy()[:, 2], 0.0)


def test_final_states_do_not_alias_inputs_or_the_tape():
    rng = np.random.default_rng(9)
    x, w_ih, w_hh, b, h0 = _tensors(_arrays("rnn_tanh", rng), requires_grad=True)
    out, h = R.rnn_scan(x, w_ih, w_hh, b, h0, "tanh", mask=np.zeros((4, 3), bool))
    assert not np.shares_memory(h._data, h0.data)
    out, h = R.rnn_scan(x, w_ih, w_hh, b, h0, "tanh")
    assert not np.shares_memory(h._data, out._data)


def test_modifying_the_weights_before_backward_is_detected():
    rng = np.random.default_rng(10)
    x, w_ih, w_hh, b, h0, c0 = _tensors(_arrays("lstm", rng), requires_grad=True)
    out, _, _ = R.lstm_scan(x, w_ih, w_hh, b, h0, c0)
    w_hh.data[...] = 0.0
    w_hh._version += 1  # what an optimizer's in-place step does
    with pytest.raises(RuntimeError, match="lstm_layer"):
        out.sum().backward()


def test_lstm_scan_matches_pytorch_lstm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    T, B, width, H = 5, 3, 4, 6
    layer = torch.nn.LSTM(width, H).double()
    x = rng.standard_normal((T, B, width))
    h0, c0 = rng.standard_normal((1, B, H)), rng.standard_normal((1, B, H))
    expected, (h_ref, c_ref) = layer(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    sd = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    out, h, c = R.lstm_scan(ember.tensor(x), ember.tensor(sd["weight_ih_l0"]), ember.tensor(sd["weight_hh_l0"]),
                            ember.tensor(sd["bias_ih_l0"] + sd["bias_hh_l0"]), ember.tensor(h0[0]),
                            ember.tensor(c0[0]))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), c_ref[0].detach().numpy(), rtol=1e-12, atol=1e-12)


def test_rnn_scan_rejects_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="rnn_scan: nonlinearity"):
        R.rnn_scan(ember.zeros(2, 1, 3), ember.zeros(3, 3), ember.zeros(3, 3), ember.zeros(3), ember.zeros(1, 3),
                   "sigmoid")
