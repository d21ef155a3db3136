"""A sparse-ish problem for the Hogwild tests: a bag-of-embeddings classifier of token sequences.

Module-level so that Hogwild's spawned workers can import ``build``.
"""
import numpy as np

import ember
from ember import nn

VOCAB, DIM, LENGTH = 100, 8, 6


class BagOfEmbeddings(nn.Module):
    """Mean of the tokens' embeddings, then a linear layer: a batch touches a few rows of a large table."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, DIM)
        self.head = nn.Linear(DIM, 2)

    def forward(self, tokens):
        return self.head(self.embedding(tokens).mean(dim=1))


def build():
    ember.manual_seed(0)
    return BagOfEmbeddings()


def problem(samples: int = 6000, seed: int = 0):
    """Token sequences; the label says whether most tokens come from the first half of the vocabulary.

    One label in ten is flipped, so that accuracy saturates near 90%.
    """
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCAB, size=(samples, LENGTH))
    labels = ((tokens < VOCAB // 2).sum(axis=1) > LENGTH // 2).astype(np.int64)
    labels = np.where(rng.random(samples) < 0.1, 1 - labels, labels)
    return tokens.astype(np.int64), labels


def loss(model, x, y) -> float:
    with ember.no_grad():
        return float(nn.functional.cross_entropy(model(ember.tensor(x)), ember.tensor(y)).item())


def accuracy(model, x, y) -> float:
    with ember.no_grad():
        return float((model(ember.tensor(x)).numpy().argmax(axis=1) == y).mean())
