"""Search as you type: accents, case, prefixes and ranking, over a real index."""

import pytest

from sonantica.node.library import search
from tests.support.audio import make_track

SONGS = [
    ("Café del Mar", "Björk", "Post"),
    ("Cafeteria Blues", "Ana", "Lunch"),
    ("Hyperballad", "Björk", "Post"),
    ("Army of Me", "Björk", "Post"),
    ("Love", "Ana", "Love Songs"),
    ("Lovely Day", "Bo", "Day"),
    ("Something about love", "Cy", "Misc"),
]


@pytest.fixture
def indexed(library, music):
    for i, (title, artist, album) in enumerate(SONGS):
        make_track(music / f"{i}.flac", "flac", {"title": title, "artist": artist, "album": album,
                                                 "genre": "Électronique" if artist == "Björk" else "Pop"}, seed=i)
    library.scan()
    return library


def titles(lib, query, fn=search.search_tracks):
    ids = lib.store.read_sync(fn, query)
    by_id = {t["id"]: t["title"] for t in lib.tracks()}
    return [by_id[i] for i in ids]


def test_accent_and_case_insensitive(indexed):
    assert "Café del Mar" in titles(indexed, "cafe")
    assert set(titles(indexed, "bjork")) == {"Café del Mar", "Hyperballad", "Army of Me"}
    assert set(titles(indexed, "BJÖRK")) == {"Café del Mar", "Hyperballad", "Army of Me"}
    assert len(titles(indexed, "electronique")) == 3


def test_prefix_as_you_type(indexed):
    assert titles(indexed, "hyp") == ["Hyperballad"]
    assert set(titles(indexed, "caf")) == {"Café del Mar", "Cafeteria Blues"}
    assert titles(indexed, "bjork arm") == ["Army of Me"]


def test_exact_title_ranks_first(indexed):
    assert titles(indexed, "love")[0] == "Love"


def test_albums_and_artists(indexed):
    albums = indexed.store.read_sync(search.search_albums, "pos")
    assert len(albums) == 1
    artists = indexed.store.read_sync(search.search_artists, "bjo")
    assert len(artists) == 1


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "AND", "NEAR(", "a:b", "-", "💿"])
def test_hostile_or_empty_queries_do_not_error(indexed, query):
    indexed.store.read_sync(search.search_tracks, query)
