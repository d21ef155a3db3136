"""Grammar cells: the predictive gating pyramid (PGP) of Michalski, Memisevic & Konda (NIPS 2014).

A *factored gated autoencoder* (GAE) encodes the transformation between two frames,
not the frames: with factor matrices ``U`` (left), ``V`` (right) and mapping weights
``W``, the mapping units of the pair ``(x_{t-1}, x_t)`` are

    m_t = sigmoid(((x_{t-1} U) * (x_t V)) W + b_m)                   (1)

and the frame that the same transformation makes of ``x_t`` is

    x^_{t+1} = ((x_t U) * (m_t W^T)) V^T + b_x                        (2)

so (1) then (2) predicts the next frame under the assumption that the transformation
stays constant (a sine whose phase advances by the same angle each frame). The
*pyramid* stacks a second GAE on the mappings: it reads layer 1's mappings of
``(x_{t-2}, x_{t-1})`` and ``(x_{t-1}, x_t)`` as its two "frames", infers their
transformation ``a`` (a "transformation of transformations", an acceleration: a chirp's
changing frequency) and predicts the next mapping with (2), which layer 1 turns into
``x^_{t+1}``. Layer 2 works on layer 1's pre-activations (logits) rather than on the
sigmoid units: (2) is linear in its input, so "no change" (a sine) is then exactly
representable, which it is not between sigmoid outputs. A two-layer pyramid
needs three seed frames, read bottom-up (:func:`pgp_infer`); it then runs as a
recurrent network top-down (:func:`pgp_step`, :meth:`PredictiveGatingPyramid.rollout`):
the top layer's transformation is held constant, layer 2 advances layer 1's mapping,
layer 1 advances the frame.

Training follows the paper: each layer is pretrained on its own to reconstruct the
second of a pair from the first and the pair's mapping (:func:`pretrain_pyramid_layer`),
then the unrolled pyramid is trained end to end by backprop through time on the
multi-step prediction error (:func:`train_pgp_epoch`). The paper ties nothing: ``U`` and
``V`` are separate, because a product ``(x U) * (y U)`` is symmetric in ``x, y`` and
could not tell a phase advance from a phase retreat.

:class:`LSTMPredictor` is the baseline: an LSTM trained on next-frame prediction with
teacher forcing and rolled out on its own predictions; :func:`prediction_errors` gives
the mean squared error of every predicted sample for any of these models.

Example:
    >>> import ember
    >>> model = PredictiveGatingPyramid(frame_length=10, factors=(16, 8), mappings=(8, 4))
    >>> model.seed_frames
    3
    >>> model.rollout(ember.zeros(5, 3, 10), steps=7).shape
    (5, 7, 10)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.tensor import Tensor

__all__ = ["GateWeights", "factored_mapping_logits", "factored_mapping", "factored_prediction", "PyramidState",
           "pgp_infer", "pgp_step", "PyramidLayer", "PredictiveGatingPyramid", "LSTMPredictor",
           "pretrain_pyramid_layer", "train_pgp_epoch", "train_lstm_epoch", "repeat_last_frame",
           "prediction_errors"]


class GateWeights(NamedTuple):
    """The five tensors of one factored gated autoencoder.

    Attributes:
        left: ``U``, ``(inputs, factors)``, projects the earlier frame.
        right: ``V``, ``(inputs, factors)``, projects the later frame (and maps factors back out).
        weight: ``W``, ``(factors, mappings)``, pools factor products into mapping units.
        bias_mapping: ``b_m``, ``(mappings,)``.
        bias_output: ``b_x``, ``(inputs,)``.
    """

    left: Tensor
    right: Tensor
    weight: Tensor
    bias_mapping: Tensor
    bias_output: Tensor


def factored_mapping_logits(x_prev: Tensor, x_cur: Tensor, gate: GateWeights) -> Tensor:
    """The mapping units' pre-activations ``((x_prev U) * (x_cur V)) W + b_m`` ``(N, mappings)``."""
    return ((x_prev @ gate.left) * (x_cur @ gate.right)) @ gate.weight + gate.bias_mapping


def factored_mapping(x_prev: Tensor, x_cur: Tensor, gate: GateWeights) -> Tensor:
    """Mapping units ``sigmoid(((x_prev U) * (x_cur V)) W + b_m)`` ``(N, mappings)`` of the pair (eq. 1)."""
    return ember.sigmoid(factored_mapping_logits(x_prev, x_cur, gate))


