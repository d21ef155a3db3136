"""A tiny decoder-only transformer (GPT) over characters, as workload W5 of DESIGN.md.

Token embedding plus learned positions, a stack of pre-LayerNorm blocks (causal
multi-head self-attention and a GELU MLP 4x wide, each with a residual
connection), a final LayerNorm and a linear head over the vocabulary.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..tensor import Tensor, as_tensor

__all__ = ["TinyGPT"]


class TinyGPT(nn.Module):
    """Decoder-only transformer language model.

    Args:
        vocab_size: number of tokens.
        context: longest sequence the model reads (size of the position table).
        d_model: width.
        n_heads: attention heads.
        n_layers: transformer blocks.
        dropout: dropout on embeddings, attention weights and residual branches.

    Example:
        >>> import ember
        >>> model = TinyGPT(vocab_size=65, context=16, d_model=32, n_heads=4, n_layers=2)
        >>> model(ember.tensor([[1, 2, 3]])).shape
        (1, 3, 65)
    """

    def __init__(self, vocab_size: int, context: int = 128, d_model: int = 192, n_heads: int = 4,
                 n_layers: int = 4, dropout: float = 0.1) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"TinyGPT: d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.vocab_size, self.context = vocab_size, context
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.LearnedPositionalEmbedding(context, d_model, dropout=dropout, batch_first=True)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=4 * d_model, dropout=dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
            for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self._masks: dict[int, Tensor] = {}

    def _mask(self, length: int) -> Tensor:
        if length not in self._masks:
            self._masks[length] = nn.Transformer.generate_square_subsequent_mask(length)
        return self._masks[length]

    def forward(self, tokens: Tensor) -> Tensor:
        """Next-token logits ``(B, T, vocab)`` of ``tokens`` ``(B, T)``, ``T <= context``."""
        if tokens.ndim != 2 or tokens.shape[1] > self.context:
            raise ValueError(f"TinyGPT: expected tokens of shape (batch, time <= {self.context}), "
                             f"got shape {tuple(tokens.shape)}")
        h = self.position(self.embed(tokens))
        mask = self._mask(tokens.shape[1])
        for block in self.blocks:
            h = block(h, src_mask=mask, is_causal=True)
        return self.head(self.norm(h))

    def next_logits(self, tokens: Tensor, state=None) -> tuple[Tensor, np.ndarray]:
        """Logits ``(B, vocab)`` of the token after ``tokens``; the state is the window of recent ids.

        The window is cropped to the last ``context`` ids, so sampling can run past the context.
        """
        new = tokens.numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
        window = new if state is None else np.concatenate([state, new], axis=1)
        window = window[:, -self.context:]
        return self(as_tensor(window))[:, -1], window
