"""Per-user music folders, proved over every route that lists or serves music (real nodes on loopback).

Node A has two music folders ("Famille", "Zebulon"); node B, a member, holds "Quokka" music, which A
shows as B's folder. Listener ``kid`` sees Famille only; listener ``teen`` sees Famille and Zebulon
(B's folder hidden). Before they were limited, both starred, played, queued and put in playlists music
of every folder, and the owner plays, stars and shares all of it, so that every list has something to
leak. Each Subsonic method (from the dispatcher's table) and each native route (from the app's url
map) has a row below: calls with visible and hidden ids, and what must come back. A hidden id answers
"not found" (Subsonic error 70, HTTP 404), never "forbidden"; no body mentions anything of a hidden
folder: ids, names, covers, paths. A method or route without a row fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.subsonic.harness import Sub
from tests.subsonic.oracle import check_json
from tests.support.audio import jpeg, make_track
from tests.support.federation import NodeProc, free_port, make_node, stop_all, wait_for
from tests.support.node import PASSWORD, init_node

OK, MISSING, BYTES, ANY = "ok", "missing", "bytes", "any"
MARKERS = {"famille": "Famille", "zebulon": "Zebulon", "quokka": "Quokka"}
LRC = "[00:00.10]La la la\n"


def _album(music, marker: str, color: tuple[int, int, int], seed: int) -> None:
    for n in (1, 2):
        make_track(music / f"{marker} Band" / f"{marker} Album" / f"0{n}.flac", "flac",
                   {"title": f"{marker} Song {n}", "artist": f"{marker} Band", "albumartist": f"{marker} Band",
                    "album": f"{marker} Album", "genre": f"{marker} Jazz", "date": "2001", "tracknumber": str(n)},
                   cover=jpeg(48, color), seed=seed + n)
    (music / f"{marker} Band" / f"{marker} Album" / "01.lrc").write_text(LRC)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("access")
    fam, grown = root / "Famille", root / "Zebulon"
    _album(fam, "Famille", (200, 30, 60), 10)
    _album(grown, "Zebulon", (30, 200, 60), 20)
    data = init_node(root / "data-a", [fam, grown], name="Node a", watch=False,
                     users={"owner": "owner", "kid": "listener", "teen": "listener", "boss": "admin"})
    a = NodeProc("a", data.root, fam, free_port(), free_port())
    b = make_node(root, "b")
    _album(b.music, "Quokka", (60, 30, 200), 30)
    try:
        a.start()
        b.start()
        b.join(a.invite())
        wait_for(lambda: len(_owner_tracks(a)) == 6, timeout=60, what="A's four tracks and B's two")
        yield _prepare(a, b)
    finally:
        stop_all([a, b])


def _owner_tracks(a: NodeProc) -> list[dict]:
    with a.client() as c:
        return c.get("/api/v1/tracks", params={"limit": 100}).json()["items"]


def _login(a: NodeProc, name: str) -> httpx.Client:
    c = httpx.Client(base_url=a.url, timeout=30)
    r = c.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def _play(c: httpx.Client, t: dict) -> None:
    """A whole (counted) listen; a member's track is described as the web app does (``meta``)."""
    meta = {"title": t["title"], "artist": t["artist"], "album": t["album"], "duration_ms": 1000}
    for event in ({"event": "start", "track_id": t["id"], "meta": meta},
                  {"event": "end", "track_id": t["id"], "position_ms": 1000}):
        r = c.post("/api/v1/plays/events", json=event)
        assert r.status_code in (200, 201), r.text


