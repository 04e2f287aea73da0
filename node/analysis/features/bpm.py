"""Tempo (BPM) with a confidence.

Theory of operation
-------------------
Onset strength: on the shared 11 025 Hz mono signal, Hann frames of 1024
with a hop of 128 (86 frames/s); log-compressed magnitudes; the positive
spectral flux summed over bins below 200 Hz (kick, bass: where the beat
lives) and over all bins up to 2.7 kHz, each scaled to unit mean and added.  Only the envelope (one float per frame)
is kept, so memory is tiny even for long tracks.

Tempo: the envelope, minus its moving average, is autocorrelated (FFT).
Each candidate beat period T (60..200 BPM, on a fine grid, fractional lags by
interpolation) is scored by a comb: the mean autocorrelation at T, 2T, 3T,
4T minus the mean at the half-way points (T/2, 3T/2, ...).  The penalty is
what settles octave errors: at twice the true period the half-way points
are real beats (strong, so it is penalised); at half the period the comb
lands on off-beat subdivisions, which are weaker than beats.  A mild
log-normal preference for 120 BPM breaks near-ties.  The winner is refined
with the comb extended to 8 periods and a parabolic fit.

Confidence: the winning comb score over the autocorrelation at lag 0,
clipped to 0..1 (how much of the envelope's energy is periodic at T).
"""

from __future__ import annotations

import numpy as np

from ..versions import FEATURE_VERSIONS
from ._frontend import ANALYSIS_RATE, Framer, MonoResampler

VERSION = FEATURE_VERSIONS["bpm"]
SOURCE = "mono11k"

FRAME, HOP = 1024, 128
FPS = ANALYSIS_RATE / HOP
MIN_BPM, MAX_BPM = 60.0, 200.0
SUBDIVIDE = 0.6  # a pulse at T/2 or T/3 this strong (relative to T) is the beat
_WINDOW = np.hanning(FRAME).astype(np.float32)
_LOW_BINS = int(200 * FRAME / ANALYSIS_RATE)  # below ~200 Hz


class Bpm:
    NAME = "bpm"
    VERSION = VERSION
    SOURCE = SOURCE

    def __init__(self, sample_rate: int = ANALYSIS_RATE, channels: int = 1):
        self._front = None if (sample_rate, channels) == (ANALYSIS_RATE, 1) else MonoResampler(sample_rate, channels)
        self._framer = Framer(FRAME, HOP)
        self._last = None
        self._env: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        mono = self._front.feed(block) if self._front else np.asarray(block, np.float32).reshape(-1)
        self._frames(self._framer.feed(mono))

    def _frames(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        mag = np.abs(np.fft.rfft(frames.astype(np.float64) * _WINDOW, axis=1)[:, 1:257])  # up to ~2.7 kHz
        logm = np.log1p(1000.0 * mag)
        prev = logm[:1] if self._last is None else self._last[None, :]
        flux = np.maximum(np.diff(np.concatenate([prev, logm]), axis=0), 0.0)
        self._env.append(np.stack([flux[:, :_LOW_BINS].sum(axis=1), flux.sum(axis=1)], axis=1))
        self._last = logm[-1]

    def result(self) -> dict:
        if self._front is not None:
            self._frames(self._framer.feed(self._front.flush()))
        if not self._env:
            return estimate(np.zeros(0))
        bands = np.concatenate(self._env)
        # low band (kick, bass) and full band, each scaled to unit mean, then summed
        env = (bands / np.maximum(bands.mean(axis=0), 1e-12)).sum(axis=1)
        return estimate(env)


def _autocorr(env: np.ndarray) -> np.ndarray:
    width = int(FPS)  # 1 s moving average removes the slow trend
    trend = np.convolve(env, np.ones(width) / width, mode="same")
    x = env - trend
    n = 1 << int(np.ceil(np.log2(2 * len(x))))
    spec = np.fft.rfft(x, n)
    ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n)[: len(x)]
    return ac / np.maximum(len(x) - np.arange(len(x)), 1)  # unbiased


def _comb(ac: np.ndarray, periods: np.ndarray, multiples: int) -> np.ndarray:
    k = np.arange(1, multiples + 1)
    return np.interp(periods[:, None] * k, np.arange(len(ac)), ac).mean(axis=1)


def estimate(env: np.ndarray) -> dict:
    """Tempo from an onset envelope sampled at FPS."""
    min_period = 60.0 * FPS / MAX_BPM
    max_period = 60.0 * FPS / MIN_BPM
    if len(env) < 4 * max_period or not np.any(env):
        return {"bpm": None, "confidence": 0.0}
    ac = np.maximum(_autocorr(env), 0.0)
    if ac[0] <= 0:
        return {"bpm": None, "confidence": 0.0}
    multiples = max(1, min(4, int((len(ac) - 1) / max_period)))
    periods = np.arange(min_period, max_period, 0.05)
    bpm = 60.0 * FPS / periods
    prior = np.exp(-0.5 * (np.log2(bpm / 120.0) / 2.0) ** 2)
    score = _comb(ac, periods, multiples) * prior
    period = float(periods[int(np.argmax(score))])
    # metrical level: step down to a faster pulse while it is nearly as strong
    lag = lambda p: float(np.interp(p, np.arange(len(ac)), ac))
    while True:
        for div in (2, 3):
            sub = _peak_near(ac, period / div)
            if sub >= min_period and lag(sub) >= SUBDIVIDE * lag(period):
                period = sub
                break
        else:
            break
    period = _refine(ac, period)
    confidence = float(np.clip(_comb(ac, np.array([period]), multiples)[0] / ac[0], 0.0, 1.0))
    return {"bpm": round(60.0 * FPS / period, 2), "confidence": round(confidence, 3)}


def _peak_near(ac: np.ndarray, period: float) -> float:
    lo, hi = int(period * 0.95), int(np.ceil(period * 1.05)) + 1
    if hi >= len(ac):
        return period
    return float(lo + np.argmax(ac[lo:hi]))


def _refine(ac: np.ndarray, period: float) -> float:
    multiples = max(1, min(8, int((len(ac) - 1) / (period * 1.05))))
    grid = np.linspace(period * 0.97, period * 1.03, 121)
    score = _comb(ac, grid, multiples)
    i = int(np.argmax(score))
    if 0 < i < len(grid) - 1:
        y0, y1, y2 = score[i - 1], score[i], score[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            return float(grid[i] + 0.5 * (y0 - y2) / den * (grid[1] - grid[0]))
    return float(grid[i])
