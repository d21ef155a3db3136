"""W4, the char-LSTM: one training step, and the LSTM layer alone, Ember against PyTorch.

The step is the one of a character-level language model trained by truncated
BPTT: embedding (vocabulary 65, width 128), one LSTM layer of 256 over 64 steps
with batch 32 (batch-first), a linear read-out to the vocabulary, cross-entropy
over every step, gradient-norm clipping at 5 and Adam. Both frameworks build the
same network from their own ``nn`` namespace (the class names are shared).
"""
from __future__ import annotations

import numpy as np

from ..registry import register

VOCAB, EMBED, HIDDEN, STEPS, BATCH = 65, 128, 256, 64, 32


def _libraries(framework):
    if framework == "torch":
        import torch

        torch.manual_seed(0)
        return torch, torch.nn, torch.optim, torch.nn.functional, torch.nn.utils.clip_grad_norm_, torch.from_numpy
    import ember
    import ember.functional
    import ember.nn
    import ember.optim

    ember.manual_seed(0)
    return ember, ember.nn, ember.optim, ember.functional, ember.optim.clip_grad_norm_, ember.from_numpy


def char_lstm_step(framework: str):
    """A zero-argument callable running one W4 training step in ``framework``."""
    lib, nn, optim, F, clip, wrap = _libraries(framework)
    rng = np.random.default_rng(0)
    x = wrap(rng.integers(0, VOCAB, (BATCH, STEPS)))
    y = wrap(rng.integers(0, VOCAB, BATCH * STEPS))

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return self.head(hidden)

    model = CharLSTM()
    params = list(model.parameters())
    opt = optim.Adam(params, lr=2e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(BATCH * STEPS, VOCAB), y)
        loss.backward()
        clip(params, 5.0)
        opt.step()
        return loss

    return step


def lstm_layer_step(framework: str):
    """Forward and backward of the W4 LSTM layer alone (input gradient included)."""
    lib, nn, _, _, _, wrap = _libraries(framework)
    rng = np.random.default_rng(0)
    layer = nn.LSTM(EMBED, HIDDEN, batch_first=True)
    x = wrap(rng.standard_normal((BATCH, STEPS, EMBED)).astype(np.float32)).requires_grad_(True)
    g = wrap(rng.standard_normal((BATCH, STEPS, HIDDEN)).astype(np.float32))

    def step():
        out, _ = layer(x)
        out.backward(g)
        x.grad = None
        for p in layer.parameters():
            p.grad = None

    return step


@register("W4", "char-LSTM training step: vocab 65, embed 128, LSTM 256, seq 64, batch 32, BPTT 64 steps, "
          "clip 5, Adam", target=1.0)  # issue 5: no slower than PyTorch eager
def w4(framework):
    return char_lstm_step(framework)


@register("W4.lstm", "the W4 LSTM layer alone: forward and backward, batch 32, 64 steps, 128 -> 256",
          group="layers")
def w4_lstm(framework):
    return lstm_layer_step(framework)
