"""Pieces in known sonic families, for the similarity test and bench/similarity.py.

A family fixes an instrument colour (a filter or a saturation applied to a
:func:`.music.render` piece), a tempo, a key and a loudness; pieces of one
family differ by ``seed`` (progression, melody, voicing). Pieces of different
families differ in all four, as styles do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .music import render


@dataclass(frozen=True)
class Family:
    name: str
    colour: str  # "plain", "dark", "bright", "driven"
    bpm: float
    tonic: int
    mode: str
    gain_db: float


FAMILIES = (
    Family("plain-90-C", "plain", 90, 0, "major", -3),
    Family("dark-128-Am", "dark", 128, 9, "minor", -14),
    Family("bright-100-F#", "bright", 100, 6, "major", -8),
    Family("driven-150-Ebm", "driven", 150, 3, "minor", 0),
    Family("dark-75-E", "dark", 75, 4, "major", -6),
    Family("bright-140-Bbm", "bright", 140, 10, "minor", -16),
)


def _colour(x: np.ndarray, colour: str, sr: int) -> np.ndarray:
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(len(x), 1 / sr)[:, None]
    if colour == "dark":  # a muffled instrument: 12 dB/octave above 500 Hz
        spec = spec / (1 + (f / 500.0) ** 2)
    elif colour == "bright":  # a thin, bright one: 6 dB/octave boost above 1 kHz, bass cut
        spec = spec * np.sqrt(1 + (f / 1000.0) ** 2) / (1 + (150.0 / np.maximum(f, 1.0)) ** 2)
    out = np.fft.irfft(spec, len(x), axis=0)
    if colour == "driven":  # an overdriven one
        out = np.tanh(4.0 * out / max(np.abs(out).max(), 1e-9))
    return out


def render_piece(family: Family, seconds: float, seed: int, sr: int = 44100) -> np.ndarray:
    """Stereo float32 (frames, 2) of one piece of ``family``."""
    x = render(family.tonic, family.mode, family.bpm, seconds, seed=seed, sr=sr).astype(np.float64)
    x = _colour(x, family.colour, sr)
    x *= 10 ** (family.gain_db / 20) / max(np.abs(x).max(), 1e-9)
    return x.astype(np.float32)