def factored_prediction(x: Tensor, mapping: Tensor, gate: GateWeights) -> Tensor:
    """The frame ``((x U) * (m W^T)) V^T + b_x`` ``(N, inputs)`` that transformation ``m`` makes of ``x`` (eq. 2)."""
    return ((x @ gate.left) * (mapping @ gate.weight.t())) @ gate.right.t() + gate.bias_output


class PyramidState(NamedTuple):
    """What a pyramid carries from one prediction to the next.

    Attributes:
        frame: the latest frame ``x_t`` ``(N, D)``.
        logits: layer 1's mapping pre-activations ``(N, mappings_1)`` for ``(x_{t-1}, x_t)``
            (the mapping units are their sigmoid).
        change: layer 2's mapping ``a`` ``(N, mappings_2)`` of the last two logits, held
            constant; ``None`` for a one-layer pyramid (whose mapping is then the constant).
    """

    frame: Tensor
    logits: Tensor
    change: Tensor | None


def pgp_infer(frames: list[Tensor], velocity: GateWeights, acceleration: GateWeights | None = None) -> PyramidState:
    """The state of a pyramid after reading ``frames`` bottom-up: ``[x_{t-1}, x_t]`` or ``[x_{t-2}, x_{t-1}, x_t]``."""
    current = factored_mapping_logits(frames[-2], frames[-1], velocity)
    if acceleration is None:
        return PyramidState(frames[-1], current, None)
    previous = factored_mapping_logits(frames[-3], frames[-2], velocity)
    return PyramidState(frames[-1], current, factored_mapping(previous, current, acceleration))


def pgp_step(state: PyramidState, velocity: GateWeights, acceleration: GateWeights | None = None) -> PyramidState:
    """One prediction top-down: the next mapping (layer 2, if any) then the next frame (layer 1).

    The top layer's transformation is the constant: a one-layer pyramid applies its
    mapping again; a two-layer one first advances layer 1's logits with the constant
    ``state.change``, ``l_{t+1} = ((l_t U2) * (a W2^T)) V2^T + b2``, then applies
    ``sigmoid(l_{t+1})``. Nothing is re-inferred from predicted frames, so an error in a
    predicted frame's size does not feed back into the transformations.
    """
    logits = state.logits
    if acceleration is not None:
        logits = factored_prediction(logits, state.change, acceleration)
    return PyramidState(factored_prediction(state.frame, ember.sigmoid(logits), velocity), logits, state.change)


