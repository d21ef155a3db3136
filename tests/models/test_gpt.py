"""TinyGPT: shapes, causality, context cropping, compiled == eager, and a reduced training."""
import numpy as np
import pytest

import ember
from ember.data import CharCorpus, tiny_shakespeare
from ember.models import LMTrainingConfig, TinyGPT, train_language_model

TEXT = "to be or not to be, that is the question: whether 'tis nobler in the mind to suffer. " * 20


def _small(vocab=11, context=8):
    return TinyGPT(vocab, context=context, d_model=16, n_heads=2, n_layers=2, dropout=0.0)


def test_shapes():
    assert _small()(ember.tensor(np.zeros((3, 8), np.int64))).shape == (3, 8, 11)


def test_is_causal():
    model = _small().eval()
    tokens = np.random.default_rng(0).integers(0, 11, (1, 8))
    changed = tokens.copy()
    changed[0, 5] = (changed[0, 5] + 1) % 11
    a, b = model(ember.tensor(tokens)).numpy(), model(ember.tensor(changed)).numpy()
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not np.allclose(a[:, 5:], b[:, 5:])


def test_errors():
    with pytest.raises(ValueError, match=r"TinyGPT: expected tokens of shape \(batch, time <= 8\), got shape \(1, 9\)"):
        _small()(ember.tensor(np.zeros((1, 9), np.int64)))
    with pytest.raises(ValueError, match="divisible"):
        TinyGPT(11, d_model=10, n_heads=4)


def test_next_logits_crops_the_window_to_the_context():
    model = _small(context=4).eval()
    logits, window = model.next_logits(ember.tensor(np.arange(6)[None] % 11))
    assert window.shape == (1, 4)
    np.testing.assert_allclose(logits.numpy(), model(ember.tensor(np.arange(2, 6)[None]))[:, -1].numpy(), atol=1e-6)


def test_compiled_training_matches_eager():
    corpus = CharCorpus(TEXT)
    losses = []
    for compiled in (False, True):
        ember.manual_seed(0)
        model = TinyGPT(len(corpus.vocab), context=16, d_model=16, n_heads=2, n_layers=2, dropout=0.1)
        config = LMTrainingConfig(batch_size=4, seq_len=16, steps=4, lr=1e-2, warmup=2, optimizer="adamw",
                                  weight_decay=0.1, clip=1.0, eval_every=1, compile=compiled)
        losses.append([row[2] for row in train_language_model(model, corpus, config, stateful=False,
                                                              log=lambda s: None)["history"]])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-6)


def test_reduced_training_lowers_the_loss():
    corpus = CharCorpus(TEXT)
    model = TinyGPT(len(corpus.vocab), context=16, d_model=32, n_heads=4, n_layers=2, dropout=0.0)
    config = LMTrainingConfig(batch_size=8, seq_len=16, steps=40, lr=3e-3, warmup=5, optimizer="adamw",
                              eval_every=20)
    result = train_language_model(model, corpus, config, stateful=False, log=lambda s: None)
    first, last = result["history"][0], result["history"][-1]
    assert last[2] < first[2] - 0.3
    assert result["val_loss"] < np.log(len(corpus.vocab)) - 0.5


@pytest.mark.slow
def test_tiny_shakespeare_reduced_bar():
    """A 2-layer d64 GPT for 700 steps reaches 2.3 nats/char (the full run: examples/train_gpt.py)."""
    ember.manual_seed(0)
    corpus = tiny_shakespeare()
    model = TinyGPT(len(corpus.vocab), context=64, d_model=64, n_heads=4, n_layers=2, dropout=0.0)
    config = LMTrainingConfig(batch_size=32, seq_len=64, steps=700, lr=3e-3, warmup=50, optimizer="adamw",
                              weight_decay=0.1, clip=1.0, eval_every=700)
    assert train_language_model(model, corpus, config, stateful=False, log=print)["val_loss"] < 2.3
