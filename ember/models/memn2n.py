"""End-to-end memory network (Sukhbaatar, Szlam, Weston & Fergus 2015, arXiv:1503.08895) for bAbI.

The model of the paper's section 4 with every option of its best bAbI column
("PE LS RN", adjacent weight tying):

* **position encoding** (PE): a sentence's memory vector is ``sum_j l_j * A x_j`` with
  ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`` (``J`` words, ``d`` dimensions, 1-based ``j, k``),
  so word order matters;
* **temporal encoding** (TE): a learned vector ``T_A[i]`` (``T_C[i]``) is added to the memory
  (output) vector of the ``i``-th most recent sentence;
* **linear start** (LS): with :attr:`MemN2N.linear_start` set, the attention softmaxes are
  removed (the answer softmax stays); training starts that way and reinserts them when the
  validation loss stops falling (see :func:`fit_memn2n`);
* **random noise** (RN): :func:`add_empty_memories` inserts ~10% empty memories into
  training stories, which regularises the temporal encoding;
* **adjacent tying**: ``K + 1`` embedding matrices ``E_0..E_K``; hop ``k`` reads with
  ``A_k = E_{k-1}`` and ``C_k = E_k``, the question embedding is ``B = E_0`` and the answer
  matrix is ``W = E_K^T`` (the temporal matrices are tied the same way).

One hop: ``p = softmax(u^T m_i)``, ``o = sum_i p_i c_i``, ``u <- u + o``; the answer is
``softmax(W u_K+1)`` over the vocabulary. Inputs are the arrays of
:class:`ember.data.datasets.babi.BabiTask`: stories ``(N, M, J)`` of word ids, oldest
statement first, zero rows after the ``story_length`` real ones; id 0 is padding.

Example:
    >>> import ember
    >>> model = MemN2N(vocab_size=10, embedding_dim=8, memory_size=5)
    >>> story = ember.tensor([[[2, 3, 0], [4, 5, 6], [0, 0, 0]]])
    >>> model(story, ember.tensor([2]), ember.tensor([[7, 2]])).shape
    (1, 10)
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["MemN2N", "MemN2NConfig", "babi_arrays", "split_arrays", "position_encoding", "memory_read",
           "add_empty_memories",
           "train_memn2n_epoch", "evaluate_memn2n", "fit_memn2n"]


def position_encoding(sentence_len: int, embedding_dim: int, dtype=None) -> Tensor:
    """The paper's position-encoding weights ``l`` as a ``(sentence_len, embedding_dim)`` tensor.

    ``l[j-1, k-1] = (1 - j/J) - (k/d)(1 - 2j/J)`` (section 4.1).

    Example:
        >>> position_encoding(2, 2).shape
        (2, 2)
    """
    j = np.arange(1, sentence_len + 1, dtype=np.float64)[:, None] / sentence_len
    k = np.arange(1, embedding_dim + 1, dtype=np.float64)[None, :] / embedding_dim
    return ember.tensor((1.0 - j) - k * (1.0 - 2.0 * j), dtype=dtype or ember.default_dtype())


def memory_read(u: Tensor, memory: Tensor, output: Tensor, valid: Tensor,
                softmax: bool = True) -> tuple[Tensor, Tensor]:
    """One memory hop: ``(o, p)`` with ``p = softmax(memory @ u)`` over the valid slots and ``o = p @ output``.

    Args:
        u: the controller state ``(N, d)``.
        memory: the input memory vectors ``m_i`` ``(N, M, d)``.
        output: the output memory vectors ``c_i`` ``(N, M, d)``.
        valid: ``(N, M)`` booleans; slots past a story's end get no attention.
        softmax: ``False`` is linear start's hop: ``p`` is the raw scores (zero on invalid slots).

    Example:
        >>> import ember
        >>> o, p = memory_read(ember.ones(1, 2), ember.ones(1, 3, 2), ember.ones(1, 3, 2),
        ...                    ember.tensor([[True, True, False]]))
        >>> p.numpy().round(2).tolist()
        [[0.5, 0.5, 0.0]]
    """
    scores = ember.bmm(memory, u.unsqueeze(2)).squeeze(2)  # (N, M)
    if softmax:
        p = F.softmax(scores.masked_fill(~valid, float("-inf")), dim=1)
    else:
        p = scores * valid.to(scores.dtype)
    return ember.bmm(p.unsqueeze(1), output).squeeze(1), p


class MemN2N(nn.Module):
    """End-to-end memory network with adjacent weight tying, PE and TE (see the module docstring).

    Args:
        vocab_size: words, padding (id 0) included; the answer is one of them.
        embedding_dim: ``d`` (20 per task and 50 jointly in the paper).
        memory_size: most sentences a story may hold (50 in the paper).
        hops: ``K`` (3 in the paper).
        init_std: standard deviation of the Gaussian initialisation (0.1 in the paper).

    Example:
        >>> import ember
        >>> m = MemN2N(6, 4, memory_size=3, hops=2)
        >>> tuple(m.embeddings.shape), tuple(m.temporal.shape)
        ((3, 6, 4), (3, 3, 4))
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 20, memory_size: int = 50, hops: int = 3,
                 init_std: float = 0.1) -> None:
        super().__init__()
        if min(vocab_size, embedding_dim, memory_size, hops) < 1:
            raise ValueError(f"MemN2N: vocab_size, embedding_dim, memory_size and hops must be positive, got "
                             f"{vocab_size}, {embedding_dim}, {memory_size}, {hops}")
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.memory_size, self.hops = int(memory_size), int(hops)
        self.linear_start = False
        # E_0..E_K stacked (hop k reads embeddings[k-1] and embeddings[k]); the same for T_A / T_C.
        self.embeddings = nn.Parameter(ember.randn(hops + 1, vocab_size, embedding_dim) * init_std)
        self.temporal = nn.Parameter(ember.randn(hops + 1, memory_size, embedding_dim) * init_std)
        with ember.no_grad():
            self.embeddings[:, 0] = 0.0  # the padding word adds nothing (it gets no gradient either: padding_idx)

    def _check(self, story: Tensor, story_length: Tensor, question: Tensor) -> None:
        if story.ndim != 3 or question.ndim != 2 or story_length.ndim != 1 or \
                not story.shape[0] == question.shape[0] == story_length.shape[0]:
            raise ValueError(f"MemN2N: expected story (N, memory, words), story_length (N,) and question (N, words), "
                             f"got {tuple(story.shape)}, {tuple(story_length.shape)} and {tuple(question.shape)}")
        if story.shape[1] > self.memory_size:
            raise ValueError(f"MemN2N: stories hold {story.shape[1]} sentences but the model's memory_size is "
                             f"{self.memory_size}; keep the most recent ones (BabiTask(memory_size=...)) or build "
                             f"a larger model")
        ids = [t for t in (story, question) if t.numel()]
        top = max((int(t.max().item()) for t in ids), default=0)
        low = min((int(t.min().item()) for t in ids), default=0)
        if top >= self.vocab_size or low < 0:
            raise ValueError(f"MemN2N: word ids must lie in [0, {self.vocab_size}) (the model's vocab_size), "
                             f"got ids in [{low}, {top}]; build the model with the dataset's len(vocab)")
        longest = int(story_length.max().item()) if story_length.numel() else 0
        if longest > story.shape[1] or (story_length.numel() and int(story_length.min().item()) < 0):
            raise ValueError(f"MemN2N: story_length must lie in [0, {story.shape[1]}] (the story's slots), got "
                             f"a maximum of {longest}")

    def _embed(self, weight: Tensor, temporal: Tensor, story: Tensor, time: Tensor, pe: Tensor) -> Tensor:
        words = F.embedding(story, weight, padding_idx=0) * pe  # (N, M, J, d)
        # W = E_K^T learns a logit for the padding word, so E_K's row 0 is not zero: mask it out.
        words = words * (story != 0).unsqueeze(-1).to(words.dtype)
        return words.sum(dim=2) + F.embedding(time, temporal)

    def forward(self, story: Tensor, story_length: Tensor, question: Tensor,
                return_attention: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Answer logits ``(N, vocab_size)``; with ``return_attention`` also each hop's ``p`` ``(N, M)``.

        Raises ``ValueError`` naming the sizes for a story longer than ``memory_size``, word ids
        outside the vocabulary or inconsistent shapes.
        """
        self._check(story, story_length, question)
        n, slots, words = story.shape
        dtype = self.embeddings.dtype
        # Slot i of a story of length L is its (L-1-i)-th most recent sentence: the temporal index.
        age = story_length.to(ember.int64).unsqueeze(1) - 1 - ember.arange(slots, dtype=ember.int64).unsqueeze(0)
        valid = age >= 0
        time = age.clamp(min=0)
        pe_story = position_encoding(words, self.embedding_dim, dtype)
        pe_question = position_encoding(question.shape[1], self.embedding_dim, dtype)
        u = (F.embedding(question, self.embeddings[0], padding_idx=0) * pe_question).sum(dim=1)  # E_0 row 0 stays 0
        attention = []
        memory = self._embed(self.embeddings[0], self.temporal[0], story, time, pe_story)
        for hop in range(1, self.hops + 1):
            output = self._embed(self.embeddings[hop], self.temporal[hop], story, time, pe_story)
            o, p = memory_read(u, memory, output, valid, softmax=not self.linear_start)
            u = u + o
            attention.append(p)
            memory = output  # adjacent tying: A_{k+1} = C_k
        logits = u @ self.embeddings[self.hops].t()  # W = C_K^T
        return (logits, attention) if return_attention else logits


def add_empty_memories(story: np.ndarray, story_length: np.ndarray, fraction: float = 0.1,
                       rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Random noise (RN): insert empty sentences at random places, about ``fraction`` of each story.

    Each statement gets an empty memory before it with probability ``fraction``; the story
    keeps its slots, so when it overflows its oldest statements are dropped. Returns new
    ``(story, story_length)`` arrays.

    Example:
        >>> s, n = add_empty_memories(np.ones((1, 4, 2), dtype=np.int64), np.array([2]), 1.0)
        >>> n.tolist(), s[0, :, 0].tolist()
        ([4], [0, 1, 0, 1])
    """
    rng = rng or np.random.default_rng()
    out = np.zeros_like(story)
    lengths = np.zeros_like(story_length)
    slots = story.shape[1]
    for i, length in enumerate(story_length):
        length = int(length)
        empty = rng.random(length) < fraction
        rows = []
        for j in range(length):
            if empty[j]:
                rows.append(-1)
            rows.append(j)
        rows = rows[-slots:]
        for slot, j in enumerate(rows):
            if j >= 0:
                out[i, slot] = story[i, j]
        lengths[i] = len(rows)
    return out, lengths


def babi_arrays(dataset) -> dict:
    """The arrays of a :class:`~ember.data.datasets.babi.BabiTask` as the dict the training functions take."""
    return {"story": dataset.stories, "story_length": dataset.story_lengths, "question": dataset.queries,
            "answer": dataset.answers}


def split_arrays(data: dict, fraction: float, rng: np.random.Generator) -> tuple[dict, dict]:
    """``(rest, held_out)``: a random ``fraction`` of the questions held out (the paper's 10% validation set)."""
    order = rng.permutation(len(data["answer"]))
    cut = int(round(fraction * len(order)))
    return ({k: v[order[cut:]] for k, v in data.items()}, {k: v[order[:cut]] for k, v in data.items()})


def _batch(data: dict, index: np.ndarray) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    return (ember.tensor(data["story"][index]), ember.tensor(data["story_length"][index]),
            ember.tensor(data["question"][index]), ember.tensor(data["answer"][index]))


def train_memn2n_epoch(model: MemN2N, data: dict, optimizer, batch_size: int = 32, max_norm: float = 40.0,
                       noise: float = 0.1, rng: np.random.Generator | None = None) -> float:
    """One shuffled epoch of ``optimizer`` on the batch-summed cross-entropy of the answers; returns the mean loss.

    ``data`` holds BabiTask-style arrays (``story``, ``story_length``, ``question``, ``answer``);
    ``noise`` is RN's fraction of empty memories (0 turns it off); gradients are clipped to
    ``max_norm`` (40 in the paper).
    """
    rng = rng or np.random.default_rng()
    model.train()
    n = len(data["answer"])
    order = rng.permutation(n)
    total = 0.0
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        story, length = data["story"][index], data["story_length"][index]
        if noise > 0:
            story, length = add_empty_memories(story, length, noise, rng)
        logits = model(ember.tensor(story), ember.tensor(length), ember.tensor(data["question"][index]))
        # Summed over the batch, as in the authors' code: lr 0.01 and the clipping norm 40 are for a sum.
        loss = F.cross_entropy(logits, ember.tensor(data["answer"][index]), reduction="sum")
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += float(loss.item())
    return total / n


def evaluate_memn2n(model: MemN2N, data: dict, batch_size: int = 500) -> tuple[float, float]:
    """``(mean cross-entropy, error rate)`` of the answers of ``data``, without gradients or noise."""
    model.eval()
    n = len(data["answer"])
    loss, wrong = 0.0, 0
    with ember.no_grad():
        for start in range(0, n, batch_size):
            story, length, question, answer = _batch(data, np.arange(start, min(start + batch_size, n)))
            logits = model(story, length, question)
            loss += float(F.cross_entropy(logits, answer, reduction="sum").item())
            wrong += int((logits.argmax(dim=1) != answer).sum().item())
    return loss / n, wrong / n


@dataclass
class MemN2NConfig:
    """The paper's training protocol (section 4.2), defaults as published for per-task training.

    SGD at ``lr`` halved every ``decay_every`` epochs up to ``epochs``; linear start runs at
    ``ls_lr`` (the paper's 0.005) for at most ``ls_max_epochs`` and ends once the validation loss
    has not reached a new low for ``ls_patience`` epochs (1: at the first epoch it does not
    fall); ``noise`` is RN's fraction of empty memories.
    """

    embedding_dim: int = 20
    hops: int = 3
    memory_size: int = 50
    epochs: int = 100
    lr: float = 0.01
    decay_every: int = 25
    batch_size: int = 32
    max_norm: float = 40.0
    linear_start: bool = True
    ls_lr: float = 0.005
    ls_max_epochs: int = 20
    ls_patience: int = 1
    noise: float = 0.1
    history: list = field(default_factory=list)


def fit_memn2n(model: MemN2N, train: dict, valid: dict, config: MemN2NConfig, rng: np.random.Generator,
               log=None) -> MemN2N:
    """Train ``model`` with the paper's protocol; returns the model of the epoch with the lowest validation error.

    Linear start: the softmaxes are off and the lr is ``ls_lr`` until the validation loss stops
    falling (``ls_patience`` epochs without a new low, or ``ls_max_epochs``), then they are
    reinserted for the rest of the ``epochs``, whose lr follows ``lr * 0.5 ** ((epoch - 1) // decay_every)``.
    """
    optimizer = ember.optim.SGD(model.parameters(), lr=config.lr)
    model.linear_start = config.linear_start
    best, best_key, lowest_loss, stale = copy.deepcopy(model.state_dict()), (math.inf, math.inf), math.inf, 0
    for epoch in range(1, config.epochs + 1):
        lr = config.ls_lr if model.linear_start else config.lr * 0.5 ** ((epoch - 1) // config.decay_every)
        for group in optimizer.param_groups:
            group["lr"] = lr
        start = time.perf_counter()
        train_loss = train_memn2n_epoch(model, train, optimizer, config.batch_size, config.max_norm, config.noise, rng)
        valid_loss, valid_error = evaluate_memn2n(model, valid)
        config.history.append({"epoch": epoch, "lr": lr, "linear_start": model.linear_start,
                               "train_loss": round(train_loss, 4), "valid_loss": round(valid_loss, 4),
                               "valid_error": round(valid_error, 4)})
        if log:
            log(f"  epoch {epoch:3d} lr {lr:.5f}{' LS' if model.linear_start else '   '} train loss {train_loss:.3f} "
                f"valid loss {valid_loss:.3f} error {100 * valid_error:5.1f}%  ({time.perf_counter() - start:.1f}s)")
        if not model.linear_start and (valid_error, valid_loss) < best_key:  # ties go to the lower loss
            best, best_key = copy.deepcopy(model.state_dict()), (valid_error, valid_loss)
        stale = 0 if valid_loss < lowest_loss else stale + 1
        lowest_loss = min(lowest_loss, valid_loss)
        if model.linear_start and (stale >= config.ls_patience or epoch >= config.ls_max_epochs):
            model.linear_start = False  # reinsert the softmaxes
    if best_key[0] < math.inf:  # else every epoch ran in linear start: keep the last weights
        model.load_state_dict(best)
    model.linear_start = False
    return model
