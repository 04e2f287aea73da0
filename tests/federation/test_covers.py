"""Members' covers on real nodes: served through the native API and getCoverArt, verified, cached,
refused outside the holder's share policy, and a holder that is away costs a short wait for a placeholder at most."""

import io
import json
import shutil
import signal
import time

import httpx
import pytest
import trio
from PIL import Image

from tests.support.audio import jpeg, make_track
from tests.support.federation import NodeProc, free_port, make_node, stop_all, wait_for
from tests.support.node import init_node

RED, BLUE, YELLOW, GREEN = (jpeg(300, c) for c in ((200, 30, 60), (20, 40, 220), (230, 210, 20), (10, 200, 40)))


def _b_with_two_folders(root) -> NodeProc:
    """B shares its "shared" folder only; "private" holds a song with its own cover."""
    shared, private = root / "music-B", root / "private-B"
    shared.mkdir(), private.mkdir()
    data = init_node(root / "data-B", [shared, private], name="Node B", watch=False, share="folders",
                     share_folders=(str(shared),))
    make_track(private / "Secret/Hidden/01 - Hidden.flac", "flac",
               {"title": "Hidden", "artist": "Bo", "album": "Hidden"}, cover=GREEN, seed=9)
    return NodeProc("B", data.root, shared, free_port(), free_port())


@pytest.fixture
def cover_nodes(tmp_path):
    """A asks; B holds Painted (embedded), Framed (cover.jpg), Lonely (embedded), Plain (none);
    C holds a copy of Framed."""
    a, c = make_node(tmp_path, "A"), make_node(tmp_path, "C")
    b = _b_with_two_folders(tmp_path)
    make_track(b.music / "Bo/Painted/01 - Red.flac", "flac",
               {"title": "Red", "artist": "Bo", "album": "Painted", "tracknumber": "1"}, cover=RED, seed=1)
    make_track(b.music / "Bo/Painted/02 - Also red.flac", "flac",
               {"title": "Also red", "artist": "Bo", "album": "Painted", "tracknumber": "2"}, seed=2)
    make_track(b.music / "Bo/Framed/01 - Framed.flac", "flac",
               {"title": "Framed", "artist": "Bo", "album": "Framed"}, seed=3)
    (b.music / "Bo/Framed/cover.jpg").write_bytes(BLUE)
    make_track(b.music / "Bo/Lonely/01 - Lonely.flac", "flac",
               {"title": "Lonely", "artist": "Bo", "album": "Lonely"}, cover=YELLOW, seed=4)
    make_track(b.music / "Bo/Plain/01 - Plain.flac", "flac", {"title": "Plain", "artist": "Bo", "album": "Plain"},
               seed=5)
    shutil.copytree(b.music / "Bo/Framed", c.music / "Bo/Framed")
    nodes = [a, b, c]
    try:
        for n in nodes:
            n.start()
        b.join(a.invite("--uses", "2"))
        c.join(a.invite())
        with a.client() as client:
            def covered():
                albums = {al["name"]: al for al in client.get("/api/v1/albums").json()["items"]}
                ok = set(albums) == {"Painted", "Framed", "Lonely", "Plain"} and all(
                    albums[n]["cover_url"] for n in ("Painted", "Framed", "Lonely"))
                return ok and albums
            wait_for(covered, timeout=40, what="B's albums on A, with their cover hints")
            framed = next(t for t in client.get("/api/v1/tracks").json()["items"] if t["title"] == "Framed")
            wait_for(lambda: len(client.get(f"/api/v1/tracks/{framed['id']}").json()["holders"]) == 2,
                     what="B and C both hold Framed")
        yield a, b, c
    finally:
        if b.proc and b.proc.poll() is None:
            b.proc.send_signal(signal.SIGCONT)
        stop_all(nodes)


def _albums(client) -> dict:
    return {al["name"]: al for al in client.get("/api/v1/albums").json()["items"]}


def _image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _subsonic(node, client):
    pw = client.post("/api/v1/me/subsonic-password").json()["password"]
    params = {"u": "owner", "p": pw, "c": "test", "v": "1.16.1", "f": "json"}

    def call(method, **extra):
        return httpx.get(f"{node.url}/rest/{method}", params={**params, **extra}, timeout=30)
    return call


