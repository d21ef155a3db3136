"""Compiled training steps of real models replay exactly what eager execution computes.

Each model is trained for a few steps on different batches twice from the same
seed, eagerly and compiled; losses and final weights must agree bit for bit.
Any data-dependent array computed outside a primitive would be frozen by the
trace and show up here as a mismatch from the second step on.
"""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
import ember.nn as nn
from ember.optim import SGD, Adam, RMSprop, clip_grad_norm_


def _mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 5))


class _CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 8)
        self.lstm = nn.LSTM(8, 12, num_layers=2, batch_first=True, dropout=0.2)
        self.head = nn.Linear(12, 11)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.head(out)


class _TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16)
        self.position = nn.LearnedPositionalEmbedding(6, 16)
        self.block = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, activation="gelu",
                                                batch_first=True, norm_first=True)
        self.head = nn.Linear(16, 11)

    def forward(self, tokens):
        h = self.position(self.embed(tokens))
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
        return self.head(self.block(h, src_mask=mask, is_causal=True))


def _convnet():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Tanh(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 5))


def _batches(kind, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if kind == "vector":
            out.append((rng.standard_normal((8, 12)).astype(np.float32), rng.integers(0, 5, 8)))
        elif kind == "tokens":
            out.append((rng.integers(0, 11, (4, 6)), rng.integers(0, 11, (4, 6))))
        else:
            out.append((rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 5, 4)))
    return out


CASES = {
    "mlp_batchnorm_dropout_gelu_layernorm": (_mlp, "vector", lambda ps: SGD(ps, lr=0.1, momentum=0.9)),
    "char_lstm": (_CharLSTM, "tokens", lambda ps: Adam(ps, lr=0.01)),
    "tiny_gpt": (_TinyGPT, "tokens", lambda ps: Adam(ps, lr=0.01)),
    "convnet": (_convnet, "image", lambda ps: RMSprop(ps, lr=0.01)),
}


def _train(build, kind, make_optimizer, compiled):
    ember.manual_seed(0)
    model = build()
    optimizer = make_optimizer(list(model.parameters()))

    def step(x, y):
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        return loss

    run = ember.compile(step) if compiled else step
    ember.manual_seed(1)
    losses = [float(run(ember.tensor(x), ember.tensor(y)).numpy()) for x, y in _batches(kind)]
    return losses, {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_training_equals_eager(case):
    build, kind, make_optimizer = CASES[case]
    eager_losses, eager_state = _train(build, kind, make_optimizer, compiled=False)
    compiled_losses, compiled_state = _train(build, kind, make_optimizer, compiled=True)
    assert compiled_losses == eager_losses
    for key, value in eager_state.items():
        np.testing.assert_array_equal(compiled_state[key], value, err_msg=key)
