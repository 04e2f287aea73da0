"""EBU R128 / ITU-R BS.1770-4 loudness, EBU Tech 3342 loudness range, true peak.

Theory of operation
-------------------
One overlap-save FFT pass per segment does all the full-rate work: the
segment's spectrum ``X`` is multiplied by the K-weighting response (the
exact response of the two BS.1770 biquads, whose impulse response has
decayed below 1e-9 within the discarded overlap) and by three windowed-sinc
fractional-delay responses (4x oversampling for true peak, 32 taps per
phase), and one batched inverse FFT gives the K-weighted signal plus the
three interpolated phases.

The K-weighted energy is summed per 100 ms step.  Gating blocks (400 ms,
75 % overlap) and short-term blocks (3 s, 10 Hz) are sums of consecutive
steps, so the whole track costs one float per 100 ms of memory.  The
biquads are designed for the actual sample rate the way ``pyloudnorm`` does
(RBJ cookbook high shelf +4 dB at 1500 Hz, Q 1/sqrt 2; high pass 38 Hz,
Q 0.5), so results agree with it at every rate.

True peak: the maximum of |x| over the 4x interpolated signal (BS.1770-4),
then every 4x point within 0.8 dB of the maximum is refined by evaluating the
windowed-sinc interpolation of the raw samples at 32x around it. A bare 4x
reading can be ~0.7 dB low for content near Nyquist (white noise); refined, it
is within a few hundredths of a dB of the band-limited peak.

ReplayGain 2.0: gain = -18 LUFS - integrated loudness.  Album gain must be
gated over the union of the album's 400 ms blocks, so every track result
carries ``block_histogram``: counts of its gated-block loudness in 0.1 LU
bins (a few hundred small ints).  ``album_gain()`` merges them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..versions import FEATURE_VERSIONS

VERSION = FEATURE_VERSIONS["loudness"]
SOURCE = "pcm"

REFERENCE_LUFS = -18.0
ABS_GATE = -70.0
REL_GATE = -10.0
LRA_REL_GATE = -20.0
HIST_STEP = 0.1  # LU per histogram bin
_OVERSAMPLE = 4
_TP_HALF = 256  # taps per side of each fractional-delay phase (applied in the FFT: length is free)


def _biquads(rate: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads, designed like pyloudnorm for any rate."""
    # high shelf, G = +4 dB, Q = 1/sqrt(2), fc = 1500 Hz
    a_ = 10 ** (4.0 / 40.0)
    w0 = 2 * math.pi * 1500.0 / rate
    alpha = math.sin(w0) / (2 * (1 / math.sqrt(2)))
    c, s = math.cos(w0), 2 * math.sqrt(a_) * alpha
    shelf_b = [a_ * ((a_ + 1) + (a_ - 1) * c + s), -2 * a_ * ((a_ - 1) + (a_ + 1) * c),
               a_ * ((a_ + 1) + (a_ - 1) * c - s)]
    shelf_a = [(a_ + 1) - (a_ - 1) * c + s, 2 * ((a_ - 1) - (a_ + 1) * c), (a_ + 1) - (a_ - 1) * c - s]
    # high pass, Q = 0.5, fc = 38 Hz
    w0 = 2 * math.pi * 38.0 / rate
    alpha = math.sin(w0) / (2 * 0.5)
    c = math.cos(w0)
    hp_b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
    hp_a = [1 + alpha, -2 * c, 1 - alpha]
    return [(np.array(b) / a[0], np.array(a) / a[0]) for b, a in ((shelf_b, shelf_a), (hp_b, hp_a))]


