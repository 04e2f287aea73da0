"""Decode a file once and feed every requested feature.

Pure process-side computation: no store, no queue, no event loop.  The
worker that calls ``analyse_file`` owns scheduling and persistence.

Pipeline per decoded block (64 Ki frames)::

    decode ──► pcm features (waveform, loudness)
          └──► MonoResampler (downmix + libswresample to 11 025 Hz)
                    └──► mono11k features (bpm, key, fingerprint, sonic)

A feature with ``USES`` (sonic) gets the results of the features it names,
computed from the same decode (added when not requested, returned only when
requested).
"""

from __future__ import annotations

import os
import time

from .decode import BLOCK_FRAMES, DecodeError, open_audio
from .features import FEATURES
from .features._frontend import ANALYSIS_RATE, MonoResampler

__all__ = ["analyse_file", "DecodeError", "UnknownFeature"]


class UnknownFeature(ValueError):
    """A feature name not in the registry was requested."""


def analyse_file(path: str | os.PathLike, features: set[str] | None = None,
                 block_frames: int = BLOCK_FRAMES, timings: dict | None = None) -> dict:
    """{feature: {"version": v, **result}} for ``features`` (default: all).

    Raises DecodeError for unreadable, corrupt or truncated files.  Pass a
    dict as ``timings`` to receive seconds spent per feature and in decode.
    """
    names = set(FEATURES) if features is None else set(features)
    unknown = names - set(FEATURES)
    if unknown:
        raise UnknownFeature(f"unknown analysis features: {sorted(unknown)}")
    clock = timings if timings is not None else {}
    computed = _with_uses(names)
    with open_audio(path, block_frames) as stream:
        pcm, mono = {}, {}
        for name in sorted(computed):
            cls = FEATURES[name][1]
            if cls.SOURCE == "mono11k":
                mono[name] = cls(ANALYSIS_RATE, 1)
            else:
                pcm[name] = cls(stream.sample_rate, stream.channels)
        front = MonoResampler(stream.sample_rate, stream.channels) if mono else None
        blocks = stream.blocks()
        while True:
            t0 = time.perf_counter()
            block = next(blocks, None)
            _tick(clock, "decode", t0)
            if block is None:
                break
            for name, feature in pcm.items():
                t0 = time.perf_counter()
                feature.feed(block)
                _tick(clock, name, t0)
            if front is not None:
                t0 = time.perf_counter()
                low = front.feed(block)
                _tick(clock, "resample", t0)
                for name, feature in mono.items():
                    t0 = time.perf_counter()
                    feature.feed(low)
                    _tick(clock, name, t0)
        if front is not None:
            tail = front.flush()
            for feature in mono.values():
                feature.feed(tail)
        out: dict[str, dict] = {}
        everything = {**pcm, **mono}
        for name in sorted(everything, key=lambda n: bool(_uses(n))):  # what others use comes first
            t0 = time.perf_counter()
            feature = everything[name]
            result = feature.result({u: out[u] for u in _uses(name)}) if _uses(name) else feature.result()
            out[name] = {"version": FEATURES[name][0], **result}
            _tick(clock, name, t0)
        return {name: out[name] for name in names}


def _uses(name: str) -> tuple[str, ...]:
    return tuple(getattr(FEATURES[name][1], "USES", ()))


def _with_uses(names: set[str]) -> set[str]:
    """``names`` plus every feature they use (one level: a feature that uses others is used by none)."""
    return names | {u for n in names for u in _uses(n)}


def _tick(clock: dict, name: str, t0: float) -> None:
    clock[name] = clock.get(name, 0.0) + time.perf_counter() - t0
