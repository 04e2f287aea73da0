"""MIME types for audio files, by extension (pure).

Choices where practice differs from registries:

* ``.opus`` → ``audio/ogg; codecs=opus``: Ogg Opus files are Ogg (RFC 7845 §9);
  ``audio/opus`` is registered for RTP payloads, and browsers accept the Ogg form.
* ``.m4a``/``.m4b``/``.mp4``/``.alac`` → ``audio/mp4`` (RFC 4337), whether AAC or ALAC.
* ``.wv``/``.ape`` have no registered type; the ``x-`` forms are what players send.
"""

from __future__ import annotations

from pathlib import PurePath

__all__ = ["DEFAULT_MIME", "MIME_BY_EXTENSION", "mime_for", "mime_for_format"]

DEFAULT_MIME = "application/octet-stream"

MIME_BY_EXTENSION: dict[str, str] = {
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "m4b": "audio/mp4",
    "mp4": "audio/mp4",
    "alac": "audio/mp4",
    "aac": "audio/aac",
    "adts": "audio/aac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg; codecs=opus",
    "spx": "audio/ogg; codecs=speex",
    "wav": "audio/wav",
    "aif": "audio/aiff",
    "aiff": "audio/aiff",
    "aifc": "audio/aiff",
    "wv": "audio/x-wavpack",
    "ape": "audio/x-ape",
    "mpc": "audio/x-musepack",
    "mka": "audio/x-matroska",
    "webm": "audio/webm",
    "weba": "audio/webm",
    "wma": "audio/x-ms-wma",
    "dsf": "audio/x-dsf",
    "dff": "audio/x-dff",
    "caf": "audio/x-caf",
    "tta": "audio/x-tta",
    "asf": "audio/x-ms-wma",
    "mp+": "audio/x-musepack",
    "mpp": "audio/x-musepack",
    "mp1": "audio/mpeg",
    "mp2": "audio/mpeg",
    "mpa": "audio/mpeg",
    "ac3": "audio/ac3",
    "eac3": "audio/eac3",
    "w64": "audio/x-w64",
    "tak": "audio/x-tak",
    "dts": "audio/vnd.dts",
    "shn": "audio/x-shorten",
    "au": "audio/basic",
    "amr": "audio/amr",
    "ra": "audio/x-pn-realaudio",
    "vqf": "audio/x-twinvq",
}

# transcode output formats (see transcode.FORMATS)
_FORMAT_MIME = {
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
}


def mime_for(path: str | PurePath) -> str:
    """The MIME type for a file name; ``application/octet-stream`` if unknown."""
    suffix = PurePath(path).suffix.lower().lstrip(".")
    return MIME_BY_EXTENSION.get(suffix, DEFAULT_MIME)


def mime_for_format(fmt: str) -> str:
    """The MIME type of a transcode output format name."""
    return _FORMAT_MIME[fmt]
