"""Image captioning with soft attention: "Show, Attend and Tell" (Xu et al. 2015), deterministic variant.

* **Encoder** (:class:`ConvEncoder`): a small CNN whose last feature map, ``(C, H', W')``, is read as
  ``L = H' W'`` annotation vectors ``a_i`` (the paper takes VGG's conv5_4, 14x14x512). Departure from
  the paper: each ``a_i`` also carries its location's (row, col) in ``[-1, 1]`` (``D = C + 2``), because
  a shallow CNN's features are translation-equivariant and the captions name positions; VGG's deep,
  border-aware features carry that information themselves.
* **Attention** (:class:`SoftAttention`): ``e_ti = w . tanh(W_a a_i + W_h h_{t-1} + b)`` (the MLP
  ``f_att``), ``alpha_t = softmax(e_t)`` over the ``L`` locations, context
  ``z_t = beta_t sum_i alpha_ti a_i`` with the gating scalar ``beta_t = sigmoid(f_beta(h_{t-1}))``
  (section 4.2.1).
* **Decoder** (:class:`ShowAttendTell`): an ``nn.LSTMCell`` reading ``[E y_{t-1}; z_t]``, started from
  ``h_0 = tanh(f_init,h(mean_i a_i))``, ``c_0 = tanh(f_init,c(mean_i a_i))``, and the deep output layer
  ``p(y_t) = softmax(L_o(E y_{t-1} + L_h h_t + L_z z_t))`` (eq. 7, dropout before ``L_o``).
* **Loss** (:func:`captioning_loss`): per caption, ``-log p(y | x) + lambda sum_i (1 - sum_t alpha_ti)^2``
  (eq. 14, the doubly stochastic regulariser; padded steps excluded), averaged over the batch.

:meth:`ShowAttendTell.begin` / :meth:`~ShowAttendTell.step` / :meth:`~ShowAttendTell.reorder` make the
model a :class:`~ember.models.beam_search.StepModel` (``src`` is the images, ``(N, 3, H, W)`` or
flattened ``(N, 3 H W)`` as :func:`~ember.models.beam_search.beam_search` wants a 2-d source);
:func:`greedy_caption` decodes greedily and also returns the attention of every generated word.

Example:
    >>> import numpy as np, ember
    >>> model = ShowAttendTell(vocab_size=17, image_size=16, channels=(8, 8), embed_dim=8, hidden_size=12,
    ...                        attention_dim=6)
    >>> images = ember.randn(2, 3, 16, 16)
    >>> logits, alphas = model(images, ember.tensor(np.array([[2, 4, 5], [2, 6, 0]])))
    >>> logits.shape, alphas.shape, np.allclose(alphas.numpy().sum(-1), 1.0)
    ((2, 3, 17), (2, 3, 64), True)
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["ConvEncoder", "SoftAttention", "ShowAttendTell", "attention_regulariser", "captioning_loss",
           "train_captioning_epoch", "greedy_caption", "attention_mass_in_mask"]


class ConvEncoder(nn.Module):
    """3x3 conv + ReLU blocks, a 2x2 max-pool after all but the last: ``(B, 3, S, S) -> (B, L, D)``.

    With ``channels=(c_1, ..., c_k)`` the grid is ``S / 2^(k-1)`` a side and ``D = c_k + 2`` with
    ``coordinates`` (each vector ends with its location's row and column in ``[-1, 1]``), else ``c_k``.

    Example:
        >>> import ember
        >>> a = ConvEncoder((8, 16))(ember.randn(2, 3, 12, 12))
        >>> a.shape, a[0, 7, 16:].tolist()                     # location 7 = row 1, column 1 of 6x6
        ((2, 36, 18), [-0.6000000238418579, -0.6000000238418579])
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 128), in_channels: int = 3,
                 coordinates: bool = True) -> None:
        super().__init__()
        if not channels:
            raise ValueError("ConvEncoder: channels must name at least one layer")
        layers: List[nn.Module] = []
        widths = [in_channels, *channels]
        for k, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            if k < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
        self.net = nn.Sequential(*layers)
        self.coordinates = bool(coordinates)
        self.out_channels = int(channels[-1]) + 2 * self.coordinates
        self.downsample = 2 ** (len(channels) - 1)

    def forward(self, images: Tensor) -> Tensor:
        """Annotation vectors ``(B, L, D)``, locations in row-major order of the feature map."""
        features = self.net(images)                                  # (B, C, H', W')
        b, c, h, w = features.shape
        features = features.reshape(b, c, -1).transpose(1, 2)
        if not self.coordinates:
            return features
        rows, cols = np.meshgrid(np.linspace(-1.0, 1.0, h), np.linspace(-1.0, 1.0, w), indexing="ij")
        grid = np.stack([rows.reshape(-1), cols.reshape(-1)], axis=1).astype(features.numpy().dtype)
        return ember.cat([features, ember.tensor(np.broadcast_to(grid, (b, h * w, 2)).copy())], dim=2)


