"""Lists: getAlbumList(2) for every type, random songs, songs by genre, starred, now playing."""

from __future__ import annotations

import time


from ...store import annotations, browse
from ...store import subsonic_queries as sq
from . import shapes
from .core import Call, method
from .envelope import MISSING_PARAMETER, SubsonicError


async def _album_list(call: Call) -> list[dict]:
    kind = call.require("type")
    size = call.int("size", 10, 0, 500)
    offset = call.int("offset", 0, 0)
    try:
        return await call.store.read(lambda db: sq.album_list(
            db, kind, call.uid, offset, size, genre=call.get("genre"), year_from=call.int("fromYear", None, 0, 9999),
            year_to=call.int("toYear", None, 0, 9999), folder_id=call.int("musicFolderId", None)))
    except ValueError as exc:
        raise SubsonicError(MISSING_PARAMETER if "needs" in str(exc) else 0, str(exc)) from None


@method("getAlbumList")
async def get_album_list(call: Call) -> dict:
    albums = await _album_list(call)
    x = await shapes.decorate(call, albums=albums)
    return {"albumList": {"album": [shapes.album_child(a, x) for a in albums]}}


@method("getAlbumList2")
async def get_album_list2(call: Call) -> dict:
    albums = await _album_list(call)
    x = await shapes.decorate(call, albums=albums)
    return {"albumList2": {"album": [shapes.album_id3(a, x) for a in albums]}}


async def _songs(call: Call, tracks: list[dict]) -> list[dict]:
    x = await shapes.decorate(call, tracks=tracks)
    return [shapes.child(t, x) for t in tracks]


@method("getRandomSongs")
async def get_random_songs(call: Call) -> dict:
    tracks = await call.store.read(
        browse.random_tracks, call.int("size", 10, 0, 500), call.get("genre") or None,
        call.int("fromYear", None, 0, 9999), call.int("toYear", None, 0, 9999), call.int("musicFolderId", None))
    return {"randomSongs": {"song": await _songs(call, tracks)}}


@method("getSongsByGenre")
async def get_songs_by_genre(call: Call) -> dict:
    genre = call.require("genre")
    tracks = await call.store.read(sq.tracks_by_genre, genre, call.int("offset", 0), call.int("count", 10, 0, 500),
                                   call.int("musicFolderId", None))
    return {"songsByGenre": {"song": await _songs(call, tracks)}}


async def _starred(call: Call):
    uid = call.uid

    def run(db):
        return (browse.artists_by_ids(db, annotations.starred(db, uid, "artist")),
                browse.albums_by_ids(db, annotations.starred(db, uid, "album")),
                browse.tracks_by_ids(db, annotations.starred(db, uid, "track")))

    artists, albums, tracks = await call.store.read(run)
    return artists, albums, tracks, await shapes.decorate(call, tracks=tracks, albums=albums, artists=artists)


@method("getStarred")
async def get_starred(call: Call) -> dict:
    artists, albums, tracks, x = await _starred(call)
    return {"starred": {"artist": [shapes.artist_v1(a, x) for a in artists],
                        "album": [shapes.album_child(a, x) for a in albums],
                        "song": [shapes.child(t, x) for t in tracks]}}


@method("getStarred2")
async def get_starred2(call: Call) -> dict:
    artists, albums, tracks, x = await _starred(call)
    return {"starred2": {"artist": [shapes.artist_id3(a, x) for a in artists],
                         "album": [shapes.album_id3(a, x) for a in albums],
                         "song": [shapes.child(t, x) for t in tracks]}}


@method("getNowPlaying")
async def get_now_playing(call: Call) -> dict:
    from ...analytics import plays

    entries = await plays.now_playing(call.node)
    tracks = {t["id"]: t for t in await call.store.read(browse.tracks_by_ids, [e["track_id"] for e in entries])}
    x = await shapes.decorate(call, tracks=list(tracks.values()))
    out = []
    now = time.time()
    for player_id, e in enumerate(entries, 1):
        if e["track_id"] in tracks:
            track = tracks[e["track_id"]]
            out.append(shapes.child(track, x) | {
                "username": e["user_name"], "minutesAgo": e["minutes_ago"], "playerId": player_id,
                "playerName": e.get("client") or "", "state": e["state"],
                "positionMs": _position_now(e, track, now), "playbackRate": float(e["rate"])})
    return {"nowPlaying": {"entry": out}}


def _position_now(entry: dict, track: dict, now: float) -> int:
    """Where the player is now (``playbackReport``): the last reported position, moved on by the time since at
    the reported rate while playing, never past the end of the song."""
    position = entry["position_ms"]
    if entry["state"] == "playing":
        position += int(max(0.0, now - entry["updated_at"]) * 1000 * entry["rate"])
    end = int((track.get("duration") or 0) * 1000)
    return max(0, min(position, end) if end else position)
