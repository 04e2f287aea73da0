"""The public surface the HTTP layer depends on; changing it is a decision, not an accident."""

import sonantica.node.streaming as streaming


def test_exported_members():
    assert sorted(streaming.__all__) == sorted(
        [
            "FORMATS", "ByteSpan", "CacheWriter", "Decision", "EmptyBody", "FileBody", "FileFacts",
            "OffsetPastEnd", "SourceUnavailable", "StreamResponse", "StreamingError", "TranscodeBusy", "TranscodeCache",
            "TranscodeFailed", "TranscodeLimiter", "TranscodeSpec", "TranscodeStream", "cache_key",
            "content_disposition", "decide", "make_etag", "mime_for", "mime_for_format", "serve_file",
            "serve_original", "serve_transcode", "start_transcode",
        ]
    )
    for name in streaming.__all__:
        module = getattr(getattr(streaming, name), "__module__", "sonantica.node.streaming")
        assert module.startswith("sonantica.node.streaming"), name


def test_errors_share_one_base():
    for exc in (streaming.SourceUnavailable, streaming.TranscodeBusy, streaming.TranscodeFailed,
                streaming.OffsetPastEnd):
        assert issubclass(exc, streaming.StreamingError)
