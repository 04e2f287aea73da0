"""Several real nodes (processes, TLS, the real CLI): invite, join, convergence, streaming, revocation."""

import contextlib
import hashlib
import signal
import json
import time

import httpx
import pytest

from tests.support.audio import make_track
from tests.support.federation import cli, make_node, search_titles, stop_all, wait_for


@pytest.fixture(scope="module")
def trio_nodes(tmp_path_factory):
    """A, B, C with their own music; A invites B, B invites C. Yields (a, b, c).

    One federation for the module (starting three nodes is most of each test's time); the test
    that revokes C comes last."""
    tmp_path = tmp_path_factory.mktemp("trio")
    nodes = []
    for i, name in enumerate("ABC"):
        node = make_node(tmp_path, name)
        make_track(node.music / f"{name}/Record {name}/01 - Song of {name}.flac", "flac",
                   {"title": f"Song of {name}", "artist": f"Artist {name}", "album": f"Record {name}"},
                   seed=i, seconds=3)
        nodes.append(node)
    a, b, c = nodes
    try:
        for n in nodes:
            n.start()
        b.join(a.invite())
        c.join(b.invite())
        yield a, b, c
    finally:
        stop_all(nodes)


def test_invite_join_chain_converges_everywhere(trio_nodes):
    a, b, c = trio_nodes
    want = ["Song of A", "Song of B", "Song of C"]
    for node in (a, b, c):
        wait_for(lambda: search_titles(node, "song") == want, what=f"{node.name} sees every member's music")
    peers = json.loads(cli(a.data, "peers", "--json").stdout)
    assert len(peers) == 3 and sum(p["self"] for p in peers) == 1
    names = wait_for(lambda: {p["name"] for p in json.loads(cli(a.data, "peers", "--json").stdout)} >= {"Node B", "Node C"}
                     and json.loads(cli(a.data, "peers", "--json").stdout), what="names via hello")
    assert all(not p["revoked"] for p in names)


def test_track_held_only_by_c_streams_byte_exact_through_a(trio_nodes):
    a, b, c = trio_nodes
    wait_for(lambda: "Song of C" in search_titles(a, "song"), what="C's music on A")
    original = (c.music / "C/Record C/01 - Song of C.flac").read_bytes()
    with a.client() as client:
        track = next(t for t in client.get("/api/v1/search", params={"q": "song of c"}).json()["tracks"])
        r = client.get(track["stream_url"], params={"format": "raw"})
        assert r.status_code == 200 and r.content == original
        r = client.get(track["stream_url"], params={"format": "raw"}, headers={"Range": "bytes=5000-"})
        assert r.status_code == 206 and r.content == original[5000:]
    c_id = c.node_id()
    wait_for(lambda: next(p for p in json.loads(cli(a.data, "peers", "--json").stdout)
                          if p["id"] == c_id)["bytes_fetched"] >= len(original), what="bytes fetched counted")


def test_a_share_of_a_members_track_streams_through_this_node(trio_nodes):
    """A's owner shares C's song and C's album: a visitor of A's link gets C's bytes, through A."""
    a, b, c = trio_nodes
    wait_for(lambda: "Song of C" in search_titles(a, "song"), what="C's music on A")
    original = (c.music / "C/Record C/01 - Song of C.flac").read_bytes()
    with a.client() as client:
        track = next(t for t in client.get("/api/v1/search", params={"q": "song of c"}).json()["tracks"])
        r = client.post("/api/v1/shares", json={"ids": [track["id"], track["album_id"]], "downloadable": True})
        assert r.status_code == 201, r.text
        share = r.json()
    assert share["url"].startswith(a.url + "/s/")
    with httpx.Client(timeout=30) as visitor:  # no account, no cookie
        page = visitor.get(share["url"])
        assert page.status_code == 200 and "Song of C" in page.text
        r = visitor.get(share["url"] + "/stream/0", headers={"Range": "bytes=0-"})  # loopback: the original
        assert r.status_code in (200, 206) and r.content == original
        r = visitor.get(share["url"] + "/download/1")  # the album's song, as a file
        assert r.status_code == 200 and r.content == original and "attachment" in r.headers["content-disposition"]
    with a.client() as client:
        assert client.delete(f"/api/v1/shares/{share['id']}").status_code == 204


def test_subsonic_clients_see_the_federation(trio_nodes):
    a, b, c = trio_nodes
    wait_for(lambda: len(search_titles(a, "song")) == 3, what="convergence")
    with a.client() as client:
        pw = client.post("/api/v1/me/subsonic-password").json()["password"]
    params = {"u": "owner", "p": pw, "c": "test", "v": "1.16.1", "f": "json"}
    r = httpx.get(a.url + "/rest/search3", params={**params, "query": "song"}).json()["subsonic-response"]
    assert sorted(s["title"] for s in r["searchResult3"]["song"]) == ["Song of A", "Song of B", "Song of C"]
    folders = httpx.get(a.url + "/rest/getMusicFolders", params=params).json()["subsonic-response"]
    names = [f["name"] for f in folders["musicFolders"]["musicFolder"]]
    assert len(names) == 3 and "Node B" in names and "Node C" in names


