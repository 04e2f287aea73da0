"""A real node with the stand-ins: an album gets a cover, the artist a picture and a biography, a song
synced lyrics, seen through the Subsonic and native APIs; then, the stand-ins gone and the node
restarted, everything is still shown and nothing is asked again."""

from __future__ import annotations

import contextlib

import httpx
import pytest
import trio

from tests.subsonic.conftest import app_password
from tests.subsonic.harness import Sub, node_in_thread
from tests.support.node import PASSWORD, init_node

from .standin import Running
from .world import ARTIST_PICTURE, BJORK, COVER, HOMOGENIC, HUNTER_REC, build_library, wire


def _wait(predicate, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("metanode")
    build_library(root / "music")
    running = Running()
    standin = wire(running.start())
    data = init_node(root / "node", root / "music", metadata=True, metadata_contact="owner@example.org",
                     **standin.settings())
    with contextlib.ExitStack() as stack:
        node = stack.enter_context(node_in_thread(data))
        owner = Sub(node.url, "owner", app_password(node, "owner"))
        yield {"data": data, "node": node, "owner": owner, "standin": standin, "running": running,
               "stop_node": stack.close}
    running.stop()


def _done(owner: Sub):
    with httpx.Client(base_url=owner.http.base_url, timeout=10) as c:
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        s = c.get("/api/v1/metadata").json()
    checked = all(s[k]["checked"] == s[k]["total"] for k in ("albums", "artists", "tracks"))
    return s if checked and not s["running"] else None


@pytest.fixture(scope="module")
def ids(world):
    owner = world["owner"]
    _wait(lambda: _done(owner))
    albums = {a["name"]: a for a in owner.json("getAlbumList2", {"type": "alphabeticalByName"})["albumList2"]["album"]}
    songs = {s["title"]: s for s in owner.json("search3", {"query": "", "songCount": 50})["searchResult3"]["song"]}
    [artist] = [a for i in owner.json("getArtists")["artists"]["index"] for a in i["artist"]]
    return {"albums": albums, "songs": songs, "artist": artist}


def test_album_shows_fetched_cover_and_mbid(world, ids):
    owner = world["owner"]
    album = ids["albums"]["Homogenic"]
    assert album["musicBrainzId"] == HOMOGENIC
    r = owner.raw("getCoverArt", {"id": album["coverArt"]}, fmt="")
    assert r.status_code == 200 and r.content == COVER
    info = owner.json("getAlbumInfo2", {"id": album["id"]})["albumInfo"]
    assert info["musicBrainzId"] == HOMOGENIC
    img = httpx.get(info["largeImageUrl"], timeout=10)  # no credentials: a signed URL of this node
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert info["largeImageUrl"].startswith(world["node"].url)


def test_artist_shows_picture_and_biography(world, ids):
    owner = world["owner"]
    artist = ids["artist"]
    assert artist["musicBrainzId"] == BJORK
    assert artist["disambiguation"] == "Icelandic singer-songwriter"  # MusicBrainz's, for same-named artists
    assert artist["artistImageUrl"].startswith(world["node"].url + "/img/")
    assert httpx.get(artist["artistImageUrl"], timeout=10).status_code == 200
    r = owner.raw("getCoverArt", {"id": artist["coverArt"]}, fmt="")
    assert r.content == ARTIST_PICTURE
    info = owner.json("getArtistInfo2", {"id": artist["id"]})["artistInfo2"]
    assert info["musicBrainzId"] == BJORK
    assert info["biography"].startswith("Björk Guðmundsdóttir is an Icelandic singer, songwriter &amp; composer.")
    assert "<script>" not in info["biography"] and "&lt;script&gt;" in info["biography"]
    assert "https://en.wikipedia.org/wiki/Bj%C3%B6rk" in info["biography"]
    for key in ("smallImageUrl", "mediumImageUrl", "largeImageUrl"):
        assert info[key].startswith(world["node"].url + "/img/")
    for method in ("getArtistInfo2", "getArtistInfo", "getArtists", "getIndexes"):  # XML answers valid too
        owner.xml(method, {"id": artist["id"]} if "Info" in method else {})
    [v1] = [a for i in owner.json("getIndexes")["indexes"]["index"] for a in i["artist"]]
    assert v1["artistImageUrl"] == artist["artistImageUrl"]
    tampered = info["largeImageUrl"].replace("size=600", "size=300")
    assert httpx.get(tampered, timeout=10).status_code == 404


def test_song_gets_synced_lyrics_local_lrc_wins(world, ids):
    owner = world["owner"]
    hunter, joga = ids["songs"]["Hunter"], ids["songs"]["Jóga"]
    assert hunter["musicBrainzId"] == HUNTER_REC
    lyrics = owner.json("getLyricsBySongId", {"id": hunter["id"]})["lyricsList"]["structuredLyrics"]
    assert lyrics[0]["synced"] is True
    assert [(x["start"], x["value"]) for x in lyrics[0]["line"]] == [(400, "If travel is searching"),
                                                                     (1200, "And home what's been found")]
    plain = owner.json("getLyrics", {"artist": "Björk", "title": "Hunter"})["lyrics"]
    assert plain["value"].startswith("If travel is searching")
    own = owner.json("getLyricsBySongId", {"id": joga["id"]})["lyricsList"]["structuredLyrics"]
    assert own[0]["line"][0]["value"] == "Own words first"


def test_native_api_fields(world, ids):
    node = world["node"]
    with httpx.Client(base_url=node.url, timeout=10) as c:
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        artist = c.get(f"/api/v1/artists/{ids['artist']['id']}").json()
        assert artist["info"]["mbid"] == BJORK and artist["info"]["biography"].startswith("Björk")
        assert "Wikimedia Commons" in artist["info"]["image_attribution"]
        assert c.get(artist["cover_url"]).content == ARTIST_PICTURE
        album = c.get(f"/api/v1/albums/{ids['albums']['Homogenic']['id']}").json()
        assert album["info"]["mbid"] == HOMOGENIC and album["cover_url"]
        lyr = c.get(f"/api/v1/tracks/{ids['songs']['Hunter']['id']}/lyrics").json()
        assert lyr["synced"] and lyr["source"] == "fetched"
        status = c.get("/api/v1/metadata").json()
        assert status["enabled"] and status["albums"] == {"total": 2, "checked": 2, "found": 2}
        r = c.post("/api/v1/metadata/refresh", json={"id": "ar-nope"})
        assert r.status_code == 400


def test_refresh_asks_again(world, ids):
    node, standin = world["node"], world["standin"]
    before = standin.count("musicbrainz")
    with httpx.Client(base_url=node.url, timeout=10) as c:
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        r = c.post("/api/v1/metadata/refresh", json={"id": ids["albums"]["Homogenic"]["id"]})
        assert r.status_code == 202 and r.json()["queued"] == 1
    _wait(lambda: standin.count("musicbrainz") > before)
    _wait(lambda: _done(world["owner"]))


def test_offline_restart_shows_everything_and_asks_nothing(world, ids):
    """Last: stops the stand-ins and restarts the node on the same data."""
    world["running"].stop()
    world["stop_node"]()
    data = world["data"]
    standin = world["standin"]
    before = standin.count()
    from tests.subsonic.harness import node_in_thread as again

    with again(data) as node:
        owner = Sub(node.url, "owner", app_password(node, "owner"))
        _wait(lambda: _done(owner))
        album = {a["name"]: a for a in owner.json("getAlbumList2", {"type": "alphabeticalByName"})["albumList2"]["album"]}
        assert owner.raw("getCoverArt", {"id": album["Homogenic"]["coverArt"]}, fmt="").content == COVER
        info = owner.json("getArtistInfo2", {"id": ids["artist"]["id"]})["artistInfo2"]
        assert info["biography"].startswith("Björk")
        lyrics = owner.json("getLyricsBySongId", {"id": ids["songs"]["Hunter"]["id"]})["lyricsList"]
        assert lyrics["structuredLyrics"][0]["synced"]
        with httpx.Client(base_url=node.url, timeout=10) as c:
            c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
            status = c.get("/api/v1/metadata").json()
    assert standin.count() == before
    assert not any(p["last_error"] and "connect" in p["last_error"] for p in status["providers"])
