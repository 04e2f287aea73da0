"""An independent client from PyPI (py-opensonic, imported as ``libopensonic``) drives a real node:
browse, search, stream, scrobble, star and playlists — with token auth over form POST, and with an API key."""

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.node import PASSWORD

from .conftest import app_password

libopensonic = pytest.importorskip("libopensonic")


def connect(node, **auth):
    url = urlsplit(node.url)
    return libopensonic.AsyncConnection(f"{url.scheme}://{url.hostname}", port=url.port, app_name="py-opensonic",
                                        **auth)


async def flow(conn):
    assert await conn.ping()
    names = {e.name for e in await conn.get_open_subsonic_extensions()}
    assert "formPost" in names
    # browse
    artists = await conn.get_artists()
    bjork = next(a for i in artists.index for a in i.artist if a.name == "Björk")
    artist = await conn.get_artist(bjork.id)
    album = await conn.get_album(artist.album[0].id)
    assert [s.title for s in album.song] == ["Army of Me", "Hyperballad"]
    assert album.song[0].replay_gain.track_gain == -6.5
    # search: a specific word, and everything (how clients sync)
    found = await conn.search3("hyper")
    assert [s.title for s in found.song] == ["Hyperballad"]
    everything = await conn.search3("", song_count=500)
    assert len(everything.song) == 4
    # stream the original
    song = album.song[0]
    resp = await conn.stream(song.id)
    data = await resp.read()
    assert len(data) == song.size and data[:4] == b"fLaC"
    # scrobble
    assert await conn.scrobble(song.id, submission=True)
    assert (await conn.get_song(song.id)).play_count == 1
    # star
    assert await conn.star(sids=[song.id], album_ids=[album.id])
    starred = await conn.get_starred2()
    assert [s.id for s in starred.song] == [song.id] and [a.id for a in starred.album] == [album.id]
    # playlists
    assert await conn.create_playlist(name="From the library", song_ids=[s.id for s in album.song])
    playlist = next(p for p in await conn.get_playlists() if p.name == "From the library")
    assert await conn.update_playlist(playlist.id, name="Renamed", song_indices_to_remove=[0])
    got = await conn.get_playlist(playlist.id)
    assert got.name == "Renamed" and [e.id for e in got.entry] == [album.song[1].id]
    assert await conn.delete_playlist(playlist.id)
    lyrics = await conn.get_lyrics_by_song_id(song.id)
    assert lyrics[0].synced and lyrics[0].line[0].value == "First line"
    await conn.cleanup()


def test_py_opensonic_with_token_auth(node):
    password = app_password(node, "owner")
    asyncio.run(flow(connect(node, username="owner", password=password)))


def test_py_opensonic_with_api_key(node):
    with httpx.Client(base_url=node.url) as c:
        c.post("/api/v1/auth/login", json={"username": "lis", "password": PASSWORD})
        key = c.post("/api/v1/me/api-keys", json={"name": "py-opensonic"}).json()["key"]

    async def run():
        conn = connect(node, api_key=key)
        assert await conn.ping()
        artists = await conn.get_artists()
        assert {a.name for i in artists.index for a in i.artist} == {"Ana", "Björk"}
        await conn.cleanup()

    asyncio.run(run())