class SoftAttention(nn.Module):
    """``f_att`` (an MLP) and the gate ``beta``: ``(z_t, alpha_t)`` from the annotations and ``h_{t-1}``.

    :meth:`project` computes ``W_a a_i + b`` once per batch; :meth:`forward` runs once per step.

    Args:
        feature_size: ``D``; hidden_size: the decoder's ``H``; attention_dim: the MLP's width.

    Example:
        >>> import ember, numpy as np
        >>> attn = SoftAttention(5, 4, 3)
        >>> a = ember.randn(2, 7, 5)
        >>> z, alpha = attn(a, attn.project(a), ember.randn(2, 4))
        >>> z.shape, alpha.shape, np.allclose(alpha.numpy().sum(1), 1.0)
        ((2, 5), (2, 7), True)
    """

    def __init__(self, feature_size: int, hidden_size: int, attention_dim: int) -> None:
        super().__init__()
        self.feature_proj = nn.Linear(feature_size, attention_dim)
        self.hidden_proj = nn.Linear(hidden_size, attention_dim, bias=False)
        self.score = nn.Linear(attention_dim, 1)
        self.gate = nn.Linear(hidden_size, 1)

    def project(self, features: Tensor) -> Tensor:
        """``W_a a_i + b`` for every location: ``(B, L, A)``."""
        return self.feature_proj(features)

    def forward(self, features: Tensor, projected: Tensor, hidden: Tensor) -> Tuple[Tensor, Tensor]:
        """``(z_t (B, D), alpha_t (B, L))`` for annotations ``(B, L, D)``, their projection and ``h_{t-1} (B, H)``."""
        if features.ndim != 3 or hidden.ndim != 2 or hidden.shape[0] != features.shape[0]:
            raise ValueError(f"SoftAttention: expected features (B, L, D) and hidden (B, H), got shapes "
                             f"{tuple(features.shape)} and {tuple(hidden.shape)}")
        energy = ember.tanh(projected + self.hidden_proj(hidden).unsqueeze(1))     # (B, L, A)
        alpha = F.softmax(self.score(energy).squeeze(-1), dim=-1)                  # (B, L)
        beta = ember.sigmoid(self.gate(hidden))                                    # (B, 1)
        context = ember.bmm(alpha.unsqueeze(1), features).squeeze(1)               # (B, D)
        return beta * context, alpha


