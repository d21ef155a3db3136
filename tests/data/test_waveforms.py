"""The seeded sine and chirp generators: determinism, the frequencies and rates they promise, framing."""
import doctest
import math

import numpy as np
import pytest

from ember.data import waveforms
from ember.data.waveforms import chirps, sine_waves, to_frames


def _zero_crossing_frequency(signal: np.ndarray) -> float:
    """Frequency (cycles/sample) from the mean spacing of sign changes: two per cycle."""
    crossings = np.nonzero(np.diff(np.signbit(signal)))[0]
    return (len(crossings) - 1) / (2.0 * (crossings[-1] - crossings[0]))


def test_same_seed_same_signals_other_seed_other_signals():
    a, b, c = chirps(8, 200, seed=3), chirps(8, 200, seed=3), chirps(8, 200, seed=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a.signals, c.signals)
    assert a.signals.dtype == np.float32 and a.signals.shape == (8, 200)


def test_sines_follow_their_formula_and_range():
    waves = sine_waves(200, 400, frequency_range=(0.02, 0.12), seed=0)
    assert np.all(waves.rate == 0)
    assert waves.frequency.min() >= 0.02 and waves.frequency.max() <= 0.12
    assert waves.phase.min() >= 0 and waves.phase.max() < 2 * math.pi
    # the draws cover the range (uniform): both ends' tenths are visited
    assert waves.frequency.min() < 0.03 and waves.frequency.max() > 0.11
    n = np.arange(400)
    expected = np.sin(waves.phase[:, None] + 2 * math.pi * waves.frequency[:, None] * n)
    np.testing.assert_allclose(waves.signals, expected, atol=1e-6)
    # and the samples really oscillate at that frequency (measured, not read back)
    measured = np.array([_zero_crossing_frequency(s) for s in waves.signals[:20]])
    np.testing.assert_allclose(measured, waves.frequency[:20], rtol=0.05)


def test_chirp_frequency_changes_at_its_rate():
    waves = chirps(30, 2000, frequency_range=(0.05, 0.06), rate_range=(1e-5, 2e-5), seed=1)
    assert waves.rate.min() >= 1e-5 and waves.rate.max() <= 2e-5
    early = np.array([_zero_crossing_frequency(s[:400]) for s in waves.signals])
    late = np.array([_zero_crossing_frequency(s[1600:]) for s in waves.signals])
    # windows centred 1600 samples apart: the frequency moved by rate * 1600
    np.testing.assert_allclose(late - early, waves.rate * 1600, rtol=0.1)
    inst = waves.instantaneous_frequency()
    np.testing.assert_allclose(inst[:, -1] - inst[:, 0], waves.rate * 1999)


def test_default_chirps_stay_in_band_and_sweep_both_ways():
    waves = chirps(500, 330, seed=0)
    inst = waves.instantaneous_frequency()
    assert inst.min() > 0 and inst.max() < 0.5
    assert waves.rate.min() < -5e-5 and waves.rate.max() > 5e-5
    assert np.abs(waves.signals).max() <= 1.0


def test_aliasing_ranges_are_refused():
    with pytest.raises(ValueError, match=r"chirps: frequencies must stay in \(0, 0.5\).*over 1000 samples"):
        chirps(2, 1000, frequency_range=(0.05, 0.1), rate_range=(-1e-4, 1e-4))
    with pytest.raises(ValueError, match=r"sine_waves: frequency_range must be .* low <= high"):
        sine_waves(2, 10, frequency_range=(0.2, 0.1))
    with pytest.raises(ValueError, match="sine_waves: need at least one signal"):
        sine_waves(0, 10)


def test_to_frames_cuts_in_order_and_refuses_remainders():
    signals = np.arange(24.0).reshape(2, 12)
    frames = to_frames(signals, 4)
    assert frames.shape == (2, 3, 4)
    np.testing.assert_array_equal(frames[1, 2], [20, 21, 22, 23])
    with pytest.raises(ValueError, match="to_frames: length 12 is not a multiple of frame_length 5"):
        to_frames(signals, 5)
    with pytest.raises(ValueError, match=r"to_frames: expected signals of shape \(n, length\), got shape \(12,\)"):
        to_frames(signals[0], 4)


def test_docstring_examples():
    failures, tried = doctest.testmod(waveforms)
    assert tried > 0 and failures == 0