def test_members_covers_through_the_native_api_and_subsonic(cover_nodes):
    a, b, c = cover_nodes
    with a.client() as client:
        albums = _albums(client)
        assert albums["Plain"]["cover_url"] is None
        r = client.get(albums["Painted"]["cover_url"])
        assert r.status_code == 200 and r.content == RED and r.headers["content-type"] == "image/jpeg"
        r = client.get(albums["Framed"]["cover_url"])  # a folder image, not an embedded picture
        assert r.status_code == 200 and r.content == BLUE
        r = client.get(albums["Painted"]["cover_url"], params={"size": 64})
        im = _image(r.content)
        assert r.status_code == 200 and im.format == "JPEG" and max(im.size) == 64
        assert im.getpixel((32, 32))[0] > 150  # still red
        # every track of Painted shows the album's cover, also the one without a picture of its own
        tracks = client.get(f"/api/v1/albums/{albums['Painted']['id']}").json()["tracks"]
        assert [t["title"] for t in tracks] == ["Red", "Also red"]
        assert {t["cover_url"] for t in tracks} == {albums["Painted"]["cover_url"]}
        plain = client.get(f"/api/v1/albums/{albums['Plain']['id']}").json()["tracks"][0]
        assert plain["cover_url"] is None
        rest = _subsonic(a, client)
    listed = rest("getAlbumList2", type="alphabeticalByName", size=50).json()["subsonic-response"]
    by_name = {al["name"]: al for al in listed["albumList2"]["album"]}
    r = rest("getCoverArt", id=by_name["Painted"]["coverArt"])
    assert r.status_code == 200 and r.content == RED
    r = rest("getCoverArt", id=by_name["Framed"]["coverArt"], size=100)
    assert r.status_code == 200 and max(_image(r.content).size) <= 128
    song = rest("getAlbum", id=by_name["Painted"]["id"]).json()["subsonic-response"]["album"]["song"][1]
    assert rest("getCoverArt", id=song["coverArt"]).content == RED
    r = rest("getCoverArt", id=by_name["Plain"]["coverArt"])  # a member's album without art: a placeholder
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and _image(r.content).format == "PNG"
    for album in by_name.values():  # every advertised id answers an image
        assert rest("getCoverArt", id=album["coverArt"], size=64).headers["content-type"].startswith("image/")
    for artist in (a for i in rest("getArtists").json()["subsonic-response"]["artists"]["index"] for a in i["artist"]):
        assert rest("getCoverArt", id=artist["coverArt"]).headers["content-type"].startswith("image/")


def test_holder_serves_covers_of_shared_tracks_only(cover_nodes):
    """Asked directly, with A's signed request: B gives Red's cover, not the one of its private song."""
    a, b, c = cover_nodes
    from sonantica.node.config import DataDir
    from sonantica.node.federation.catalogue import compute_file_id
    from sonantica.node.federation.client import PeerClient
    from sonantica.node.federation.errors import PeerRejected
    from sonantica.node.federation.runtime import load_identity
    from sonantica.node.federation.tls import pin_of

    shared_id = compute_file_id(str(b.music / "Bo/Painted/01 - Red.flac"))
    private_id = compute_file_id(str(b.data.parent / "private-B/Secret/Hidden/01 - Hidden.flac"))
    pin = pin_of((b.data / "peer-cert.pem").read_bytes())
    address = f"https://127.0.0.1:{b.peer_port}"

    async def ask(file_id: str) -> bytes:
        client = PeerClient(load_identity(DataDir(a.data)))
        try:
            return await client.call([address], pin, b.node_id(), "GET", f"/peer/v1/cover/{file_id}")
        finally:
            await client.aclose()

    assert trio.run(ask, shared_id) == RED
    with pytest.raises(PeerRejected, match="404"):
        trio.run(ask, private_id)
    with pytest.raises(PeerRejected, match="400"):
        trio.run(ask, "f1" + "zz" * 32)
    # unsigned: refused before anything is read
    r = httpx.get(f"{address}/peer/v1/cover/{shared_id}", verify=False)
    assert r.status_code == 401 and RED not in r.content
    with a.client() as client:
        assert "Hidden" not in _albums(client)


def test_holder_away_cached_cover_served_other_holder_used_missing_cover_placeholder_quickly(cover_nodes):
    a, b, c = cover_nodes
    with a.client() as client:
        albums = _albums(client)
        assert client.get(albums["Painted"]["cover_url"]).content == RED  # now cached on A
        b.proc.send_signal(signal.SIGSTOP)  # alive but silent: the worst kind of away
        try:
            t0 = time.monotonic()
            r = client.get(albums["Painted"]["cover_url"])
            assert r.status_code == 200 and r.content == RED and time.monotonic() - t0 < 1.0
            r = client.get(albums["Painted"]["cover_url"], params={"size": 128})
            assert r.status_code == 200 and max(_image(r.content).size) == 128
            t0 = time.monotonic()
            r = client.get(albums["Framed"]["cover_url"])  # never fetched: C has it too
            assert r.status_code == 200 and r.content == BLUE and time.monotonic() - t0 < 4.5
            t0 = time.monotonic()
            r = client.get(albums["Lonely"]["cover_url"])  # only B has it: a placeholder, asked again soon
            took = time.monotonic() - t0
            assert r.status_code == 200 and r.headers["content-type"] == "image/png" and took < 5.0, took
            assert "max-age=300" in r.headers["cache-control"]
            t0 = time.monotonic()
            assert client.get(albums["Lonely"]["cover_url"]).headers["content-type"] == "image/png"
            assert time.monotonic() - t0 < 0.5  # remembered: a page of such covers does not wait each time
            rest = _subsonic(a, client)
            r = rest("getCoverArt", id=albums["Lonely"]["id"])
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        finally:
            b.proc.send_signal(signal.SIGCONT)
    stats = {p["id"]: p for p in json.loads(_peers(a))}  # by id: C's name arrives with a hello, maybe later
    assert stats[c.node_id()]["bytes_fetched"] >= len(BLUE)


def _peers(node) -> str:
    from tests.support.federation import cli

    time.sleep(2.1)  # byte counters are flushed every 2 s
    return cli(node.data, "peers", "--json").stdout