class PyramidLayer(nn.Module):
    """A factored gated autoencoder between pairs of ``in_features``-vectors (one layer of the pyramid).

    ``forward(x_prev, x_cur)`` predicts the next vector by applying the pair's
    transformation once more; :meth:`reconstruct` rebuilds ``x_cur`` from ``x_prev`` and
    the pair's mapping (the pretraining objective).

    Args:
        in_features: size of each input (samples per frame, or layer 1's mappings).
        factors: number of factors (columns of ``U`` and ``V``).
        mappings: number of mapping units.

    Example:
        >>> import ember
        >>> gae = PyramidLayer(10, 16, 8)
        >>> gae.mapping(ember.ones(4, 10), ember.ones(4, 10)).shape
        (4, 8)
    """

    def __init__(self, in_features: int, factors: int, mappings: int) -> None:
        super().__init__()
        self.in_features, self.factors, self.mappings = int(in_features), int(factors), int(mappings)
        if min(self.in_features, self.factors, self.mappings) < 1:
            raise ValueError(f"PyramidLayer: sizes must be positive, got in_features={in_features}, "
                             f"factors={factors}, mappings={mappings}")
        # Factor projections of order 1 (std 1/sqrt(in)) keep the products (xU)*(yV) of
        # order 1 too; the paper's tiny 0.01 start leaves a bilinear model with no gradient.
        scale = 1.0 / math.sqrt(self.in_features)
        self.left = nn.Parameter(ember.randn(self.in_features, self.factors) * scale)
        self.right = nn.Parameter(ember.randn(self.in_features, self.factors) * scale)
        bound = 1.0 / math.sqrt(self.factors)
        self.weight = nn.Parameter(ember.rand(self.factors, self.mappings) * (2 * bound) - bound)
        self.bias_mapping = nn.Parameter(ember.zeros(self.mappings))
        self.bias_output = nn.Parameter(ember.zeros(self.in_features))

    def gate(self) -> GateWeights:
        """The layer's weights as a :class:`GateWeights` for the functional forms."""
        return GateWeights(self.left, self.right, self.weight, self.bias_mapping, self.bias_output)

    def check(self, x: Tensor, who: str) -> None:
        """Raise ``ValueError`` naming ``who`` and the sizes unless ``x`` is ``(N, in_features)``."""
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{who}: expected inputs of shape (N, {self.in_features}), got shape {tuple(x.shape)}")

    def mapping_logits(self, x_prev: Tensor, x_cur: Tensor) -> Tensor:
        """The pre-activations ``(N, mappings)`` of the pair's mapping units (what layer 2 reads)."""
        self.check(x_prev, "PyramidLayer.mapping")
        self.check(x_cur, "PyramidLayer.mapping")
        return factored_mapping_logits(x_prev, x_cur, self.gate())

    def mapping(self, x_prev: Tensor, x_cur: Tensor) -> Tensor:
        """The mapping units ``(N, mappings)`` of the pair (eq. 1)."""
        return ember.sigmoid(self.mapping_logits(x_prev, x_cur))

    def reconstruct(self, x_prev: Tensor, x_cur: Tensor) -> Tensor:
        """``x_cur`` rebuilt from ``x_prev`` and the mapping of ``(x_prev, x_cur)``: ``(N, in_features)``."""
        return factored_prediction(x_prev, self.mapping(x_prev, x_cur), self.gate())

    def forward(self, x_prev: Tensor, x_cur: Tensor) -> Tensor:
        """The next input ``(N, in_features)``: the pair's transformation applied to ``x_cur``."""
        return factored_prediction(x_cur, self.mapping(x_prev, x_cur), self.gate())


class PredictiveGatingPyramid(nn.Module):
    """A one- or two-layer predictive gating pyramid over frames of ``frame_length`` samples.

    Layer 1 (``velocity``) maps frames to transformations; layer 2 (``acceleration``,
    when ``layers == 2``) maps pairs of layer-1 mappings to their transformation.

    Args:
        frame_length: samples per frame.
        factors: factors of layer 1 and layer 2 (the second is ignored for one layer).
        mappings: mapping units of layer 1 and layer 2.
        layers: 1 (constant velocity) or 2 (constant acceleration).

    Example:
        >>> import ember
        >>> pgp = PredictiveGatingPyramid(10, factors=(16, 8), mappings=(8, 4), layers=1)
        >>> pgp(ember.zeros(2, 6, 10)).shape
        (2, 4, 10)
    """

    def __init__(self, frame_length: int = 10, factors: tuple[int, int] = (64, 32),
                 mappings: tuple[int, int] = (32, 16), layers: int = 2) -> None:
        super().__init__()
        if layers not in (1, 2):
            raise ValueError(f"PredictiveGatingPyramid: layers must be 1 or 2, got {layers}")
        self.frame_length, self.layers = int(frame_length), int(layers)
        self.velocity = PyramidLayer(self.frame_length, factors[0], mappings[0])
        self.acceleration = PyramidLayer(mappings[0], factors[1], mappings[1]) if layers == 2 else None

    @property
    def seed_frames(self) -> int:
        """Frames the pyramid reads before it can predict: ``layers + 1``."""
        return self.layers + 1

    def _check_frames(self, frames: Tensor, who: str, at_least: int) -> None:
        if frames.ndim != 3 or frames.shape[2] != self.frame_length or frames.shape[1] < at_least:
            raise ValueError(f"PredictiveGatingPyramid.{who}: expected frames of shape (N, T, {self.frame_length}) "
                             f"with T >= {at_least} ({self.layers}-layer pyramid), got shape {tuple(frames.shape)}")

    def gates(self) -> tuple[GateWeights, GateWeights | None]:
        """Layer 1's and layer 2's weights (``None`` for one layer) for :func:`pgp_infer` / :func:`pgp_step`."""
        return self.velocity.gate(), None if self.acceleration is None else self.acceleration.gate()

    def rollout(self, seed: Tensor, steps: int) -> Tensor:
        """Predict ``steps`` frames ``(N, steps, frame_length)`` after ``seed`` ``(N, T, frame_length)``.

        The last ``seed_frames`` of the seed are read bottom-up (:func:`pgp_infer`); then
        the pyramid runs on its own, top-down (:func:`pgp_step`), as at test time.
        """
        self._check_frames(seed, "rollout", self.seed_frames)
        velocity, acceleration = self.gates()
        state = pgp_infer([seed[:, i] for i in range(seed.shape[1] - self.seed_frames, seed.shape[1])],
                          velocity, acceleration)
        predictions = []
        for _ in range(int(steps)):
            state = pgp_step(state, velocity, acceleration)
            predictions.append(state.frame)
        return ember.stack(predictions, dim=1)

    def forward(self, frames: Tensor) -> Tensor:
        """One-step predictions ``(N, T - seed_frames, frame_length)`` of frames ``seed_frames .. T-1``.

        Every prediction reads the true frames before it (no rollout).
        """
        self._check_frames(frames, "forward", self.seed_frames + 1)
        k, (velocity, acceleration) = self.seed_frames, self.gates()
        return ember.stack([pgp_step(pgp_infer([frames[:, s] for s in range(t - k, t)], velocity, acceleration),
                                     velocity, acceleration).frame for t in range(k, frames.shape[1])], dim=1)


