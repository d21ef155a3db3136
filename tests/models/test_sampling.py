"""Sampling: greedy, temperature, top-k and priming, on fixed logits and on a real model."""
import numpy as np
import pytest

from ember.data import CharCorpus
from ember.models import CharRNN, TinyGPT, generate, sample, sample_next


def test_greedy_picks_the_largest_logit():
    assert sample_next(np.array([0.1, 3.0, 2.9, -1.0]), temperature=0) == 1


def test_top_k_only_draws_the_k_best():
    rng = np.random.default_rng(0)
    logits = np.array([1.0, 0.9, 5.0, 0.8, 4.0])
    draws = {sample_next(logits, temperature=2.0, top_k=2, rng=rng) for _ in range(200)}
    assert draws == {2, 4}


def test_temperature_sharpens_and_flattens():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    rng = np.random.default_rng(0)
    cold = np.bincount([sample_next(logits, 0.2, rng=rng) for _ in range(2000)], minlength=3) / 2000
    warm = np.bincount([sample_next(logits, 1.0, rng=rng) for _ in range(2000)], minlength=3) / 2000
    assert cold[0] > 0.85
    np.testing.assert_allclose(warm, [0.5, 0.3, 0.2], atol=0.04)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="temperature"):
        sample_next(np.zeros(3), temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        sample_next(np.zeros(3), top_k=0)
    with pytest.raises(ValueError, match="at least one id"):
        generate(CharRNN(5, 8), [], 3)


@pytest.mark.parametrize("build", [lambda v: CharRNN(v, 8), lambda v: TinyGPT(v, context=6, d_model=8, n_heads=2,
                                                                               n_layers=1)])
def test_sample_keeps_the_prime_and_restores_training_mode(build):
    corpus = CharCorpus("to be or not to be, that is the question", val_fraction=0.0)
    model = build(len(corpus.vocab))
    text = sample(model, corpus, prime="to be", length=20, seed=3)  # runs past the GPT's context of 6
    assert text.startswith("to be") and len(text) == 25
    assert set(text) <= set(corpus.text)
    assert model.training
    assert sample(model, corpus, prime="to be", length=20, seed=3) == text  # seeded: reproducible


def test_greedy_generation_follows_the_model():
    model = CharRNN(4, 8)
    ids = generate(model, [1], length=5, temperature=0)
    # Greedy ids are the argmax of the model's own next-token logits along the generated prefix.
    model.eval()
    import ember
    logits, _ = model(ember.tensor(np.concatenate([[1], ids[:-1]])[None]))
    np.testing.assert_array_equal(ids, logits.numpy()[0].argmax(-1))