@lru_cache(maxsize=16)
def _plan(rate: int) -> tuple[int, int, np.ndarray]:
    """(fft size, overlap, responses (4, bins)) for a sample rate.

    float64 on purpose: numpy's float32 FFT is about 3x slower than its float64 one.
    """
    biquads = _biquads(rate)
    radius = max(abs(p) for _, a in biquads for p in np.roots(a))
    k_len = int(math.ceil(math.log(1e-10) / math.log(radius))) + 64  # double pole: margin
    overlap = max(k_len, 2 * _TP_HALF)
    n = 1 << max(14, int(math.ceil(math.log2(overlap * 3))))
    w = np.exp(-2j * np.pi * np.arange(n // 2 + 1) / n)
    hk = np.ones_like(w)
    for b, a in biquads:
        hk *= (b[0] + b[1] * w + b[2] * w * w) / (a[0] + a[1] * w + a[2] * w * w)
    rows = [hk]
    k = np.arange(2 * _TP_HALF)
    for p in range(1, _OVERSAMPLE):
        t = k - (_TP_HALF - 1) + p / _OVERSAMPLE  # y_p[n] = x(n - (M-1) + p/4)
        taps = np.sinc(t) * np.i0(8.0 * np.sqrt(np.clip(1 - (t / _TP_HALF) ** 2, 0, 1))) / np.i0(8.0)
        rows.append(np.fft.rfft(taps, n))
    return n, overlap, np.array(rows)


def _channel_gains(channels: int) -> np.ndarray:
    if channels == 5:
        return np.array([1, 1, 1, 1.41, 1.41])
    if channels == 6:  # L R C LFE Ls Rs: the LFE does not count
        return np.array([1, 1, 1, 0, 1.41, 1.41])
    return np.ones(channels)


class Loudness:
    """Accumulator: feed (frames, channels) float32 blocks, then result()."""

    NAME = "loudness"
    VERSION = VERSION
    SOURCE = SOURCE

    def __init__(self, sample_rate: int, channels: int):
        self.rate, self.channels = int(sample_rate), int(channels)
        self._n, self._overlap, self._resp = _plan(self.rate)
        self._hop = self._n - self._overlap
        self._gains = _channel_gains(self.channels)
        self._hist = np.zeros((self.channels, self._overlap))
        self._pending: list[np.ndarray] = []
        self._npending = 0
        self._seen = 0  # samples fed
        self._done = 0  # samples whose K-weighted energy is accounted
        self._steps: list[float] = []  # energy per 100 ms step
        self._step_acc = 0.0
        self._next_edge = self._edge(1)
        self._sample_peak = 0.0
        self._true_peak = 0.0

    def _edge(self, j: int) -> int:
        return (j * self.rate) // 10

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, np.float32).reshape(len(block), -1)
        if not len(block):
            return
        self._sample_peak = max(self._sample_peak, float(np.abs(block).max()))
        self._pending.append(block)
        self._npending += len(block)
        self._seen += len(block)
        if self._npending >= self._hop:
            self._drain(final=False)

    def _drain(self, final: bool) -> None:
        data = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        hop, pos = self._hop, 0
        if final:
            tail = (-(len(data) + _TP_HALF)) % hop + _TP_HALF
            data = np.concatenate([data, np.zeros((tail, self.channels), np.float32)])
        while len(data) - pos >= hop:
            self._segment(data[pos:pos + hop])
            pos += hop
        rest = data[pos:]
        self._pending, self._npending = ([rest] if len(rest) else []), len(rest)

    def _segment(self, new: np.ndarray) -> None:
        seg = np.concatenate([self._hist, new.T.astype(np.float64)], axis=1)  # (channels, n)
        self._hist = seg[:, -self._overlap:]
        spec = np.fft.rfft(seg, axis=-1)
        out = np.fft.irfft(spec[None, :, :] * self._resp[:, None, :], self._n, axis=-1)[:, :, self._overlap:]
        # true peak: the 4x grid is x itself (delayed) plus three interpolated phases
        delay = _TP_HALF - 1
        out[0] = out[0] ** 2  # K-weighted power; row 0 is free again for the delayed input
        kpow = out[0].copy()
        out[0] = seg[:, self._overlap - delay: self._n - delay]
        self._true_peak = max(self._true_peak, _refined_peak(out, seg, self._overlap - delay, self._true_peak))
        # K-weighted energy, channel-weighted, into 100 ms steps
        real = min(self._seen - self._done, len(new))
        if real > 0:
            self._account(self._gains @ kpow[:, :real])

    def _account(self, energy: np.ndarray) -> None:
        start, end = self._done, self._done + len(energy)
        cuts = []
        while self._next_edge <= end:
            cuts.append(self._next_edge - start)
            self._next_edge = self._edge(len(self._steps) + len(cuts) + 1)
        csum = np.concatenate([[0.0], np.cumsum(energy)])
        prev = 0
        for cut in cuts:
            self._steps.append(self._step_acc + csum[cut] - csum[prev])
            self._step_acc, prev = 0.0, cut
        self._step_acc += csum[-1] - csum[prev]
        self._done = end

    def result(self) -> dict:
        if self._npending or self._seen:
            self._pending.append(np.zeros((0, self.channels), np.float32))
            self._drain(final=True)
        return summarise(np.array(self._steps), self.rate, self._sample_peak, self._true_peak)


_FINE = 32  # sub-sample resolution of the candidate refinement
_CANDIDATES = 16  # grid points per channel and segment refined at most
_NEAR = 10 ** (-0.8 / 20)  # a 4x reading can be ~0.7 dB low near Nyquist: refine what is within 0.8 dB


@lru_cache(maxsize=4)
def _fine_kernel(half: int) -> tuple[np.ndarray, np.ndarray]:
    """Windowed-sinc weights for times s - 1/4 … s + 5/4 (step 1/_FINE) from samples s-half+1 … s+half."""
    offsets = np.arange(-_FINE // 4, _FINE + _FINE // 4 + 1) / _FINE
    k = np.arange(-half + 1, half + 1)
    t = offsets[:, None] - k[None, :]
    w = np.i0(8.0 * np.sqrt(np.clip(1 - (t / half) ** 2, 0, 1))) / np.i0(8.0)
    return np.sinc(t) * w, k


def _refined_peak(grid: np.ndarray, raw: np.ndarray, start: int, floor: float) -> float:
    """The band-limited peak of this segment.

    ``grid`` is the 4x grid (phases, channels, hop) whose time ``i`` is raw sample
    ``start + i``. A 4x reading may be up to ~0.7 dB low for content near Nyquist, so
    every grid point within 0.8 dB of the segment's maximum (and above ``floor``, the
    peak found so far) is refined by evaluating the windowed-sinc interpolation of the
    raw samples at 32x resolution around it. Only a few points per segment qualify.
    """
    mag = np.abs(grid)
    per_time = mag.max(axis=0)  # (channels, hop)
    top = float(per_time.max()) if per_time.size else 0.0
    if top * 1.1 <= floor:  # cannot beat the peak we already have
        return top
    kernel, k = _fine_kernel(_TP_HALF)
    best = top
    threshold = max(top * _NEAR, floor * _NEAR)
    hop = per_time.shape[1]
    for ch in range(per_time.shape[0]):
        cand = np.nonzero(per_time[ch] >= threshold)[0]
        if len(cand) > _CANDIDATES:
            cand = cand[np.argsort(per_time[ch, cand])[-_CANDIDATES:]]
        for i in cand:
            s = start + int(i)
            lo, hi = s + k[0], s + k[-1] + 1
            if lo < 0 or hi > raw.shape[1] or i >= hop:
                continue
            best = max(best, float(np.abs(kernel @ raw[ch, lo:hi]).max()))
    return best


def _lufs(mean_square: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(mean_square)


def _block_means(steps: np.ndarray, rate: int, width: int) -> np.ndarray:
    """Mean square of blocks of ``width`` 100 ms steps, hop one step."""
    if len(steps) < width:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(steps)])
    sums = csum[width:] - csum[:-width]
    j = np.arange(len(sums))
    lengths = (((j + width) * rate) // 10) - ((j * rate) // 10)
    return sums / lengths


def gated_loudness(block_ms: np.ndarray) -> float:
    """BS.1770-4 two-stage gating over 400 ms block mean squares."""
    loud = _lufs(block_ms)
    kept = block_ms[loud >= ABS_GATE]
    if not len(kept):
        return float("-inf")
    rel = _lufs(kept.mean()) + REL_GATE
    kept = kept[_lufs(kept) > rel]
    return float(_lufs(kept.mean())) if len(kept) else float("-inf")


def loudness_range(short_ms: np.ndarray) -> float:
    """EBU Tech 3342: 10th to 95th percentile of gated 3 s short-term loudness."""
    loud = _lufs(short_ms)
    loud = loud[loud >= ABS_GATE]
    if not len(loud):
        return 0.0
    rel = _lufs(np.mean(10 ** ((loud + 0.691) / 10))) + LRA_REL_GATE
    loud = loud[loud >= rel]
    if not len(loud):
        return 0.0
    return float(np.percentile(loud, 95) - np.percentile(loud, 10))


def summarise(steps: np.ndarray, rate: int, sample_peak: float, true_peak: float) -> dict:
    blocks = _block_means(steps, rate, 4)
    short = _block_means(steps, rate, 30)
    integrated = gated_loudness(blocks)
    loud = _lufs(blocks)
    gain = REFERENCE_LUFS - integrated if math.isfinite(integrated) else 0.0
    return {
        "integrated_lufs": _num(integrated),
        "loudness_range_lu": round(loudness_range(short), 3),
        "momentary_max_lufs": _num(float(loud.max())) if len(loud) else None,
        "short_term_max_lufs": _num(float(_lufs(short).max())) if len(short) else None,
        "true_peak": round(true_peak, 6),
        "true_peak_dbtp": _num(20 * math.log10(true_peak)) if true_peak > 0 else None,
        "sample_peak": round(sample_peak, 6),
        "replaygain_track_gain_db": round(gain, 2),
        "replaygain_track_peak": round(true_peak, 6),
        "replaygain_reference_lufs": REFERENCE_LUFS,
        "block_histogram": block_histogram(loud),
    }


def _num(x: float) -> float | None:
    return round(x, 3) if math.isfinite(x) else None


def block_histogram(block_lufs: np.ndarray) -> dict:
    """Compact album-gain input: counts of 400 ms block loudness >= -70 LUFS in 0.1 LU bins."""
    kept = block_lufs[block_lufs >= ABS_GATE]
    if not len(kept):
        return {"start": ABS_GATE, "step": HIST_STEP, "counts": []}
    idx = np.floor((kept - ABS_GATE) / HIST_STEP + 1e-9).astype(np.int64)
    lo = int(idx.min())
    counts = np.bincount(idx - lo)
    return {"start": round(ABS_GATE + lo * HIST_STEP, 1), "step": HIST_STEP, "counts": counts.tolist()}


def album_gain(tracks: list[dict]) -> dict:
    """ReplayGain 2.0 album gain and peak from per-track ``loudness`` results.

    The gating runs over the union of every track's 400 ms blocks, rebuilt
    from the histograms at bin centres (error well under 0.01 LU).
    """
    levels, weights = [], []
    for track in tracks:
        hist = track["block_histogram"]
        counts = np.asarray(hist["counts"], np.float64)
        centres = hist["start"] + (np.arange(len(counts)) + 0.5) * hist["step"]
        levels.append(centres)
        weights.append(counts)
    peak = max((t.get("replaygain_track_peak") or 0.0) for t in tracks) if tracks else 0.0
    if not levels or not sum(w.sum() for w in weights):
        return {"album_lufs": None, "replaygain_album_gain_db": 0.0, "replaygain_album_peak": peak}
    lv, wt = np.concatenate(levels), np.concatenate(weights)
    energy = 10 ** ((lv + 0.691) / 10)
    rel = _lufs((energy * wt).sum() / wt.sum()) + REL_GATE
    keep = lv > rel
    album = float(_lufs((energy[keep] * wt[keep]).sum() / wt[keep].sum()))
    return {"album_lufs": round(album, 3), "replaygain_album_gain_db": round(REFERENCE_LUFS - album, 2),
            "replaygain_album_peak": peak}
