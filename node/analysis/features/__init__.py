"""Analysis features: one module per feature, registered here with a version.

Every feature is an accumulator::

    feature = Cls(sample_rate, channels)
    feature.feed(block)        # float32 (frames, channels), any number of times
    feature.result() -> dict   # JSON-serialisable, called once

``SOURCE`` says what the feature wants to be fed: ``"pcm"`` (the decoded
signal as is) or ``"mono11k"`` (mono at 11 025 Hz).  Any feature also accepts
raw PCM when constructed with the file's rate and channels; the engine builds
``mono11k`` features at (11025, 1) instead and feeds them from one shared
resampler.  A feature that builds on others' results names them in ``USES``:
the engine computes those too (same decode) and calls ``result(uses)`` with
their results.  Each module's ``VERSION`` comes from the table in
:mod:`..versions`: bump it there when a feature's output changes.
"""

from __future__ import annotations

from . import bpm, fingerprint, key, loudness, sonic, waveform

__all__ = ["FEATURES", "feature_versions"]

# name -> (version, class)
FEATURES: dict[str, tuple[int, type]] = {
    "waveform": (waveform.VERSION, waveform.Waveform),
    "loudness": (loudness.VERSION, loudness.Loudness),
    "bpm": (bpm.VERSION, bpm.Bpm),
    "key": (key.VERSION, key.Key),
    "fingerprint": (fingerprint.VERSION, fingerprint.Fingerprint),
    "sonic": (sonic.VERSION, sonic.Sonic),
}


def feature_versions() -> dict[str, int]:
    return {name: version for name, (version, _) in FEATURES.items()}