def _prepare(a: NodeProc, b: NodeProc) -> dict:
    """Everyone listens to everything, then the owner limits kid and teen."""
    owner = _login(a, "owner")
    tracks = _owner_tracks(a)
    folders = {f["name"]: f["id"] for f in owner.get("/api/v1/folders").json()["items"] if f["node"] is None}
    member = next(f["id"] for f in owner.get("/api/v1/folders").json()["items"] if f["node"] is not None)
    folders["Quokka"] = member
    artists = owner.get("/api/v1/artists", params={"limit": 100}).json()["items"]
    per: dict[str, dict] = {}
    for marker in MARKERS.values():
        mine = sorted((t for t in tracks if t["title"].startswith(marker)), key=lambda t: t["title"])
        per[marker] = {
            "marker": marker, "folder": folders[marker], "track": mine[0]["id"], "track2": mine[1]["id"],
            "album": mine[0]["album_id"], "artist": next(x["id"] for x in artists if x["name"] == f"{marker} Band"),
            "cover": mine[0]["cover"], "title": mine[0]["title"], "artist_name": f"{marker} Band",
            "genre": f"{marker} Jazz", "all_ids": {t["id"] for t in mine} | {mine[0]["album_id"], mine[0]["cover"]},
        }
        per[marker]["all_ids"].add(per[marker]["artist"])
        assert per[marker]["cover"], f"{marker} tracks have a cover"
    everything = [t["id"] for t in tracks]
    users = {u["name"]: u["id"] for u in owner.get("/api/v1/users").json()["users"]}
    subs = {}
    for name in ("kid", "teen"):
        c = _login(a, name)
        for t in tracks:  # history, stars, ratings, a queue and a playlist over every folder
            _play(c, t)
        for x in per.values():
            for ident in (x["track"], x["album"], x["artist"]):
                assert c.put(f"/api/v1/stars/{ident}").status_code == 204
            assert c.put(f"/api/v1/ratings/{x['album']}", json={"rating": 5}).status_code == 204
        assert c.put("/api/v1/queue", json={"track_ids": everything, "current": per["Zebulon"]["track"]}
                     ).status_code == 204
        for t in everything:
            assert c.put(f"/api/v1/bookmarks/{t}", json={"position_ms": 500}).status_code == 200
        r = c.post("/api/v1/shares", json={"ids": everything, "downloadable": True})
        assert r.status_code == 201, r.text
        share = "/" + r.json()["url"].split("/", 3)[3]
        own = c.post("/api/v1/playlists", json={"name": f"{name}'s mix", "track_ids": everything}).json()["id"]
        smart = c.post("/api/v1/smart-playlists", json={"name": "All", "rules": {"all": [
            {"gt": {"duration": 0}}]}}).json()
        assert c.post("/api/v1/generated-playlists/refresh").status_code == 200
        pw = c.post("/api/v1/me/subsonic-password").json()["password"]
        subs[name] = {"client": c, "sub": Sub(a.url, name, pw), "playlist": own, "smart": smart["id"],
                      "share": share, "share_id": r.json()["id"]}
    for t in tracks:  # the owner's plays make every track "popular" and "now playing"
        _play(owner, t)
        owner.post("/api/v1/plays/events", json={"event": "start", "track_id": t["id"], "device": "hifi",
                                                 "meta": {"title": t["title"], "duration_ms": 1000}})
    public = owner.post("/api/v1/playlists", json={"name": "Everything", "track_ids": everything,
                                                   "public": True}).json()["id"]
    owner.put(f"/api/v1/federation/pins/{per['Quokka']['album']}")
    r = owner.patch(f"/api/v1/users/{users['kid']}", json={"folders": [folders["Famille"]]})
    assert r.status_code == 200 and r.json()["user"]["folders"] == [folders["Famille"]], r.text
    r = owner.patch(f"/api/v1/users/{users['teen']}", json={"folders": [folders["Famille"], folders["Zebulon"]]})
    assert r.status_code == 200, r.text
    return {"a": a, "b": b, "owner": owner, "per": per, "tracks": {t["id"]: t for t in tracks}, "folders": folders, "users": users, "subs": subs,
            "public": public}


# -- the tables --------------------------------------------------------------------------------------
# a row: (visible folder's ids, [hidden folders' ids], the caller's own things) -> [(params, expected)]
Row = Callable[[dict, list[dict], dict], list]
ALBUM_TYPES = ["random", "newest", "alphabeticalByName", "alphabeticalByArtist", "frequent", "recent", "starred",
               "highest"]


def _by_id(key: str, method_param: str = "id") -> Row:
    return lambda v, h, me: [({method_param: v[key]}, OK)] + [({method_param: x[key]}, MISSING) for x in h]


def _plain(expect: str = OK) -> Row:
    return lambda v, h, me: [({}, expect)]


def _folders_too(base: list[dict]) -> Row:
    return lambda v, h, me: [(p, OK) for p in base] + [({**p, "musicFolderId": x["folder"]}, OK)
                                                        for p in base for x in h]


def _exempt(reason: str) -> str:
    return "exempt: " + reason


