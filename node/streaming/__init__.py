"""Streaming originals and transcodes: the library the HTTP layer mounts.

A handler is a thin wrapper (quart-trio)::

    resp = await serve_original(path, request.headers, method=request.method,
                                download_name=name_or_None, content_id=file_id)
    return quart.Response(resp.body, status=resp.status, headers=resp.headers)

    resp = await serve_transcode(path, TranscodeSpec("opus", 128_000, offset),
                                 request.headers, method=request.method,
                                 limiter=limiter, cache=cache, source_identity=file_id)

Errors to map: SourceUnavailable → 404, TranscodeFailed → 422, OffsetPastEnd → 416,
TranscodeBusy → 503 + Retry-After, ValueError from TranscodeSpec → 400.
"""

from .cache import CacheWriter, TranscodeCache, cache_key
from .errors import OffsetPastEnd, SourceUnavailable, StreamingError, TranscodeBusy, TranscodeFailed
from .mime import mime_for, mime_for_format
from .originals import EmptyBody, FileBody, StreamResponse, content_disposition, serve_file, serve_original
from .ranges import ByteSpan, Decision, FileFacts, decide, make_etag
from .transcode import FORMATS, TranscodeLimiter, TranscodeSpec, TranscodeStream, serve_transcode, start_transcode

__all__ = [
    "FORMATS",
    "ByteSpan",
    "CacheWriter",
    "Decision",
    "EmptyBody",
    "FileBody",
    "FileFacts",
    "OffsetPastEnd",
    "SourceUnavailable",
    "StreamResponse",
    "StreamingError",
    "TranscodeBusy",
    "TranscodeCache",
    "TranscodeFailed",
    "TranscodeLimiter",
    "TranscodeSpec",
    "TranscodeStream",
    "cache_key",
    "content_disposition",
    "decide",
    "make_etag",
    "mime_for",
    "mime_for_format",
    "serve_file",
    "serve_original",
    "serve_transcode",
    "start_transcode",
]