class LSTMPredictor(nn.Module):
    """An LSTM next-frame predictor: ``x^_{t+1} = Linear(h_t)`` with ``h_t = LSTM(x_1 .. x_t)``.

    Args:
        frame_length: samples per frame (input and output size).
        hidden: LSTM units.

    Example:
        >>> import ember
        >>> lstm = LSTMPredictor(10, 8)
        >>> lstm(ember.zeros(2, 5, 10)).shape, lstm.rollout(ember.zeros(2, 3, 10), 4).shape
        ((2, 5, 10), (2, 4, 10))
    """

    def __init__(self, frame_length: int = 10, hidden: int = 32) -> None:
        super().__init__()
        self.frame_length, self.hidden = int(frame_length), int(hidden)
        self.lstm = nn.LSTM(self.frame_length, self.hidden, batch_first=True)
        self.readout = nn.Linear(self.hidden, self.frame_length)

    def _check_frames(self, frames: Tensor, who: str) -> None:
        if frames.ndim != 3 or frames.shape[2] != self.frame_length or frames.shape[1] < 1:
            raise ValueError(f"LSTMPredictor.{who}: expected frames of shape (N, T, {self.frame_length}) with T >= 1, "
                             f"got shape {tuple(frames.shape)}")

    def forward(self, frames: Tensor) -> Tensor:
        """Predictions ``(N, T, frame_length)`` of frames ``2 .. T+1``, each from the true frames before it."""
        self._check_frames(frames, "forward")
        out, _ = self.lstm(frames)
        return self.readout(out)

    def rollout(self, seed: Tensor, steps: int) -> Tensor:
        """Read ``seed`` ``(N, T, frame_length)``, then predict ``steps`` frames, each fed back as the next input."""
        self._check_frames(seed, "rollout")
        out, state = self.lstm(seed)
        nxt = self.readout(out[:, -1])
        predictions = []
        for _ in range(int(steps)):
            predictions.append(nxt)
            out, state = self.lstm(nxt.unsqueeze(1), state)
            nxt = self.readout(out[:, -1])
        return ember.stack(predictions, dim=1)


def repeat_last_frame(seed: Tensor, steps: int) -> Tensor:
    """The trivial predictor: the seed's last frame repeated ``steps`` times, ``(N, steps, D)``."""
    return seed[:, -1:].expand(seed.shape[0], int(steps), seed.shape[2])


def _zero_mask(x: Tensor, level: float, generator: ember.Generator | None) -> Tensor:
    if level <= 0.0:
        return x
    return x * (ember.rand(*x.shape, generator=generator, dtype=x.dtype) >= level).to(x.dtype)


