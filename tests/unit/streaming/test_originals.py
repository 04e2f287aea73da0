"""FileBody and serve_original against real files: byte-exact, bounded, closed promptly."""

from __future__ import annotations

import os
import random

import pytest
import trio

from sonantica.node.streaming import SourceUnavailable, serve_original
from sonantica.node.streaming.originals import MAX_CHUNK_SIZE, FileBody
from sonantica.node.streaming.ranges import ByteSpan
from sonantica.node.streaming.testing import make_audio


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def collect(body) -> bytes:
    return b"".join([c async for c in body])


@pytest.fixture
def flac(tmp_path):
    return make_audio(tmp_path / "song", "flac16", 3.0)


async def test_full_read_is_bit_exact(flac):
    resp = await serve_original(flac, {})
    assert resp.status == 200 and resp.header("Content-Type") == "audio/flac"
    assert await collect(resp.body) == flac.read_bytes()
    assert resp.body.closed


async def test_random_ranges_are_bit_exact(flac):
    data = flac.read_bytes()
    rng = random.Random(1)
    for _ in range(40):
        a = rng.randrange(len(data))
        b = rng.randrange(a, len(data))
        kind = rng.choice(["closed", "open", "suffix"])
        header, want = {
            "closed": (f"bytes={a}-{b}", data[a : b + 1]),
            "open": (f"bytes={a}-", data[a:]),
            "suffix": (f"bytes=-{b + 1}", data[-(b + 1) :]),
        }[kind]
        resp = await serve_original(flac, {"Range": header}, chunk_size=rng.choice([4096, 65536]))
        assert resp.status == 206
        assert int(resp.header("Content-Length")) == len(want)
        assert await collect(resp.body) == want


async def test_chunks_are_bounded(flac):
    resp = await serve_original(flac, {}, chunk_size=MAX_CHUNK_SIZE)
    assert max([len(c) async for c in resp.body]) <= MAX_CHUNK_SIZE
    resp = await serve_original(flac, {"Range": "bytes=100-109"}, chunk_size=1)
    assert [c async for c in resp.body] == [bytes([b]) for b in flac.read_bytes()[100:110]]
    fd = os.open(flac, os.O_RDONLY)
    with pytest.raises(ValueError):
        FileBody(fd, ByteSpan(0, 1), chunk_size=MAX_CHUNK_SIZE + 1)
    os.close(fd)


async def test_no_body_statuses_close_the_file_at_once(flac):
    before = open_fds()
    for headers, method, status in [
        ({"Range": f"bytes={flac.stat().st_size}-"}, "GET", 416),
        ({}, "HEAD", 200),
    ]:
        resp = await serve_original(flac, headers, method=method)
        assert resp.status == status and await collect(resp.body) == b""
    etag = (await serve_original(flac, {}, method="HEAD")).header("ETag")
    resp = await serve_original(flac, {"If-None-Match": etag})
    assert resp.status == 304
    assert open_fds() == before


async def test_aclose_mid_stream_frees_the_file(flac):
    before = open_fds()
    resp = await serve_original(flac, {}, chunk_size=1024)
    assert open_fds() == before + 1
    await resp.body.__anext__()
    await resp.body.aclose()
    assert open_fds() == before


async def test_cancelled_consumer_closes_in_aclose_even_inside_cancelled_scope(flac):
    before = open_fds()
    resp = await serve_original(flac, {}, chunk_size=1)
    with trio.CancelScope() as scope:
        try:
            async for _ in resp.body:
                scope.cancel()
        finally:
            await resp.body.aclose()  # what quart does on disconnect, still cancelled
    assert open_fds() == before


async def test_download_name_and_missing_file(flac, tmp_path):
    resp = await serve_original(flac, {}, download_name="Café.flac", method="HEAD")
    assert resp.header("Content-Disposition") == "attachment; filename=\"Cafe.flac\"; filename*=UTF-8''Caf%C3%A9.flac"
    with pytest.raises(SourceUnavailable):
        await serve_original(tmp_path / "nope.flac", {})
    with pytest.raises(SourceUnavailable):
        await serve_original(tmp_path, {})


async def test_content_id_gives_content_etag(flac):
    a = (await serve_original(flac, {}, content_id="abc", method="HEAD")).header("ETag")
    os.utime(flac, ns=(1, 10**18))
    b = (await serve_original(flac, {}, content_id="abc", method="HEAD")).header("ETag")
    c = (await serve_original(flac, {}, method="HEAD")).header("ETag")
    assert a == b != c
