"""Every cover the node advertises answers an image (issue 18, defect 8).

A real node whose library has albums with an embedded picture, with a folder image and with no art at
all, and an artist none of whose albums has a cover. Every Subsonic endpoint that lists items is walked,
every ``coverArt`` id collected and asked with ``getCoverArt`` (with and without ``size``): each must be
a decodable image, never error 70. The native API's ``cover_url`` fields likewise; and the native API
advertises no cover for an item without art, so the web app asks for none.
"""

import io

import httpx
import pytest
from PIL import Image

from tests.support.audio import jpeg, make_track
from tests.support.node import PASSWORD, init_node

from .conftest import app_password
from .harness import Sub, node_in_thread

RED, BLUE = (200, 30, 60), (20, 40, 220)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("covers")
    music = root / "music"
    make_track(music / "Bo/Painted/01.flac", "flac", {"title": "Red", "artist": "Bo", "albumartist": "Bo",
               "album": "Painted", "tracknumber": "1", "genre": "Rock"}, cover=jpeg(64, RED), seed=1)
    make_track(music / "Bo/Painted/02.flac", "flac", {"title": "Also red", "artist": "Bo", "albumartist": "Bo",
               "album": "Painted", "tracknumber": "2", "genre": "Rock"}, seed=2)
    make_track(music / "Bo/Bare/01.flac", "flac", {"title": "Bare", "artist": "Bo", "albumartist": "Bo",
               "album": "Bare", "genre": "Rock"}, seed=3)
    make_track(music / "Cy/Framed/01.flac", "flac", {"title": "Framed", "artist": "Cy", "albumartist": "Cy",
               "album": "Framed", "genre": "Jazz"}, seed=4)
    (music / "Cy/Framed/cover.jpg").write_bytes(jpeg(80, BLUE))
    make_track(music / "Di/Plain/01.mp3", "mp3", {"title": "Plain", "artist": ["Di", "Ed"], "albumartist": "Di",
               "album": "Plain", "genre": "Jazz"}, seed=5)
    make_track(music / "Di/Plain/02.mp3", "mp3", {"title": "Plainer", "artist": "Di", "albumartist": "Di",
               "album": "Plain", "genre": "Jazz"}, seed=6)
    data = init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})
    with node_in_thread(data) as running:
        yield running


@pytest.fixture(scope="module")
def owner(node):
    return Sub(node.url, "owner", app_password(node, "owner"))


def _collect(value, key: str, out: set) -> set:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, str):
                out.add(v)
            else:
                _collect(v, key, out)
    elif isinstance(value, list):
        for v in value:
            _collect(v, key, out)
    return out


def _image(r: httpx.Response) -> Image.Image:
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("image/"), r.headers["content-type"]
    im = Image.open(io.BytesIO(r.content))
    im.load()
    return im


def _subsonic_walk(owner: Sub) -> dict:
    """Every listing endpoint's answer, by a readable name."""
    songs = owner.json("search3", {"query": "", "songCount": 500, "albumCount": 500, "artistCount": 500})
    found = songs["searchResult3"]
    artists = [a["id"] for a in found["artist"]]
    albums = [a["id"] for a in found["album"]]
    tracks = [s["id"] for s in found["song"]]
    owner.json("star", [("id", tracks[0]), ("albumId", albums[0]), ("artistId", artists[0])])
    full = owner.json("createPlaylist", [("name", "Mixed"), *[("songId", t) for t in tracks]])["playlist"]["id"]
    empty = owner.json("createPlaylist", {"name": "Empty"})["playlist"]["id"]
    bare = owner.json("createPlaylist", [("name", "Bare"), ("songId", next(
        s["id"] for s in found["song"] if s["title"] == "Plain"))])["playlist"]["id"]
    owner.json("savePlayQueue", [("id", t) for t in tracks])
    owner.json("scrobble", {"id": tracks[0], "submission": "false"})
    calls = [("search3", {"query": "", "songCount": 500, "albumCount": 500, "artistCount": 500}),
             ("search2", {"query": "", "songCount": 500, "albumCount": 500, "artistCount": 500}),
             ("search3", {"query": "plain"}), ("getIndexes", {}), ("getArtists", {}),
             ("getStarred", {}), ("getStarred2", {}), ("getPlaylists", {}), ("getPlayQueue", {}),
             ("getNowPlaying", {}), ("getRandomSongs", {"size": 50}), ("getSongsByGenre", {"genre": "Jazz"}),
             ("getTopSongs", {"artist": "Di"})]
    calls += [(m, {"type": t, "size": 500, **({"genre": "Jazz"} if t == "byGenre" else {}),
                   **({"fromYear": 0, "toYear": 3000} if t == "byYear" else {})})
              for m in ("getAlbumList", "getAlbumList2")
              for t in ("alphabeticalByName", "newest", "random", "starred", "byGenre", "byYear", "recent")]
    calls += [(m, {"id": a}) for a in artists for m in ("getArtist", "getMusicDirectory", "getArtistInfo2")]
    calls += [(m, {"id": a}) for a in albums for m in ("getAlbum", "getMusicDirectory")]
    calls += [(m, {"id": t}) for t in tracks for m in ("getSong", "getSimilarSongs")]
    calls += [("getSimilarSongs2", {"id": a}) for a in artists]
    calls += [("getPlaylist", {"id": p}) for p in (full, empty, bare)]
    return {f"{m} {p}": owner.json(m, p) for m, p in calls}


