"""Tempo (BPM) with a confidence.

Theory of operation
-------------------
Onset strength: on the shared 11 025 Hz mono signal, Hann frames of 1024
with a hop of 128 (86 frames/s); log-compressed magnitudes; the positive
spectral flux summed over bins below 200 Hz (kick, bass: where the beat
lives) and over all bins up to 2.7 kHz, each scaled to unit mean and added.
Accents (below) are three more floats per frame.  Only these envelopes are
kept, so memory is tiny even for long tracks.

Tempo: the onset envelope, minus its moving average, is autocorrelated
(FFT).  Each candidate beat period T (60..200 BPM, on a fine grid, fractional
lags by interpolation) is scored by a comb: the mean autocorrelation at T,
2T, 3T, 4T; a broad log-normal preference for 120 BPM breaks near-ties.  The
winner T0 is a periodicity of the music, but not necessarily its beat: the
same comb peaks at the eighth notes, the beat and the half bar.

Perceived tempo (which metrical level is the beat): the candidates are T0
and its relatives T0/3, T0/2, 2 T0, 3 T0 inside 60..200 BPM, each moved to
its nearest autocorrelation peak.  They are judged on a second envelope,
the *accents*: positive flux of linear magnitudes, so that a kick or a snare
weighs far more than a hi-hat tick or a soft bass note (the onset envelope
is log-compressed and counts every attack alike, which is right for finding
periodicities and wrong for telling beats from subdivisions).  Going from
the fastest candidate to the slowest, a level L is a *subdivision* (not the
beat) when, for a grouping m of 2 or 3,

- its pulses are uneven: the accent autocorrelation at L is below ``EVEN``
  times the one at m L (strong events every m-th pulse, weak ones between:
  eighth-note hats and bass between kick and snare); or
- it is fast (``LOW_RULE_BPM`` and up) and the bass is elsewhere: the low
  band (kick, bass) has a pattern (repeating every 1, 2 or 4 groups of m)
  but is nearly silent on the in-between pulses (``LOW_EVEN``), as with a
  ska skank on every off-beat, however loud, or sixteenth-note funk hats.
  Slower than that, the same picture is a kick-snare backbeat, whose beat
  is L.

The beat is the fastest candidate that is not a subdivision (else the
slowest).  This resolves the usual octave errors of an autocorrelation peak
picker: strong off-beats read as beats (twice the tempo) and kick-snare
patterns read as half bars (half the tempo).  Where listeners themselves
disagree it may take either octave: half-time grooves and backbeats from
150 BPM at half, slow grooves whose every eighth is as loud as the beat
(reggae skank or funk sixteenths at 72 BPM and below, a son montuno) at
double.  Known miss: a 60 BPM rock or four-on-the-floor groove with busy
eighths can read as 120 (tests/analysis/grooves.py: 157 of 160 pieces
heard right, against 131 by the autocorrelation peak alone, which doubled
42).  The winner is refined with the comb extended to 8 periods and a
parabolic fit.

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
EVEN = 0.4  # pulses at least this alike (accent autocorrelation ratio) are beats, not subdivisions
LOW_EVEN, LOW_PERIODIC = 0.2, 0.4  # bass silent between pulses, yet with a pattern: a subdivision
LOW_RULE_BPM = 150.0  # ...when those pulses are this fast (slower, it is a kick-snare backbeat)
_WINDOW = np.hanning(FRAME).astype(np.float32)
_LOW_BINS = int(200 * FRAME / ANALYSIS_RATE)  # below ~200 Hz
_MID_BINS = 256  # up to ~2.7 kHz


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
        """Per frame: log flux (low, up to 2.7 kHz) and linear flux (low, mid, high)."""
        if not len(frames):
            return
        mag = np.abs(np.fft.rfft(frames.astype(np.float64) * _WINDOW, axis=1)[:, 1:])
        logm = np.log1p(1000.0 * mag[:, :_MID_BINS])
        last = (mag[0], logm[0]) if self._last is None else self._last
        flux = _rise(logm, last[1])
        accent = _rise(mag, last[0])
        self._env.append(np.stack([
            flux[:, :_LOW_BINS].sum(axis=1), flux.sum(axis=1),
            accent[:, :_LOW_BINS].sum(axis=1), accent[:, _LOW_BINS:_MID_BINS].sum(axis=1),
            accent[:, _MID_BINS:].sum(axis=1)], axis=1).astype(np.float32))
        self._last = (mag[-1], logm[-1])

    def result(self) -> dict:
        if self._front is not None:
            self._frames(self._framer.feed(self._front.flush()))
        if not self._env:
            return estimate(np.zeros(0))
        bands = np.concatenate(self._env)
        unit = bands / np.maximum(bands.mean(axis=0), 1e-12)
        # onsets: low band (kick, bass) and full band, each scaled to unit mean, then summed;
        # accents: the low band counts twice (kick and bass anchor the beat)
        return estimate(unit[:, 0] + unit[:, 1], unit[:, 2:] * (2.0, 1.0, 1.0))


def _rise(x: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Positive frame-to-frame increase of each bin (``before``: the frame preceding x[0])."""
    out = np.empty_like(x)
    np.subtract(x[1:], x[:-1], out=out[1:])
    np.subtract(x[0], before, out=out[0])
    return np.maximum(out, 0.0, out=out)


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


