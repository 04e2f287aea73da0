"""Streaming decode in fixed blocks, bounded memory.

Theory of operation
-------------------
``open_audio(path)`` picks a backend and returns an ``AudioStream``: its
``sample_rate``, ``channels`` and (when the container knows it) ``frames``
are known up front, and ``blocks()`` yields ``float32`` arrays shaped
``(frames, channels)`` of exactly ``block_frames`` frames each, except the
last.  Nothing ever holds more than one block plus one codec frame, so a
two-hour FLAC costs the same memory as a three-minute one.

Backends: libsndfile (through ``soundfile``) for the formats it reads
natively and fast (FLAC, WAV, AIFF, Ogg Vorbis/Opus, MP3 ...); PyAV (FFmpeg)
for everything else (M4A/AAC/ALAC, Opus in other containers, WMA ...) and
as a fallback when libsndfile refuses a file.

Every failure a file can cause -- unreadable, corrupt, truncated, no audio
stream -- is raised as ``DecodeError(path, reason)`` with the foreign
exception kept as ``__cause__``.  Truncation is detected by comparing the
frames decoded with the count the container declared (lossless formats).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

__all__ = ["DecodeError", "AudioStream", "open_audio", "BLOCK_FRAMES"]

BLOCK_FRAMES = 65536

# Extensions libsndfile decodes itself; anything else goes straight to PyAV.
_SNDFILE_EXTS = {".flac", ".wav", ".wave", ".aif", ".aiff", ".aifc", ".ogg",
                 ".oga", ".mp3", ".w64", ".rf64", ".caf", ".au", ".snd"}
# Containers whose declared frame count is exact: a short read means truncation.
_EXACT_LENGTH = {"FLAC", "WAV", "WAVEX", "AIFF", "W64", "RF64", "CAF", "AU"}


class DecodeError(Exception):
    """A file could not be decoded: ``path`` and a ``reason`` a user can act on."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class AudioStream:
    """An open audio file; iterate ``blocks()`` once."""

    path: str
    sample_rate: int
    channels: int
    frames: int | None  # declared length, None when the container does not say
    backend: str
    block_frames: int = BLOCK_FRAMES
    _close: list = field(default_factory=list, repr=False)

    @property
    def duration(self) -> float | None:
        return None if self.frames is None else self.frames / self.sample_rate

    def blocks(self) -> Iterator[np.ndarray]:
        if self.backend == "soundfile":
            return _sf_blocks(self)
        return _av_blocks(self)

    def close(self) -> None:
        for closer in self._close:
            closer()
        self._close.clear()

    def __enter__(self) -> "AudioStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_audio(path: str | os.PathLike, block_frames: int = BLOCK_FRAMES) -> AudioStream:
    """Open ``path`` for block decoding; raise DecodeError if it cannot be read."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DecodeError(path, "no such file")
    if os.path.splitext(path)[1].lower() in _SNDFILE_EXTS:
        try:
            return _open_sf(path, block_frames)
        except DecodeError:
            pass  # libsndfile refused it: FFmpeg may still read it
    return _open_av(path, block_frames)


# -- libsndfile -------------------------------------------------------------

def _open_sf(path: str, block_frames: int) -> AudioStream:
    import soundfile as sf

    try:
        handle = sf.SoundFile(path)
    except Exception as exc:  # LibsndfileError, RuntimeError on old versions
        raise DecodeError(path, f"libsndfile cannot open: {exc}") from exc
    if handle.channels < 1 or handle.samplerate < 1:
        handle.close()
        raise DecodeError(path, "no audio channels")
    frames = handle.frames if handle.frames > 0 else None
    stream = AudioStream(path, handle.samplerate, handle.channels, frames,
                         "soundfile", block_frames)
    stream._sf = handle  # type: ignore[attr-defined]
    stream._close.append(handle.close)
    return stream


def _sf_blocks(stream: AudioStream) -> Iterator[np.ndarray]:
    handle = stream._sf  # type: ignore[attr-defined]
    total = 0
    while True:
        try:
            block = handle.read(stream.block_frames, dtype="float32", always_2d=True)
        except Exception as exc:
            raise DecodeError(stream.path, f"corrupt audio data after {total} frames: {exc}") from exc
        if not len(block):
            break
        total += len(block)
        if not np.isfinite(block).all():
            raise DecodeError(stream.path, f"corrupt audio data (non-finite samples) near frame {total}")
        yield block
        if len(block) < stream.block_frames:
            break
    if stream.frames and handle.format in _EXACT_LENGTH and total < stream.frames:
        raise DecodeError(stream.path, f"truncated: decoded {total} of {stream.frames} frames")
    if total == 0:
        raise DecodeError(stream.path, "no audio frames")


# -- FFmpeg via PyAV ----------------------------------------------------------

_INT_SCALE = {"u8": None, "s16": 32768.0, "s32": 2147483648.0, "s64": 9.223372036854776e18}


def _open_av(path: str, block_frames: int) -> AudioStream:
    import av

    try:
        container = av.open(path)
    except Exception as exc:  # av.error.FFmpegError and friends
        raise DecodeError(path, f"FFmpeg cannot open: {exc}") from exc
    if not container.streams.audio:
        container.close()
        raise DecodeError(path, "no audio stream")
    astream = container.streams.audio[0]
    ctx = astream.codec_context
    rate, channels = ctx.sample_rate, ctx.channels
    if not rate or not channels:
        container.close()
        raise DecodeError(path, "audio stream without sample rate or channels")
    frames = None
    if astream.duration and astream.time_base:
        frames = int(round(float(astream.duration * astream.time_base) * rate))
    stream = AudioStream(path, rate, channels, frames, "pyav", block_frames)
    stream._av = (container, astream)  # type: ignore[attr-defined]
    stream._close.append(container.close)
    return stream


def _frame_to_float(frame) -> np.ndarray:
    arr = frame.to_ndarray()
    fmt = frame.format
    channels = len(frame.layout.channels)
    arr = arr.T if fmt.is_planar else arr.reshape(-1, channels)
    base = fmt.name.rstrip("p")
    if base == "u8":
        return (arr.astype(np.float32) - 128.0) / 128.0
    scale = _INT_SCALE.get(base)
    if scale is not None:
        return (arr / scale).astype(np.float32)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _av_blocks(stream: AudioStream) -> Iterator[np.ndarray]:
    container, astream = stream._av  # type: ignore[attr-defined]
    pending: list[np.ndarray] = []
    have = total = 0
    try:
        for frame in container.decode(astream):
            pcm = _frame_to_float(frame)
            if pcm.shape[1] != stream.channels:  # mid-stream layout change: keep the first layout
                pcm = _fit_channels(pcm, stream.channels)
            pending.append(pcm)
            have += len(pcm)
            while have >= stream.block_frames:
                joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
                block, rest = joined[: stream.block_frames], joined[stream.block_frames:]
                pending, have = ([rest] if len(rest) else []), len(rest)
                total += len(block)
                yield block
    except Exception as exc:
        if isinstance(exc, GeneratorExit):
            raise
        raise DecodeError(stream.path, f"corrupt audio data after {total} frames: {exc}") from exc
    if have:
        total += have
        yield np.concatenate(pending)
    if total == 0:
        raise DecodeError(stream.path, "no audio frames")


def _fit_channels(pcm: np.ndarray, channels: int) -> np.ndarray:
    if pcm.shape[1] > channels:
        return pcm[:, :channels]
    return np.repeat(pcm.mean(axis=1, keepdims=True), channels, axis=1)
