"""The version of every analysis result, in one table that loads nothing else.

Bump a feature's number here when its output changes: stored results with
another version are recomputed for that feature only. ``sonantica status``
reads this table to count what is up to date without importing the features
(numpy) or the runner (trio).
"""

from __future__ import annotations

from ..store.analysis import FILE_ID

FEATURE_VERSIONS: dict[str, int] = {
    "waveform": 1,
    "loudness": 2,  # 2: true peak refined around near-maximum candidates
    "bpm": 2,  # 2: the perceived tempo (metrical level from accents), not doubled slow grooves
    "key": 1,
    "fingerprint": 1,
    "sonic": 1,  # the similarity vector (features/sonic.py): bump it too when bpm, key or loudness change
}
FILE_ID_VERSION = 1
KIND = "analysis"  # the job kind of analysis work


def current_versions() -> dict[str, int]:
    """Every stored result and its current version: the features plus the file id."""
    return {**FEATURE_VERSIONS, FILE_ID: FILE_ID_VERSION}
