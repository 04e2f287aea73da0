"""Chromaprint-compatible acoustic fingerprint, similarity and a candidate index.

Theory of operation
-------------------
This is a numpy re-implementation of Chromaprint's default algorithm
(``CHROMAPRINT_ALGORITHM_TEST2``, what ``fpcalc`` and AcoustID use), written
from its published description and parameters:

1. mono, 11 025 Hz (our shared front end: libswresample instead of
   Chromaprint's own av_resample -- the one known source of difference);
2. frames of 4096 samples, hop 1365 (overlap 4096 - 4096/3), Hamming window,
   power spectrum;
3. 12-band chroma over bins 28..3520 Hz (each bin adds its energy to the
   pitch class floor(12 * frac(log2(f / 27.5))), no interpolation);
4. a 5-tap FIR over time (0.25, 0.75, 1, 0.75, 0.25), then each vector is
   divided by its Euclidean norm (zeroed when the norm is below 0.01);
5. an integral image over (time, chroma) and the 16 published TEST2
   classifiers (Haar-like filter, ``log((1+a)/(1+b))``, 3-threshold
   quantiser, Gray code) giving 2 bits each: one 32-bit subfingerprint per
   frame, ~8 per second.

Like ``fpcalc`` the default covers the first 120 s.  The output is the raw
integer list (``fpcalc -raw``) plus the compressed base64 string
(``fpcalc``), which can be submitted to AcoustID.  How close it is to the C
library is measured by ``tests/analysis/test_fingerprint.py`` against
``fpcalc`` when it is installed (see that test for the figure).

``similarity(a, b)`` searches alignments and returns 1 - 2 * BER over the
best one (1 = identical, ~0 = unrelated).  ``FingerprintIndex`` is an
inverted index of LSH keys (16-bit slices of subfingerprints) that votes
per (track, offset): the true match piles its votes on one offset while
chance collisions scatter, so it scales to a federation's catalogue.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict

import numpy as np

from ..versions import FEATURE_VERSIONS
from ._frontend import ANALYSIS_RATE, Framer, MonoResampler

VERSION = FEATURE_VERSIONS["fingerprint"]
SOURCE = "mono11k"
ALGORITHM = 1  # Chromaprint's numbering for TEST2 in the compressed header

FRAME = 4096
HOP = FRAME // 3  # 1365
MAX_SECONDS = 120.0
_MIN_FREQ, _MAX_FREQ = 28, 3520
_FILTER = np.array([0.25, 0.75, 1.0, 0.75, 0.25])

# (filter type, y, height, width, thresholds) -- Chromaprint TEST2 classifiers
_CLASSIFIERS = (
    (0, 4, 3, 15, (1.98215, 2.35817, 2.63523)),
    (4, 4, 6, 15, (-1.03809, -0.651211, -0.282167)),
    (1, 0, 4, 16, (-0.298702, 0.119262, 0.558497)),
    (3, 8, 2, 12, (-0.105439, 0.0153946, 0.135898)),
    (3, 4, 4, 8, (-0.142891, 0.0258736, 0.200632)),
    (4, 0, 3, 5, (-0.826319, -0.590612, -0.368214)),
    (1, 2, 2, 9, (-0.557409, -0.233035, 0.0534525)),
    (2, 7, 3, 4, (-0.0646826, 0.00620476, 0.0784847)),
    (2, 6, 2, 16, (-0.192387, -0.029699, 0.215855)),
    (2, 1, 3, 2, (-0.0397818, -0.00568076, 0.0292026)),
    (5, 10, 1, 15, (-0.53823, -0.369934, -0.190235)),
    (3, 6, 2, 10, (-0.124877, 0.0296483, 0.139239)),
    (2, 1, 1, 14, (-0.101475, 0.0225617, 0.231971)),
    (3, 5, 6, 4, (-0.0799915, -0.00729616, 0.063262)),
    (1, 9, 2, 12, (-0.272556, 0.019424, 0.302559)),
    (3, 4, 2, 14, (-0.164292, -0.0321188, 0.0846339)),
)
_MAX_WIDTH = max(c[3] for c in _CLASSIFIERS)
_GRAY = np.array([0, 1, 3, 2], np.uint32)


def _chroma_matrix() -> tuple[int, int, np.ndarray]:
    lo = max(1, round(FRAME * _MIN_FREQ / ANALYSIS_RATE))
    hi = min(FRAME // 2, round(FRAME * _MAX_FREQ / ANALYSIS_RATE))
    freqs = np.arange(lo, hi) * ANALYSIS_RATE / FRAME
    octave = np.log2(freqs / (440.0 / 16.0))
    notes = (12 * (octave - np.floor(octave))).astype(int)
    matrix = np.zeros((hi - lo, 12))
    matrix[np.arange(hi - lo), notes] = 1.0
    return lo, hi, matrix


_LO, _HI, _CHROMA = _chroma_matrix()
_WINDOW = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))


class Fingerprint:
    NAME = "fingerprint"
    VERSION = VERSION
    SOURCE = SOURCE

    def __init__(self, sample_rate: int = ANALYSIS_RATE, channels: int = 1, max_seconds: float | None = MAX_SECONDS):
        self._front = None if (sample_rate, channels) == (ANALYSIS_RATE, 1) else MonoResampler(sample_rate, channels)
        self._framer = Framer(FRAME, HOP)
        self._limit = None if max_seconds is None else int(max_seconds * ANALYSIS_RATE)
        self._taken = 0
        self._chroma: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        if self._limit is not None and self._taken >= self._limit:
            return
        mono = self._front.feed(block) if self._front else np.asarray(block, np.float32).reshape(-1)
        if self._limit is not None:
            mono = mono[: self._limit - self._taken]
        self._taken += len(mono)
        self._frames(self._framer.feed(mono))

    def _frames(self, frames: np.ndarray) -> None:
        if len(frames):
            spec = np.fft.rfft(frames.astype(np.float64) * _WINDOW, axis=1)[:, _LO:_HI]
            power = spec.real ** 2 + spec.imag ** 2
            self._chroma.append(power @ _CHROMA)

    def result(self) -> dict:
        if self._front is not None and (self._limit is None or self._taken < self._limit):
            tail = self._front.flush()
            if self._limit is not None:
                tail = tail[: self._limit - self._taken]
            self._frames(self._framer.feed(tail))
        chroma = np.concatenate(self._chroma) if self._chroma else np.zeros((0, 12))
        fp = compute(chroma)
        return {"algorithm": "chromaprint-test2", "duration": round(self._taken / ANALYSIS_RATE, 3),
                "raw": [int(v) for v in fp.astype(np.int32)], "compressed": compress(fp)}


def compute(chroma: np.ndarray) -> np.ndarray:
    """Raw chroma frames (n, 12) -> uint32 subfingerprints."""
    if len(chroma) < len(_FILTER):
        return np.zeros(0, np.uint32)
    windows = np.lib.stride_tricks.sliding_window_view(chroma, len(_FILTER), axis=0)  # (n-4, 12, 5)
    image = windows @ _FILTER
    norm = np.sqrt((image ** 2).sum(axis=1, keepdims=True))
    image = np.where(norm < 0.01, 0.0, image / np.where(norm < 0.01, 1.0, norm))
    length = len(image) - _MAX_WIDTH + 1
    if length <= 0:
        return np.zeros(0, np.uint32)
    integral = np.zeros((len(image) + 1, 13))
    integral[1:, 1:] = image.cumsum(axis=0).cumsum(axis=1)
    x = np.arange(length)
    bits = np.zeros(length, np.uint32)
    for kind, y, h, w, thresholds in _CLASSIFIERS:
        value = _apply_filter(integral, x, kind, y, h, w)
        q = np.searchsorted(np.array(thresholds), value, side="right")
        bits = (bits << np.uint32(2)) | _GRAY[q]
    return bits


def _area(integral: np.ndarray, x0, y0: int, x1, y1: int) -> np.ndarray:
    """Sum of image[x0:x1, y0:y1] (half-open) for arrays of x0/x1."""
    return integral[x1, y1] - integral[x0, y1] - integral[x1, y0] + integral[x0, y0]


def _apply_filter(ii: np.ndarray, x: np.ndarray, kind: int, y: int, h: int, w: int) -> np.ndarray:
    if kind == 0:
        a, b = _area(ii, x, y, x + w, y + h), 0.0
    elif kind == 1:
        h2 = h // 2
        a, b = _area(ii, x, y + h2, x + w, y + h), _area(ii, x, y, x + w, y + h2)
    elif kind == 2:
        w2 = w // 2
        a, b = _area(ii, x + w2, y, x + w, y + h), _area(ii, x, y, x + w2, y + h)
    elif kind == 3:
        w2, h2 = w // 2, h // 2
        a = _area(ii, x, y + h2, x + w2, y + h) + _area(ii, x + w2, y, x + w, y + h2)
        b = _area(ii, x, y, x + w2, y + h2) + _area(ii, x + w2, y + h2, x + w, y + h)
    elif kind == 4:
        h3 = h // 3
        a = _area(ii, x, y + h3, x + w, y + 2 * h3)
        b = _area(ii, x, y, x + w, y + h3) + _area(ii, x, y + 2 * h3, x + w, y + h)
    else:
        w3 = w // 3
        a = _area(ii, x + w3, y, x + 2 * w3, y + h)
        b = _area(ii, x, y, x + w3, y + h) + _area(ii, x + 2 * w3, y, x + w, y + h)
    return np.log1p(a) - np.log1p(b)


# -- compressed form (fpcalc's default output) --------------------------------

def compress(fp: np.ndarray, algorithm: int = ALGORITHM) -> str:
    """Chromaprint's compressed fingerprint, URL-safe base64 without padding."""
    fp = np.asarray(fp, np.uint32)
    normal: list[int] = []
    exceptional: list[int] = []
    prev = 0
    for value in fp.tolist():
        diff, prev = value ^ prev, value
        bit, last = 1, 0
        while diff:
            if diff & 1:
                delta = bit - last
                if delta >= 7:
                    normal.append(7)
                    exceptional.append(delta - 7)
                else:
                    normal.append(delta)
                last = bit
            diff >>= 1
            bit += 1
        normal.append(0)
    header = bytes([algorithm & 0xFF, (len(fp) >> 16) & 0xFF, (len(fp) >> 8) & 0xFF, len(fp) & 0xFF])
    body = _pack(normal, 3) + _pack(exceptional, 5)
    return base64.urlsafe_b64encode(header + body).decode().rstrip("=")


