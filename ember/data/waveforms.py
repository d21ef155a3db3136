"""Seeded synthetic waveforms for sequence prediction: sines of random frequency and linear chirps.

These are the data of Michalski, Memisevic & Konda (2014), "Modeling deep temporal
dependencies with recurrent grammar cells": a model sees the first frames of a signal
and must continue it. Every signal is a unit-amplitude cosine of an instantaneous phase

* sine:  ``x[n] = sin(phase + 2 pi f n)``, ``f`` (cycles per sample) uniform in ``frequency_range``;
* chirp: ``x[n] = sin(phase + 2 pi (f0 n + rate n^2 / 2))``, so that the instantaneous
  frequency ``f0 + rate n`` changes linearly; ``f0`` uniform in ``frequency_range``,
  ``rate`` (cycles per sample per sample) uniform in ``rate_range``;

for samples ``n = 0 .. length - 1``, with ``phase`` uniform in ``[0, 2 pi)``. A sine is a
chirp of rate 0: one step of a sine is a constant rotation of the signal's phase (a
"velocity"), a step of a chirp changes that rotation by a constant amount (an
"acceleration"). All draws come from ``numpy.random.default_rng(seed)``, in the order
frequency, rate, phase, so the same arguments always give the same signals.
:func:`to_frames` cuts signals into non-overlapping frames (10 samples in the paper),
the units a frame-to-frame model predicts.

Only NumPy is used (the data layer does not import Ember's core).

Example:
    >>> batch = chirps(4, 160, frequency_range=(0.05, 0.1), rate_range=(-1e-4, 1e-4), seed=0)
    >>> batch.signals.shape, batch.signals.dtype, to_frames(batch.signals, 10).shape
    ((4, 160), dtype('float32'), (4, 16, 10))
    >>> bool(abs(batch.instantaneous_frequency()).max() < 0.5)
    True
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Waveforms", "sine_waves", "chirps", "to_frames"]

_NYQUIST = 0.5  # cycles per sample: above it a sampled sinusoid aliases to a lower frequency


class Waveforms(NamedTuple):
    """Signals and the parameters that made them (one row per signal).

    Attributes:
        signals: ``(n, length)`` float32 samples in ``[-1, 1]``.
        frequency: ``(n,)`` start frequency ``f0`` in cycles per sample.
        rate: ``(n,)`` frequency change per sample (0 for sines).
        phase: ``(n,)`` start phase in radians, in ``[0, 2 pi)``.
    """

    signals: np.ndarray
    frequency: np.ndarray
    rate: np.ndarray
    phase: np.ndarray

    def instantaneous_frequency(self) -> np.ndarray:
        """``(n, length)`` instantaneous frequency ``f0 + rate * n`` of every sample, in cycles per sample."""
        steps = np.arange(self.signals.shape[1], dtype=np.float64)
        return self.frequency[:, None] + self.rate[:, None] * steps[None, :]


def _check_range(name: str, who: str, bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(b) for b in bounds)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"{who}: {name} must be a finite (low, high) with low <= high, got {bounds!r}")
    return low, high


def _check_count(who: str, n: int, length: int) -> None:
    if int(n) < 1 or int(length) < 1:
        raise ValueError(f"{who}: need at least one signal of at least one sample, got n={n}, length={length}")


def _synthesize(who: str, n: int, length: int, frequency_range: tuple[float, float],
                rate_range: tuple[float, float], seed: int) -> Waveforms:
    _check_count(who, n, length)
    f_low, f_high = _check_range("frequency_range", who, frequency_range)
    r_low, r_high = _check_range("rate_range", who, rate_range)
    # The whole band a signal can sweep must stay in (0, Nyquist), else samples alias and
    # the "constant transformation" the models are meant to find would not exist.
    last = length - 1
    lowest = f_low + min(r_low * last, 0.0)
    highest = f_high + max(r_high * last, 0.0)
    if lowest <= 0.0 or highest >= _NYQUIST:
        raise ValueError(f"{who}: frequencies must stay in (0, {_NYQUIST}) cycles per sample over {length} samples; "
                         f"frequency_range={frequency_range!r} with rate_range={rate_range!r} reaches "
                         f"[{lowest:g}, {highest:g}]")
    rng = np.random.default_rng(seed)
    frequency = rng.uniform(f_low, f_high, size=n)
    rate = rng.uniform(r_low, r_high, size=n)  # drawn for sines too (all 0), so the phases match
    phase = rng.uniform(0.0, 2.0 * math.pi, size=n)
    steps = np.arange(length, dtype=np.float64)[None, :]
    angle = phase[:, None] + 2.0 * math.pi * (frequency[:, None] * steps + 0.5 * rate[:, None] * steps * steps)
    return Waveforms(np.sin(angle).astype(np.float32), frequency, rate, phase)


def sine_waves(n: int, length: int, frequency_range: tuple[float, float] = (0.01, 0.15),
               seed: int = 0) -> Waveforms:
    """``n`` sines of ``length`` samples, frequency uniform in ``frequency_range`` (cycles/sample), random phase.

    The default band, 0.01 to 0.15 cycles per sample (periods of 100 down to ~7 samples),
    is that of the paper's sine experiment (1 to 30 cycles in 160 samples).

    Example:
        >>> waves = sine_waves(3, 50, seed=1)
        >>> waves.signals.shape, bool((waves.rate == 0).all())
        ((3, 50), True)
    """
    return _synthesize("sine_waves", n, length, frequency_range, (0.0, 0.0), seed)


def chirps(n: int, length: int, frequency_range: tuple[float, float] = (0.04, 0.1),
           rate_range: tuple[float, float] = (-1e-4, 1e-4), seed: int = 0) -> Waveforms:
    """``n`` linear chirps of ``length`` samples: start frequency in ``frequency_range``, rate in ``rate_range``.

    The frequency changes by ``rate`` cycles per sample every sample; the defaults let a
    chirp of 330 samples sweep at most 0.033 cycles per sample up or down, so it stays in
    ``(0.007, 0.133)``. Raises ``ValueError`` if some signal could leave ``(0, 0.5)``.

    Example:
        >>> waves = chirps(2, 100, seed=0)
        >>> waves.signals.shape, bool((abs(waves.rate) <= 1e-4).all())
        ((2, 100), True)
    """
    return _synthesize("chirps", n, length, frequency_range, rate_range, seed)


def to_frames(signals: np.ndarray, frame_length: int) -> np.ndarray:
    """Cut ``(n, length)`` signals into ``(n, length // frame_length, frame_length)`` consecutive frames.

    ``length`` must be a multiple of ``frame_length`` (no sample is silently dropped).

    Example:
        >>> to_frames(np.arange(6.0).reshape(1, 6), 3).tolist()
        [[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]]
    """
    signals = np.asarray(signals)
    if signals.ndim != 2:
        raise ValueError(f"to_frames: expected signals of shape (n, length), got shape {signals.shape}")
    n, length = signals.shape
    if int(frame_length) < 1 or length % int(frame_length):
        raise ValueError(f"to_frames: length {length} is not a multiple of frame_length {frame_length}")
    return signals.reshape(n, length // int(frame_length), int(frame_length))
