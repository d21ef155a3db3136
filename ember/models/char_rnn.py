"""Karpathy's char-rnn: a multi-layer LSTM language model over characters.

The network reads a character id per step through an embedding, runs a stack of
LSTM layers (with dropout between them) and predicts the next character with a
linear head. Training carries the LSTM state from one BPTT window to the next
(:meth:`CharRNN.forward` takes and returns it), as the original Lua code does.
"""
from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["CharRNN"]


class CharRNN(nn.Module):
    """Character-level LSTM language model (Karpathy's char-rnn, 2 x 256 by default).

    Args:
        vocab_size: number of distinct characters.
        hidden_size: LSTM width.
        num_layers: LSTM layers.
        dropout: dropout on the outputs of every LSTM layer (between layers and before the head).
        embed_dim: embedding width (default ``hidden_size``; char-rnn used one-hot inputs, an
            embedding of the same width is equivalent and cheaper).

    Example:
        >>> import ember
        >>> model = CharRNN(vocab_size=65, hidden_size=32, num_layers=2)
        >>> logits, state = model(ember.tensor([[1, 2, 3]]))
        >>> logits.shape, state[0].shape
        ((1, 3, 65), (2, 1, 32))
    """

    def __init__(self, vocab_size: int, hidden_size: int = 256, num_layers: int = 2, dropout: float = 0.2,
                 embed_dim: int | None = None) -> None:
        super().__init__()
        if vocab_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"CharRNN: vocab_size, hidden_size and num_layers must be >= 1, got "
                             f"{vocab_size}, {hidden_size}, {num_layers}")
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        embed_dim = embed_dim or hidden_size
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: Tensor, state: tuple | None = None) -> tuple[Tensor, tuple]:
        """Next-character logits ``(B, T, vocab)`` of ``tokens`` ``(B, T)``, and the final ``(h, c)``.

        Args:
            tokens: integer character ids, ``(B, T)``.
            state: ``(h, c)``, each ``(num_layers, B, hidden_size)``, from the previous window
                (zeros when None).
        """
        if tokens.ndim != 2:
            raise ValueError(f"CharRNN: expected tokens of shape (batch, time), got shape {tuple(tokens.shape)}")
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(self.drop(out)), state

    def next_logits(self, tokens: Tensor, state=None) -> tuple[Tensor, tuple]:
        """Logits of the character after the last of ``tokens`` ``(B, T)``: ``(B, vocab)``, and the state.

        The sampler feeds only the new character after the priming text, carrying the state.
        """
        logits, state = self(tokens, state)
        return logits[:, -1], state
