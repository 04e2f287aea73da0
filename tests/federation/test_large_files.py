"""A long recording held by two members, played through a third node (issue 18, defect 1).

Three real nodes (processes, TLS, the real CLI): B and C hold the same 20-minute
WAV (211 MB, two leaf pages); A holds nothing and a Subsonic client asks A for
``stream?format=raw``. Every byte must arrive, verified, and when the serving
holder is SIGKILLed mid-stream the client must not wait more than 0.5 s.
SONANTICA_SOAK=1 uses a 1.5 GB file (12 leaf pages) instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import httpx
import pytest

from tests.support.audio import long_wav
from tests.support.federation import cli, make_node, search_titles, stop_all, wait_for

SOAK = os.environ.get("SONANTICA_SOAK") == "1"
MINUTES = 148 if SOAK else 20  # 1.5 GB or 211 MB of 16-bit stereo 44.1 kHz
FAILOVER_GAP_S = 0.5
FAILOVER_WINDOW_S = 5.0


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    """(a, b, c, subsonic params, song, sha256, size): B and C hold the long WAV, A streams it."""
    root = tmp_path_factory.mktemp("large")
    # A keeps no chunks (peer_cache_mb = 0): every stream really comes from B or C
    a, b, c = make_node(root, "A", peer_cache_mb=0), make_node(root, "B"), make_node(root, "C")
    wav = b.music / "Live/Session/01 - Live session.wav"
    sha = long_wav(wav, MINUTES)
    (c.music / "Live/Session").mkdir(parents=True)
    os.link(wav, c.music / "Live/Session/01 - Live session.wav")
    try:
        for n in (a, b, c):
            n.start()
        b.join(a.invite("--uses", "2"))
        c.join(a.invite())
        wait_for(lambda: search_titles(a, "live") == ["Live session"], timeout=60, what="the long recording on A")
        with a.client() as client:
            track = client.get("/api/v1/search", params={"q": "live"}).json()["tracks"][0]
            wait_for(lambda: len(client.get(f"/api/v1/tracks/{track['id']}").json()["holders"]) == 2,
                     timeout=60, what="both B and C listed as holders")
            pw = client.post("/api/v1/me/subsonic-password").json()["password"]
        params = {"u": "owner", "p": pw, "c": "test", "v": "1.16.1", "f": "json"}
        songs = httpx.get(a.url + "/rest/search3", params={**params, "query": "live"}).json()
        song = songs["subsonic-response"]["searchResult3"]["song"][0]
        yield a, b, c, params, song, sha, wav.stat().st_size
    finally:
        stop_all([a, b, c])


def _stream(a, params, song, on_piece=None) -> tuple[str, int, int]:
    """Subsonic ``stream?format=raw`` from A: (sha256, bytes, status)."""
    digest, received = hashlib.sha256(), 0
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", a.url + "/rest/stream", params={**params, "id": song["id"], "format": "raw"}) as r:
            for piece in r.iter_raw(256 * 1024):
                digest.update(piece)
                received += len(piece)
                if on_piece is not None:
                    on_piece(received)
            return digest.hexdigest(), received, r.status_code


def test_a_long_recording_streams_byte_exact_from_members(long_recording):
    a, b, c, params, song, sha, size = long_recording
    t0 = time.monotonic()
    got, received, status = _stream(a, params, song)
    seconds = time.monotonic() - t0
    assert status == 200 and received == size, f"{received} of {size} bytes arrived"
    assert got == sha
    print(f"\n{size / 1e6:.0f} MB through A in {seconds:.1f} s ({size / 1e6 / seconds:.0f} MB/s)")
    # a Range request in the second leaf page, as a player seeking near the end asks
    start = size - 3 * 2**20 - 12345
    r = httpx.get(a.url + "/rest/stream", params={**params, "id": song["id"], "format": "raw"},
                  headers={"Range": f"bytes={start}-"}, timeout=30)
    assert r.status_code == 206 and len(r.content) == size - start
    with open(b.music / "Live/Session/01 - Live session.wav", "rb") as f:
        f.seek(start)
        assert r.content == f.read()
    log = (a.data / "serve.log").read_text()
    assert "TransferFailed" not in log
    assert "leaves?page=1 \"HTTP/1.1 200" in log and " 202" not in log  # two pages, computed ahead


def test_holders_that_lost_their_leaf_hashes_recompute_them_while_the_asker_waits(long_recording):
    """Leaves hashed before a node kept them (or deleted): the holder hashes in the background,
    answers 202 with its progress, and the asker waits for it instead of calling it stalled."""
    a, b, c, params, song, sha, size = long_recording
    for holder in (b, c):
        for path in (holder.data / "cache" / "file-leaves").iterdir():
            path.unlink()
    for path in (a.data / "cache" / "peer-chunks" / "leaves").iterdir():
        path.unlink()
    got, received, status = _stream(a, params, song)
    assert status == 200 and received == size and got == sha
    log = (b.data / "serve.log").read_text() + (c.data / "serve.log").read_text()
    assert "leaf hashes of" in log and "computed" in log
    assert "leaves?page=0 \"HTTP/1.1 202" in (a.data / "serve.log").read_text()


def test_the_serving_holder_killed_mid_stream_every_byte_arrives_within_half_a_second(long_recording):
    """The failover window (the 5 s after the kill: buffered bytes, the lost connection, the other
    holder's first bytes) has no wait over 0.5 s; later waits are the machine's, reported only."""
    a, b, c, params, song, sha, size = long_recording
    before = _fetched(a)
    state = {"killed": None, "at": 0.0, "last": 0.0, "gap": 0.0, "later": 0.0}

    def on_piece(received: int) -> None:
        now = time.monotonic()
        if state["killed"] is not None:
            key = "gap" if now - state["at"] <= FAILOVER_WINDOW_S else "later"
            state[key] = max(state[key], now - state["last"])
        state["last"] = now
        if state["killed"] is None and received > size // 3:
            source = _serving_holder(a, b, c, before)
            source.kill()
            state["killed"] = source
            state["at"] = state["last"] = time.monotonic()

    got, received, status = _stream(a, params, song, on_piece)
    assert state["killed"] is not None and state["killed"].proc.poll() is not None
    assert status == 200 and received == size and got == sha
    print(f"\nlongest wait after the holder died: {state['gap'] * 1000:.0f} ms "
          f"(later in the stream: {state['later'] * 1000:.0f} ms)")
    assert state["gap"] <= FAILOVER_GAP_S, f"the stream stalled {state['gap']:.2f} s after the holder died"
    survivor = c if state["killed"] is b else b
    time.sleep(2.1)  # A flushes its per-peer counters every 2 s
    assert _fetched(a)[survivor.node_id()] - before.get(survivor.node_id(), 0) > 0, "the survivor took over"


def _fetched(a) -> dict[str, int]:
    """Bytes A has fetched from each member (as `sonantica peers --json` says)."""
    return {p["id"]: p["bytes_fetched"] for p in json.loads(cli(a.data, "peers", "--json").stdout)}


def _serving_holder(a, b, c, before: dict[str, int]):
    """The holder that has sent A the most bytes since ``before`` (A flushes its counters every 2 s)."""
    time.sleep(2.1)
    fetched = _fetched(a)
    return max((b, c), key=lambda n: fetched.get(n.node_id(), 0) - before.get(n.node_id(), 0))