SUBSONIC: dict[str, Row | str] = {
    "ping": _plain(), "getLicense": _plain(), "getOpenSubsonicExtensions": _plain(), "tokenInfo": _plain(ANY),
    "getMusicFolders": _plain(), "getIndexes": _folders_too([{}]), "getArtists": _folders_too([{}]),
    "getMusicDirectory": lambda v, h, me: [({"id": v["artist"]}, OK), ({"id": v["album"]}, OK)]
    + [({"id": x[k]}, MISSING) for x in h for k in ("artist", "album")],
    "getArtist": _by_id("artist"), "getAlbum": _by_id("album"), "getSong": _by_id("track"), "getGenres": _plain(),
    "getArtistInfo": lambda v, h, me: _by_id("artist")(v, h, me) + [({"id": x["album"]}, MISSING) for x in h],
    "getArtistInfo2": lambda v, h, me: _by_id("artist")(v, h, me) + [({"id": x["track"]}, MISSING) for x in h],
    "getAlbumInfo": lambda v, h, me: _by_id("album")(v, h, me) + [({"id": x["track"]}, MISSING) for x in h],
    "getAlbumInfo2": _by_id("album"),
    "getTopSongs": lambda v, h, me: [({"artist": x["artist_name"]}, OK) for x in (v, *h)]
    + [({"id": v["artist"]}, OK)] + [({"id": x["artist"]}, MISSING) for x in h],
    "getSimilarSongs": lambda v, h, me: _by_id("track")(v, h, me) + _by_id("artist")(v, h, me)[1:],
    "getSimilarSongs2": lambda v, h, me: _by_id("track")(v, h, me) + _by_id("album")(v, h, me)[1:],
    "getAlbumList": _folders_too([{"type": t, "size": 100} for t in ALBUM_TYPES]
                                 + [{"type": "byYear", "fromYear": 1990, "toYear": 2030}]),
    "getAlbumList2": lambda v, h, me: _folders_too([{"type": t, "size": 100} for t in ALBUM_TYPES])(v, h, me)
    + [({"type": "byGenre", "genre": x["genre"]}, OK) for x in h],
    "getRandomSongs": _folders_too([{"size": 100}]),
    "getSongsByGenre": lambda v, h, me: [({"genre": x["genre"], "count": 100}, OK) for x in (v, *h)]
    + [({"genre": v["genre"], "musicFolderId": x["folder"]}, OK) for x in h],
    "getNowPlaying": _plain(), "getStarred": _plain(), "getStarred2": _plain(),
    "search2": lambda v, h, me: [({"query": q, "songCount": 100, "albumCount": 100, "artistCount": 100}, OK)
                                 for q in ("", *MARKERS.values(), "Song", "Band")],
    "search3": lambda v, h, me: [({"query": q, "songCount": 100, "albumCount": 100, "artistCount": 100}, OK)
                                 for q in ("", *MARKERS.values(), "Song", "Band")]
    + [({"query": "", "songCount": 100, "musicFolderId": x["folder"]}, OK) for x in h],
    "getPlaylists": _plain(),
    "getPlaylist": lambda v, h, me: [({"id": me["playlist"]}, OK), ({"id": me["public"]}, OK), ({"id": me["smart"]}, OK)],
    "createPlaylist": lambda v, h, me: [({"name": "new", "songId": x["track"]}, MISSING) for x in h],
    "updatePlaylist": lambda v, h, me: [({"playlistId": me["playlist"], "songIdToAdd": x["track"]}, MISSING)
                                        for x in h],
    "deletePlaylist": _exempt("deletes one of the caller's playlists: it lists and serves no music"),
    "getPlayQueue": _plain(), "getPlayQueueByIndex": _plain(),
    "savePlayQueue": lambda v, h, me: [({"id": [v["track"], x["track"]]}, MISSING) for x in h],
    "savePlayQueueByIndex": lambda v, h, me: [({"id": [v["track"], x["track"]], "currentIndex": 0}, MISSING)
                                              for x in h],
    "getCoverArt": lambda v, h, me: [({"id": v["cover"]}, BYTES), ({"id": v["album"]}, BYTES)]
    + [({"id": x[k]}, MISSING) for x in h for k in ("cover", "album", "track", "artist")],
    "getLyrics": lambda v, h, me: [({"artist": x["artist_name"], "title": x["title"]}, OK) for x in (v, *h)],
    "getLyricsBySongId": _by_id("track"),
    "stream": lambda v, h, me: [({"id": v["track"]}, BYTES)] + [({"id": x["track"]}, MISSING) for x in h],
    "download": lambda v, h, me: [({"id": v["track"]}, BYTES)] + [({"id": x["track"]}, MISSING) for x in h],
    "scrobble": lambda v, h, me: [({"id": v["track"], "submission": "false"}, OK)]
    + [({"id": x["track"], "submission": s}, MISSING) for x in h for s in ("false", "true")],
    "star": lambda v, h, me: [({"id": v["track"]}, OK)] + [({k: x[f]}, MISSING) for x in h
                                                           for k, f in (("id", "track"), ("albumId", "album"),
                                                                        ("artistId", "artist"))],
    "unstar": lambda v, h, me: [({"id": x["track"]}, MISSING) for x in h],
    "setRating": lambda v, h, me: [({"id": x[k], "rating": 3}, MISSING) for x in h for k in ("track", "album")],
    "reportPlayback": lambda v, h, me: [({"mediaId": x["track"], "mediaType": "song", "positionMs": 0,
                                          "state": "playing"}, MISSING) for x in h],
    "getSonicSimilarTracks": lambda v, h, me: [({"id": v["track"]}, ANY)] + [({"id": x["track"]}, MISSING) for x in h],
    "findSonicPath": lambda v, h, me: [({"startSongId": v["track"], "endSongId": x["track"]}, MISSING) for x in h],
    "getScanStatus": _plain(), "startScan": _plain(ANY), "getUser": _plain(), "getUsers": _plain(ANY),
    "getSongSources": lambda v, h, me: [({"id": v["track"]}, OK)] + [({"id": [v["track"], x["track"]]}, MISSING)
                                                                     for x in h],
    **{m: _exempt("internet radio stations are not in music folders: every user of the node sees its stations") for m in ("getInternetRadioStations", "createInternetRadioStation",
                                                 "updateInternetRadioStation", "deleteInternetRadioStation")},
    "getBookmarks": _plain(),
    "createBookmark": lambda v, h, me: [({"id": v["track"], "position": 100}, OK)]
    + [({"id": x["track"], "position": 100}, MISSING) for x in h],
    "deleteBookmark": lambda v, h, me: [({"id": x["track"]}, ANY) for x in h],
    "getShares": _plain(),
    "createShare": lambda v, h, me: [({"id": v["track"]}, OK)] + [({"id": x[k]}, MISSING) for x in h
                                                                  for k in ("track", "album")],
    "updateShare": _exempt("changes the description or expiry of the caller's share"),
    "deleteShare": _exempt("revokes the caller's share"),
    "getTranscodeDecision": lambda v, h, me: [({"mediaId": x["track"], "mediaType": "song"}, ANY) for x in h],
    "getTranscodeStream": lambda v, h, me: [({"mediaId": x["track"], "mediaType": "song", "transcodeParams": "x"},
                                             ANY) for x in h],
    **{m: _exempt("podcasts are not in music folders: every user of the node sees its podcasts")
       for m in ("getPodcasts", "getNewestPodcasts", "getPodcastEpisode", "refreshPodcasts", "createPodcastChannel",
                 "deletePodcastChannel", "downloadPodcastEpisode", "deletePodcastEpisode")},
    "createUser": _exempt("account management: test_subsonic_user_management"),
    "updateUser": _exempt("account management: test_subsonic_user_management"),
    "deleteUser": _exempt("account management: lists and serves no music"),
    "changePassword": _exempt("account management: lists and serves no music"),
}