def pretrain_pyramid_layer(gae: PyramidLayer, x_prev: Tensor, x_cur: Tensor, optimizer, epochs: int = 1,
                               batch_size: int = 100, corruption: float = 0.0,
                               generator: ember.Generator | None = None, log=None) -> list[float]:
    """Train ``gae`` to rebuild ``x_cur`` from ``x_prev`` and the mapping of the pair; returns the loss per epoch.

    ``corruption`` zeroes that fraction of the inputs to the mapping (denoising, as in
    the paper's pretraining); the target is always the clean ``x_cur``.
    """
    gae.check(x_prev, "pretrain_pyramid_layer")
    gae.check(x_cur, "pretrain_pyramid_layer")
    if x_prev.shape != x_cur.shape:
        raise ValueError(f"pretrain_pyramid_layer: pairs must match, got {tuple(x_prev.shape)} "
                         f"and {tuple(x_cur.shape)}")
    gae.train()
    n, losses = x_prev.shape[0], []
    for epoch in range(int(epochs)):
        order, total = ember.randperm(n, generator=generator), 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            a, b = x_prev[index], x_cur[index]
            mapping = factored_mapping(_zero_mask(a, corruption, generator), _zero_mask(b, corruption, generator),
                                       gae.gate())
            loss = F.mse_loss(factored_prediction(a, mapping, gae.gate()), b)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.item()) * a.shape[0]
        losses.append(total / n)
        if log is not None:
            log(f"  pretrain {type(gae).__name__} {gae.in_features}-{gae.factors}-{gae.mappings} "
                f"epoch {epoch + 1}: reconstruction MSE {losses[-1]:.5f}")
    return losses


def _epoch(model: nn.Module, frames: Tensor, optimizer, batch_size: int, generator, clip: float, loss_of) -> float:
    model.train()
    n, total = frames.shape[0], 0.0
    order = ember.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        batch = frames[order[start:start + batch_size]]
        loss = loss_of(batch)
        optimizer.zero_grad()
        loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += float(loss.item()) * batch.shape[0]
    return total / n


def train_pgp_epoch(model: PredictiveGatingPyramid, frames: Tensor, optimizer, batch_size: int = 100,
                    generator: ember.Generator | None = None, clip: float = 1.0) -> float:
    """One epoch of backprop through time on multi-step prediction; returns the mean MSE per sample.

    Each sequence ``(T, frame_length)`` seeds the pyramid with its first ``seed_frames``
    frames; the pyramid predicts the other ``T - seed_frames`` on its own output and
    the loss is their mean squared error against the truth (the paper's predictive
    training of the unrolled network). Gradients are clipped to norm ``clip``.
    """
    model._check_frames(frames, "train_pgp_epoch", model.seed_frames + 1)
    k = model.seed_frames

    def loss_of(batch: Tensor) -> Tensor:
        return F.mse_loss(model.rollout(batch[:, :k], batch.shape[1] - k), batch[:, k:])

    return _epoch(model, frames, optimizer, batch_size, generator, clip, loss_of)


def train_lstm_epoch(model: LSTMPredictor, frames: Tensor, optimizer, batch_size: int = 100,
                     generator: ember.Generator | None = None, clip: float = 1.0) -> float:
    """One epoch of next-frame prediction with teacher forcing; returns the mean MSE per sample."""
    model._check_frames(frames, "train_lstm_epoch")

    def loss_of(batch: Tensor) -> Tensor:
        return F.mse_loss(model(batch[:, :-1]), batch[:, 1:])

    return _epoch(model, frames, optimizer, batch_size, generator, clip, loss_of)


def prediction_errors(predicted: Tensor, truth: Tensor) -> np.ndarray:
    """Mean squared error of every predicted sample, averaged over signals: ``(steps * frame_length,)``.

    ``predicted`` and ``truth`` are ``(N, steps, frame_length)``; entry ``i`` is the error
    ``i + 1`` samples after the seed.

    Example:
        >>> import ember
        >>> prediction_errors(ember.zeros(2, 3, 4), ember.ones(2, 3, 4)).shape
        (12,)
    """
    if tuple(predicted.shape) != tuple(truth.shape) or predicted.ndim != 3:
        raise ValueError(f"prediction_errors: expected predicted and truth of the same shape (N, steps, frame_length), "
                         f"got {tuple(predicted.shape)} and {tuple(truth.shape)}")
    difference = (predicted.detach().numpy().astype(np.float64) - truth.detach().numpy().astype(np.float64))
    return (difference ** 2).mean(axis=0).reshape(-1)
