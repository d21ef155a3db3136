"""The small training problems shared by the MPI workers and the single-process references.

A worker and its test must build the same network and data; both import them
from here (the workers by path, the tests through ``pythonpath``).
"""
import numpy as np

import ember
from ember import nn
from ember.optim import SGD, l2_penalty

FEATURES, CLASSES = 8, 3


class Shared(nn.Module):
    """One linear layer applied twice: its parameters get two contributions per backward."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(FEATURES, FEATURES)
        self.head = nn.Linear(FEATURES, CLASSES)

    def forward(self, x):
        return self.head(self.inner(self.inner(x).tanh()).tanh())


def build(kind: str, seed: int) -> nn.Module:
    ember.manual_seed(seed)
    if kind == "shared":
        return Shared()
    if kind == "bn":
        return nn.Sequential(nn.Linear(FEATURES, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, CLASSES))
    return nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, CLASSES))


def data(samples: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, samples)
    return x, y


def loss_of(model, x, y, penalty: float = 0.0):
    loss = nn.CrossEntropyLoss()(model(ember.tensor(x)), ember.tensor(y))
    if penalty:
        loss = loss + l2_penalty(model.parameters(), penalty)
    return loss


def optimizer(model, momentum: float = 0.9):
    return SGD(model.parameters(), lr=0.1, momentum=momentum)


def train(model, batches, opt, penalty: float = 0.0, after_backward=None):
    """Plain loop: forward, backward, (``after_backward()``), step, on each ``(x, y)`` of ``batches``."""
    for x, y in batches:
        opt.zero_grad()
        loss_of(model, x, y, penalty).backward()
        if after_backward is not None:
            after_backward()
        opt.step()


def arrays(module) -> dict:
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def load_rank(prefix, rank: int):
    """``(initial, final)`` weights that worker_train.py saved for ``rank``."""
    saved = np.load(f"{prefix}-{rank}.npz")
    pick = lambda part: {k[len(part) + 1:]: saved[k] for k in saved.files if k.startswith(part + "/")}
    return pick("init"), pick("final"), {k: saved[k] for k in saved.files if "/" not in k}


def single_process(kind: str, initial: dict, steps: int, batch: int, penalty: float = 0.0) -> dict:
    """The weights one process reaches with batches of ``batch`` samples (the ranks' union)."""
    model = build(kind, seed=0)
    model.load_state_dict(initial)
    x, y = data(steps * batch)
    train(model, [(x[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch]) for k in range(steps)],
          optimizer(model), penalty)
    return arrays(model)