WEB_APP = _exempt("the web app's own files: no music")
ADMIN_ONLY = _exempt("admins and the owner only (they see every folder): a listener is refused")
SETTINGS = _exempt("the caller's own settings: lists and serves no music")


def _get(path: str, expect: str = OK) -> Row:
    return lambda v, h, me: [(("GET", path.format(**v), None), expect)]


def _each(method: str, path: str, key: str, body: Callable[[dict], dict | None] = lambda x: None,
          visible: str = OK) -> Row:
    """The route with the visible folder's id (``visible``), then each hidden folder's (404)."""
    return lambda v, h, me: [((method, path.format(id=v[key]), body(v)), visible)] + [
        ((method, path.format(id=x[key]), body(x)), MISSING) for x in h]


NATIVE: dict[tuple[str, str], Row | str] = {
    ("library.tracks", "GET"): lambda v, h, me: [(("GET", "/api/v1/tracks?limit=100", None), OK)]
    + [(("GET", f"/api/v1/tracks?limit=100&folder={x['folder']}", None), OK) for x in h]
    + [(("GET", f"/api/v1/tracks?limit=100&genre={x['genre']}", None), OK) for x in h],
    ("library.track", "GET"): _each("GET", "/api/v1/tracks/{id}", "track"),
    ("library.albums", "GET"): lambda v, h, me: [(("GET", "/api/v1/albums?limit=100", None), OK)]
    + [(("GET", f"/api/v1/albums?limit=100&folder={x['folder']}", None), OK) for x in h],
    ("library.album", "GET"): _each("GET", "/api/v1/albums/{id}", "album"),
    ("library.artists", "GET"): lambda v, h, me: [(("GET", "/api/v1/artists?limit=100", None), OK),
                                                  (("GET", "/api/v1/artists?limit=100&album_artists=true", None), OK)],
    ("library.artist", "GET"): _each("GET", "/api/v1/artists/{id}", "artist"),
    ("library.genres", "GET"): _get("/api/v1/genres"), ("library.folders", "GET"): _get("/api/v1/folders"),
    ("library.search", "GET"): lambda v, h, me: [(("GET", f"/api/v1/search?q={q}&limit=100", None), OK)
                                                 for q in (*MARKERS.values(), "Song", "Band", "Jazz")],
    ("library.cover", "GET"): lambda v, h, me: [(("GET", f"/api/v1/covers/{v['cover']}", None), BYTES)]
    + [(("GET", f"/api/v1/covers/{x[k]}", None), MISSING) for x in h for k in ("cover", "album", "track", "artist")],
    ("library.lyrics", "GET"): _each("GET", "/api/v1/tracks/{id}/lyrics", "track"),
    ("library.star", "PUT"): lambda v, h, me: [(("PUT", f"/api/v1/stars/{x[k]}", None), MISSING)
                                               for x in h for k in ("track", "album", "artist")],
    ("library.unstar", "DELETE"): lambda v, h, me: [(("DELETE", f"/api/v1/stars/{x['track']}", None), MISSING)
                                                    for x in h],
    ("library.starred", "GET"): _get("/api/v1/stars"),
    ("library.rate", "PUT"): lambda v, h, me: [(("PUT", f"/api/v1/ratings/{x['album']}", {"rating": 2}), MISSING)
                                               for x in h],
    ("library.scan_status", "GET"): _get("/api/v1/scan"),
    ("library.start_scan", "POST"): ADMIN_ONLY, ("library.scan_errors", "GET"): ADMIN_ONLY,
    ("streams.stream", "GET"): _each("GET", "/api/v1/tracks/{id}/stream", "track", visible=BYTES),
    ("streams.download", "GET"): _each("GET", "/api/v1/tracks/{id}/download", "track", visible=BYTES),
    ("analysis.waveform", "GET"): _each("GET", "/api/v1/tracks/{id}/waveform", "track", visible=ANY),
    ("analysis.sonic_similar", "GET"): _each("GET", "/api/v1/tracks/{id}/sonic/similar", "track", visible=ANY),
    ("analysis.sonic_path", "GET"): lambda v, h, me: [
        (("GET", f"/api/v1/tracks/{v['track']}/sonic/path?to={x['track']}", None), MISSING) for x in h]
    + [(("GET", f"/api/v1/tracks/{x['track']}/sonic/path?to={v['track']}", None), MISSING) for x in h],
    ("analysis.analysis_progress", "GET"): _get("/api/v1/analysis"),
    ("analysis.analysis_enqueue", "POST"): ADMIN_ONLY,
    ("analytics.play_event", "POST"): lambda v, h, me: [
        (("POST", "/api/v1/plays/events", {"event": "start", "track_id": x["track"]}), MISSING) for x in h],
    ("analytics.play_events", "POST"): lambda v, h, me: [
        (("POST", "/api/v1/plays/events/batch", {"events": [{"event": "start", "track_id": x["track"]}]}), ANY)
        for x in h],
    ("analytics.now_playing", "GET"): _get("/api/v1/plays/now"),
    ("analytics.history", "GET"): _get("/api/v1/plays/history", ANY),
    ("analytics.export_history", "GET"): _get("/api/v1/plays/export", ANY),
    ("analytics.delete_history", "DELETE"): _exempt("deletes the caller's history: lists and serves no music"),
    ("analytics.stats", "GET"): lambda v, h, me: [(("GET", f"/api/v1/stats?period={p}", None), OK)
                                                  for p in ("all", "month", "year")],
    ("analytics.recommendations", "GET"): lambda v, h, me: [(("GET", "/api/v1/recommendations?count=50", None), OK),
                                                            (("GET", "/api/v1/recommendations?new=1", None), OK)],
    ("analytics.similar_tracks", "GET"): _each("GET", "/api/v1/tracks/{id}/similar?count=50", "track"),
    ("analytics.similar_artists", "GET"): _each("GET", "/api/v1/artists/{id}/similar", "artist"),
    ("analytics.start_radio", "POST"): lambda v, h, me: [
        (("POST", "/api/v1/radio", {f"{k}_id": v[k], "count": 20}), OK) for k in ("track", "album", "artist")]
    + [(("POST", "/api/v1/radio", {f"{k}_id": x[k]}), MISSING) for x in h for k in ("track", "album", "artist")],
    ("analytics.next_radio", "GET"): lambda v, h, me: [(("GET", "/api/v1/radio/{radio}", None), OK)],
    ("analytics.generated_playlists", "GET"): _get("/api/v1/generated-playlists"),
    ("analytics.refresh_generated", "POST"): lambda v, h, me: [(("POST", "/api/v1/generated-playlists/refresh", None),
                                                                OK)],
    ("analytics.create_smart", "POST"): lambda v, h, me: [(("POST", "/api/v1/smart-playlists", {
        "name": "Every song", "rules": {"all": [{"gt": {"duration": 0}}]}}), ANY)],
    ("analytics.preview_smart", "POST"): lambda v, h, me: [(("POST", "/api/v1/smart-playlists/preview", {
        "rules": {"all": [{"gt": {"duration": 0}}]}}), OK)],
    ("analytics.check_smart", "POST"): lambda v, h, me: [(("POST", "/api/v1/smart-playlists/check", {
        "rules": {"all": [{"is": {"genre": x["genre"]}} for x in h]}}), OK)],
    ("analytics.get_smart", "GET"): lambda v, h, me: [(("GET", f"/api/v1/smart-playlists/{me['smart']}", None), OK)],
    ("analytics.update_smart", "PUT"): lambda v, h, me: [(("PUT", f"/api/v1/smart-playlists/{me['smart']}",
                                                          {"name": "All of it"}), OK)],
    ("analytics.get_settings", "GET"): SETTINGS, ("analytics.put_settings", "PUT"): SETTINGS,
    ("analytics.forwarding", "GET"): SETTINGS, ("analytics.set_forwarding", "PUT"): SETTINGS,
    ("playlists.list_playlists", "GET"): _get("/api/v1/playlists"),
    ("playlists.get_playlist", "GET"): lambda v, h, me: [(("GET", f"/api/v1/playlists/{p}", None), OK)
                                                         for p in (me["playlist"], me["public"])],
    ("playlists.export_playlist", "GET"): lambda v, h, me: [
        (("GET", f"/api/v1/playlists/{p}/export?format={f}", None), BYTES)
        for p in (me["playlist"], me["public"]) for f in ("m3u8", "xspf")],
    ("playlists.create_playlist", "POST"): lambda v, h, me: [
        (("POST", "/api/v1/playlists", {"name": "n", "track_ids": [x["track"]]}), MISSING) for x in h],
    ("playlists.update_playlist", "PATCH"): lambda v, h, me: [
        (("PATCH", f"/api/v1/playlists/{me['playlist']}", {"track_ids": [x["track"]]}), MISSING) for x in h],
    ("playlists.add_tracks", "POST"): lambda v, h, me: [
        (("POST", f"/api/v1/playlists/{me['playlist']}/tracks", {"track_ids": [x["track"]]}), MISSING) for x in h],
    ("playlists.import_playlist", "POST"): lambda v, h, me: [
        (("POST", "/api/v1/playlists/import", "#EXTM3U\n" + "".join(
            f"#EXTINF:1,{x['artist_name']} - {x['title']}\n{x['artist_name']}/{x['marker']} Album/01.flac\n"
            for x in h)), OK)],
    ("playlists.move_track", "POST"): _exempt("reorders the caller's playlist by position: no ids in or out"),
    ("playlists.remove_track", "DELETE"): _exempt("removes by position from the caller's playlist"),
    ("playlists.delete_playlist", "DELETE"): _exempt("deletes one of the caller's playlists"),
    ("playlists.get_queue", "GET"): _get("/api/v1/queue"),
    ("playlists.save_queue", "PUT"): lambda v, h, me: [
        (("PUT", "/api/v1/queue", {"track_ids": [v["track"], x["track"]]}), MISSING) for x in h],
    ("federation_api.members", "GET"): _get("/api/v1/federation/members"),
    ("federation_api.pins", "GET"): _get("/api/v1/federation/pins"),
    ("federation_api.pin", "PUT"): ADMIN_ONLY, ("federation_api.unpin", "DELETE"): ADMIN_ONLY,
    ("federation_api.create_invite", "POST"): ADMIN_ONLY, ("federation_api.join", "POST"): ADMIN_ONLY,
    ("federation_api.leave", "POST"): ADMIN_ONLY, ("federation_api.revoke", "DELETE"): ADMIN_ONLY,
    ("events.events", "GET"): _exempt("an endless stream: test_events_tell_a_limited_listener_nothing_hidden"),
    ("users.me", "GET"): _get("/api/v1/me"),
    ("users.setup_status", "GET"): _get("/api/v1/setup"), ("users.setup", "POST"): _exempt("first run only"),
    ("users.login", "POST"): _exempt("signs in"), ("users.logout", "POST"): _exempt("signs out"),
    ("users.change_my_password", "PUT"): SETTINGS, ("users.my_api_keys", "GET"): SETTINGS,
    ("users.new_api_key", "POST"): SETTINGS, ("users.revoke_api_key", "DELETE"): SETTINGS,
    ("subsonic.subsonic_native.show_app_password", "GET"): SETTINGS,
    ("subsonic.subsonic_native.set_app_password", "POST"): SETTINGS,
    ("subsonic.subsonic_native.set_app_password", "PUT"): SETTINGS,
    ("subsonic.subsonic_native.delete_app_password", "DELETE"): SETTINGS,
    ("users.list_users", "GET"): ADMIN_ONLY, ("users.create_user", "POST"): ADMIN_ONLY,
    ("users.update_user", "PATCH"): ADMIN_ONLY, ("users.delete_user", "DELETE"): ADMIN_ONLY,
    ("users.user_defaults", "GET"): ADMIN_ONLY, ("users.set_user_defaults", "PUT"): ADMIN_ONLY,
    ("web.health", "GET"): _get("/api/v1/health"), ("web.openapi", "GET"): WEB_APP,
    ("web.root", "GET"): WEB_APP, ("web.root_icon", "GET"): WEB_APP, ("web.client_route", "GET"): WEB_APP,
    ("web.manifest", "GET"): WEB_APP, ("web.static_asset", "GET"): WEB_APP, ("web.service_worker", "GET"): WEB_APP,
    ("subsonic.rest", "*"): _exempt("the Subsonic API: the SUBSONIC table, one row per method"),
    ("metadata.metadata_status", "GET"): _get("/api/v1/metadata"),
    ("metadata.refresh", "POST"): ADMIN_ONLY,
    ("images.image", "GET"): _exempt("signed picture URLs: only those the node handed out (in answers already kept "
                                     "to the caller's folders) answer"),
    **{(f"radio.{r}", m): _exempt("internet radio stations are not in music folders: every user of the node sees its stations")
       for r, m in [("create_station", "POST"), ("delete_station", "DELETE"), ("delete_station_cover", "DELETE"),
                    ("get_station", "GET"), ("get_station_cover", "GET"), ("list_stations", "GET"),
                    ("put_station_cover", "PUT"), ("station_stream", "GET"), ("update_station", "PATCH")]},
    ("bookmarks.list_bookmarks", "GET"): _get("/api/v1/bookmarks"),
    ("bookmarks.get_bookmark", "GET"): _each("GET", "/api/v1/bookmarks/{id}", "track", visible=ANY),
    ("bookmarks.put_bookmark", "PUT"): _each("PUT", "/api/v1/bookmarks/{id}", "track",
                                             body=lambda x: {"position_ms": 100}),
    ("bookmarks.delete_bookmark", "DELETE"): _exempt("forgets the caller's bookmark: lists no music"),
    ("shares.list_shares", "GET"): _get("/api/v1/shares"),
    ("shares.get_share", "GET"): lambda v, h, me: [(("GET", f"/api/v1/shares/{me['share_id']}", None), OK)],
    ("shares.create_share", "POST"): lambda v, h, me: [(("POST", "/api/v1/shares", {"ids": [x[k]]}), MISSING)
                                                       for x in h for k in ("track", "album")],
    ("shares.update_share", "PATCH"): _exempt("changes the caller's share"),
    ("shares.delete_share", "DELETE"): _exempt("revokes the caller's share"),
    # the public page of a share the listener made before being limited: their folders only, for anyone
    ("share_page.share_page", "GET"): lambda v, h, me: [(("GET", me["share"], None), OK)],
    ("share_page.share_cover", "GET"): lambda v, h, me: [(("GET", me["share"] + "/cover", None), BYTES)],
    ("share_page.share_stream", "GET"): lambda v, h, me: [(("GET", me["share"] + "/stream/0", None), BYTES),
                                                          (("GET", me["share"] + f"/stream/{2 * (3 - len(h))}", None),
                                                           MISSING)],
    ("share_page.share_download", "GET"): lambda v, h, me: [(("GET", me["share"] + "/download/1", None), BYTES),
                                                            (("GET", me["share"] + "/download/5", None), MISSING)],
    **{route: _exempt("podcasts are not in music folders: every user of the node sees its podcasts")
       for route in [("podcasts.channel_cover", "GET"), ("podcasts.delete_channel", "DELETE"),
                     ("podcasts.delete_episode", "DELETE"), ("podcasts.download_episode", "POST"),
                     ("podcasts.list_channels", "GET"), ("podcasts.mark_played", "PUT"), ("podcasts.newest", "GET"),
                     ("podcasts.refresh_all", "POST"), ("podcasts.refresh_channel", "POST"),
                     ("podcasts.show_channel", "GET"), ("podcasts.show_episode", "GET"),
                     ("podcasts.stream_episode", "GET"), ("podcasts.subscribe", "POST"),
                     ("podcasts.update_channel", "PATCH")]},
}


