"""W7, a GPT with nanoGPT's structure: one training step, Ember against PyTorch.

The model is Karpathy's nanoGPT ``model.py`` as its author wrote it (fused
``c_attn`` projection split into q, k, v; ``scaled_dot_product_attention`` with
``is_causal=True``; exact ``nn.GELU()``; LayerNorm without bias; tied
embedding and read-out; GPT-2 initialisation with the scaled ``c_proj``), at
the size of its CPU recipe for ``shakespeare_char``: 4 layers, 4 heads, width
128, context 64, vocabulary 65, dropout 0, batch 16. The step is ``train.py``'s:
forward with the loss, backward, ``clip_grad_norm_`` at 1.0, AdamW with
weight decay on the matrices only (lr 1e-3, betas (0.9, 0.99)), and
``zero_grad(set_to_none=True)``. The code is written once, in PyTorch's names;
``lib`` is ``torch`` or ``ember``.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import register
from .w4_char_lstm import _libraries

N_LAYER, N_HEAD, N_EMBD, BLOCK_SIZE, VOCAB, BATCH = 4, 4, 128, 64, 65, 16
DROPOUT, BIAS = 0.0, False


def nanogpt_step(framework: str):
    """A zero-argument callable running one W7 training step in ``framework``."""
    lib, nn, optim, F, clip, wrap = _libraries(framework)

    class LayerNorm(nn.Module):
        """LayerNorm but with an optional bias."""

        def __init__(self, ndim, bias):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(ndim))
            self.bias = nn.Parameter(lib.zeros(ndim)) if bias else None

        def forward(self, input):
            return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD, bias=BIAS)
            self.c_proj = nn.Linear(N_EMBD, N_EMBD, bias=BIAS)
            self.attn_dropout = nn.Dropout(DROPOUT)
            self.resid_dropout = nn.Dropout(DROPOUT)
            self.n_head, self.n_embd, self.dropout = N_HEAD, N_EMBD, DROPOUT

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                               dropout_p=self.dropout if self.training else 0, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(N_EMBD, 4 * N_EMBD, bias=BIAS)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * N_EMBD, N_EMBD, bias=BIAS)
            self.dropout = nn.Dropout(DROPOUT)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = LayerNorm(N_EMBD, bias=BIAS)
            self.attn = CausalSelfAttention()
            self.ln_2 = LayerNorm(N_EMBD, bias=BIAS)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(VOCAB, N_EMBD),
                wpe=nn.Embedding(BLOCK_SIZE, N_EMBD),
                drop=nn.Dropout(DROPOUT),
                h=nn.ModuleList([Block() for _ in range(N_LAYER)]),
                ln_f=LayerNorm(N_EMBD, bias=BIAS),
            ))
            self.lm_head = nn.Linear(N_EMBD, VOCAB, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    lib.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * N_LAYER))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    lib.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = lib.arange(0, t, dtype=lib.long)
            tok_emb = self.transformer.wte(idx)
            pos_emb = self.transformer.wpe(pos)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas):
            param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [{"params": decay_params, "weight_decay": weight_decay},
                            {"params": nodecay_params, "weight_decay": 0.0}]
            return optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    rng = np.random.default_rng(0)
    data = rng.integers(0, VOCAB, (BATCH, BLOCK_SIZE + 1))
    X, Y = wrap(data[:, :-1].copy()), wrap(data[:, 1:].copy())
    model = GPT()
    model.train()
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.99))

    def step():
        logits, loss = model(X, Y)
        loss.backward()
        clip(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    return step


@register("W7", "nanoGPT-structured GPT training step: 4 layers, 4 heads, 128 wide, ctx 64, vocab 65, batch 16, "
          "exact GELU, AdamW, clip 1.0", target=1.0)  # issue 18: no slower than PyTorch eager
def w7(framework):
    return nanogpt_step(framework)
