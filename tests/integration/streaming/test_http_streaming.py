"""Streaming over real HTTP (hypercorn + quart-trio on loopback, httpx client)."""

from __future__ import annotations

import io
import os
import random

import av
import httpx
import trio


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_full_and_random_ranges_are_bit_exact(server):
    url, files, _ = server
    data = files["song.flac"].read_bytes()
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.get("/original/song.flac")
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "audio/flac" and r.headers["accept-ranges"] == "bytes"
        assert r.headers["content-length"] == str(len(data))
        rng = random.Random(7)
        for _ in range(25):
            a = rng.randrange(len(data))
            b = rng.randrange(a, len(data))
            r = await c.get("/original/song.flac", headers={"Range": f"bytes={a}-{b}"})
            assert r.status_code == 206 and r.content == data[a : b + 1]
            assert r.headers["content-range"] == f"bytes {a}-{b}/{len(data)}"
        r = await c.get("/original/song.flac", headers={"Range": "bytes=-100"})
        assert r.status_code == 206 and r.content == data[-100:]
        r = await c.get("/original/song.flac", headers={"Range": f"bytes={len(data)}-"})
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"
        r = await c.get("/original/song.m4a")
        assert r.headers["content-type"] == "audio/mp4"


async def test_head_conditionals_and_if_range(server):
    url, files, _ = server
    size = files["song.flac"].stat().st_size
    async with httpx.AsyncClient(base_url=url) as c:
        h = await c.head("/original/song.flac")
        assert h.status_code == 200 and h.content == b"" and h.headers["content-length"] == str(size)
        etag, lm = h.headers["etag"], h.headers["last-modified"]
        assert (await c.get("/original/song.flac", headers={"If-None-Match": etag})).status_code == 304
        assert (await c.get("/original/song.flac", headers={"If-Modified-Since": lm})).status_code == 304
        r = await c.get("/original/song.flac", headers={"Range": "bytes=0-9", "If-Range": etag})
        assert r.status_code == 206 and len(r.content) == 10
        r = await c.get("/original/song.flac", headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        assert r.status_code == 200 and len(r.content) == size
        r = await c.get("/original/song.flac?download=1")
        assert r.headers["content-disposition"].startswith('attachment; filename="song.flac"')


async def test_client_disconnect_mid_stream_frees_the_file(server):
    url, _, _ = server
    async with httpx.AsyncClient(base_url=url) as c:
        await c.get("/original/song.flac")  # warm up the connection machinery
    baseline = open_fds()
    client = httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_keepalive_connections=0))
    async with client.stream("GET", "/original/long.flac") as r:
        async for _ in r.aiter_raw(1024):
            break
        assert open_fds() > baseline
    await client.aclose()
    with trio.fail_after(5):
        while open_fds() > baseline:
            await trio.sleep(0.02)


async def test_transcode_over_http_and_then_from_cache(server):
    url, _, limiter = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        r = await c.get("/transcode/song.flac", params={"format": "opus", "bitrate": 96000, "offset": 1})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/ogg; codecs=opus"
        assert r.headers["x-transcode-cache"] == "miss"
        with av.open(io.BytesIO(r.content)) as cont:
            s = cont.streams.audio[0]
            n = sum(f.samples for f in cont.decode(s))
        assert abs(n / 48000 - 2.0) < 0.03
        hit = await c.get("/transcode/song.flac", params={"format": "opus", "bitrate": 96000, "offset": 1},
                          headers={"Range": "bytes=0-99"})
        assert hit.status_code == 206 and hit.content == r.content[:100]
        bad = await c.get("/transcode/song.flac", params={"format": "wma"})
        assert bad.status_code == 400
    assert limiter.in_use == 0


async def test_transcode_busy_is_503(server):
    url, _, limiter = server
    holders = [object(), object()]
    for h in holders:
        limiter.acquire_nowait(h)
    try:
        async with httpx.AsyncClient(base_url=url) as c:
            r = await c.get("/transcode/song.flac", params={"format": "aac"})
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
    finally:
        for h in holders:
            limiter.release(h)


async def test_transcode_disconnect_frees_the_slot(server):
    url, _, limiter = server
    client = httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
    async with client.stream("GET", "/transcode/long.flac", params={"format": "mp3", "bitrate": 320000}) as r:
        async for _ in r.aiter_raw():
            break
    await client.aclose()
    with trio.fail_after(5):
        while limiter.in_use:
            await trio.sleep(0.02)
