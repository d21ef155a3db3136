"""The translation Transformer (ember.models.translation_transformer): PyTorch twin, masks, decoding, learning."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.data.datasets.translation import bucket_batches
from ember.models.seq2seq import evaluate_translation_loss, train_translation_epoch, translate
from ember.models.translation_transformer import TranslationTransformer

torch = pytest.importorskip("torch")

SRC = np.array([[4, 5, 6, 7, 3], [8, 9, 3, 0, 0], [10, 3, 0, 0, 0]])
SRC_LENGTHS = np.array([5, 3, 2])
TGT_IN = np.array([[2, 11, 12, 13], [2, 14, 15, 0], [2, 16, 0, 0]])
D = 16


def small_model(seed: int = 0) -> TranslationTransformer:
    ember.manual_seed(seed)
    model = TranslationTransformer(20, 24, d_model=D, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                   dim_feedforward=32, dropout=0.1, max_len=32)
    model.eval()
    return model


def torch_logits(model: TranslationTransformer) -> np.ndarray:
    """The same computation with torch.nn.Transformer and the model's weights (float64)."""
    nn = torch.nn
    transformer = nn.Transformer(D, 4, 2, 2, 32, 0.0, batch_first=True).double()
    state = {k: torch.tensor(v.numpy().astype(np.float64)) for k, v in model.state_dict().items()}
    transformer.load_state_dict({k[len("transformer."):]: v for k, v in state.items() if k.startswith("transformer.")})
    pe = torch.tensor(model.positions.pe.numpy().astype(np.float64))

    def embed(table, ids):
        return state[table][torch.tensor(ids)] * math.sqrt(D) + pe[:ids.shape[1]]

    out = transformer(embed("src_embedding.weight", SRC), embed("tgt_embedding.weight", TGT_IN),
                      tgt_mask=nn.Transformer.generate_square_subsequent_mask(TGT_IN.shape[1], dtype=torch.float64),
                      src_key_padding_mask=torch.tensor(SRC == 0), tgt_key_padding_mask=torch.tensor(TGT_IN == 0),
                      memory_key_padding_mask=torch.tensor(SRC == 0))
    out = out @ state["generator.weight"].T + state["generator.bias"]
    return out.detach().numpy()


def test_logits_match_pytorch_transformer():
    model = small_model()
    logits = model(SRC, SRC_LENGTHS, TGT_IN).numpy()
    # Rows at padded target positions are not compared (PyTorch's fast path leaves them arbitrary).
    valid = TGT_IN != 0
    np.testing.assert_allclose(logits[valid], torch_logits(model)[valid], rtol=1e-4, atol=1e-4)


def test_padding_and_causal_masks():
    model = small_model()
    logits = model(SRC, SRC_LENGTHS, TGT_IN).numpy()
    alone = model(SRC[1:2, :3], SRC_LENGTHS[1:2], TGT_IN[1:2, :3]).numpy()
    np.testing.assert_allclose(alone[0], logits[1, :3], rtol=1e-5, atol=1e-5)
    changed = TGT_IN.copy()
    changed[0, 3] = 19                                   # a later token cannot change earlier predictions
    later = model(SRC, SRC_LENGTHS, changed).numpy()
    np.testing.assert_allclose(later[0, :3], logits[0, :3], rtol=1e-6, atol=1e-6)
    assert not np.allclose(later[0, 3], logits[0, 3])


def test_cross_attention_is_a_distribution_over_real_source_tokens():
    model = small_model()
    weights = model.cross_attention(SRC, SRC_LENGTHS, TGT_IN)
    assert weights.shape == (3, 4, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert (weights[1, :, 3:] == 0).all() and (weights[2, :, 2:] == 0).all()


def test_step_decoding_equals_the_teacher_forced_forward():
    model = small_model(seed=2)
    with ember.no_grad():
        forced = model(SRC, SRC_LENGTHS, TGT_IN[:, :2]).numpy()
        state = model.begin(SRC, SRC_LENGTHS)
        for t in range(2):
            log_probs, state = model.step(state, TGT_IN[:, t])
            expected = forced[:, t] - np.log(np.exp(forced[:, t]).sum(-1, keepdims=True))
            np.testing.assert_allclose(log_probs, expected, rtol=1e-4, atol=1e-5)
        rows = np.array([2, 0, 0])
        reordered = model.reorder(state, rows)
        np.testing.assert_array_equal(reordered["prefix"], state["prefix"][rows])


def test_fits_a_small_training_set_and_decodes_it():
    # A 1+1-layer transformer needs hundreds of epochs to learn position-mapping tasks in general (PyTorch's
    # too); fitting 64 pairs is quick and still exercises training, masks and both decoders end to end.
    rng = np.random.default_rng(0)
    src = [rng.integers(4, 12, size=rng.integers(3, 7)) for _ in range(64)]
    tgt = [15 - s for s in src]
    batch = next(bucket_batches(src, tgt, 64, shuffle=False, src_eos=True))
    ember.manual_seed(0)
    model = TranslationTransformer(12, 12, d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                                   dim_feedforward=64, dropout=0.0, max_len=16)
    optimizer = ember.optim.Adam(model.parameters(), lr=1e-3)
    assert evaluate_translation_loss(model, [batch]) > 2.0
    train_translation_epoch(model, [batch] * 260, optimizer)
    assert evaluate_translation_loss(model, [batch]) < 0.1
    for beam in (1, 3):
        decoded = translate(model, src, beam_size=beam, max_len=10)
        assert np.mean([d == list(t) for d, t in zip(decoded, tgt)]) > 0.8, beam
