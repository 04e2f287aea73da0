"""Genres cover the members' music: lists, filters and Subsonic, each recording counted once (real nodes)."""

import shutil

import httpx
import pytest

from tests.support.audio import make_track
from tests.support.federation import cli, make_node, stop_all, wait_for


@pytest.fixture
def genre_nodes(tmp_path):
    """A lists; B and C are members. "Here and there" is held by A and B, "Drift" by B and C."""
    a, b, c = (make_node(tmp_path, n) for n in "ABC")
    here = make_track(a.music / "Ana/Mixed/01 - Here and there.flac", "flac",
                      {"title": "Here and there", "artist": "Ana", "album": "Mixed", "genre": "Jazz"}, seed=1)
    (b.music / "Ana/Mixed").mkdir(parents=True)
    shutil.copy(here, b.music / "Ana/Mixed/01 - Here and there.flac")
    make_track(b.music / "Bo/Blue Days/01 - Blue.flac", "flac",
               {"title": "Blue", "artist": "Bo", "album": "Blue Days", "genre": ["jazz", "Blues"]}, seed=2)
    drift = make_track(b.music / "Bo/Slow/01 - Drift.flac", "flac",
                       {"title": "Drift", "artist": "Bo", "album": "Slow", "genre": "Ambient"}, seed=3)
    (c.music / "Bo/Slow").mkdir(parents=True)
    shutil.copy(drift, c.music / "Bo/Slow/01 - Drift.flac")
    make_track(c.music / "Cy/Loud/01 - Noise.flac", "flac",
               {"title": "Noise", "artist": "Cy", "album": "Loud", "genre": "Rock"}, seed=4)
    try:
        for n in (a, b, c):
            n.start()
        b.join(a.invite("--uses", "2"))
        c.join(a.invite())
        want = ["Blue", "Drift", "Here and there", "Noise"]
        wait_for(lambda: _titles(a, "/api/v1/tracks") == want, what="every member's music on A")
        with a.client() as client:
            drift_id = next(t["id"] for t in client.get("/api/v1/tracks").json()["items"] if t["title"] == "Drift")
            wait_for(lambda: len(client.get(f"/api/v1/tracks/{drift_id}").json()["holders"]) == 2,
                     what="B and C both hold Drift")
        yield a, b, c
    finally:
        stop_all([a, b, c])


def _titles(node, path: str, **params) -> list[str]:
    with node.client() as client:
        return sorted(t["title"] for t in client.get(path, params={"limit": 100, **params}).json()["items"])


def test_native_genre_list_and_filters_include_members(genre_nodes):
    a, b, c = genre_nodes
    with a.client() as client:
        genres = {g["name"].lower(): g for g in client.get("/api/v1/genres").json()["items"]}
        assert set(genres) == {"jazz", "blues", "ambient", "rock"}
        # Jazz: A's local track (also held by B, counted once) and B's "Blue" (tagged "jazz")
        assert (genres["jazz"]["track_count"], genres["jazz"]["album_count"]) == (2, 2)
        # Drift is held by B and C: one recording
        assert (genres["ambient"]["track_count"], genres["ambient"]["album_count"]) == (1, 1)
        assert (genres["rock"]["track_count"], genres["blues"]["track_count"]) == (1, 1)
        albums = client.get("/api/v1/albums", params={"genre": "Ambient"}).json()["items"]
        assert [al["name"] for al in albums] == ["Slow"]
        jazz_albums = client.get("/api/v1/albums", params={"genre": "JAZZ"}).json()["items"]
        assert sorted(al["name"] for al in jazz_albums) == ["Blue Days", "Mixed"]
    assert _titles(a, "/api/v1/tracks", genre="jazz") == ["Blue", "Here and there"]
    assert _titles(a, "/api/v1/tracks", genre="Ambient") == ["Drift"]
    assert _titles(a, "/api/v1/tracks", genre="Polka") == []
    # B sees A's and C's genres too
    with b.client() as client:
        names = {g["name"].lower() for g in client.get("/api/v1/genres").json()["items"]}
    assert names == {"jazz", "blues", "ambient", "rock"}


