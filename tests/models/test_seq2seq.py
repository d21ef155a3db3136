"""The attention GRU translator (ember.models.seq2seq) against a PyTorch twin, its masks, and learning."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.data.datasets.translation import bucket_batches
from ember.models.seq2seq import (AttentionSeq2Seq, BahdanauAttention, evaluate_translation_loss,
                                  train_translation_epoch, translate, translation_loss)

torch = pytest.importorskip("torch")

SRC = np.array([[4, 5, 6, 7, 3], [8, 9, 3, 0, 0], [10, 3, 0, 0, 0]])
SRC_LENGTHS = np.array([5, 3, 2])
TGT_IN = np.array([[2, 11, 12, 13], [2, 14, 15, 0], [2, 16, 0, 0]])


def small_model(seed: int = 0) -> AttentionSeq2Seq:
    ember.manual_seed(seed)
    model = AttentionSeq2Seq(20, 24, emb_dim=6, enc_hidden=5, dec_hidden=7, dropout=0.5)
    model.eval()
    return model


class TorchTwin(torch.nn.Module):
    """The same model written with torch.nn (bentrevett's tutorial, without dropout), same parameter names."""

    def __init__(self, src_vocab, tgt_vocab, emb, enc, dec):
        super().__init__()
        nn = torch.nn
        self.src_embedding, self.tgt_embedding = nn.Embedding(src_vocab, emb), nn.Embedding(tgt_vocab, emb)
        self.encoder = nn.GRU(emb, enc, bidirectional=True, batch_first=True)
        self.bridge = nn.Linear(2 * enc, dec)
        self.attention = nn.Module()
        self.attention.query_proj = nn.Linear(dec, dec, bias=False)
        self.attention.key_proj = nn.Linear(2 * enc, dec)
        self.attention.v = nn.Linear(dec, 1, bias=False)
        self.decoder = nn.GRUCell(emb + 2 * enc, dec)
        self.out = nn.Linear(dec + 2 * enc + emb, tgt_vocab)

    def forward(self, src, lengths, tgt_in):
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.src_embedding(src), lengths, batch_first=True,
                                                         enforce_sorted=False)
        out, h = self.encoder(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        s = torch.tanh(self.bridge(torch.cat([h[0], h[1]], 1)))
        mask = torch.arange(src.shape[1])[None] < lengths[:, None]
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            e = self.tgt_embedding(tgt_in[:, t])
            a = self.attention
            score = a.v(torch.tanh(a.query_proj(s)[:, None] + a.key_proj(out))).squeeze(-1)
            w = torch.softmax(score.masked_fill(~mask, -1e10), -1)
            c = torch.bmm(w[:, None], out).squeeze(1)
            s = self.decoder(torch.cat([e, c], 1), s)
            logits.append(self.out(torch.cat([s, c, e], 1)))
            weights.append(w)
        return torch.stack(logits, 1), torch.stack(weights, 1)


def twin_of(model: AttentionSeq2Seq) -> TorchTwin:
    twin = TorchTwin(20, 24, 6, 5, 7).double()
    state = {k: torch.tensor(v.numpy().astype(np.float64)) for k, v in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin


def test_forward_and_gradients_match_pytorch():
    model = small_model()
    logits, weights = model(SRC, SRC_LENGTHS, TGT_IN, return_attention=True)
    twin = twin_of(model)
    t_logits, t_weights = twin(torch.tensor(SRC), torch.tensor(SRC_LENGTHS), torch.tensor(TGT_IN))
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), t_weights.detach().numpy(), rtol=1e-4, atol=1e-6)

    tgt = np.concatenate([TGT_IN, [[3], [0], [0]]], axis=1)
    tgt[1, 3], tgt[2, 2] = 3, 3
    loss = translation_loss(model, SRC, SRC_LENGTHS, tgt)
    loss.backward()
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, 24), torch.tensor(tgt[:, 1:]).reshape(-1),
                                               ignore_index=0)
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
    for name, p in model.named_parameters():
        expected = dict(twin.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-3, atol=1e-6, err_msg=name)


def test_padding_changes_nothing_and_gets_no_attention():
    model = small_model()
    logits, weights = model(SRC, SRC_LENGTHS, TGT_IN, return_attention=True)
    w = weights.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert (w[1, :, 3:] == 0).all() and (w[2, :, 2:] == 0).all()
    # The second pair alone, without padding, gives the same logits (padding is masked everywhere).
    alone = model(SRC[1:2, :3], SRC_LENGTHS[1:2], TGT_IN[1:2, :3])
    np.testing.assert_allclose(alone.numpy()[0], logits.numpy()[1, :3], rtol=1e-5, atol=1e-6)


def test_attention_masks_padding_and_projects_keys_once():
    ember.manual_seed(0)
    attention = BahdanauAttention(3, 4, 5)
    keys = ember.randn(2, 6, 4)
    mask = ember.tensor(np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool))
    context, weights = attention(ember.randn(2, 3), attention.project_keys(keys), keys, mask)
    w = weights.numpy()
    assert (w[0, 3:] == 0).all() and w[0, :3].sum() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(context.numpy(), np.einsum("bs,bsd->bd", w, keys.numpy()), rtol=1e-5, atol=1e-6)


def test_step_decoding_equals_the_teacher_forced_forward():
    model = small_model(seed=1)
    with ember.no_grad():
        state = model.begin(SRC, SRC_LENGTHS)
        forced = model(SRC, SRC_LENGTHS, TGT_IN).numpy()
        for t in range(TGT_IN.shape[1]):
            log_probs, state = model.step(state, TGT_IN[:, t])
            expected = forced[:, t] - np.log(np.exp(forced[:, t]).sum(-1, keepdims=True))
            np.testing.assert_allclose(log_probs, expected, rtol=1e-4, atol=1e-5)
    sources = [s[:n - 1] for s, n in zip(SRC, SRC_LENGTHS)]     # without the <eos> translate appends
    assert translate(model, sources, beam_size=1, max_len=6) == translate(model, sources, batch_size=1, max_len=6)


def _reverse_task(n: int, seed: int):
    rng = np.random.default_rng(seed)
    src = [rng.integers(4, 12, size=rng.integers(3, 7)) for _ in range(n)]
    return src, [s[::-1].copy() for s in src]


def test_learns_to_reverse_sequences():
    src, tgt = _reverse_task(512, seed=0)
    ember.manual_seed(0)
    model = AttentionSeq2Seq(12, 12, emb_dim=16, enc_hidden=32, dec_hidden=32, dropout=0.0)
    optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(12):
        train_translation_epoch(model, bucket_batches(src, tgt, 64, seed=epoch, src_eos=True), optimizer)
    test_src, test_tgt = _reverse_task(64, seed=1)
    loss = evaluate_translation_loss(model, bucket_batches(test_src, test_tgt, 64, shuffle=False, src_eos=True))
    assert loss < 0.3
    for beam in (1, 3):
        decoded = translate(model, test_src, beam_size=beam, max_len=10)
        exact = np.mean([d == list(t) for d, t in zip(decoded, test_tgt)])
        assert exact > 0.8, (beam, exact)
