"""The language-model training loop: schedule, time budget, evaluation, state carrying."""
import math

import pytest

from ember.data import CharCorpus
from ember.models import (
    CharRNN,
    LMTrainingConfig,
    TinyGPT,
    evaluate_language_model,
    train_language_model,
)
from ember.models.language import _lr_at

TEXT = "to be or not to be, that is the question: whether 'tis nobler in the mind to suffer. " * 20


def test_schedule_warms_up_then_follows_a_cosine():
    config = LMTrainingConfig(steps=110, lr=1e-3, min_lr=1e-4, warmup=10)
    assert _lr_at(0, 0.0, config) == pytest.approx(1e-4)
    assert _lr_at(9, 0.0, config) == pytest.approx(1e-3)
    assert _lr_at(60, 0.0, config) == pytest.approx(0.55e-3)  # half way down the cosine
    assert _lr_at(110, 0.0, config) == pytest.approx(1e-4)


def test_schedule_ends_at_the_time_budget_when_it_comes_first():
    config = LMTrainingConfig(steps=1000, lr=1e-3, min_lr=0.0, time_budget=100.0)
    assert _lr_at(10, 50.0, config) == pytest.approx(0.5e-3)
    assert _lr_at(10, 150.0, config) == pytest.approx(0.0)


def test_untrained_model_scores_about_log_vocab():
    corpus = CharCorpus(TEXT)
    loss = evaluate_language_model(TinyGPT(len(corpus.vocab), context=16, d_model=16, n_heads=2, n_layers=1),
                                   corpus, batch_size=4, seq_len=16, stateful=False)
    assert abs(loss - math.log(len(corpus.vocab))) < 0.5


def test_time_budget_stops_training():
    corpus = CharCorpus(TEXT)
    result = train_language_model(CharRNN(len(corpus.vocab), 8, 1), corpus,
                                  LMTrainingConfig(batch_size=2, seq_len=8, steps=10_000, time_budget=0.0,
                                                   compile=False), log=lambda s: None)
    assert result["steps"] == 1 and len(result["history"]) == 1


def test_stateful_training_runs_over_several_epochs():
    corpus = CharCorpus("abcdefgh" * 60, val_fraction=0.25)
    per_epoch = corpus.num_batches(4, 8, "train")
    result = train_language_model(CharRNN(len(corpus.vocab), 16, 1, dropout=0.0), corpus,
                                  LMTrainingConfig(batch_size=4, seq_len=8, steps=3 * per_epoch + 2, lr=2e-2,
                                                   eval_every=per_epoch), log=lambda s: None)
    assert result["steps"] == 3 * per_epoch + 2
    assert result["val_loss"] < 1.0  # a cyclic text is easy once the state carries the phase


def test_unknown_optimizer_raises():
    corpus = CharCorpus(TEXT)
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'adamw'"):
        train_language_model(CharRNN(len(corpus.vocab), 8), corpus, LMTrainingConfig(optimizer="sgd"))
