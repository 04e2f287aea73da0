"""Shared front end: downmix to mono and resample to 11 025 Hz, streaming.

Key, BPM and the fingerprint all work on the same cheap signal (the
Chromaprint rate).  Resampling uses libswresample through PyAV: it is C,
SIMD, keeps filter state across blocks, and PyAV is already a dependency.
A feature constructed directly at 11 025 Hz mono skips all of this, which is
how the engine shares one front end among several features.
"""

from __future__ import annotations

import numpy as np

ANALYSIS_RATE = 11025


class MonoResampler:
    """feed(block (frames, channels) float32) -> mono float32 at ``target`` Hz."""

    def __init__(self, sample_rate: int, channels: int, target: int = ANALYSIS_RATE):
        self.sample_rate, self.channels, self.target = sample_rate, channels, target
        self._resampler = None
        if sample_rate != target:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
            self._pts = 0

    def feed(self, block: np.ndarray) -> np.ndarray:
        mono = block.mean(axis=1, dtype=np.float32) if block.ndim == 2 and block.shape[1] > 1 else block.reshape(-1)
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if self._resampler is None:
            return mono
        return self._run(mono)

    def flush(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._collect(self._resampler.resample(None))

    def _run(self, mono: np.ndarray) -> np.ndarray:
        import av

        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        self._pts += len(mono)
        return self._collect(self._resampler.resample(frame))

    @staticmethod
    def _collect(frames) -> np.ndarray:
        if not frames:
            return np.zeros(0, np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)


class Framer:
    """Cut a stream into overlapping frames (frame_size, hop) across feed calls."""

    def __init__(self, frame_size: int, hop: int):
        self.frame_size, self.hop = frame_size, hop
        self._buf = np.zeros(0, np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Return the complete frames now available, shaped (n, frame_size)."""
        buf = np.concatenate([self._buf, samples]) if len(self._buf) else samples
        n = 0 if len(buf) < self.frame_size else 1 + (len(buf) - self.frame_size) // self.hop
        if n == 0:
            self._buf = buf
            return np.zeros((0, self.frame_size), np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(buf, self.frame_size)[:: self.hop][:n]
        frames = np.array(frames)  # own the memory before the buffer moves on
        self._buf = buf[n * self.hop:]
        return frames
