"""The transcode cache: atomic entries, LRU under the bound, crash safety, serving with Range."""

from __future__ import annotations

import os
import time

import pytest
import trio

from sonantica.node.streaming import (
    SourceUnavailable,
    TranscodeCache,
    TranscodeLimiter,
    TranscodeSpec,
    cache_key,
    serve_transcode,
)
from sonantica.node.streaming.testing import make_audio

SPEC = TranscodeSpec("opus", 96_000)


async def put(cache: TranscodeCache, key: str, data: bytes) -> None:
    def work():
        w = cache.writer(key)
        w.write(data)
        w.commit()

    await trio.to_thread.run_sync(work)


async def body_bytes(resp) -> bytes:
    try:
        return b"".join([c async for c in resp.body])
    finally:
        await resp.body.aclose()


def test_key_covers_identity_format_bitrate_offset():
    keys = {
        cache_key("a", SPEC),
        cache_key("b", SPEC),
        cache_key("a", TranscodeSpec("mp3", 96_000)),
        cache_key("a", TranscodeSpec("opus", 128_000)),
        cache_key("a", TranscodeSpec("opus", 96_000, 1.5)),
    }
    assert len(keys) == 5 and all(len(k) == 32 and k.isalnum() for k in keys)
    assert cache_key("a", SPEC) == cache_key("a", TranscodeSpec("opus", 96_000, 0.0001))


async def test_commit_then_get(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 10_000)
    assert await cache.get("k") is None
    await put(cache, "k", b"x" * 100)
    path = await cache.get("k")
    assert path.read_bytes() == b"x" * 100 and cache.total_bytes == 100
    assert os.listdir(cache.tmp_dir) == []


async def test_abort_and_uncommitted_writes_leave_nothing(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 10_000)
    w = cache.writer("k")
    w.write(b"partial")
    assert len(os.listdir(cache.tmp_dir)) == 1 and await cache.get("k") is None
    w.abort()
    assert os.listdir(cache.tmp_dir) == [] and await cache.get("k") is None


async def test_lru_eviction_under_the_bound(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 3000)
    for k in "abc":
        await put(cache, k, b"x" * 1000)
    assert await cache.get("a") is not None  # a is now the most recently used
    await put(cache, "d", b"x" * 1000)
    assert cache.keys() == ["c", "a", "d"] and cache.total_bytes == 3000
    assert sorted(os.listdir(cache.entries_dir)) == ["a", "c", "d"]
    await put(cache, "e", b"x" * 2500)
    assert cache.keys() == ["e"] and cache.total_bytes == 2500


async def test_entry_larger_than_the_cache_is_not_kept(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 100)
    w = cache.writer("big")
    w.write(b"x" * 60)
    w.write(b"x" * 60)
    assert w.commit() is None
    assert await cache.get("big") is None and os.listdir(cache.tmp_dir) == []


async def test_crash_leftovers_are_cleaned_and_lru_survives_restart(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 10_000)
    for k in "ab":
        await put(cache, k, b"y" * 10)
    os.utime(cache.entries_dir / "a", ns=(time.time_ns(), time.time_ns() + 10**9))  # a used last
    # a crash mid-write: a temp file named like the key, never committed
    (cache.tmp_dir / "c.deadbeef").write_bytes(b"half a transcode")
    reopened = await TranscodeCache.open(tmp_path / "c", 10_000)
    assert os.listdir(reopened.tmp_dir) == []
    assert await reopened.get("c") is None
    assert reopened.keys() == ["b", "a"] and reopened.total_bytes == 20
    shrunk = await TranscodeCache.open(tmp_path / "c", 15)
    assert shrunk.keys() == ["a"]


async def test_entry_deleted_behind_our_back_is_a_miss(tmp_path):
    cache = await TranscodeCache.open(tmp_path / "c", 10_000)
    await put(cache, "k", b"z")
    os.unlink(cache.entries_dir / "k")
    assert await cache.get("k") is None and cache.total_bytes == 0


async def test_serve_transcode_fills_the_cache_then_serves_ranges_from_it(tmp_path):
    src = make_audio(tmp_path / "in", "flac16", 2.0)
    cache = await TranscodeCache.open(tmp_path / "c", 10_000_000)
    limiter = TranscodeLimiter(2)
    live = await serve_transcode(src, SPEC, {"Range": "bytes=10-"}, limiter=limiter, cache=cache)
    assert live.status == 200 and live.header("X-Transcode-Cache") == "miss"
    assert live.header("Content-Length") is None and live.header("Accept-Ranges") == "none"
    full = await body_bytes(live)
    assert len(cache.keys()) == 1

    hit = await serve_transcode(src, SPEC, {}, limiter=limiter, cache=cache)
    assert hit.status == 200 and hit.header("X-Transcode-Cache") == "hit"
    assert hit.header("Content-Length") == str(len(full))
    assert hit.header("Content-Type") == "audio/ogg; codecs=opus"
    assert await body_bytes(hit) == full

    part = await serve_transcode(src, SPEC, {"Range": "bytes=100-199"}, limiter=limiter, cache=cache)
    assert part.status == 206 and await body_bytes(part) == full[100:200]
    etag = part.header("ETag")
    again = await serve_transcode(src, SPEC, {"If-None-Match": etag}, limiter=limiter, cache=cache)
    assert again.status == 304
    assert limiter.in_use == 0


async def test_abandoned_transcode_does_not_enter_the_cache(tmp_path):
    src = make_audio(tmp_path / "in", "flac16", 60.0)
    cache = await TranscodeCache.open(tmp_path / "c", 10_000_000)
    resp = await serve_transcode(src, SPEC, {}, cache=cache, source_identity="track-1")
    await resp.body.__anext__()
    await resp.body.aclose()
    assert cache.keys() == [] and os.listdir(cache.tmp_dir) == []


async def test_head_starts_nothing(tmp_path):
    src = make_audio(tmp_path / "in", "flac16", 1.0)
    limiter = TranscodeLimiter(1)
    resp = await serve_transcode(src, SPEC, {}, method="HEAD", limiter=limiter)
    assert resp.status == 200 and await body_bytes(resp) == b"" and limiter.in_use == 0
    with pytest.raises(SourceUnavailable):
        await serve_transcode(tmp_path / "gone.flac", SPEC, {}, method="HEAD")