def _native_routes() -> set[tuple[str, str]]:
    from sonantica.node.api.app import create_app

    out = set()
    for rule in create_app(None).url_map.iter_rules():
        if rule.endpoint == "subsonic.rest":
            out.add(("subsonic.rest", "*"))
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((rule.endpoint, method))
    return out


def test_every_route_has_a_row():
    from sonantica.node.api.subsonic import METHODS

    assert sorted(set(METHODS) - set(SUBSONIC)) == [], "a Subsonic method without a row in SUBSONIC"
    assert sorted(_native_routes() - set(NATIVE)) == [], "a native route without a row in NATIVE"
    assert sorted(set(NATIVE) - _native_routes()) == [], "a NATIVE row for a route that is gone"


# -- running them ------------------------------------------------------------------------------------
def _leaks(text: str, hidden: list[dict], asked: object = "") -> list[str]:
    """What of the hidden folders ``text`` mentions, apart from what the caller ``asked`` about itself
    (an error may quote the id it was given)."""
    low, asked = text.lower(), json.dumps(asked).lower()
    found = [x["marker"] for x in hidden if x["marker"].lower() in low and x["marker"].lower() not in asked]
    found += [i for x in hidden for i in x["all_ids"] if i.lower() in low and i.lower() not in asked]
    return found