def test_revoked_node_is_refused_everywhere(trio_nodes):
    a, b, c = trio_nodes
    wait_for(lambda: len(search_titles(c, "song")) == 3, what="convergence")
    c_id = c.node_id()
    cli(a.data, "revoke", c_id)
    for node in (a, b):
        wait_for(lambda: search_titles(node, "song") == ["Song of A", "Song of B"], what=f"{node.name} drops C")
    peers = json.loads(cli(b.data, "peers", "--json").stdout)
    assert next(p for p in peers if p["id"] == c_id)["revoked"]
    # C's signed requests are refused by A's peer API
    from sonantica.node.config import DataDir
    from sonantica.node.federation.client import PeerClient
    from sonantica.node.federation.errors import PeerRejected
    from sonantica.node.federation.runtime import load_identity
    from sonantica.node.federation.tls import pin_of
    import trio

    async def c_asks_a():
        client = PeerClient(load_identity(DataDir(c.data)))
        pin = pin_of((a.data / "peer-cert.pem").read_bytes())
        try:
            await client.call([f"https://127.0.0.1:{a.peer_port}"], pin, "A", "GET", "/peer/v1/hello")
        finally:
            await client.aclose()

    with pytest.raises(PeerRejected, match="revoked"):
        trio.run(c_asks_a)


def test_forged_reused_and_expired_invites_change_nothing(tmp_path):
    a, b, c = (make_node(tmp_path, n) for n in "ABC")
    try:
        for n in (a, b, c):
            n.start()
        code = a.invite("--ttl", "90s")
        # forged: flip one character of a real code
        forged = code[:40] + ("a" if code[40] != "a" else "b") + code[41:]
        r = b.join(forged, check=False)
        assert r.returncode != 0 and r.stderr.count("\n") == 1 and "not valid" in r.stderr
        assert json.loads(cli(b.data, "peers", "--json").stdout) == []
        assert b.join(code).returncode == 0
        r = c.join(code, check=False)  # single use
        assert r.returncode != 0 and "already been used" in r.stderr
        assert json.loads(cli(c.data, "peers", "--json").stdout) == []
        expired = a.invite("--ttl", "1s")
        time.sleep(1.2)
        r = c.join(expired, check=False)
        assert r.returncode != 0 and "expired" in r.stderr
        a.stop()
        r = c.join(a.invite(), check=False)
        assert r.returncode != 0 and "cannot reach" in r.stderr
        assert json.loads(cli(c.data, "peers", "--json").stdout) == []
    finally:
        stop_all([a, b, c])


def test_share_policy_is_enforced_by_the_serving_node(tmp_path):
    a = make_node(tmp_path, "A")
    b = make_node(tmp_path, "B", share="none")
    make_track(b.music / "Secret/01.flac", "flac", {"title": "Private tune", "artist": "B"}, seconds=2)
    try:
        a.start(), b.start()
        b.join(a.invite())
        time.sleep(3)
        assert search_titles(a, "private") == []
    finally:
        stop_all([a, b])


def test_source_killed_mid_stream_every_byte_arrives(tmp_path):
    """A big file held by B and C, streamed through A; the active source is SIGKILLed mid-stream."""
    with _two_holders(tmp_path, seconds=60) as (a, b, c, track, original):
        with a.client() as client:
            digest, received, killed = hashlib.sha256(), 0, None
            with client.stream("GET", track["stream_url"], params={"format": "raw"}) as r:
                assert r.status_code == 200
                for piece in r.iter_raw(64 * 1024):
                    digest.update(piece)
                    received += len(piece)
                    if killed is None and received > len(original) // 4:
                        # kill the source that is serving (B's or C's peer counters say which)
                        source = _active_source(a, b, c)
                        source.kill()
                        killed = source
        assert killed is not None and killed.proc.poll() is not None
        assert received == len(original)
        assert digest.hexdigest() == hashlib.sha256(original).hexdigest()


def _active_source(a, b, c):
    """The holder that has sent A the most bytes so far (A counts bytes fetched per peer)."""
    time.sleep(2.1)  # counters are flushed every 2 s
    fetched = {p["id"]: p["bytes_fetched"] for p in json.loads(cli(a.data, "peers", "--json").stdout)}
    return max((b, c), key=lambda n: fetched.get(n.node_id(), 0))


