"""Multi-resolution min/max waveform peaks in the audiowaveform / peaks.js format.

Channels are merged (as ``audiowaveform`` does by default): each pixel holds
the min and max over all channels of ``samples_per_pixel`` frames.  The
finest level is accumulated while streaming (two floats per pixel); coarser
levels are exact reductions of it, so every level is what audiowaveform
would compute at that zoom.  Values are 8-bit (``bits: 8``), i.e. -128..127.

``result()["levels"]`` is a list of complete peaks.js JSON documents, finest
first; ``level_for(result, samples_per_pixel)`` picks one.
"""

from __future__ import annotations

import numpy as np

from ..versions import FEATURE_VERSIONS

VERSION = FEATURE_VERSIONS["waveform"]
SOURCE = "pcm"

BASE_SPP = 512
LEVEL_FACTORS = (1, 4, 16)  # 512, 2048 and 8192 samples per pixel
BITS = 8


class Waveform:
    NAME = "waveform"
    VERSION = VERSION
    SOURCE = SOURCE

    def __init__(self, sample_rate: int, channels: int, base_spp: int = BASE_SPP):
        self.rate, self.channels, self.spp = int(sample_rate), int(channels), base_spp
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self._carry = np.zeros(0, np.float32)

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, np.float32).reshape(len(block), -1)
        lo, hi = block[:, 0].copy(), block[:, 0].copy()  # merge channels first
        for ch in range(1, block.shape[1]):  # column-wise: numpy's axis=1 over 2 columns is slow
            np.minimum(lo, block[:, ch], out=lo)
            np.maximum(hi, block[:, ch], out=hi)
        if len(self._carry):
            lo = np.concatenate([self._carry[0], lo])
            hi = np.concatenate([self._carry[1], hi])
        whole = len(lo) // self.spp * self.spp
        if whole:
            self._mins.append(lo[:whole].reshape(-1, self.spp).min(axis=1))
            self._maxs.append(hi[:whole].reshape(-1, self.spp).max(axis=1))
        self._carry = np.stack([lo[whole:], hi[whole:]]) if whole < len(lo) else np.zeros(0, np.float32)

    def result(self) -> dict:
        mins, maxs = list(self._mins), list(self._maxs)
        if len(self._carry):
            mins.append(self._carry[0].min(keepdims=True))
            maxs.append(self._carry[1].max(keepdims=True))
        lo = np.concatenate(mins) if mins else np.zeros(0, np.float32)
        hi = np.concatenate(maxs) if maxs else np.zeros(0, np.float32)
        return {"levels": [self._level(lo, hi, f) for f in LEVEL_FACTORS]}

    def _level(self, lo: np.ndarray, hi: np.ndarray, factor: int) -> dict:
        pad = (-len(lo)) % factor
        if pad:
            lo = np.concatenate([lo, np.full(pad, lo[-1])])
            hi = np.concatenate([hi, np.full(pad, hi[-1])])
        lo = lo.reshape(-1, factor).min(axis=1) if len(lo) else lo
        hi = hi.reshape(-1, factor).max(axis=1) if len(hi) else hi
        data = np.empty(2 * len(lo), np.int64)
        data[0::2], data[1::2] = _quantise(lo), _quantise(hi)
        return {"version": 2, "channels": 1, "sample_rate": self.rate,
                "samples_per_pixel": self.spp * factor, "bits": BITS,
                "length": len(lo), "data": data.tolist()}


def _quantise(x: np.ndarray) -> np.ndarray:
    scale = 1 << (BITS - 1)
    return np.clip(np.floor(x * scale), -scale, scale - 1).astype(np.int64)


def level_for(result: dict, samples_per_pixel: int) -> dict:
    """The finest stored level at least as coarse as ``samples_per_pixel`` (else the coarsest)."""
    levels = result["levels"]
    for level in levels:
        if level["samples_per_pixel"] >= samples_per_pixel:
            return level
    return levels[-1]
