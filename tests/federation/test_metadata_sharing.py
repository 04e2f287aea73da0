"""One node's external metadata serves its federation: A fetches a cover and MBIDs for its album (from
loopback stand-ins of MusicBrainz and the Cover Art Archive) and synced lyrics for "Hunter" (LRCLIB);
member B, which fetches nothing (metadata off), shows that cover and those MBIDs for A's album, the
cover verified by its content id, and A's lyrics for A's song (fetched from A as A's record arrives,
verified by their content id) and A's biography of Björk (Wikipedia) through Subsonic and the native
API, still after A has gone away."""

from __future__ import annotations

import pytest

from tests.metadata.standin import Running
from tests.metadata.world import COVER, HOMOGENIC, HUNTER_REC, build_library, wire
from tests.subsonic.conftest import app_password
from tests.subsonic.harness import Sub
from tests.support.federation import make_node, stop_all, wait_for


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("metashare")
    running = Running()
    standin = wire(running.start())
    a = make_node(tmp_path, "A", metadata=True, **standin.settings())
    build_library(a.music)
    b = make_node(tmp_path, "B")
    nodes = [a, b]
    try:
        for n in nodes:
            n.start()
        b.join(a.invite())
        yield a, b
    finally:
        stop_all(nodes)
        running.stop()


def test_member_shows_the_cover_and_mbids_another_member_fetched(pair):
    a, b = pair
    with b.client() as c:
        def homogenic():
            albums = {al["name"]: al for al in c.get("/api/v1/albums").json()["items"]}
            album = albums.get("Homogenic")
            return album if album and album["cover_url"] else None

        album = wait_for(homogenic, timeout=60, what="A's Homogenic on B, with the cover A fetched")
        assert c.get(album["cover_url"]).content == COVER  # fetched from A, checked against its content id
        detail = c.get(f"/api/v1/albums/{album['id']}").json()
        hunter = next(t for t in detail["tracks"] if t["title"] == "Hunter")
        assert hunter["mb_recording_id"] == HUNTER_REC and hunter["mb_album_id"] == HOMOGENIC
    assert b.data.joinpath("cache", "metadata").exists() is False  # B asked no outside service


HUNTER_LINES = [(400, "If travel is searching"), (1200, "And home what's been found")]


def test_member_keeps_the_lyrics_and_biography_another_member_fetched_and_shows_them_once_it_is_away(pair):
    a, b = pair
    sub = Sub(b.url, "owner", app_password(b, "owner"))
    song = wait_for(lambda: next((s for s in sub.json("search3", {"query": "Hunter"})["searchResult3"].get("song", [])
                                  if s["title"] == "Hunter"), None), timeout=60, what="A's Hunter on B")
    kept = b.data / "cache" / "member-lyrics"
    [text] = wait_for(lambda: list(kept.glob("ly-*")) or None, timeout=60,
                      what="A's fetched lyrics fetched by B as A's record arrived")
    assert text.read_text().startswith("[00:00.40]")
    text.unlink()  # gone from the cache: B fetches them again from A when asked
    [entry] = sub.json("getLyricsBySongId", {"id": song["id"]})["lyricsList"]["structuredLyrics"]
    assert entry["synced"] is True and [(x["start"], x["value"]) for x in entry["line"]] == HUNTER_LINES
    assert sub.json("getLyrics", {"artist": "Björk", "title": "Hunter"})["lyrics"]["value"].startswith(
        "If travel is searching")
    sub.xml("getLyricsBySongId", {"id": song["id"]})
    joga = next(s for s in sub.json("search3", {"query": "Jóga"})["searchResult3"]["song"] if s["title"] == "Jóga")
    # A's own .lrc is A's, not fetched: not published (only what a node fetched rides along)
    assert sub.json("getLyricsBySongId", {"id": joga["id"]})["lyricsList"]["structuredLyrics"] == []
    # the biography A fetched (Wikipedia) for Björk: B fetches it as A's records arrive
    wait_for(lambda: list((b.data / "cache" / "member-artists").glob("ai-*")) or None, timeout=60,
             what="A's biography of Björk fetched by B as A's records arrived")
    a.stop()  # B keeps what it verified: lyrics and biography are shown with their owner away
    artist_id = song["artistId"]
    bio = sub.json("getArtistInfo2", {"id": artist_id})["artistInfo2"]["biography"]
    assert bio.startswith("Björk Guðmundsdóttir is an Icelandic singer, songwriter &amp; composer.")
    assert "<script>" not in bio and "https://en.wikipedia.org/wiki/Bj%C3%B6rk" in bio
    sub.xml("getArtistInfo2", {"id": artist_id})
    with b.client() as c:
        native = c.get(f"/api/v1/tracks/{song['id']}/lyrics").json()
        info = c.get(f"/api/v1/artists/{artist_id}").json()["info"]
    assert native["synced"] is True and [(x["start_ms"], x["text"]) for x in native["lines"]] == HUNTER_LINES
    assert info["biography"].startswith("Björk Guðmundsdóttir") and "wikipedia.org" in info["biography_source"]
    assert b.data.joinpath("cache", "metadata").exists() is False
