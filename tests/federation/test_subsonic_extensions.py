"""The OpenSubsonic extensions over a federation (real nodes): a member's song reported through
``reportPlayback`` counts on the listening node, and ``getTopSongs`` by artist id ranks the members'
recordings with the node's own."""

import httpx
import pytest

from tests.subsonic.oracle import check_json
from tests.support.audio import make_track
from tests.support.federation import make_node, stop_all, wait_for


@pytest.fixture
def pair(tmp_path):
    """A lists Ana's "Home"; B, a member, holds Ana's "Away" and "Abroad"."""
    a, b = (make_node(tmp_path, n) for n in "AB")
    make_track(a.music / "Ana/Here/01 - Home.flac", "flac",
               {"title": "Home", "artist": "Ana", "album": "Here", "date": "2001", "tracknumber": "1"}, seed=1)
    for n, title in enumerate(("Away", "Abroad"), 1):
        make_track(b.music / f"Ana/There/0{n} - {title}.flac", "flac",
                   {"title": title, "artist": "Ana", "album": "There", "date": "2005", "tracknumber": str(n)},
                   seed=1 + n, seconds=2)
    try:
        for n in (a, b):
            n.start()
        b.join(a.invite())
        with a.client() as client:
            wait_for(lambda: len(client.get("/api/v1/tracks").json()["items"]) == 3, what="B's music on A")
        yield a, b
    finally:
        stop_all([a, b])


def test_members_songs_report_playback_and_rank_in_top_songs(pair):
    a, _ = pair
    with a.client() as client:
        pw = client.post("/api/v1/me/subsonic-password").json()["password"]

    def rest(method, **extra):
        body = httpx.get(f"{a.url}/rest/{method}", params={"u": "owner", "p": pw, "c": "phone", "v": "1.16.1",
                                                          "f": "json", **extra}, timeout=30).json()
        check_json(method, body)
        assert body["subsonic-response"]["status"] == "ok", body
        return body["subsonic-response"]

    songs = {s["title"]: s for s in rest("search3", query="", songCount=50)["searchResult3"]["song"]}
    ana = songs["Home"]["artistId"]
    assert songs["Abroad"]["artistId"] == ana
    top = lambda: [s["title"] for s in rest("getTopSongs", id=ana)["topSongs"]["song"]]  # noqa: E731
    assert top() == ["Home", "Away", "Abroad"]  # album order: 2001, then 2005 by track
    abroad = songs["Abroad"]["id"]
    for state, position in (("starting", 0), ("playing", 0), ("playing", 1200)):
        rest("reportPlayback", mediaId=abroad, mediaType="song", state=state, positionMs=position)
    [entry] = rest("getNowPlaying")["nowPlaying"]["entry"]
    assert entry["title"] == "Abroad" and entry["state"] == "playing"
    rest("reportPlayback", mediaId=abroad, mediaType="song", state="stopped", positionMs=1200)
    assert rest("getSong", id=abroad)["song"]["playCount"] == 1
    assert top() == ["Abroad", "Home", "Away"]
    rest("star", id=songs["Away"]["id"])
    assert top() == ["Abroad", "Away", "Home"]