def _who(world, name: str) -> tuple[dict, list[dict], dict]:
    per = world["per"]
    visible = ["Famille"] if name == "kid" else ["Famille", "Zebulon"]
    hidden = [per[m] for m in MARKERS.values() if m not in visible]
    me = world["subs"][name] | {"public": world["public"]}
    return per["Famille"], hidden, me


def _subsonic_call(sub: Sub, method: str, params: dict, expect: str, hidden: list[dict]) -> None:
    items = [(k, x) for k, v in params.items() for x in (v if isinstance(v, list) else [v])]
    r = sub.raw(method, items)
    where = f"{method} {params}"
    if expect == BYTES:
        assert r.status_code == 200 and not r.headers["content-type"].startswith(("application/json", "text/xml")), \
            f"{where}: {r.status_code} {r.text[:300]}"
        return
    if expect == ANY and not r.headers["content-type"].startswith("application/json"):
        assert not _leaks(r.text, hidden, params), f"{where}: {r.text[:1500]}"
        return
    assert r.status_code == 200, f"{where}: {r.status_code}"
    body = r.json()
    check_json(method, body)
    inner = body["subsonic-response"]
    if expect == OK:
        assert inner["status"] == "ok", f"{where}: {inner}"
    elif expect == MISSING:
        assert inner["status"] == "failed" and inner["error"]["code"] == 70, f"{where}: {inner}"
    assert not _leaks(r.text, hidden, params), f"{where} shows {_leaks(r.text, hidden, params)}: {r.text[:1500]}"