def test_subsonic_genres_songs_and_album_lists_include_members(genre_nodes):
    a, b, c = genre_nodes
    with a.client() as client:
        pw = client.post("/api/v1/me/subsonic-password").json()["password"]
        folders = {f["name"]: f["id"] for f in client.get("/api/v1/folders").json()["items"]}
    params = {"u": "owner", "p": pw, "c": "test", "v": "1.16.1", "f": "json"}

    def rest(method, **extra):
        r = httpx.get(f"{a.url}/rest/{method}", params={**params, **extra}, timeout=30).json()["subsonic-response"]
        assert r["status"] == "ok", r
        return r

    genres = {g["value"].lower(): g for g in rest("getGenres")["genres"]["genre"]}
    assert (genres["jazz"]["songCount"], genres["jazz"]["albumCount"]) == (2, 2)
    assert (genres["ambient"]["songCount"], genres["ambient"]["albumCount"]) == (1, 1)
    songs = rest("getSongsByGenre", genre="Ambient", count=50)["songsByGenre"]["song"]
    assert [s["title"] for s in songs] == ["Drift"]
    jazz = rest("getSongsByGenre", genre="Jazz", count=50)["songsByGenre"]["song"]
    assert sorted(s["title"] for s in jazz) == ["Blue", "Here and there"]
    only_b = rest("getSongsByGenre", genre="Jazz", count=50, musicFolderId=folders["Node B"])["songsByGenre"]["song"]
    assert [s["title"] for s in only_b] == ["Blue"]
    albums = rest("getAlbumList2", type="byGenre", genre="Rock")["albumList2"]["album"]
    assert [al["name"] for al in albums] == ["Loud"]
    albums = rest("getAlbumList2", type="byGenre", genre="jazz", size=50)["albumList2"]["album"]
    assert sorted(al["name"] for al in albums) == ["Blue Days", "Mixed"]
    randoms = rest("getRandomSongs", genre="Blues", size=10)["randomSongs"]["song"]
    assert [s["title"] for s in randoms] == ["Blue"]
    # members' songs, albums and artists can be starred (ids that name nothing cannot: issue 18, 9c)
    blue = randoms[0]
    rest("star", id=blue["id"], albumId=blue["albumId"], artistId=blue["artistId"])
    starred = rest("getStarred2")["starred2"]
    assert ([s["id"] for s in starred["song"]], [al["id"] for al in starred["album"]],
            [ar["id"] for ar in starred["artist"]]) == ([blue["id"]], [blue["albumId"]], [blue["artistId"]])
    rest("unstar", id=blue["id"])
    ghost = httpx.get(f"{a.url}/rest/star", params={**params, "id": "tr-0123456789abcdef"}, timeout=30)
    assert ghost.json()["subsonic-response"]["error"]["code"] == 70


def _indexes(node, client, **extra) -> dict:
    pw = client.post("/api/v1/me/subsonic-password").json()["password"]
    params = {"u": "owner", "p": pw, "c": "test", "v": "1.16.1", "f": "json", **extra}
    return httpx.get(f"{node.url}/rest/getIndexes", params=params, timeout=30).json()["subsonic-response"]["indexes"]


def test_a_member_leaving_takes_its_genres_away(genre_nodes):
    a, b, c = genre_nodes
    with a.client() as client:
        synced = _indexes(a, client)
        assert "index" not in _indexes(a, client, ifModifiedSince=synced["lastModified"])
    cli(a.data, "revoke", c.node_id())

    def rock_gone():
        with a.client() as client:
            names = {g["name"].lower(): g for g in client.get("/api/v1/genres").json()["items"]}
        return "rock" not in names and names["ambient"]["track_count"] == 1 and names
    wait_for(rock_gone, what="C's genres gone from A, B's Drift still there")
    assert _titles(a, "/api/v1/tracks", genre="Ambient") == ["Drift"]
    # C's artist Cy left the artist index: getIndexes says so to a client that synced before (issue 18, 9b)
    with a.client() as client:
        now = _indexes(a, client, ifModifiedSince=synced["lastModified"])
    assert now["lastModified"] > synced["lastModified"]
    names = [ar["name"] for i in now["index"] for ar in i["artist"]]
    assert "Cy" in [ar["name"] for i in synced["index"] for ar in i["artist"]] and "Cy" not in names