def estimate(env: np.ndarray, accents: np.ndarray | None = None) -> dict:
    """Tempo from an onset envelope sampled at FPS; ``accents`` (frames, bands:
    low first) chooses the metrical level, else the comb's winner stands."""
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
    period = float(periods[int(np.argmax(_comb(ac, periods, multiples) * prior))])
    if accents is not None and len(accents) == len(env):
        period = _beat_level(ac, accents, period, min_period, max_period)
    period = _refine(ac, period)
    confidence = float(np.clip(_comb(ac, np.array([period]), multiples)[0] / ac[0], 0.0, 1.0))
    return {"bpm": round(60.0 * FPS / period, 2), "confidence": round(confidence, 3)}


def _beat_level(ac: np.ndarray, accents: np.ndarray, period: float, lo: float, hi: float) -> float:
    """The metrical level listeners tap, among ``period``'s relatives (module docstring)."""
    every = _normalised(_autocorr(accents.sum(axis=1)))
    low = _normalised(_autocorr(accents[:, 0]))
    levels = sorted({_peak_near(ac, period * f) for f in (1 / 3, 1 / 2, 1, 2, 3) if lo * 0.98 <= period * f <= hi * 1.02})
    for level in levels:  # fastest first
        if not _subdivision(every, low, level):
            return level
    return levels[-1]


def _subdivision(every: np.ndarray, low: np.ndarray, level: float) -> bool:
    fast = 60.0 * FPS / level >= LOW_RULE_BPM
    for m in (2, 3):
        if _ratio(every, level, m) < EVEN:
            return True  # strong, weak(, weak), strong: the beat is m times slower
        if fast and _ratio(low, level, m) < LOW_EVEN and _bass_repeats(low, m * level):
            return True  # the bass lands on every m-th pulse at most
    return False


def _bass_repeats(low: np.ndarray, group: float) -> bool:
    """The low band has a pattern repeating every 1, 2 or 4 groups (a beat,
    a half bar, a bar): there is a bass line or a kick to go by."""
    return max(_peak(low, k * group) for k in (1, 2, 4)) >= LOW_PERIODIC


def _normalised(ac: np.ndarray) -> np.ndarray:
    return np.maximum(ac / ac[0], 0.0) if ac[0] > 0 else np.zeros_like(ac)


def _peak(ac: np.ndarray, period: float) -> float:
    """The autocorrelation's highest value within 3 % of ``period`` (timing wobbles)."""
    lo, hi = int(period * 0.97), min(int(np.ceil(period * 1.03)) + 1, len(ac))
    return float(ac[lo:hi].max()) if lo < hi else 0.0


def _ratio(ac: np.ndarray, level: float, m: int) -> float:
    """How alike the pulses at ``level`` are within groups of m: 1 all alike, 0 one per group."""
    return min(1.0, _peak(ac, level) / max(_peak(ac, m * level), 1e-6))


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
