"""Musical key: tonic, mode, Camelot code and a confidence.

Theory of operation
-------------------
On the shared 11 025 Hz mono signal: Hann frames of 4096 (2.7 Hz bins), hop
2048.  Each bin between 55 Hz and 2 kHz adds its magnitude to the pitch
class of the nearest equal-tempered semitone (A4 = 440 Hz), weighted by how
close it lies to that semitone's centre, so bins between semitones count
little.  Each frame's chroma is normalised (a loud chorus must not outvote
the rest of the song) and frames are summed into one 12-bin profile for the
track.

The profile is correlated with the 24 rotations of Temperley's
(Kostka-Payne) major and minor key profiles; the best is the key.  Confidence is the margin
of the best correlation over the runner-up, scaled to 0..1 (0: a toss-up,
1: unambiguous).
"""

from __future__ import annotations

import numpy as np

from ..versions import FEATURE_VERSIONS
from ._frontend import ANALYSIS_RATE, Framer, MonoResampler

VERSION = FEATURE_VERSIONS["key"]
SOURCE = "mono11k"

FRAME, HOP = 4096, 2048
_FMIN, _FMAX = 55.0, 2000.0
NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Temperley's Kostka-Payne key profiles (2007), tonic first.  Krumhansl-Kessler
# confused relative and dominant keys on a third of our generated test pieces.
_MAJOR = np.array([0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400])
_MINOR = np.array([0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330])


def _pitch_matrix() -> tuple[int, int, np.ndarray]:
    lo = int(np.ceil(_FMIN * FRAME / ANALYSIS_RATE))
    hi = int(np.floor(_FMAX * FRAME / ANALYSIS_RATE)) + 1
    freqs = np.arange(lo, hi) * ANALYSIS_RATE / FRAME
    midi = 69 + 12 * np.log2(freqs / 440.0)
    nearest = np.round(midi)
    weight = np.clip(1.0 - 2.0 * np.abs(midi - nearest), 0.0, 1.0) ** 2
    matrix = np.zeros((hi - lo, 12))
    matrix[np.arange(hi - lo), nearest.astype(int) % 12] = weight
    return lo, hi, matrix


_LO, _HI, _PITCH = _pitch_matrix()
_WINDOW = np.hanning(FRAME)


def camelot(tonic: int, mode: str) -> str:
    """Camelot wheel code: C major = 8B, A minor = 8A."""
    major_tonic = tonic if mode == "major" else (tonic + 3) % 12
    number = (7 * major_tonic + 8) % 12 or 12
    return f"{number}{'B' if mode == 'major' else 'A'}"


def estimate(profile: np.ndarray) -> dict:
    """Key from a 12-bin pitch-class profile (C first)."""
    scores = []
    for mode, template in (("major", _MAJOR), ("minor", _MINOR)):
        for tonic in range(12):
            scores.append((float(np.corrcoef(profile, np.roll(template, tonic))[0, 1]), tonic, mode))
    scores.sort(reverse=True)
    (best, tonic, mode), runner = scores[0], scores[1][0]
    if not np.isfinite(best):
        return {"tonic": None, "mode": None, "key": None, "camelot": None, "confidence": 0.0}
    confidence = float(np.clip((best - runner) / max(best, 1e-9) * 5.0, 0.0, 1.0))
    return {"tonic": NAMES[tonic], "mode": mode, "key": f"{NAMES[tonic]} {mode}",
            "camelot": camelot(tonic, mode), "confidence": round(confidence, 3),
            "correlation": round(best, 4)}


class Key:
    NAME = "key"
    VERSION = VERSION
    SOURCE = SOURCE

    def __init__(self, sample_rate: int = ANALYSIS_RATE, channels: int = 1):
        self._front = None if (sample_rate, channels) == (ANALYSIS_RATE, 1) else MonoResampler(sample_rate, channels)
        self._framer = Framer(FRAME, HOP)
        self._profile = np.zeros(12)

    def feed(self, block: np.ndarray) -> None:
        mono = self._front.feed(block) if self._front else np.asarray(block, np.float32).reshape(-1)
        self._frames(self._framer.feed(mono))

    def _frames(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        mag = np.abs(np.fft.rfft(frames.astype(np.float64) * _WINDOW, axis=1)[:, _LO:_HI])
        chroma = mag @ _PITCH
        norm = chroma.sum(axis=1, keepdims=True)
        loud = norm[:, 0] > 1e-3 * max(float(norm.max()), 1e-12)
        self._profile += (chroma[loud] / norm[loud]).sum(axis=0)

    def result(self) -> dict:
        if self._front is not None:
            self._frames(self._framer.feed(self._front.flush()))
        if not self._profile.any():
            return {"tonic": None, "mode": None, "key": None, "camelot": None, "confidence": 0.0}
        out = estimate(self._profile)
        out["profile"] = [round(float(v), 4) for v in self._profile / self._profile.sum()]
        return out