class ShowAttendTell(nn.Module):
    """CNN encoder, soft attention, LSTM decoder with the deep output layer (see the module docstring).

    Args:
        vocab_size: ``V``; image_size: the square input's side (to size the grid); in_channels: 3 for RGB.
        channels: the encoder's conv widths (the last is ``D``).
        embed_dim: ``m`` (word embedding and deep-output width); hidden_size: the LSTM's ``n``.
        attention_dim: ``f_att``'s hidden width; dropout: before ``L_o``.
        coordinates: append each location's (row, col) to its annotation vector (see the module docstring).

    ``forward(images (B, 3, S, S), captions_in (B, T))`` returns teacher-forced logits ``(B, T, V)``
    and attention ``(B, T, L)``.
    """

    def __init__(self, vocab_size: int, image_size: int = 48, channels: Sequence[int] = (32, 64, 128),
                 embed_dim: int = 64, hidden_size: int = 256, attention_dim: int = 128, dropout: float = 0.0,
                 in_channels: int = 3, coordinates: bool = True) -> None:
        super().__init__()
        self.encoder = ConvEncoder(channels, in_channels, coordinates)
        if image_size % self.encoder.downsample:
            raise ValueError(f"ShowAttendTell: image_size {image_size} is not a multiple of the encoder's "
                             f"downsampling {self.encoder.downsample}")
        self.image_size, self.in_channels, self.vocab_size = int(image_size), int(in_channels), int(vocab_size)
        self.grid = image_size // self.encoder.downsample
        d = self.encoder.out_channels
        self.attention = SoftAttention(d, hidden_size, attention_dim)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTMCell(embed_dim + d, hidden_size)
        self.init_h = nn.Linear(d, hidden_size)
        self.init_c = nn.Linear(d, hidden_size)
        self.out_h = nn.Linear(hidden_size, embed_dim)           # L_h
        self.out_z = nn.Linear(d, embed_dim)                     # L_z
        self.out = nn.Linear(embed_dim, vocab_size)              # L_o
        self.dropout = nn.Dropout(dropout)

    # ------------------------------------------------------------ pieces
    def _images(self, images) -> Tensor:
        images = images if isinstance(images, Tensor) else ember.tensor(np.asarray(images, dtype=np.float32))
        if images.ndim == 2:        # flattened, as beam_search passes a 2-d source
            images = images.reshape(images.shape[0], self.in_channels, self.image_size, self.image_size)
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"ShowAttendTell: expected images (B, {', '.join(map(str, expected))}), got shape "
                             f"{tuple(images.shape)}")
        return images

    def encode(self, images) -> dict:
        """Annotations ``a``, their attention projection and the initial ``(h_0, c_0)``."""
        features = self.encoder(self._images(images))              # (B, L, D)
        mean = features.mean(dim=1)
        return {"features": features, "projected": self.attention.project(features),
                "h": ember.tanh(self.init_h(mean)), "c": ember.tanh(self.init_c(mean)), "attention": None}

    def _step(self, state: dict, embedded: Tensor) -> Tuple[Tensor, dict]:
        """One decoder step from ``E y_{t-1}``: the logits of ``y_t`` and the new state (with ``alpha_t``)."""
        z, alpha = self.attention(state["features"], state["projected"], state["h"])
        h, c = self.lstm(ember.cat([embedded, z], dim=1), (state["h"], state["c"]))
        logits = self.out(self.dropout(embedded + self.out_h(h) + self.out_z(z)))
        return logits, dict(state, h=h, c=c, attention=alpha)

    def forward(self, images, captions_in) -> Tuple[Tensor, Tensor]:
        """Teacher-forced ``(logits (B, T, V), alphas (B, T, L))``; ``captions_in`` is ``<bos> y_1 ...``."""
        ids = captions_in if isinstance(captions_in, Tensor) else ember.tensor(np.asarray(captions_in, np.int64))
        state = self.encode(images)
        if ids.ndim != 2 or ids.shape[0] != state["h"].shape[0]:
            raise ValueError(f"ShowAttendTell: expected captions_in (B, T) with B = {state['h'].shape[0]} images, "
                             f"got shape {tuple(ids.shape)}")
        embedded = self.embedding(ids)                             # (B, T, m)
        logits, alphas = [], []
        for t in range(ids.shape[1]):
            step_logits, state = self._step(state, embedded[:, t])
            logits.append(step_logits)
            alphas.append(state["attention"])
        return ember.stack(logits, dim=1), ember.stack(alphas, dim=1)

    # ------------------------------------------------------------ StepModel
    def begin(self, src, src_lengths=None) -> dict:
        """Encode images ``(N, 3, S, S)`` or ``(N, 3 S S)`` for decoding (``src_lengths`` is ignored)."""
        return self.encode(src)

    def step(self, state: dict, tokens: np.ndarray) -> Tuple[np.ndarray, dict]:
        """Feed ``(N,)`` last tokens: ``(N, V)`` log-probabilities; the state keeps ``alpha_t``."""
        embedded = self.embedding(ember.tensor(np.asarray(tokens, dtype=np.int64)))
        logits, state = self._step(state, embedded)
        return F.log_softmax(logits, dim=-1).numpy(), state

    def reorder(self, state: dict, rows: np.ndarray) -> dict:
        """Keep rows ``rows`` of every tensor of the state."""
        index = ember.tensor(np.asarray(rows, dtype=np.int64))
        return {k: (v[index] if isinstance(v, Tensor) else v) for k, v in state.items()}


