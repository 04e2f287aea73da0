"""Errors of the streaming package; the HTTP layer maps each to one status.

    StreamingError
     ├── SourceUnavailable(path, reason)   → 404 (file gone, unreadable)
     ├── TranscodeFailed(path, reason)     → 422 (source cannot be decoded)
     ├── OffsetPastEnd(path, offset)       → 416 (no audio at or after the offset)
     └── TranscodeBusy(limit)              → 503 with Retry-After
"""

from __future__ import annotations

__all__ = ["OffsetPastEnd", "SourceUnavailable", "StreamingError", "TranscodeBusy", "TranscodeFailed"]


class StreamingError(Exception):
    """Base class of every error this package raises on purpose."""


class SourceUnavailable(StreamingError):
    """The source file cannot be opened or read."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TranscodeFailed(StreamingError):
    """The source cannot be decoded, or has no audio stream."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot transcode {path}: {reason}")
        self.path = path
        self.reason = reason


class OffsetPastEnd(StreamingError):
    """A transcode was asked to start at or after the end of the audio.

    Raised before any byte is sent, so that a client seeking past the end gets a
    clear answer instead of an empty body (which players report as silence).
    """

    def __init__(self, path: object, offset: float, duration: float | None = None) -> None:
        length = f" ({duration:.3f} s long)" if duration is not None else ""
        super().__init__(f"offset {offset:g} s is past the end of the audio{length}")
        self.path = path
        self.offset = offset
        self.duration = duration


class TranscodeBusy(StreamingError):
    """All transcode slots are taken; retry later (we never queue unboundedly)."""

    retry_after = 5  # seconds, a hint for the Retry-After header

    def __init__(self, limit: int) -> None:
        super().__init__(f"all {limit} transcode slots are busy; retry later")
        self.limit = limit
