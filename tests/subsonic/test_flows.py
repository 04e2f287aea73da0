"""What users do: play (original and transcoded), covers, lyrics, scrobble, star, rate, playlists, queue, scan."""

from .oracle import check_json, check_xml


def test_stream_original_is_bit_exact_with_range(owner, ids, node):
    song = owner.json("getSong", {"id": ids["army"]})["song"]
    original = (node.data.load_config().music[0] + "/" + song["path"])
    data = open(original, "rb").read()
    r = owner.raw("stream", {"id": ids["army"], "format": "raw"}, fmt="")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"].startswith("audio/flac")
    r = owner.http.get("/rest/stream", params={"id": ids["army"], **owner.auth()}, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    r = owner.http.head("/rest/stream.view", params={"id": ids["army"], **owner.auth()})
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(data) and r.content == b""
    r = owner.raw("download", {"id": ids["army"]}, fmt="")
    assert r.content == data and "attachment" in r.headers.get("content-disposition", "")
    r = owner.raw("stream", {"id": ids["army"], "format": "flac"}, fmt="", post=True)
    assert r.content == data


def test_stream_transcoded(owner, ids):
    r = owner.raw("stream", {"id": ids["army"], "format": "mp3", "maxBitRate": 128}, fmt="")
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/mpeg") and len(r.content) > 1000
    r = owner.raw("stream", {"id": ids["army"], "maxBitRate": 96}, fmt="")  # below the FLAC's bitrate
    assert r.headers["content-type"].startswith("audio/ogg") and r.content[:4] == b"OggS"
    r = owner.raw("stream", {"id": ids["hyper"], "format": "opus", "timeOffset": 0}, fmt="")
    full = r.content
    r = owner.raw("stream", {"id": ids["hyper"], "format": "opus", "timeOffset": 1}, fmt="")
    assert r.status_code == 200 and r.content[:4] == b"OggS" and len(r.content) < len(full)


def test_stream_errors_are_envelopes(owner):
    r = owner.raw("stream", {"id": "tr-nope"}, fmt="json")
    body = r.json()
    check_json("stream", body)
    assert body["subsonic-response"]["error"]["code"] == 70
    r = owner.raw("stream", {"id": "tr-nope"}, fmt="")
    assert b'code="70"' in check_xml_bytes(r.content)


def check_xml_bytes(content: bytes) -> bytes:
    check_xml(content)
    return content


def test_cover_art(owner, ids):
    song = owner.json("getSong", {"id": ids["army"]})["song"]
    r = owner.raw("getCoverArt", {"id": song["coverArt"]}, fmt="")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    r = owner.raw("getCoverArt", {"id": ids["post"], "size": 32}, fmt="")
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    r = owner.raw("getCoverArt", {"id": ids["lunch"]}, fmt="")  # no art: a placeholder, as Navidrome does
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert owner.error("getCoverArt", {"id": "al-0000000000000000"})["code"] == 70


def test_lyrics(owner, ids):
    lyrics = owner.json("getLyricsBySongId", {"id": ids["army"]})["lyricsList"]["structuredLyrics"]
    assert lyrics[0]["synced"] is True
    assert [(line["start"], line["value"]) for line in lyrics[0]["line"]] == [(500, "First line"),
                                                                            (1250, "Second line")]
    assert owner.json("getLyricsBySongId", {"id": ids["love"]})["lyricsList"]["structuredLyrics"] == []
    plain = owner.json("getLyrics", {"artist": "björk", "title": "army of me"})["lyrics"]
    assert plain["value"] == "First line\nSecond line"


def test_scrobble_now_playing_and_counts(owner, listener, ids):
    before = owner.json("getSong", {"id": ids["lovely"]})["song"]["playCount"]
    owner.raw("stream", {"id": ids["lovely"]}, fmt="")
    assert owner.json("getSong", {"id": ids["lovely"]})["song"]["playCount"] == before  # stream alone never counts
    owner.json("scrobble", {"id": ids["lovely"], "submission": "false"})
    entries = listener.json("getNowPlaying")["nowPlaying"]["entry"]
    assert [(e["id"], e["username"]) for e in entries] == [(ids["lovely"], "owner")]
    owner.xml("getNowPlaying")
    owner.json("scrobble", {"id": ids["lovely"], "submission": "true"})
    owner.json("scrobble", [("id", ids["lovely"]), ("id", ids["love"]), ("time", "1700000000000"),
                            ("time", "1700000001000")], post=True)
    song = owner.json("getSong", {"id": ids["lovely"]})["song"]
    assert song["playCount"] == before + 2 and song["played"]
    assert listener.json("getSong", {"id": ids["lovely"]})["song"]["playCount"] == 0  # per user
    assert owner.json("getNowPlaying")["nowPlaying"]["entry"] == []
    frequent = owner.json("getAlbumList2", {"type": "frequent"})["albumList2"]["album"]
    assert [a["id"] for a in frequent] == [ids["lunch"]] and frequent[0]["playCount"] == 3
    assert owner.json("getAlbumList", {"type": "recent"})["albumList"]["album"][0]["id"] == ids["lunch"]
    assert owner.error("scrobble", {"id": "tr-nope"})["code"] == 70


def test_star_unstar_and_rate(owner, listener, ids):
    owner.json("star", [("id", ids["army"]), ("albumId", ids["post"]), ("artistId", ids["ana"])])
    starred = owner.json("getStarred2")["starred2"]
    assert [s["id"] for s in starred["song"]] == [ids["army"]] and starred["song"][0]["starred"]
    assert [a["id"] for a in starred["album"]] == [ids["post"]]
    assert [a["id"] for a in starred["artist"]] == [ids["ana"]]
    assert owner.json("getStarred")["starred"]["album"][0]["isDir"] is True
    assert owner.json("getAlbumList2", {"type": "starred"})["albumList2"]["album"][0]["id"] == ids["post"]
    assert listener.json("getStarred2")["starred2"].get("song", []) == []
    owner.xml("getStarred2")
    owner.json("unstar", {"id": ids["army"]})
    assert owner.json("getStarred2")["starred2"].get("song", []) == []
    owner.json("setRating", {"id": ids["lunch"], "rating": 4})
    owner.json("setRating", {"id": ids["hyper"], "rating": 5})
    assert owner.json("getSong", {"id": ids["hyper"]})["song"]["userRating"] == 5
    assert owner.json("getAlbumList2", {"type": "highest"})["albumList2"]["album"][0]["id"] == ids["lunch"]
    owner.json("setRating", {"id": ids["hyper"], "rating": 0})
    assert "userRating" not in owner.json("getSong", {"id": ids["hyper"]})["song"]
    assert owner.error("setRating", {"id": ids["hyper"], "rating": 9})["code"] == 0
    assert owner.error("star", {})["code"] == 10


def _annotations(node) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(node.data.db_path) as db:
        return db.execute("SELECT user_id, kind, item_id, starred_at, rating FROM annotation ORDER BY 1, 2, 3").fetchall()


def test_star_unstar_rate_unknown_ids_are_not_found_and_write_nothing(node, owner, ids):
    """Issue 18, 9c: a stale or made-up id answers 70, also beside valid ones, and nothing is stored."""
    before = _annotations(node)
    unknown = {"id": "tr-0123456789abcdef", "albumId": "al-0123456789abcdef", "artistId": "ar-0123456789abcdef"}
    for method in ("star", "unstar"):
        for param, ident in unknown.items():
            err = owner.error(method, {param: ident})
            assert err["code"] == 70 and ident in err["message"], (method, param, err)
            # a valid id in the same call is not written either
            assert owner.error(method, [("id", ids["lovely"]), (param, ident)])["code"] == 70
        assert owner.error(method, {"albumId": ids["army"]})["code"] == 70  # a song id given as an album
    assert owner.error("setRating", {"id": unknown["albumId"], "rating": 3})["code"] == 70
    assert _annotations(node) == before
    assert ids["lovely"] not in {s["id"] for s in owner.json("getStarred2")["starred2"].get("song", [])}


def test_playlists(owner, listener, ids):
    created = owner.json("createPlaylist", [("name", "Mix"), ("songId", ids["army"]), ("songId", ids["love"])],
                         post=True)["playlist"]
    pid = created["id"]
    assert pid.startswith("pl-") and created["songCount"] == 2 and isinstance(created["duration"], int)
    assert [e["id"] for e in created["entry"]] == [ids["army"], ids["love"]]
    owner.json("updatePlaylist", [("playlistId", pid), ("name", "Mix 2"), ("songIdToAdd", ids["hyper"]),
                                  ("songIndexToRemove", "0"), ("public", "true"), ("comment", "hi")])
    got = owner.json("getPlaylist", {"id": pid})["playlist"]
    assert got["name"] == "Mix 2" and got["public"] is True and got["comment"] == "hi"
    assert [e["id"] for e in got["entry"]] == [ids["love"], ids["hyper"]]
    owner.xml("getPlaylist", {"id": pid})
    replaced = owner.json("createPlaylist", {"playlistId": pid, "songId": ids["lovely"]})["playlist"]
    assert [e["id"] for e in replaced["entry"]] == [ids["lovely"]] and replaced["name"] == "Mix 2"
    assert pid in [p["id"] for p in listener.json("getPlaylists")["playlists"]["playlist"]]  # public
    assert listener.error("updatePlaylist", {"playlistId": pid, "name": "x"})["code"] == 50
    assert listener.error("deletePlaylist", {"id": pid})["code"] == 50
    cover = owner.raw("getCoverArt", {"id": pid}, fmt="")
    assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/")
    owner.json("deletePlaylist", {"id": pid})
    assert owner.error("getPlaylist", {"id": pid})["code"] == 70
    assert owner.error("createPlaylist", {"name": "x", "songId": "tr-nope"})["code"] == 70


def test_play_queue(owner, ids):
    owner.json("savePlayQueue", [("id", ids["army"]), ("id", ids["hyper"]), ("current", ids["hyper"]),
                                 ("position", "1234")], post=True)
    q = owner.json("getPlayQueue")["playQueue"]
    assert [e["id"] for e in q["entry"]] == [ids["army"], ids["hyper"]]
    assert q["current"] == ids["hyper"] and q["position"] == 1234 and q["changedBy"] == "tests"
    owner.xml("getPlayQueue")


def test_users_and_roles(owner, listener):
    assert owner.json("getUser", {"username": "lis"})["user"]["adminRole"] is False
    me = listener.json("getUser")["user"]
    assert me["username"] == "lis" and me["streamRole"] is True and me["folder"] == [1]
    assert listener.error("getUser", {"username": "owner"})["code"] == 50
    assert listener.error("getUsers")["code"] == 50
    assert {u["username"] for u in owner.json("getUsers")["users"]["user"]} == {"owner", "lis"}


def test_scan(owner, listener):
    assert listener.error("startScan")["code"] == 50
    status = owner.json("startScan")["scanStatus"]
    assert status["scanning"] is True
    assert isinstance(owner.json("getScanStatus")["scanStatus"]["count"], int)


def test_same_ids_as_native_api(node, owner, ids):
    import httpx

    from tests.support.node import PASSWORD

    with httpx.Client(base_url=node.url) as c:
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        native = c.get(f"/api/v1/albums/{ids['post']}").json()
    assert {t["id"] for t in native["tracks"]} == {ids["army"], ids["hyper"]}
