"""ember/models/word_lm.py: Zaremba's word-level LSTM LM (state carrying, tying, schedule, learning)."""

import os
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.data.datasets.corpora import WordLevelCorpus, build_word_vocab, penn_treebank
from ember.models.word_lm import (ZAREMBA_CONFIGS, WordLM, WordLMConfig, evaluate_word_lm,
                                  train_word_lm, zaremba_lr)

DATA = Path(os.environ.get("EMBER_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def test_shapes_and_the_small_config_size():
    model = WordLM(10_000)  # "small": 2 x 200, untied
    logits, (h, c) = model(ember.tensor(np.zeros((3, 7), dtype=np.int64)))
    assert logits.shape == (3, 7, 10_000) and h.shape == c.shape == (2, 3, 200)
    lstm = 2 * (4 * 200 * (200 + 200) + 8 * 200)
    assert sum(p.numel() for p in model.parameters()) == 10_000 * 200 + lstm + 200 * 10_000 + 10_000
    weights = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    assert weights.min() >= -0.1 and weights.max() <= 0.1 and weights.std() > 0.05  # U(-0.1, 0.1)
    with pytest.raises(ValueError, match=r"expected tokens of shape \(batch, time\)"):
        model(ember.tensor([1, 2, 3]))


def test_tied_decoder_shares_the_embedding_and_sums_both_gradients():
    ember.manual_seed(0)
    model = WordLM(20, 8, 1, tie_weights=True)
    assert model.decoder.weight is model.embed.weight
    assert len(list(model.parameters())) == len(list(WordLM(20, 8, 1).parameters())) - 1
    tokens = ember.tensor(np.array([[1, 2, 3, 4]]))
    logits, _ = model(tokens)
    logits.sum().backward()
    grad = model.embed.weight.grad.numpy()
    # Rows never looked up still get the decoder's gradient: sum over positions of h_t.
    assert np.abs(grad[10]).sum() > 0 and np.abs(grad[1]).sum() > 0


def test_carried_state_equals_one_long_forward():
    ember.manual_seed(1)
    model = WordLM(30, 12, 2)
    model.eval()
    x = ember.tensor(np.random.default_rng(0).integers(0, 30, (2, 10)))
    whole, _ = model(x)
    first, state = model(x[:, :6])
    second, _ = model(x[:, 6:], state)
    np.testing.assert_allclose(np.concatenate([first.numpy(), second.numpy()], axis=1),
                               whole.numpy(), rtol=1e-5, atol=1e-6)


def test_zaremba_schedules():
    small = ZAREMBA_CONFIGS["small"]
    assert (small.hidden_size, small.num_layers, small.bptt, small.batch_size, small.epochs,
            small.clip, small.dropout) == (200, 2, 35, 20, 13, 5.0, 0.0)
    assert [zaremba_lr(e, small) for e in range(1, 8)] == [1, 1, 1, 1, 0.5, 0.25, 0.125]
    medium = ZAREMBA_CONFIGS["medium"]
    assert zaremba_lr(7, medium) == pytest.approx(1 / 1.2)


def test_evaluation_before_training_is_about_the_vocabulary_size():
    ids = np.random.default_rng(0).integers(0, 50, 2_000)
    assert 40 < evaluate_word_lm(WordLM(50, 16, 1), ids, batch_size=4, bptt=20) < 60


@pytest.mark.skipif(not (DATA / "ptb" / "ptb.train.txt").is_file(), reason="PTB not in $EMBER_DATA")
def test_training_on_a_ptb_slice_beats_the_unigram_perplexity():
    # 60k words of PTB train, held-out: the next 10k; words seen < 3 times in the slice are <unk>.
    ptb = penn_treebank(root=DATA)
    words = ptb.vocab.decode(ptb.train[:70_000])
    vocab = build_word_vocab(words[:60_000], min_freq=3)
    sliced = WordLevelCorpus.from_tokens(words[:60_000], words[60_000:], words[60_000:], vocab=vocab)
    unigram = sliced.unigram_perplexity("valid")
    assert 200 < unigram < 260
    ember.manual_seed(0)
    config = WordLMConfig(hidden_size=64, num_layers=1, epochs=4, decay_after=2)
    model = WordLM(len(vocab), config.hidden_size, config.num_layers)
    result = train_word_lm(model, sliced.train, sliced.valid, config, log=lambda s: None)
    assert result["valid_ppl"] < 0.7 * unigram, (result, unigram)
    train_ppl = [row[2] for row in result["history"]]
    assert train_ppl == sorted(train_ppl, reverse=True)  # falls every epoch
