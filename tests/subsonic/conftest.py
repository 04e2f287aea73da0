import pytest

from tests.support.audio import jpeg, make_track
from tests.support.node import PASSWORD, init_node

from .harness import Sub, node_in_thread

LRC = "[ar:Björk]\n[00:00.50]First line\n[00:01.25]Second line\n"


def build_library(music):
    common = {"album": "Post", "albumartist": "Björk", "date": "1995", "genre": "Electronic",
              "musicbrainz_albumid": "11111111-2222-3333-4444-555555555555",
              "replaygain_track_gain": "-6.50 dB", "replaygain_track_peak": "0.98",
              "replaygain_album_gain": "-7.00 dB", "replaygain_album_peak": "0.99", "bpm": "120"}
    make_track(music / "bjork" / "01.flac", "flac", {**common, "title": "Army of Me", "artist": "Björk",
                                                     "tracknumber": "1", "discnumber": "1"},
               cover=jpeg(64), seed=1)
    make_track(music / "bjork" / "02.flac", "flac", {**common, "title": "Hyperballad", "artist": "Björk",
                                                     "tracknumber": "2", "discnumber": "1"},
               cover=jpeg(64), seed=2, seconds=3)
    (music / "bjork" / "01.lrc").write_text(LRC)
    make_track(music / "ana" / "01.mp3", "mp3", {"title": "Love", "artist": ["Ana", "Bo"], "albumartist": "Ana",
                                                 "album": "Lunch", "genre": "Pop", "date": "2001",
                                                 "tracknumber": "1"}, seed=3)
    make_track(music / "ana" / "02.mp3", "mp3", {"title": "Lovely Day", "artist": "Ana", "albumartist": "Ana",
                                                 "album": "Lunch", "genre": "Pop", "date": "2001",
                                                 "tracknumber": "2"}, seed=4)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("subsonic")
    music = root / "music"
    build_library(music)
    data = init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})
    with node_in_thread(data) as running:
        yield running


def app_password(node, name: str) -> str:
    import httpx

    with httpx.Client(base_url=node.url, timeout=30) as c:
        r = c.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/me/subsonic-password")
        assert r.status_code == 201, r.text
        return r.json()["password"]


@pytest.fixture(scope="module")
def owner(node):
    return Sub(node.url, "owner", app_password(node, "owner"))


@pytest.fixture(scope="module")
def listener(node):
    return Sub(node.url, "lis", app_password(node, "lis"))


@pytest.fixture(scope="module")
def ids(owner):
    """Ids of the test library, found through the API itself."""
    songs = owner.json("search3", {"query": "", "songCount": 100})["searchResult3"]["song"]
    by_title = {s["title"]: s for s in songs}
    albums = {a["name"]: a["id"] for a in owner.json("getAlbumList2", {"type": "alphabeticalByName"})
              ["albumList2"]["album"]}
    artists = {a["name"]: a["id"] for i in owner.json("getArtists")["artists"]["index"] for a in i["artist"]}
    return {"army": by_title["Army of Me"]["id"], "hyper": by_title["Hyperballad"]["id"],
            "love": by_title["Love"]["id"], "lovely": by_title["Lovely Day"]["id"],
            "post": albums["Post"], "lunch": albums["Lunch"], "bjork": artists["Björk"], "ana": artists["Ana"],
            "songs": by_title}