# ------------------------------------------------------------------ loss and training
def attention_regulariser(alphas: Tensor, step_mask: Optional[Tensor] = None) -> Tensor:
    """``sum_i (1 - sum_t alpha_ti)^2`` per caption, ``(B,)``, for ``alphas (B, T, L)``.

    ``step_mask (B, T)`` (1 on real steps) leaves padded steps out of ``sum_t``.

    Example:
        >>> import ember
        >>> alphas = ember.tensor([[[1.0, 0.0], [0.5, 0.5]]])   # one caption, two steps, two locations
        >>> attention_regulariser(alphas).tolist()              # (1 - 1.5)^2 + (1 - 0.5)^2
        [0.5]
    """
    if alphas.ndim != 3:
        raise ValueError(f"attention_regulariser: expected alphas (B, T, L), got shape {tuple(alphas.shape)}")
    if step_mask is not None:
        if tuple(step_mask.shape) != tuple(alphas.shape[:2]):
            raise ValueError(f"attention_regulariser: step_mask shape {tuple(step_mask.shape)} does not match "
                             f"alphas' (B, T) = {tuple(alphas.shape[:2])}")
        alphas = alphas * step_mask.unsqueeze(-1)
    return ((1.0 - alphas.sum(dim=1)) ** 2).sum(dim=1)


def captioning_loss(model: ShowAttendTell, images, captions: np.ndarray, reg_weight: float = 1.0,
                    pad_id: int = 0) -> Tuple[Tensor, float]:
    """Mean over the batch of ``-log p(caption | image) + reg_weight * sum_i (1 - sum_t alpha_ti)^2``.

    ``captions (B, T)`` are ``<bos> ... <eos>`` padded with ``pad_id``; the model reads ``captions[:, :-1]``
    and predicts ``captions[:, 1:]``. Returns ``(loss, mean NLL per token)``.
    """
    captions = np.asarray(captions, dtype=np.int64)
    logits, alphas = model(images, captions[:, :-1])
    target = captions[:, 1:]
    real = target != pad_id
    b, t, v = logits.shape
    nll = F.cross_entropy(logits.reshape(b * t, v), ember.tensor(target.reshape(-1)), ignore_index=pad_id,
                          reduction="sum")
    loss = nll / b
    if reg_weight:
        step_mask = ember.tensor(real.astype(alphas.numpy().dtype))
        loss = loss + reg_weight * attention_regulariser(alphas, step_mask).mean()
    return loss, float(nll.item()) / max(int(real.sum()), 1)


