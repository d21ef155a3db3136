"""Attention: scaled dot-product and additive functions, MultiheadAttention and AdditiveAttention."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from nn.oracle import call_with_parameters, copy_state_to_torch


def _t(array, requires_grad=False):
    return ember.tensor(array, requires_grad=requires_grad)


# ------------------------------------------------------------------ scaled_dot_product_attention
def _qkv(rng, B=2, H=3, L=4, S=5, E=6, Ev=3):
    return rng.standard_normal((B, H, L, E)), rng.standard_normal((B, H, S, E)), rng.standard_normal((B, H, S, Ev))


def _masks(rng, L=4, S=5):
    allowed = rng.random((L, S)) > 0.3
    allowed[:, 0] = True
    return {
        "none": None,
        "bool": allowed,
        "bool-per-batch": rng.random((2, 1, L, S)) > 0.2,
        "float": np.where(allowed, rng.standard_normal((L, S)), -np.inf),
    }


@pytest.mark.parametrize("mask_kind", ["none", "bool", "bool-per-batch", "float"])
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa_matches_pytorch(mask_kind, is_causal):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng, L=5, S=5)
    mask = _masks(rng, L=5, S=5)[mask_kind]
    if mask is not None and mask.dtype == bool:
        mask[..., 0] = True  # PyTorch returns NaN on fully masked rows; keep every row alive here
    ours = [_t(a, True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=mask, is_causal=is_causal and mask is None)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), is_causal=is_causal and mask is None)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(out.shape)
    (out * _t(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_sdpa_scale_and_weights():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng)
    out, weights = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), scale=0.3, return_weights=True)
    expected = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), scale=0.3)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_fully_masked_row_gives_zeros_and_finite_gradients(mask_kind):
    rng = np.random.default_rng(2)
    q, k, v = (_t(a, True) for a in _qkv(rng))
    allowed = np.ones((4, 5), bool)
    allowed[1] = False
    mask = allowed if mask_kind == "bool" else np.where(allowed, 0.0, -np.inf)
    out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, return_weights=True)
    np.testing.assert_array_equal(out.numpy()[:, :, 1], 0.0)
    np.testing.assert_array_equal(weights.numpy()[:, :, 1], 0.0)
    (out * out).sum().backward()
    for t in (q, k, v):
        assert np.isfinite(t.grad.numpy()).all()
    np.testing.assert_array_equal(q.grad.numpy()[:, :, 1], 0.0)


@pytest.mark.parametrize("mask_kind", ["none", "bool", "float"])
def test_sdpa_gradcheck_float64(mask_kind):
    rng = np.random.default_rng(3)
    q, k, v = _qkv(rng, B=1, H=2, L=3, S=4, E=2, Ev=2)
    mask = {"none": None, "bool": np.array([[1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]], bool),
            "float": rng.standard_normal((3, 4))}[mask_kind]
    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask_kind == "none")

    assert gradcheck(f, [_t(q), _t(k), _t(v)])
    assert gradgradcheck(f, [_t(q, True), _t(k, True), _t(v, True)])


def test_sdpa_additive_mask_receives_gradient():
    rng = np.random.default_rng(4)
    q, k, v = (_t(a) for a in _qkv(rng, B=1, H=1, L=2, S=3, E=2, Ev=2))
    bias = _t(rng.standard_normal((2, 3)))
    assert gradcheck(lambda b: F.scaled_dot_product_attention(q, k, v, attn_mask=b), [bias])


def test_sdpa_dropout_is_seeded_and_unbiased():
    rng = np.random.default_rng(5)
    q, k, v = (_t(a.astype("float32")) for a in _qkv(rng, L=64, S=64))
    ember.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ember.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    _, weights = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, return_weights=True)
    kept = weights.numpy() > 0
    assert 0.45 < kept.mean() < 0.55
    assert abs(weights.numpy().sum(-1).mean() - 1.0) < 0.05


def test_sdpa_bad_input_names_the_function_and_shapes():
    q = ember.zeros(2, 4, 6)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query and key must share .* "
                                         r"\(2, 4, 6\) and \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 5, 3), ember.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"key and value must have the same length"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 5, 6), ember.zeros(2, 4, 6))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 5\) does not broadcast .* \(2, 4, 5\)"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 5, 6), ember.zeros(2, 5, 6), attn_mask=ember.ones(3, 5).bool())
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.scaled_dot_product_attention(ember.zeros(6), ember.zeros(2, 5, 6), ember.zeros(2, 5, 6))


def test_causal_mask():
    assert F.causal_mask(2, 3).tolist() == [[True, False, False], [True, True, False]]


# ------------------------------------------------------------------ additive attention
def _additive_numpy(q, keys, values, wq, wk, ws, bk, mask):
    scores = np.tanh((q @ wq.T)[:, None, :] + keys @ wk.T + bk) @ ws[0]
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return (weights[..., None] * values).sum(1), weights


def test_additive_attention_matches_formula_and_gradcheck():
    rng = np.random.default_rng(6)
    B, S, Dq, Dk, A = 2, 4, 3, 5, 6
    arrays = [rng.standard_normal(s) for s in ((B, Dq), (B, S, Dk), (B, S, 2), (A, Dq), (A, Dk), (1, A), (A,))]
    mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    context, weights = F.additive_attention(*(_t(a) for a in arrays[:6]), b_key=_t(arrays[6]), mask=mask)
    expected_context, expected_weights = _additive_numpy(*arrays, mask)
    np.testing.assert_allclose(context.numpy(), expected_context, rtol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-12)
    def f(*a):
        return F.additive_attention(*a[:6], b_key=a[6], mask=mask)

    assert gradcheck(f, [_t(a) for a in arrays])


def test_additive_attention_many_queries_and_fully_masked_sequence():
    rng = np.random.default_rng(7)
    layer = nn.AdditiveAttention(query_size=3, key_size=4, hidden_size=5).double()
    query = _t(rng.standard_normal((2, 6, 3)), True)
    keys = _t(rng.standard_normal((2, 7, 4)), True)
    mask = np.ones((2, 7), bool)
    mask[1] = False
    context, weights = layer(query, keys, mask=mask)
    assert context.shape == (2, 6, 4) and weights.shape == (2, 6, 7)
    np.testing.assert_array_equal(context.numpy()[1], 0.0)
    np.testing.assert_allclose(weights.numpy()[0].sum(-1), 1.0)
    context.sum().backward()
    assert np.isfinite(keys.grad.numpy()).all() and np.isfinite(layer.key_proj.weight.grad.numpy()).all()


def test_additive_attention_bad_shapes():
    layer = nn.AdditiveAttention(3, 4, 5)
    with pytest.raises(ValueError, match=r"additive_attention: expected mask of shape \(2, 7\)"):
        layer(ember.zeros(2, 3), ember.zeros(2, 7, 4), mask=ember.ones(7, 2).bool())
    with pytest.raises(ValueError, match=r"expected w_query \(A, 5\)"):
        layer(ember.zeros(2, 5), ember.zeros(2, 7, 4))


# ------------------------------------------------------------------ MultiheadAttention
MHA_CASES = [
    ("plain", dict(), dict()),
    ("batch-first", dict(batch_first=True), dict()),
    ("bias-kv", dict(add_bias_kv=True), dict()),
    ("zero-attn", dict(add_zero_attn=True), dict()),
    ("kdim-vdim", dict(kdim=5, vdim=3), dict()),
    ("no-bias", dict(bias=False), dict()),
    ("per-head-weights", dict(), dict(average_attn_weights=False)),
    ("no-weights", dict(), dict(need_weights=False)),
    ("bool-masks", dict(batch_first=True), dict(masks="bool")),
    ("float-masks", dict(), dict(masks="float")),
    ("3d-mask", dict(), dict(masks="3d")),
    ("self-attention", dict(batch_first=True), dict(self_attention=True)),
    ("cross-attention-shared-kv", dict(), dict(shared_kv=True)),
]


def _mha_inputs(rng, kw, opts, B=3, L=4, S=5, E=8):
    bf = kw.get("batch_first", False)
    shape = (lambda n, d: (B, n, d)) if bf else (lambda n, d: (n, B, d))
    q = rng.standard_normal(shape(L, E))
    if opts.get("self_attention"):
        return q, q, q
    k = rng.standard_normal(shape(S, kw.get("kdim", E)))
    v = k if opts.get("shared_kv") else rng.standard_normal(shape(S, kw.get("vdim", E)))
    return q, k, v


def _mha_masks(rng, opts, B=3, L=4, S=5, heads=2):
    kind = opts.get("masks")
    if kind is None:
        return {}
    padding = np.zeros((B, S), bool)
    padding[0, -2:] = True
    if kind == "bool":
        return {"key_padding_mask": padding, "attn_mask": np.triu(np.ones((L, S), bool), k=2)}
    if kind == "float":
        return {"key_padding_mask": np.where(padding, -np.inf, 0.0), "attn_mask": rng.standard_normal((L, S))}
    return {"attn_mask": rng.standard_normal((B * heads, L, S))}


@pytest.mark.parametrize("name,kw,opts", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_pytorch(name, kw, opts):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    ours, theirs = nn.MultiheadAttention(8, 2, **kw).double(), torch.nn.MultiheadAttention(8, 2, **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_state_to_torch(torch, ours, theirs)
    arrays = _mha_inputs(rng, kw, opts)
    unique = {id(a): a for a in arrays}
    ours_in = {i: _t(a, True) for i, a in unique.items()}
    theirs_in = {i: torch.tensor(a, requires_grad=True) for i, a in unique.items()}
    masks = _mha_masks(rng, opts)
    call = {k: v for k, v in opts.items() if k in ("need_weights", "average_attn_weights")}
    out, weights = ours(*(ours_in[id(a)] for a in arrays), **masks, **call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, expected_weights = theirs(*(theirs_in[id(a)] for a in arrays),
                                            **{k: torch.tensor(v) for k, v in masks.items()}, **call)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    if expected_weights is None:
        assert weights is None
    else:
        np.testing.assert_allclose(weights.numpy(), expected_weights.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(out.shape)
    (out * _t(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    for i in unique:
        np.testing.assert_allclose(ours_in[i].grad.numpy(), theirs_in[i].grad.numpy(), rtol=1e-9, atol=1e-11)
    their_params = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[pname].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=pname)


def test_multihead_attention_unbatched_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    ours, theirs = nn.MultiheadAttention(8, 4).double(), torch.nn.MultiheadAttention(8, 4).double()
    copy_state_to_torch(torch, ours, theirs)
    q, kv = rng.standard_normal((3, 8)), rng.standard_normal((5, 8))
    padding = np.array([False, False, True, False, True])
    out, weights = ours(_t(q), _t(kv), _t(kv), key_padding_mask=padding)
    expected, expected_weights = theirs(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                                        key_padding_mask=torch.tensor(padding))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_multihead_attention_fully_padded_sequence_is_zero_not_nan():
    rng = np.random.default_rng(10)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = _t(rng.standard_normal((2, 3, 8)).astype("float32"), True)
    padding = np.zeros((2, 3), bool)
    padding[1] = True
    out, weights = mha(x, x, x, key_padding_mask=padding)
    np.testing.assert_allclose(out.numpy()[1], np.broadcast_to(mha.out_proj.bias.numpy(), (3, 8)))
    np.testing.assert_array_equal(weights.numpy()[1], 0.0)
    out.sum().backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in mha.parameters())
    assert np.isfinite(x.grad.numpy()).all()


def test_multihead_attention_is_causal_without_mask():
    rng = np.random.default_rng(11)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = rng.standard_normal((1, 5, 8)).astype("float32")
    out = mha(_t(x), _t(x), _t(x), is_causal=True)[0].numpy()
    changed = x.copy()
    changed[:, 3:] += 1.0
    out2 = mha(_t(changed), _t(changed), _t(changed), is_causal=True)[0].numpy()
    np.testing.assert_allclose(out[:, :3], out2[:, :3], rtol=1e-6)
    assert not np.allclose(out[:, 3:], out2[:, 3:])


class _PaddedSelfAttention(nn.Module):
    def __init__(self, mha, padding):
        super().__init__()
        self.mha, self.padding = mha, padding

    def forward(self, q, kv):
        return self.mha(q, kv, kv, key_padding_mask=self.padding)[0]


def test_multihead_attention_gradcheck_float64():
    rng = np.random.default_rng(12)
    module = _PaddedSelfAttention(nn.MultiheadAttention(4, 2, batch_first=True, add_bias_kv=True).double(),
                                  np.array([[False, True, False]]))
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach() for p in module.parameters()]
    q, kv = _t(rng.standard_normal((1, 2, 4))), _t(rng.standard_normal((1, 3, 4)))
    assert gradcheck(lambda q, kv, *ps: call_with_parameters(module, names, ps, (q, kv)), [q, kv] + params)


def test_multihead_attention_dropout_only_in_training():
    rng = np.random.default_rng(13)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = _t(rng.standard_normal((2, 6, 8)).astype("float32"))
    ember.manual_seed(0)
    a = mha(x, x, x)[0].numpy()
    ember.manual_seed(1)
    b = mha(x, x, x)[0].numpy()
    assert not np.allclose(a, b)
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())


def test_multihead_attention_initialisation_and_repr():
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    bound = math.sqrt(6 / (16 + 48))
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    np.testing.assert_array_equal(mha.in_proj_bias.numpy(), 0.0)
    np.testing.assert_array_equal(mha.out_proj.bias.numpy(), 0.0)
    assert "embed_dim=16, num_heads=4" in repr(mha)


def test_multihead_attention_bad_input():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be a positive multiple of num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = ember.zeros(4, 2, 8)
    with pytest.raises(ValueError, match=r"MultiheadAttention: expected key with 3 dimensions and last dimension 8, "
                                         r"got shape \(4, 2, 6\)"):
        mha(x, ember.zeros(4, 2, 6), ember.zeros(4, 2, 6))
    with pytest.raises(ValueError, match=r"expected attn_mask of shape \(L, S\) = \(4, 4\) or "
                                         r"\(B \* num_heads, L, S\) = \(4, 4, 4\), got shape \(3, 4\)"):
        mha(x, x, x, attn_mask=ember.zeros(3, 4))
    with pytest.raises(ValueError, match=r"expected key_padding_mask of shape \(B, S\) = \(2, 4\), got shape \(4, 2\)"):
        mha(x, x, x, key_padding_mask=ember.zeros(4, 2).bool())
    with pytest.raises(ValueError, match="expected a 3-D query"):
        mha(ember.zeros(1, 4, 2, 8), x, x)
    with pytest.raises(ValueError, match="batch sizes differ"):
        mha(x, ember.zeros(4, 3, 8), ember.zeros(4, 3, 8))