def test_every_advertised_subsonic_cover_answers_an_image(owner):
    answers = _subsonic_walk(owner)
    ids = _collect(answers, "coverArt", set())
    assert len(ids) >= 8
    for ident in sorted(ids):
        for size in (None, 64):
            r = owner.raw("getCoverArt", {"id": ident, **({"size": size} if size else {})}, fmt="")
            im = _image(r)
            if size:
                assert max(im.size) <= 64, (ident, im.size)
    # every listed item carries a cover id (clients expect one), also those without art
    songs = answers["search3 {'query': '', 'songCount': 500, 'albumCount': 500, 'artistCount': 500}"][
        "searchResult3"]
    assert all(x.get("coverArt") for kind in ("artist", "album", "song") for x in songs[kind])


def test_art_where_it_exists_placeholder_where_not(owner):
    found = owner.json("search3", {"query": "", "songCount": 500, "albumCount": 500, "artistCount": 500})[
        "searchResult3"]
    albums = {a["name"]: a for a in found["album"]}
    artists = {a["name"]: a for a in found["artist"]}

    def pixel(ident: str, size=None) -> tuple:
        r = owner.raw("getCoverArt", {"id": ident, **({"size": size} if size else {})}, fmt="")
        im = _image(r).convert("RGB")
        return im.getpixel((im.width // 2, im.height // 2)), r.headers["cache-control"]

    red, cache = pixel(albums["Painted"]["coverArt"])
    assert red[0] > 150 and red[2] < 100 and "604800" in cache
    assert pixel(albums["Framed"]["coverArt"], 100)[0][2] > 150  # the folder image, blue
    # an artist's cover is a cover of one of their albums: Bo's is Painted's, although Bare has none
    assert pixel(artists["Bo"]["coverArt"])[0][0] > 150
    assert pixel(artists["Cy"]["coverArt"])[0][2] > 150
    # Di has no art at all: placeholders, not error 70, and ones a client may ask again for soon
    for ident in (albums["Plain"]["coverArt"], artists["Di"]["coverArt"], artists["Ed"]["coverArt"],
                  albums["Plain"]["id"], artists["Di"]["id"]):
        rgb, cache = pixel(ident, 128)
        assert abs(rgb[0] - rgb[2]) < 60 and "max-age=300" in cache, (ident, rgb)  # grey, not red or blue
    # a track without a picture of its own shows its album's
    also = next(s for s in found["song"] if s["title"] == "Also red")
    assert pixel(also["coverArt"])[0][0] > 150


def test_unknown_cover_ids_are_not_found(owner):
    for ident in ("al-0000000000000000", "ar-nope", "tr-0123456789abcdef", "em-" + "0" * 24, "fi-00", "pl-none",
                  "x", "../etc/passwd"):
        assert owner.error("getCoverArt", {"id": ident})["code"] == 70, ident


def test_private_playlist_cover_is_not_found_for_others(node, owner):
    pid = owner.json("createPlaylist", {"name": "Mine"})["playlist"]["id"]
    listener = Sub(node.url, "lis", app_password(node, "lis"))
    assert listener.error("getCoverArt", {"id": pid})["code"] == 70
    _image(owner.raw("getCoverArt", {"id": pid}, fmt=""))


def test_native_cover_urls_answer_images_and_items_without_art_have_none(node, owner):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        assert c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
        pages = [c.get(p).json() for p in ("/api/v1/albums?limit=500", "/api/v1/artists?limit=500",
                                           "/api/v1/tracks?limit=500", "/api/v1/search?q=plain", "/api/v1/stars",
                                           "/api/v1/queue")]
        albums = {a["name"]: a for a in pages[0]["items"]}
        artists = {a["name"]: a for a in pages[1]["items"]}
        pages += [c.get(f"/api/v1/albums/{a['id']}").json() for a in albums.values()]
        pages += [c.get(f"/api/v1/artists/{a['id']}").json() for a in artists.values()]
        pages += [c.get(f"/api/v1/playlists/{p['id']}").json() for p in c.get("/api/v1/playlists").json()["items"]]
        urls = _collect(pages, "cover_url", set())
        assert len(urls) == 2  # the embedded picture and the folder image
        for url in sorted(urls):
            _image(c.get(url))
            assert max(_image(c.get(url, params={"size": 64})).size) <= 64
        # no cover_url where there is no art: the web app shows its own placeholder and asks nothing
        assert albums["Plain"]["cover_url"] is None and albums["Bare"]["cover_url"] is None
        assert artists["Di"]["cover_url"] is None and artists["Bo"]["cover_url"] == albums["Painted"]["cover_url"]
        plain = c.get(f"/api/v1/albums/{albums['Plain']['id']}").json()["tracks"]
        assert [t["cover_url"] for t in plain] == [None, None]
        # the same ids answer a placeholder image when asked anyway, and unknown ids 404
        _image(c.get(f"/api/v1/covers/{albums['Plain']['id']}"))
        assert c.get("/api/v1/covers/al-0000000000000000").status_code == 404