def _pack(values: list[int], width: int) -> bytes:
    acc = nbits = 0
    out = bytearray()
    for v in values:
        acc |= v << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


# -- matching -------------------------------------------------------------------

def _as_u32(fp) -> np.ndarray:
    if isinstance(fp, dict):
        fp = fp["raw"]
    return np.asarray(fp, dtype=np.int64).astype(np.uint32)


def bit_error_rate(a, b, offset: int) -> float:
    """BER of b shifted by ``offset`` frames against a, over their overlap."""
    a, b = _as_u32(a), _as_u32(b)
    if offset >= 0:
        a = a[offset:]
    else:
        b = b[-offset:]
    n = min(len(a), len(b))
    if n == 0:
        return 0.5
    return float(np.bitwise_count(a[:n] ^ b[:n]).sum()) / (32.0 * n)


def similarity(fp_a, fp_b, max_offset: int = 80, min_overlap: int = 40) -> float:
    """1 - 2 * BER at the best alignment (1.0 identical, ~0 unrelated).

    Alignments are searched within +-max_offset frames (~10 s) plus any
    suggested by equal 20-bit prefixes; an alignment must overlap at least
    half the shorter fingerprint, so short overlaps cannot win by chance.
    """
    a, b = _as_u32(fp_a), _as_u32(fp_b)
    if min(len(a), len(b)) == 0:
        return 0.0
    need = min(max(min_overlap, min(len(a), len(b)) // 2), len(a), len(b))
    offsets = _candidate_offsets(a, b) | {0}
    offsets |= set(range(-min(max_offset, len(b) - need), min(max_offset, len(a) - need) + 1, 1))
    best = min(bit_error_rate(a, b, off) for off in offsets
               if min(len(a) - max(off, 0), len(b) - max(-off, 0)) >= need)
    return max(0.0, 1.0 - 2.0 * best)


def _candidate_offsets(a: np.ndarray, b: np.ndarray, top: int = 5) -> set[int]:
    """Alignments suggested by equal 20-bit prefixes (cheap, catches big shifts)."""
    where: dict[int, list[int]] = defaultdict(list)
    for i, v in enumerate((a >> np.uint32(12)).tolist()):
        where[v].append(i)
    votes: Counter = Counter()
    for j, v in enumerate((b >> np.uint32(12)).tolist()):
        for i in where.get(v, ()):
            votes[i - j] += 1
    return {off for off, _ in votes.most_common(top)}


_BANDS = ((0, 16), (8, 16), (16, 16))  # (shift, bits): overlapping 16-bit slices


def lsh_keys(fp, stride: int = 1) -> list[tuple[int, int]]:
    """(key, position) pairs to store for a fingerprint; key encodes band and bits."""
    values = _as_u32(fp)
    keys = []
    for band, (shift, width) in enumerate(_BANDS):
        sliced = (values >> np.uint32(shift)) & np.uint32((1 << width) - 1)
        for pos in range(0, len(values), stride):
            keys.append(((band << width) | int(sliced[pos]), pos))
    return keys


class FingerprintIndex:
    """In-memory inverted index; the store can persist ``lsh_keys`` rows the same way."""

    def __init__(self):
        self._postings: dict[int, list[tuple[object, int]]] = defaultdict(list)
        self._fps: dict[object, np.ndarray] = {}

    def add(self, track_id, fp, stride: int = 2) -> None:
        self._fps[track_id] = _as_u32(fp)
        for key, pos in lsh_keys(fp, stride):
            self._postings[key].append((track_id, pos))

    def candidates(self, fp, limit: int = 10) -> list[tuple[object, int]]:
        """Track ids ranked by votes at their best single offset."""
        votes: Counter = Counter()
        for key, pos in lsh_keys(fp):
            for track_id, stored in self._postings.get(key, ()):
                votes[(track_id, stored - pos)] += 1
        best: dict[object, int] = {}
        for (track_id, _), n in votes.items():
            best[track_id] = max(best.get(track_id, 0), n)
        return sorted(best.items(), key=lambda kv: -kv[1])[:limit]

    def query(self, fp, threshold: float = 0.5, limit: int = 10) -> list[tuple[object, float]]:
        """Verified matches: candidates whose similarity() reaches ``threshold``."""
        out = []
        for track_id, _ in self.candidates(fp, limit):
            score = similarity(self._fps[track_id], fp)
            if score >= threshold:
                out.append((track_id, score))
        return sorted(out, key=lambda kv: -kv[1])