@pytest.mark.parametrize("name", ["kid", "teen"])
def test_subsonic_shows_nothing_outside_the_listeners_folders(world, name):
    visible, hidden, me = _who(world, name)
    for method, row in SUBSONIC.items():
        if isinstance(row, str):
            continue
        for params, expect in row(visible, hidden, me):
            _subsonic_call(me["sub"], method, params, expect, hidden)


def _native_call(c: httpx.Client, call: tuple, expect: str, hidden: list[dict], state: dict) -> None:
    method, path, body = call
    path = path.format(**state) if "{radio}" in path else path
    if isinstance(body, str):
        r = c.request(method, path, content=body.encode())
    else:
        r = c.request(method, path, json=body) if body is not None else c.request(method, path)
    where = f"{method} {path} {body}"
    if expect == MISSING:
        assert r.status_code == 404, f"{where}: {r.status_code} {r.text[:300]}"
    elif expect in (OK, BYTES):
        assert 200 <= r.status_code < 300, f"{where}: {r.status_code} {r.text[:300]}"
    if path == "/api/v1/radio" and r.status_code == 201:
        state["radio"] = r.json()["id"]
    if expect != BYTES or "audio" not in r.headers.get("content-type", "") and "image" not in r.headers.get(
            "content-type", ""):
        assert not _leaks(r.text, hidden, call), f"{where} shows {_leaks(r.text, hidden, call)}: {r.text[:1500]}"


@pytest.mark.parametrize("name", ["kid", "teen"])
def test_native_api_shows_nothing_outside_the_listeners_folders(world, name):
    visible, hidden, me = _who(world, name)
    state: dict = {}
    for key, row in NATIVE.items():
        if isinstance(row, str):
            continue
        for call, expect in row(visible, hidden, me):
            _native_call(me["client"], call, expect, hidden, state)


# -- what the limited listeners do see ---------------------------------------------------------------
def test_folders_counts_and_lists_are_the_listeners_own(world):
    per, folders = world["per"], world["folders"]
    kid, teen = world["subs"]["kid"], world["subs"]["teen"]
    assert [f["id"] for f in kid["client"].get("/api/v1/folders").json()["items"]] == [folders["Famille"]]
    music = kid["sub"].json("getMusicFolders")["musicFolders"]["musicFolder"]
    assert [f["id"] for f in music] == [folders["Famille"]]
    assert kid["sub"].json("getUser", {"username": "kid"})["user"]["folder"] == [folders["Famille"]]
    assert sorted(teen["sub"].json("getUser")["user"]["folder"]) == sorted([folders["Famille"], folders["Zebulon"]])
    assert kid["client"].get("/api/v1/scan").json()["library"]["tracks"] == 2
    assert kid["sub"].json("getScanStatus")["scanStatus"]["count"] == 2
    genres = {g["value"]: g for g in kid["sub"].json("getGenres")["genres"]["genre"]}
    assert list(genres) == ["Famille Jazz"] and genres["Famille Jazz"]["songCount"] == 2
    titles = sorted(s["title"] for s in teen["sub"].json("search3", {"query": "", "songCount": 100})
                    ["searchResult3"]["song"])
    assert titles == ["Famille Song 1", "Famille Song 2", "Zebulon Song 1", "Zebulon Song 2"]
    assert [t["title"] for t in kid["client"].get("/api/v1/queue").json()["tracks"]] == \
        ["Famille Song 1", "Famille Song 2"]
    playlist = kid["sub"].json("getPlaylist", {"id": world["public"]})["playlist"]
    assert playlist["songCount"] == 2 and len(playlist["entry"]) == 2
    # the owner and admins see every folder, the member's included
    boss = _login(world["a"], "boss")
    assert len(boss.get("/api/v1/tracks").json()["items"]) == 6
    assert len(world["owner"].get("/api/v1/folders").json()["items"]) == 3
    recs = kid["client"].get("/api/v1/recommendations", params={"count": 50}).json()["items"]
    assert {r["id"] for r in recs} <= {per["Famille"]["track"], per["Famille"]["track2"]}