def train_captioning_epoch(model: ShowAttendTell, images: np.ndarray, captions: np.ndarray, optimizer,
                           batch_size: int = 64, reg_weight: float = 1.0, clip: float = 5.0, pad_id: int = 0,
                           rng: Optional[np.random.Generator] = None, max_steps: Optional[int] = None,
                           log: Optional[Callable[[str], None]] = None, log_every: int = 50,
                           started: Optional[float] = None) -> float:
    """One shuffled pass over ``images (N, 3, S, S)`` and ``captions (N, T)``; returns the mean NLL per token.

    Gradients are clipped to norm ``clip``; every ``log_every`` steps ``log`` gets a progress line with
    the running NLL and the seconds since ``started`` (default: the epoch's start).
    """
    model.train()
    rng = rng if rng is not None else np.random.default_rng(0)
    started = time.perf_counter() if started is None else started
    order = rng.permutation(len(images))
    total, count = 0.0, 0
    for step, first in enumerate(range(0, len(order), batch_size), 1):
        rows = order[first:first + batch_size]
        loss, nll = captioning_loss(model, ember.tensor(images[rows]), captions[rows], reg_weight, pad_id)
        optimizer.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total, count = total + nll, count + 1
        if log is not None and step % log_every == 0:
            log(f"  step {step}: nll/token {total / count:.4f} loss {float(loss.item()):.3f} "
                f"({time.perf_counter() - started:.0f}s)")
        if max_steps is not None and step >= max_steps:
            break
    return total / max(count, 1)


def greedy_caption(model: ShowAttendTell, images: np.ndarray, bos_id: int = 2, eos_id: int = 3,
                   max_len: int = 12, batch_size: int = 256) -> Tuple[List[List[int]], List[np.ndarray]]:
    """Greedy captions of ``images (N, 3, S, S)`` and the attention that produced each word.

    Returns:
        ``(ids, alphas)``: per image the generated ids (no ``<bos>``/``<eos>``) and a ``(len, L)`` array
        whose row ``t`` is ``alpha_t``, the attention of the step that emitted word ``t``.
    """
    model.eval()
    ids_out: List[List[int]] = []
    alphas_out: List[np.ndarray] = []
    with ember.no_grad():
        for first in range(0, len(images), batch_size):
            batch = images[first:first + batch_size]
            n = len(batch)
            state = model.begin(ember.tensor(np.asarray(batch, dtype=np.float32)))
            last = np.full(n, bos_id, dtype=np.int64)
            words = np.full((n, max_len), eos_id, dtype=np.int64)
            maps = np.zeros((n, max_len, state["features"].shape[1]), dtype=np.float32)
            done = np.zeros(n, dtype=bool)
            for t in range(max_len):
                log_probs, state = model.step(state, last)
                last = np.where(done, eos_id, log_probs.argmax(axis=1)).astype(np.int64)
                words[:, t], maps[:, t] = last, state["attention"].numpy()
                done |= last == eos_id
                if done.all():
                    break
            for row in range(n):
                ends = np.flatnonzero(words[row] == eos_id)
                length = int(ends[0]) if ends.size else max_len
                ids_out.append(words[row, :length].tolist())
                alphas_out.append(maps[row, :length])
    return ids_out, alphas_out


def attention_mass_in_mask(alpha: np.ndarray, mask: np.ndarray) -> float:
    """The share of one attention map ``alpha (L,)`` that falls inside a boolean image ``mask (S, S)``.

    ``alpha`` is upsampled to the image by spreading each location's weight evenly over its
    ``(S / g)^2`` pixels (``L = g^2``, row-major), so the mass inside is
    ``sum_i alpha_i * (fraction of location i's pixels in the mask)``.

    Example:
        >>> import numpy as np
        >>> mask = np.zeros((4, 4), bool); mask[:2, :2] = True; mask[2, 2] = True
        >>> attention_mass_in_mask(np.array([0.5, 0.0, 0.0, 0.5]), mask)    # 0.5 * 1 + 0.5 * 1/4
        0.625
    """
    alpha, mask = np.asarray(alpha), np.asarray(mask, dtype=bool)
    g = int(round(np.sqrt(alpha.size)))
    if g * g != alpha.size or mask.ndim != 2 or mask.shape[0] != mask.shape[1] or mask.shape[0] % g:
        raise ValueError(f"attention_mass_in_mask: expected alpha of g*g locations and a square mask whose side "
                         f"is a multiple of g, got alpha of {alpha.size} and mask of shape {mask.shape}")
    block = mask.shape[0] // g
    coverage = mask.reshape(g, block, g, block).mean(axis=(1, 3)).reshape(-1)
    return float((alpha * coverage).sum())
