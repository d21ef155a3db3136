"""The training loop shared by the zoo's character language models (:class:`CharRNN`, :class:`TinyGPT`).

Next-character cross-entropy (nats per character), Adam/AdamW with linear warmup
and cosine decay, gradient-norm clipping, periodic validation over the whole
validation split, a wall-clock budget, and the training step compiled with
:func:`ember.compile` (replayed bit-for-bit like eager execution, without the
per-op bookkeeping).

Two ways to feed the model:

* ``stateful=True`` (char-rnn): consecutive BPTT windows of
  :meth:`~ember.data.TextCorpus.batches`; the recurrent state is carried from
  one window to the next (and detached), epoch after epoch.
* ``stateful=False`` (GPT): windows of ``seq_len`` characters drawn at random
  offsets of the training split for every step.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..nn import functional as F
from .. import optim
from ..autograd import no_grad
from ..creation import zeros
from ..tensor import Tensor, as_tensor

__all__ = ["LMTrainingConfig", "evaluate_language_model", "train_language_model"]


@dataclass
class LMTrainingConfig:
    """Settings of :func:`train_language_model`.

    Attributes:
        batch_size, seq_len: rows per batch and characters per row.
        steps: optimizer steps (the cosine schedule ends there).
        lr, min_lr: peak and final learning rate.
        warmup: linear warmup steps.
        optimizer: ``'adam'`` or ``'adamw'``.
        weight_decay: AdamW's decoupled decay.
        clip: maximum global gradient norm (``None``: no clipping).
        eval_every: validate every that many steps (and at the end).
        time_budget: stop after that many seconds of training (``None``: no limit); the cosine
            schedule then ends at the budget if that comes before ``steps``.
        compile: compile the training step with :func:`ember.compile`.
        seed: seed of the batch sampler (stateless mode).
    """

    batch_size: int = 32
    seq_len: int = 64
    steps: int = 1000
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup: int = 0
    optimizer: str = "adam"
    weight_decay: float = 0.0
    clip: float | None = 5.0
    eval_every: int = 250
    time_budget: float | None = None
    compile: bool = True
    seed: int = 0
    history: list = field(default_factory=list, repr=False)


def _loss(logits: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _split_output(output):
    """``(logits, state)`` for stateful models, ``(logits, None)`` for models returning only logits."""
    return output if isinstance(output, tuple) else (output, None)


def evaluate_language_model(model, corpus, batch_size: int = 32, seq_len: int = 64, split: str = "val",
                            stateful: bool = True) -> float:
    """Mean next-character cross-entropy (nats/char) over a whole split of ``corpus``.

    Stateful models read the split as consecutive BPTT windows carrying their state;
    the others read non-overlapping windows of ``seq_len``.

    Example:
        >>> from ember.data import CharCorpus
        >>> from ember.models import CharRNN
        >>> corpus = CharCorpus("to be or not to be, " * 20)
        >>> loss = evaluate_language_model(CharRNN(len(corpus.vocab), 8), corpus, batch_size=2, seq_len=8)
        >>> 1.0 < loss < 3.0  # about log(vocab) before training
        True
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with no_grad():
            if stateful:
                batches = corpus.batches(batch_size, seq_len, split)
            else:
                windows = corpus.windows(seq_len, split)
                batches = (windows.__getitems__(np.arange(i, min(i + batch_size, len(windows))))
                           for i in range(0, len(windows), batch_size))
            state = None
            for x, y in batches:
                out = model(as_tensor(x), state) if stateful else model(as_tensor(x))
                logits, state = _split_output(out)
                total += float(_loss(logits, as_tensor(y)).numpy()) * y.size
                count += y.size
    finally:
        model.train(was_training)
    return total / count


def _make_optimizer(model, config: LMTrainingConfig):
    if config.optimizer == "adamw":
        # No decay on biases, norms and embeddings' positions: only on matrices, as in GPT-2.
        decay = [p for p in model.parameters() if p.ndim >= 2]
        rest = [p for p in model.parameters() if p.ndim < 2]
        return optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                            {"params": rest, "weight_decay": 0.0}], lr=config.lr)
    if config.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=config.lr)
    raise ValueError(f"train_language_model: optimizer must be 'adam' or 'adamw', got {config.optimizer!r}")


