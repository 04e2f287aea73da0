"""The sonic vector: a compact description of how a track sounds, for similarity search.

Theory of operation
-------------------
The vector has 44 float32 numbers in four groups (``LAYOUT`` names each):

- **timbre** (24): on the shared 11 025 Hz mono signal, Hann frames of 1024
  with a hop of 512 (21.5 frames/s), power spectrum, 24 triangular mel bands
  from 60 Hz to 5 kHz, log, orthonormal DCT: MFCC 1..12, their mean and
  standard deviation over the frames louder than -90 dBFS. MFCC 0 (the level)
  is left out here: loudness is its own group. 5 kHz is below what MP3 and
  Opus cut, so encodings of one recording agree.
- **rhythm** (4): tempo as log2(BPM / 120) and the tempo confidence, both from
  :mod:`.bpm` (not recomputed); onset strength from the same frames as the
  timbre: the mean positive log-mel flux and its coefficient of variation
  (how much the onsets stand out of the texture).
- **tonality** (13): the 12-bin chroma profile of :mod:`.key` (sums to 1) and
  the mode times the key confidence (+ major, - minor).
- **loudness** (3): integrated loudness (LUFS), loudness range (LU) and the
  peak-to-loudness ratio (true peak dBTP - LUFS) from :mod:`.loudness`.

The vector is stored raw; :mod:`..similarity` standardises each dimension
over the library at query time and weighs the groups so that none dominates.
The feature needs the results of ``bpm``, ``key`` and ``loudness``
(``USES``): the engine computes them from the same decode and hands them to
``result``.
"""

from __future__ import annotations

import numpy as np

from ..versions import FEATURE_VERSIONS
from ._frontend import ANALYSIS_RATE, Framer, MonoResampler

VERSION = FEATURE_VERSIONS["sonic"]
SOURCE = "mono11k"
USES = ("bpm", "key", "loudness")

FRAME, HOP = 1024, 512
BANDS, COEFFS = 24, 12
_FMIN, _FMAX = 60.0, 5000.0
_SILENT = 1e-9  # mean power per bin of a frame below about -90 dBFS: not counted

GROUPS: dict[str, int] = {"timbre": 2 * COEFFS, "rhythm": 4, "tonality": 13, "loudness": 3}
LAYOUT: tuple[tuple[str, str], ...] = (
    *(("timbre", f"mfcc{i}_mean") for i in range(1, COEFFS + 1)),
    *(("timbre", f"mfcc{i}_std") for i in range(1, COEFFS + 1)),
    ("rhythm", "log2_tempo_over_120"), ("rhythm", "tempo_confidence"),
    ("rhythm", "onset_strength"), ("rhythm", "onset_variation"),
    *(("tonality", f"chroma_{n}") for n in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")),
    ("tonality", "mode"),
    ("loudness", "integrated_lufs"), ("loudness", "loudness_range_lu"), ("loudness", "peak_to_loudness_db"),
)
DIMS = len(LAYOUT)
assert DIMS == sum(GROUPS.values())


def _mel_matrix() -> np.ndarray:
    """(bins, BANDS) triangular mel filters over the rfft bins of FRAME at ANALYSIS_RATE."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(_FMIN), mel(_FMAX), BANDS + 2))
    freqs = np.arange(FRAME // 2 + 1) * ANALYSIS_RATE / FRAME
    out = np.zeros((len(freqs), BANDS))
    for b in range(BANDS):
        lo, mid, hi = edges[b:b + 3]
        out[:, b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)
    return out / np.maximum(out.sum(axis=0), 1e-12)


def _dct_matrix() -> np.ndarray:
    """(BANDS, COEFFS) orthonormal DCT-II rows 1..COEFFS (row 0, the level, left out)."""
    n = np.arange(BANDS)
    k = np.arange(1, COEFFS + 1)
    return np.sqrt(2.0 / BANDS) * np.cos(np.pi * (n[:, None] + 0.5) * k[None, :] / BANDS)


_MEL = _mel_matrix()
_DCT = _dct_matrix()
_WINDOW = np.hanning(FRAME)


class Sonic:
    NAME = "sonic"
    VERSION = VERSION
    SOURCE = SOURCE
    USES = USES

    def __init__(self, sample_rate: int = ANALYSIS_RATE, channels: int = 1):
        self._front = None if (sample_rate, channels) == (ANALYSIS_RATE, 1) else MonoResampler(sample_rate, channels)
        self._framer = Framer(FRAME, HOP)
        self._n = 0
        self._sum = np.zeros(COEFFS)
        self._sq = np.zeros(COEFFS)
        self._flux: list[np.ndarray] = []
        self._last: np.ndarray | None = None

    def feed(self, block: np.ndarray) -> None:
        mono = self._front.feed(block) if self._front else np.asarray(block, np.float32).reshape(-1)
        self._frames(self._framer.feed(mono))

    def _frames(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        power = np.abs(np.fft.rfft(frames.astype(np.float64) * _WINDOW, axis=1)) ** 2 / FRAME
        loud = power.mean(axis=1) > _SILENT
        logmel = np.log10(power @ _MEL + 1e-12)
        mfcc = logmel[loud] @ _DCT
        self._n += len(mfcc)
        self._sum += mfcc.sum(axis=0)
        self._sq += (mfcc ** 2).sum(axis=0)
        prev = logmel[:1] if self._last is None else self._last[None, :]
        self._flux.append(np.maximum(np.diff(np.concatenate([prev, logmel]), axis=0), 0.0).mean(axis=1)[loud])
        self._last = logmel[-1]

    def result(self, uses: dict[str, dict] | None = None) -> dict:
        """``{"vector": [DIMS floats] | None, "dims": DIMS}``; ``uses`` holds the bpm, key and loudness results."""
        if self._front is not None:
            self._frames(self._framer.feed(self._front.flush()))
        uses = uses or {}
        if self._n < 2:
            return {"vector": None, "dims": DIMS}
        mean = self._sum / self._n
        std = np.sqrt(np.maximum(self._sq / self._n - mean ** 2, 0.0))
        vector = np.concatenate([mean, std, _rhythm(uses.get("bpm") or {}, np.concatenate(self._flux)),
                                 _tonality(uses.get("key") or {}), _loudness(uses.get("loudness") or {})])
        return {"vector": [round(float(v), 5) for v in vector.astype(np.float32)], "dims": DIMS}


def _rhythm(bpm: dict, flux: np.ndarray) -> np.ndarray:
    tempo = bpm.get("bpm")
    strength = float(flux.mean()) if len(flux) else 0.0
    variation = float(flux.std() / strength) if strength > 0 else 0.0
    return np.array([np.log2(tempo / 120.0) if tempo else 0.0, float(bpm.get("confidence") or 0.0),
                     strength, variation])


def _tonality(key: dict) -> np.ndarray:
    profile = key.get("profile") or [1.0 / 12] * 12
    sign = {"major": 1.0, "minor": -1.0}.get(key.get("mode") or "", 0.0)
    return np.array([*profile, sign * float(key.get("confidence") or 0.0)])


def _loudness(loud: dict) -> np.ndarray:
    lufs = loud.get("integrated_lufs")
    lufs = -70.0 if lufs is None else float(lufs)
    peak = loud.get("true_peak_dbtp")
    return np.array([lufs, float(loud.get("loudness_range_lu") or 0.0),
                     (float(peak) - lufs) if peak is not None else 0.0])
