"""Mixed-precision training lands within a small tolerance of float32 after the same steps:
an MLP on an MNIST subset and a tiny GPT, bfloat16 autocast and float16 autocast with a GradScaler."""
import numpy as np
import pytest

import ember
import ember.amp
import ember.functional as F
import ember.nn as nn
from ember.data.datasets import mnist_or_sample
from ember.models import TinyGPT

from amp.guards import needs_checks

# Measured (seed 0): MLP full-subset loss 0.11534 float32, 0.11531 bfloat16, 0.11433 float16+scaler;
# GPT loss after 30 steps 0.64607 float32, 0.64568 bfloat16, 0.64603 float16+scaler.
TOLERANCE = 0.01


def _train_mlp(dtype, scaler_enabled: bool, steps: int = 80) -> tuple[float, float]:
    data = mnist_or_sample(train=False)
    X = (data.data[:2048].astype(np.float32) / 255.0).reshape(-1, 784)
    Y = data.targets[:2048].astype(np.int64)
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = ember.amp.GradScaler("cpu", enabled=scaler_enabled)
    for step in range(steps):
        i = (step * 128) % len(X)
        x, y = ember.tensor(X[i:i + 128]), ember.tensor(Y[i:i + 128])
        with ember.amp.autocast("cpu", dtype=dtype or ember.amp.bfloat16, enabled=dtype is not None):
            loss = F.cross_entropy(model(x), y)
        assert loss.dtype == np.float32
        opt.zero_grad()
        scaler.scale(loss).backward()
        assert all(p.grad.dtype == np.float32 for p in model.parameters())  # float32 master weights
        scaler.step(opt)
        scaler.update()
    with ember.no_grad():
        final = F.cross_entropy(model(ember.tensor(X)), ember.tensor(Y)).item()
    return final, scaler.get_scale()


def _train_gpt(dtype, scaler_enabled: bool, steps: int = 30) -> float:
    ember.manual_seed(0)
    model = TinyGPT(11, context=8, d_model=32, n_heads=2, n_layers=2, dropout=0.0)
    opt = ember.optim.AdamW(model.parameters(), lr=3e-3)
    scaler = ember.amp.GradScaler("cpu", enabled=scaler_enabled)
    tokens = np.random.default_rng(0).integers(0, 11, (16, 9))
    tokens[:, 1::2] = (tokens[:, 0::2][:, :4] + 1) % 11  # learnable: every odd token follows its left neighbour
    x, y = ember.tensor(tokens[:, :-1]), ember.tensor(tokens[:, 1:])
    for _ in range(steps):
        with ember.amp.autocast("cpu", dtype=dtype or ember.amp.bfloat16, enabled=dtype is not None):
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, 11), y.reshape(-1))
        assert logits.dtype == (np.float32 if dtype is None else np.dtype(dtype))  # the head ran low
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    return loss.item()


@pytest.fixture(scope="module")
def mlp_float32():
    return _train_mlp(None, False)[0]


@pytest.fixture(scope="module")
def gpt_float32():
    return _train_gpt(None, False)


def test_mlp_bfloat16_matches_float32(mlp_float32):
    assert mlp_float32 < 0.3  # it learned (from 2.3)
    loss, _ = _train_mlp(ember.amp.bfloat16, False)
    assert abs(loss - mlp_float32) < TOLERANCE


@needs_checks
def test_mlp_float16_with_grad_scaler_matches_float32(mlp_float32):
    loss, scale = _train_mlp(np.float16, True)
    assert abs(loss - mlp_float32) < TOLERANCE
    assert scale == 2.0 ** 16  # no overflow at this size: no step was skipped


def test_gpt_bfloat16_matches_float32(gpt_float32):
    assert gpt_float32 < 1.0  # it learned (from 2.5)
    assert abs(_train_gpt(ember.amp.bfloat16, False) - gpt_float32) < TOLERANCE


@needs_checks
def test_gpt_float16_with_grad_scaler_matches_float32(gpt_float32):
    assert abs(_train_gpt(np.float16, True) - gpt_float32) < TOLERANCE
