"""W5, the tiny GPT: one training step, and one attention layer alone, Ember against PyTorch.

A decoder-only transformer: token and position embeddings (vocabulary 65,
context 64, width 128), two pre-LayerNorm blocks with 4-head causal
self-attention and a GELU MLP of width 512, a final LayerNorm and a linear
read-out; batch 16, cross-entropy at every position, AdamW. Both frameworks use
their ``TransformerEncoderLayer(norm_first=True)``; dropout is 0 so that both
do the same arithmetic.
"""
from __future__ import annotations

import numpy as np

from ..registry import register
from .w4_char_lstm import _libraries

VOCAB, CONTEXT, WIDTH, HEADS, LAYERS, BATCH = 65, 64, 128, 4, 2, 16


def tiny_gpt_step(framework: str):
    """A zero-argument callable running one W5 training step in ``framework``."""
    lib, nn, optim, F, _, wrap = _libraries(framework)
    rng = np.random.default_rng(0)
    x = wrap(rng.integers(0, VOCAB, (BATCH, CONTEXT)))
    y = wrap(rng.integers(0, VOCAB, BATCH * CONTEXT))
    positions = wrap(np.arange(CONTEXT))
    torch_mask = None
    if framework == "torch":
        torch_mask = lib.nn.Transformer.generate_square_subsequent_mask(CONTEXT)

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(VOCAB, WIDTH)
            self.positions = nn.Embedding(CONTEXT, WIDTH)
            block = nn.TransformerEncoderLayer(WIDTH, HEADS, dim_feedforward=4 * WIDTH, dropout=0.0,
                                               activation="gelu", batch_first=True, norm_first=True)
            kwargs = {"enable_nested_tensor": False} if framework == "torch" else {}
            self.blocks = nn.TransformerEncoder(block, LAYERS, norm=nn.LayerNorm(WIDTH), **kwargs)
            self.head = nn.Linear(WIDTH, VOCAB)

        def forward(self, tokens):
            h = self.tokens(tokens) + self.positions(positions)
            return self.head(self.blocks(h, mask=torch_mask, is_causal=True))

    model = TinyGPT()
    opt = optim.AdamW(list(model.parameters()), lr=3e-4)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(BATCH * CONTEXT, VOCAB), y)
        loss.backward()
        opt.step()
        return loss

    return step


def attention_step(framework: str):
    """Forward and backward of one W5 causal self-attention layer (``MultiheadAttention``)."""
    lib, nn, _, _, _, wrap = _libraries(framework)
    rng = np.random.default_rng(0)
    layer = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
    x = wrap(rng.standard_normal((BATCH, CONTEXT, WIDTH)).astype(np.float32)).requires_grad_(True)
    g = wrap(rng.standard_normal((BATCH, CONTEXT, WIDTH)).astype(np.float32))
    mask = np.triu(np.ones((CONTEXT, CONTEXT), bool), k=1)
    mask = lib.from_numpy(mask) if framework == "torch" else mask

    def step():
        out, _ = layer(x, x, x, attn_mask=mask, need_weights=False)
        out.backward(g)
        x.grad = None
        for p in layer.parameters():
            p.grad = None

    return step


@register("W5", "tiny GPT training step: vocab 65, ctx 64, d 128, 4 heads, 2 pre-LN blocks, GELU MLP 4x, "
          "batch 16, AdamW", target=1.15)  # issue 18 (issue 10 had 1.5x)
def w5(framework):
    return tiny_gpt_step(framework)


@register("W5.attn", "one W5 causal self-attention layer: forward and backward, batch 16, 64 x 128, 4 heads",
          group="layers")
def w5_attention(framework):
    return attention_step(framework)