def _lr_at(step: int, seconds: float, config: LMTrainingConfig) -> float:
    """Linear warmup, then a cosine that ends at ``steps`` or at the time budget, whichever comes first."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    if config.time_budget:
        progress = max(progress, seconds / config.time_budget)
    progress = min(1.0, progress)
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def _stateful_batches(corpus, config: LMTrainingConfig):
    while True:  # epoch after epoch; the state is reset by the caller at each new epoch
        yield None
        yield from corpus.batches(config.batch_size, config.seq_len, "train")


def _random_batches(corpus, config: LMTrainingConfig):
    ids = corpus.split("train")
    rng = np.random.default_rng(config.seed)
    offsets = np.arange(config.seq_len)
    while True:
        starts = rng.integers(0, len(ids) - config.seq_len - 1, config.batch_size)
        index = starts[:, None] + offsets
        yield ids[index], ids[index + 1]


def train_language_model(model, corpus, config: LMTrainingConfig | None = None, stateful: bool = True,
                         log: Callable[[str], None] = print) -> dict:
    """Train a character language model; returns its history and final validation loss.

    Args:
        model: :class:`CharRNN` (``stateful=True``) or :class:`TinyGPT` (``stateful=False``).
        corpus: a :class:`~ember.data.CharCorpus` (its ``train`` and ``val`` splits are used).
        config: the settings (:class:`LMTrainingConfig`).
        stateful: carry the recurrent state across consecutive windows.
        log: receives one line per validation.

    Returns:
        ``{"steps", "seconds", "train_loss", "val_loss", "best_val_loss", "history"}``; ``history``
        holds ``(step, seconds, train_loss, val_loss)`` rows.

    Example:
        >>> from ember.data import CharCorpus
        >>> from ember.models import CharRNN
        >>> corpus = CharCorpus("to be or not to be, that is the question. " * 30)
        >>> result = train_language_model(CharRNN(len(corpus.vocab), 16, 1), corpus,
        ...     LMTrainingConfig(batch_size=4, seq_len=16, steps=20, lr=1e-2, eval_every=20), log=lambda s: None)
        >>> result["val_loss"] < 2.5
        True
    """
    from ..compile import (
        compile as ember_compile,  # ember.compile loads after the zoo in ember/__init__
    )

    config = config or LMTrainingConfig()
    optimizer = _make_optimizer(model, config)

    def step(x, y, *state):
        optimizer.zero_grad()
        logits, new_state = _split_output(model(x, state) if stateful else model(x))
        loss = _loss(logits, y)
        loss.backward()
        if config.clip:
            optim.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        return (loss, *new_state) if stateful else loss

    train_step = ember_compile(step) if config.compile else step
    batches = _stateful_batches(corpus, config) if stateful else _random_batches(corpus, config)
    model.train()
    history, recent = [], []
    state: tuple = ()
    start, seconds, done = time.perf_counter(), 0.0, 0
    for done in range(1, config.steps + 1):
        batch = next(batches)
        if batch is None:  # a new epoch of stateful windows: start from zero state
            batch = next(batches)
            state = tuple(_zero_state(model, config.batch_size))
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(done - 1, seconds, config)
        x, y = as_tensor(batch[0]), as_tensor(batch[1])
        if stateful:
            loss, *new_state = train_step(x, y, *state)
            state = tuple(as_tensor(s.numpy()) for s in new_state)  # detached: BPTT stops at the window
        else:
            loss = train_step(x, y)
        recent.append(float(loss.numpy()))
        seconds = time.perf_counter() - start
        out_of_time = config.time_budget is not None and seconds > config.time_budget
        if done % config.eval_every == 0 or done == config.steps or out_of_time:
            eval_started = time.perf_counter()
            val = evaluate_language_model(model, corpus, config.batch_size, config.seq_len, "val", stateful)
            train_loss = float(np.mean(recent))
            recent = []
            history.append((done, round(seconds, 1), round(train_loss, 4), round(val, 4)))
            log(f"step {done}/{config.steps}  {seconds:7.1f}s  lr {optimizer.param_groups[0]['lr']:.2e}  "
                f"train {train_loss:.4f}  val {val:.4f} nats/char")
            start += time.perf_counter() - eval_started  # validation time is not training time
        if out_of_time:
            log(f"stopped by the time budget ({config.time_budget:.0f}s) after {done} steps")
            break
    vals = [row[3] for row in history]
    return {"steps": done, "seconds": round(seconds, 1), "train_loss": history[-1][2] if history else None,
            "val_loss": vals[-1] if vals else None, "best_val_loss": min(vals) if vals else None,
            "history": history}


def _zero_state(model, batch_size: int):
    shape = (model.num_layers, batch_size, model.hidden_size)
    return zeros(*shape), zeros(*shape)
