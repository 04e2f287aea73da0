"""Playing tracks through the node's API: bit-exact originals with Range, transcodes, limits."""

import io
import os
import random

import av
import pytest
import trio

from tests.support.audio import make_track
from tests.support.node import init_node, running_node


@pytest.fixture
def data(tmp_path, music):
    make_track(music / "A/Big/01 - Long.flac", "flac", {"title": "Long", "artist": "A", "album": "Big"}, seconds=20)
    make_track(music / "A/Big/02 - Short.mp3", "mp3", {"title": "Short", "artist": "A", "album": "Big"}, seconds=3, seed=2)
    return init_node(tmp_path / "data", music)


async def _track(c, title):
    items = (await c.get("/api/v1/tracks")).json()["items"]
    return next(t for t in items if t["title"] == title)


def _decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as f:
        stream = f.streams.audio[0]
        samples = sum(frame.samples for frame in f.decode(stream))
        return samples / stream.rate


async def test_original_is_bit_exact_with_ranges(data, music):
    original = (music / "A/Big/01 - Long.flac").read_bytes()
    size = len(original)
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Long")
        url = t["stream_url"] + "?format=raw"
        r = await c.get(url)
        assert r.status_code == 200 and r.content == original
        assert r.headers["content-type"] == "audio/flac" and r.headers["accept-ranges"] == "bytes"
        etag = r.headers["etag"]
        rng = random.Random(7)
        for _ in range(20):
            a = rng.randrange(size)
            b = rng.randrange(a, size)
            r = await c.get(url, headers={"Range": f"bytes={a}-{b}"})
            assert r.status_code == 206 and r.content == original[a : b + 1]
            assert r.headers["content-range"] == f"bytes {a}-{b}/{size}"
        r = await c.get(url, headers={"Range": "bytes=-100"})
        assert r.status_code == 206 and r.content == original[-100:]
        r = await c.get(url, headers={"Range": f"bytes={size - 10}-"})
        assert r.content == original[-10:]
        r = await c.get(url, headers={"Range": f"bytes={size + 5}-"})
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
        r = await c.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
        assert r.status_code == 206
        r = await c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        assert r.status_code == 200 and len(r.content) == size
        r = await c.get(url, headers={"If-None-Match": etag})
        assert r.status_code == 304
        r = await c.head(url)
        assert r.status_code == 200 and int(r.headers["content-length"]) == size and r.content == b""


async def test_download_has_file_name(data):
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Short")
        r = await c.get(f"/api/v1/tracks/{t['id']}/download")
        assert r.status_code == 200 and "02 - Short.mp3" in r.headers["content-disposition"]


@pytest.mark.parametrize("fmt, mime", [("opus", "audio/ogg"), ("mp3", "audio/mpeg"), ("aac", "audio/aac")])
async def test_transcodes_decode_to_the_right_length(data, fmt, mime):
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Long")
        r = await c.get(t["stream_url"], params={"format": fmt, "bitrate": 96})
        assert r.status_code == 200 and r.headers["content-type"].startswith(mime)
        assert abs(_decoded_seconds(r.content) - 20.0) < 0.2
        r = await c.get(t["stream_url"], params={"format": fmt, "bitrate": 96, "offset": 12.5})
        assert abs(_decoded_seconds(r.content) - 7.5) < 0.2


async def test_default_format_local_client_gets_original(data, music):
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Long")
        r = await c.get(t["stream_url"])
        assert r.content == (music / "A/Big/01 - Long.flac").read_bytes()


async def test_bad_stream_parameters(data):
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Long")
        for params in ({"format": "wma"}, {"offset": "-3"}, {"offset": "abc"}, {"bitrate": "x"}):
            r = await c.get(t["stream_url"], params=params)
            assert r.status_code == 400, params


async def test_transcode_limit_gives_a_clear_error(data):
    async with running_node(data, max_transcodes=1) as node:
        c = await node.login()
        t = await _track(c, "Long")
        async with c.stream("GET", t["stream_url"], params={"format": "opus", "bitrate": 64}) as first:
            assert first.status_code == 200
            r = await c.get(t["stream_url"], params={"format": "mp3", "bitrate": 128})
            assert r.status_code == 503 and r.json()["error"]["code"] == "transcode_busy"
            assert r.headers["retry-after"]


async def test_disconnect_mid_stream_frees_the_file(data):
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Long")
        await c.get("/api/v1/tracks")  # warm connections
        baseline = open_fds()
        for _ in range(5):
            async with node.client(cookies=c.cookies) as other:
                async with other.stream("GET", t["stream_url"], params={"format": "raw"}) as r:
                    async for _chunk in r.aiter_raw(1024):
                        break
        with trio.fail_after(5):
            while open_fds() > baseline + 2:
                await trio.sleep(0.05)


async def test_missing_file_is_a_clear_404(data, music):
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Short")
        os.unlink(music / "A/Big/02 - Short.mp3")
        r = await c.get(t["stream_url"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_paths_outside_the_library_are_never_served(data, tmp_path):
    """Even a database row pointing outside the roots (by '..' or a symlink) is refused."""
    import sqlite3

    secret = tmp_path / "secret.flac"
    secret.write_bytes(b"fLaC private")
    async with running_node(data) as node:
        c = await node.login()
        t = await _track(c, "Short")
        conn = sqlite3.connect(data.db_path)
        conn.execute("UPDATE track SET path = ? WHERE id = ?", ("../../secret.flac", t["id"]))
        conn.commit()
        conn.close()
        r = await c.get(t["stream_url"], params={"format": "raw"})
        assert r.status_code in (400, 404) and b"private" not in r.content