@contextlib.contextmanager
def _two_holders(tmp_path, seconds: float):
    """A streams; B and C both hold the same WAV of ``seconds``. Yields (a, b, c, track, original bytes)."""
    a, b, c = (make_node(tmp_path, n) for n in "ABC")
    big = make_track(b.music / "Big/01 - Long one.wav", "wav", {"title": "Long one", "artist": "X"}, seconds=seconds)
    (c.music / "Big").mkdir(parents=True)
    (c.music / "Big/01 - Long one.wav").write_bytes(big.read_bytes())
    try:
        for n in (a, b, c):
            n.start()
        b.join(a.invite("--uses", "2"))
        c.join(a.invite())
        wait_for(lambda: search_titles(a, "long") == ["Long one"], what="the big track on A")
        with a.client() as client:
            track = client.get("/api/v1/search", params={"q": "long"}).json()["tracks"][0]
            wait_for(lambda: len(client.get(f"/api/v1/tracks/{track['id']}").json()["holders"]) == 2,
                     what="both B and C listed as holders")
        yield a, b, c, track, big.read_bytes()
    finally:
        for n in (b, c):
            if n.proc and n.proc.poll() is None:
                n.proc.send_signal(signal.SIGCONT)
        stop_all([a, b, c])


@pytest.fixture(scope="module")
def two_holders(tmp_path_factory):
    """One pair of holders for the module: the stall test resumes its stopped holder when it ends,
    the corruption test (which damages C's copy for good) comes after it."""
    with _two_holders(tmp_path_factory.mktemp("holders"), seconds=30) as nodes:
        yield nodes


def test_stalled_source_is_abandoned_within_the_deadline(two_holders):
    a, b, c, track, original = two_holders
    received, stopped, longest_gap = bytearray(), None, 0.0
    try:
        with a.client() as client:
            with client.stream("GET", track["stream_url"], params={"format": "raw"}) as r:
                last = time.monotonic()
                for piece in r.iter_raw(64 * 1024):
                    now = time.monotonic()
                    if stopped is not None:
                        longest_gap = max(longest_gap, now - last)
                    last = now
                    received += piece
                    if stopped is None and len(received) > len(original) // 4:
                        stopped = _active_source(a, b, c)
                        stopped.proc.send_signal(signal.SIGSTOP)  # alive but silent: a stall
                        last = time.monotonic()
    finally:
        if stopped is not None:
            stopped.proc.send_signal(signal.SIGCONT)
    assert bytes(received) == original
    assert longest_gap < 2.0, f"the stream stalled {longest_gap:.2f} s"


def test_corrupted_copy_never_reaches_the_client(two_holders):
    a, b, c, track, original = two_holders
    # C's file is damaged on disk after it was published (same size): its chunks no longer verify
    path = c.music / "Big/01 - Long one.wav"
    damaged = bytearray(path.read_bytes())
    for i in range(300_000, len(damaged), 700_000):
        damaged[i] ^= 0xFF
    path.write_bytes(bytes(damaged))
    for _ in range(3):
        with a.client() as client:
            r = client.get(track["stream_url"], params={"format": "raw"})
        assert r.status_code == 200 and r.content == original


def test_web_app_federation_api_invite_join_members_and_pin(tmp_path):
    """The native API does what the CLI does: invite, join, members, pin (an album survives its holder going away)."""
    a, b = make_node(tmp_path, "A"), make_node(tmp_path, "B")
    make_track(b.music / "Bo/Kept/01 - Keep me.flac", "flac", {"title": "Keep me", "artist": "Bo", "album": "Kept"},
               seconds=4)
    original = (b.music / "Bo/Kept/01 - Keep me.flac").read_bytes()
    try:
        a.start(), b.start()
        with a.client() as ca, b.client() as cb:
            r = ca.post("/api/v1/federation/invites", json={"uses": 1, "ttl": "10m"})
            assert r.status_code == 201
            r = cb.post("/api/v1/federation/join", json={"code": r.json()["code"]})
            assert r.status_code == 201, r.text
            again = cb.post("/api/v1/federation/join", json={"code": "snt1garbage"})
            assert again.status_code == 409 and again.json()["error"]["message"]
            members = wait_for(lambda: (m := ca.get("/api/v1/federation/members").json())["items"]
                               and len(m["items"]) == 2 and all(i["name"] for i in m["items"]) and m,
                               what="both members with names")
            assert {i["name"] for i in members["items"]} == {"Node A", "Node B"}
            wait_for(lambda: search_titles(a, "keep") == ["Keep me"], what="B's album on A")
            album = ca.get("/api/v1/albums").json()["items"][0]
            assert ca.put(f"/api/v1/federation/pins/{album['id']}").status_code == 204
            wait_for(lambda: ca.get("/api/v1/federation/pins").json()["items"][0]["replicated"],
                     what="the pinned album replicated")
        b.stop()
        with a.client() as ca:
            track = ca.get("/api/v1/search", params={"q": "keep"}).json()["tracks"][0]
            r = ca.get(track["stream_url"], params={"format": "raw"})
            assert r.status_code == 200 and r.content == original
    finally:
        stop_all([a, b])
