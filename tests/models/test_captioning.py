"""Show, Attend and Tell: attention normalisation, the doubly stochastic regulariser, gradients, a tiny training."""
import numpy as np
import pytest

import ember
from ember.data.shapes_captions import encode_captions, make_shape_captions, shape_caption_vocab
from ember.models.beam_search import beam_search
from ember.models.captioning import (ShowAttendTell, SoftAttention, attention_mass_in_mask, attention_regulariser,
                                     captioning_loss, greedy_caption, train_captioning_epoch)


def tiny_model(vocab_size=17, **kw):
    ember.manual_seed(0)
    return ShowAttendTell(vocab_size, image_size=16, channels=(6, 8), embed_dim=8, hidden_size=10,
                          attention_dim=6, **kw)


def test_attention_rows_sum_to_one_and_gate_scales_context():
    model = tiny_model()
    images = ember.randn(3, 3, 16, 16)
    logits, alphas = model(images, ember.tensor(np.array([[2, 4, 5, 6]] * 3)))
    assert logits.shape == (3, 4, 17) and alphas.shape == (3, 4, 64)
    a = alphas.numpy()
    assert (a >= 0).all() and np.allclose(a.sum(-1), 1.0, atol=1e-5)
    # z_t = beta * sum_i alpha_i a_i, beta = sigmoid(f_beta(h)) in (0, 1)
    attn = model.attention
    feats = model.encoder(images)
    h = ember.randn(3, 10)
    z, alpha = attn(feats, attn.project(feats), h)
    beta = 1.0 / (1.0 + np.exp(-attn.gate(h).numpy()))
    expected = beta * np.einsum("bl,bld->bd", alpha.numpy(), feats.numpy())
    assert np.allclose(z.numpy(), expected, atol=1e-5)


def test_regulariser_hand_made_example_and_step_mask():
    alphas = ember.tensor([[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 0.0, 1.0]]])   # (1, 3 steps, 3 locations)
    # sums over t: 0.8, 0.3, 1.9 -> 0.04 + 0.49 + 0.81
    assert np.allclose(attention_regulariser(alphas).numpy(), [1.34])
    # the last step is padding: sums 0.8, 0.3, 0.9 -> 0.04 + 0.49 + 0.01
    assert np.allclose(attention_regulariser(alphas, ember.tensor([[1.0, 1.0, 0.0]])).numpy(), [0.54])
    with pytest.raises(ValueError, match=r"attention_regulariser: step_mask shape \(1, 2\) does not match.*\(1, 3\)"):
        attention_regulariser(alphas, ember.tensor([[1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"attention_regulariser: expected alphas \(B, T, L\), got shape \(3, 3\)"):
        attention_regulariser(alphas[0])


def test_loss_is_nll_plus_weighted_regulariser():
    model = tiny_model()
    model.eval()
    images = ember.randn(2, 3, 16, 16)
    captions = np.array([[2, 4, 5, 3], [2, 6, 3, 0]])
    loss0, nll = captioning_loss(model, images, captions, reg_weight=0.0)
    loss1, _ = captioning_loss(model, images, captions, reg_weight=0.5)
    logits, alphas = model(images, captions[:, :-1])
    logp = logits.numpy() - np.log(np.exp(logits.numpy()).sum(-1, keepdims=True))
    target = captions[:, 1:]
    picked = np.take_along_axis(logp, target[..., None], -1)[..., 0] * (target != 0)
    assert np.isclose(float(loss0.item()), -picked.sum() / 2, rtol=1e-5)
    assert np.isclose(nll, -picked.sum() / 5, rtol=1e-5)
    a = alphas.numpy() * (target != 0)[..., None]
    reg = ((1 - a.sum(1)) ** 2).sum(1).mean()
    assert np.isclose(float(loss1.item()) - float(loss0.item()), 0.5 * reg, rtol=1e-4)


def test_attention_step_gradcheck_float64():
    ember.manual_seed(1)
    attn = SoftAttention(4, 3, 5).double()
    feats = ember.randn(2, 6, 4, dtype="float64", requires_grad=True)
    hidden = ember.randn(2, 3, dtype="float64", requires_grad=True)
    weights = ember.randn(2, 4, dtype="float64")

    def f(a, h):
        z, alpha = attn(a, attn.project(a), h)
        return (z * weights).sum() + (alpha * alpha).sum()

    assert ember.autograd.gradcheck(f, (feats, hidden), check_forward=False)


def test_tiny_training_reduces_loss_and_greedy_matches_beam_of_one():
    data = make_shape_captions(64, seed=0, size=16 * 3)
    vocab = shape_caption_vocab()
    captions, _ = encode_captions(vocab, data.captions)
    ember.manual_seed(0)
    model = ShowAttendTell(len(vocab), image_size=48, channels=(6, 8, 8), embed_dim=8, hidden_size=16,
                           attention_dim=8)
    optimizer = ember.optim.Adam(model.parameters(), lr=1e-2)
    first = train_captioning_epoch(model, data.images, captions, optimizer, batch_size=32, reg_weight=0.05)
    for _ in range(5):
        last = train_captioning_epoch(model, data.images, captions, optimizer, batch_size=32, reg_weight=0.05)
    assert last < 0.8 * first
    ids, alphas = greedy_caption(model, data.images[:4], max_len=10)
    assert all(a.shape == (len(i), 144) for i, a in zip(ids, alphas))
    assert all(np.allclose(a.sum(1), 1.0, atol=1e-5) for a in alphas)
    with ember.no_grad():
        beams = beam_search(model, data.images[:4].reshape(4, -1), np.ones(4, np.int64), bos_id=2, eos_id=3,
                            beam_size=1, max_len=10)
    assert beams == ids


def test_attention_mass_in_mask():
    mask = np.zeros((8, 8), bool)
    mask[:4, :4] = True                   # location 0 of a 2x2 grid, fully
    mask[4:6, 4:8] = True                 # half of location 3
    assert attention_mass_in_mask(np.array([0.25, 0.25, 0.25, 0.25]), mask) == pytest.approx(0.25 + 0.125)
    assert attention_mass_in_mask(np.array([0.0, 0.0, 0.0, 1.0]), mask) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="attention_mass_in_mask: expected alpha of g\\*g locations.*5"):
        attention_mass_in_mask(np.ones(5) / 5, mask)


def test_errors_name_the_model_and_sizes():
    model = tiny_model()
    with pytest.raises(ValueError,
                       match=r"ShowAttendTell: expected images \(B, 3, 16, 16\), got shape \(2, 3, 8, 8\)"):
        model(ember.randn(2, 3, 8, 8), np.array([[2, 4], [2, 4]]))
    with pytest.raises(ValueError,
                       match=r"ShowAttendTell: expected captions_in \(B, T\) with B = 2 images, got shape \(3, 2\)"):
        model(ember.randn(2, 3, 16, 16), np.array([[2, 4]] * 3))
    with pytest.raises(ValueError,
                       match="ShowAttendTell: image_size 18 is not a multiple of the encoder's downsampling 4"):
        ShowAttendTell(17, image_size=18, channels=(4, 4, 4))
    with pytest.raises(ValueError, match=r"SoftAttention: expected features \(B, L, D\) and hidden \(B, H\)"):
        model.attention(ember.randn(2, 5), ember.randn(2, 5), ember.randn(2, 10))
