"""ember/models/skipgram.py: SGNS loss and gradients, sampling, and learning related words."""

import numpy as np
import pytest
import torch

import ember
from ember.models.skipgram import (SkipGram, SkipGramConfig, keep_probabilities,
                                   nearest_neighbours, noise_distribution, skipgram_pairs,
                                   train_skipgram)


def test_loss_and_gradients_match_torch():
    ember.manual_seed(0)
    model = SkipGram(12, 5)
    rng = np.random.default_rng(0)
    with ember.no_grad():
        model.out_embed.weight.copy_(ember.tensor(rng.normal(size=(12, 5)).astype(np.float32)))
    center, context, negatives = np.array([1, 2, 1]), np.array([3, 4, 5]), rng.integers(0, 12, (3, 4))
    loss = model(ember.tensor(center), ember.tensor(context), ember.tensor(negatives))
    loss.backward()
    v = torch.tensor(model.in_embed.weight.numpy(), requires_grad=True)
    u = torch.tensor(model.out_embed.weight.numpy(), requires_grad=True)
    vc = v[torch.tensor(center)]
    pos = torch.nn.functional.logsigmoid((u[torch.tensor(context)] * vc).sum(1))
    neg = torch.nn.functional.logsigmoid(-(u[torch.tensor(negatives)] * vc[:, None]).sum(2)).sum(1)
    expected = -(pos + neg).sum()
    expected.backward()
    assert float(loss.numpy()) == pytest.approx(float(expected.detach()), rel=1e-5)
    np.testing.assert_allclose(model.in_embed.weight.grad.numpy(), v.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.out_embed.weight.grad.numpy(), u.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_noise_and_subsampling_follow_word2vec():
    counts = np.array([1000, 100, 10, 0])
    noise = noise_distribution(counts)
    np.testing.assert_allclose(noise[:3] / noise[2], [100 ** 0.75, 10 ** 0.75, 1.0])
    assert noise[3] == 0
    keep = keep_probabilities(counts, 1e-2)
    t_n = 1e-2 * 1110
    assert keep[0] == pytest.approx((np.sqrt(1000 / t_n) + 1) * t_n / 1000)
    assert keep[2] == 1.0 and keep[3] == 0.0 and keep[0] < keep[1] < 1
    assert np.all(keep_probabilities(counts, 0) == 1)


def test_pairs_use_a_random_radius_and_stay_in_the_sentence():
    ids = np.arange(100)
    centers, contexts = skipgram_pairs(ids, 3, np.random.default_rng(0))
    distance = np.abs(centers - contexts)
    assert distance.min() == 1 and distance.max() == 3
    # Radius drawn from 1..3: a context at distance d is kept with probability (3 - d + 1) / 3.
    share = np.bincount(distance)[1:] / np.bincount(distance)[1]
    np.testing.assert_allclose(share, [1, 2 / 3, 1 / 3], atol=0.12)
    breaks = np.repeat([0, 1], 50)
    c, x = skipgram_pairs(ids, 3, np.random.default_rng(0), breaks)
    assert np.all((c < 50) == (x < 50))


def test_related_words_become_nearest_neighbours():
    # Four topics of six words; each sentence draws its words from one topic.
    rng = np.random.default_rng(0)
    topics = np.arange(24).reshape(4, 6)
    sentences = [rng.choice(topics[s % 4], 8) for s in range(600)]
    ids = np.concatenate(sentences)
    breaks = np.repeat(np.arange(600), 8)
    model, info = train_skipgram(ids, 24, SkipGramConfig(dim=16, window=3, sample=0, epochs=3,
                                                         batch_size=256), log=lambda s: None,
                                 breaks=breaks)
    vectors = model.vectors()
    words = [str(i) for i in range(24)]
    for w in range(24):
        neighbours = [int(x) for x, _ in nearest_neighbours(vectors, words, str(w), 3)]
        assert all(n // 6 == w // 6 for n in neighbours), (w, neighbours)
    assert info["loss_per_pair"] < 6 * np.log(2)  # below the untrained loss (all logits 0)


def test_bad_ids_are_refused():
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\)"):
        train_skipgram(np.array([0, 7]), 5, log=lambda s: None)
    with pytest.raises(KeyError, match="'zz' is not in the vocabulary"):
        nearest_neighbours(np.eye(2), ["a", "b"], "zz")