def test_events_tell_a_limited_listener_nothing_hidden(world):
    """The owner's play of a hidden track is not announced to kid; kid's own plays are."""
    a, per = world["a"], world["per"]
    kid = world["subs"]["kid"]["client"]
    got: list[str] = []
    with httpx.Client(base_url=a.url, timeout=10, cookies=kid.cookies) as c:
        with c.stream("GET", "/api/v1/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            for marker in ("Zebulon", "Quokka"):
                _play(world["owner"], world["tracks"][per[marker]["track"]])
            _play(kid, world["tracks"][per["Famille"]["track2"]])
            for line in lines:
                got.append(line)
                if per["Famille"]["track2"] in line:
                    break
    text = "\n".join(got)
    assert per["Famille"]["track2"] in text
    assert not _leaks(text, [per["Zebulon"], per["Quokka"]]), text


# -- who chooses the folders ---------------------------------------------------------------------------
def test_native_user_management_of_folders(world):
    owner, users, folders = world["owner"], world["users"], world["folders"]
    boss = _login(world["a"], "boss")
    kid = world["subs"]["kid"]["client"]
    # a listener cannot change anyone's folders, their own included
    assert kid.patch(f"/api/v1/users/{users['kid']}", json={"folders": None}).status_code == 403
    # an admin chooses a listener's folders; only the owner an admin's, and the defaults
    r = boss.post("/api/v1/users", json={"username": "guest", "password": PASSWORD,
                                         "folders": [folders["Quokka"]]})
    assert r.status_code == 201 and r.json()["user"]["folders"] == [folders["Quokka"]], r.text
    assert boss.patch(f"/api/v1/users/{users['boss']}", json={"folders": []}).status_code == 403
    assert boss.put("/api/v1/user-defaults", json={"folders": [folders["Famille"]]}).status_code == 403
    assert owner.patch(f"/api/v1/users/{users['boss']}", json={"folders": [99999]}).status_code == 400
    assert owner.patch(f"/api/v1/users/{users['boss']}", json={"folders": ["x"]}).status_code == 400
    r = owner.put("/api/v1/user-defaults", json={"folders": [folders["Famille"]]})
    assert r.status_code == 200 and r.json() == {"folders": [folders["Famille"]]}
    try:
        r = boss.post("/api/v1/users", json={"username": "newkid", "password": PASSWORD})
        assert r.json()["user"]["folders"] == [folders["Famille"]]
        newkid = _login(world["a"], "newkid")
        assert {t["title"] for t in newkid.get("/api/v1/tracks").json()["items"]} == {"Famille Song 1",
                                                                                       "Famille Song 2"}
        guest = _login(world["a"], "guest")  # the member's folder only: B's music, nothing of A's
        assert {t["title"] for t in guest.get("/api/v1/tracks").json()["items"]} == {"Quokka Song 1",
                                                                                      "Quokka Song 2"}
        r = guest.get(f"/api/v1/tracks/{world['per']['Quokka']['track']}/stream")
        assert r.status_code == 200 and len(r.content) > 1000
    finally:
        owner.put("/api/v1/user-defaults", json={"folders": None})


def test_subsonic_user_management_of_folders(world):
    folders = world["folders"]
    owner_pw = world["owner"].post("/api/v1/me/subsonic-password").json()["password"]
    owner = Sub(world["a"].url, "owner", owner_pw)
    owner.json("createUser", [("username", "sub1"), ("password", PASSWORD), ("email", "a@b.c"),
                              ("musicFolderId", folders["Zebulon"])])
    assert owner.json("getUser", {"username": "sub1"})["user"]["folder"] == [folders["Zebulon"]]
    owner.json("updateUser", [("username", "sub1"), ("musicFolderId", folders["Famille"]),
                              ("musicFolderId", folders["Quokka"])])
    assert sorted(owner.json("getUser", {"username": "sub1"})["user"]["folder"]) == \
        sorted([folders["Famille"], folders["Quokka"]])
    every = [("musicFolderId", f) for f in folders.values()]
    owner.json("updateUser", [("username", "sub1"), *every])  # every folder: unlimited again
    users = {u["name"]: u for u in world["owner"].get("/api/v1/users").json()["users"]}
    assert users["sub1"]["folders"] is None
    kid = world["subs"]["kid"]["sub"]
    assert kid.error("updateUser", [("username", "kid"), *every])["code"] == 50
    assert owner.json("getUsers")["users"]["user"][0]["folder"]  # the owner: every folder
