"""Library rows → Subsonic objects (Child, AlbumID3, ArtistID3, Artist, Playlist, User).

Pure functions over the rows of :mod:`sonantica.node.store.browse`, plus
:func:`decorate`, which fetches in one read what they need per user
(stars, ratings, play counts) and per track (artists with their ids).
Optional fields that are unknown are left out (never ``null``): clients and
the OpenSubsonic schema expect absent, not null.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ...store import annotations
from ...store import subsonic_queries as sq
from ...streaming.mime import mime_for


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None and v != ""}


@dataclass
class Extras:
    """What one user sees on items beyond the library: stars, ratings, plays; track artists."""

    notes: dict[str, dict] = field(default_factory=dict)
    plays: dict[str, tuple[int, float]] = field(default_factory=dict)
    people: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    found: dict[str, dict] = field(default_factory=dict)  # outside data: {id: {"mbid", "picture", "disambiguation"}}
    pictures: dict[str, str] = field(default_factory=dict)  # artist id → its picture's URL on this node
    versions: dict[str, str] = field(default_factory=dict)  # album id → its version (albumversion tag)

    def mbid(self, ident: str) -> str | None:
        return (self.found.get(ident) or {}).get("mbid")

    def starred(self, ident: str) -> str | None:
        return iso((self.notes.get(ident) or {}).get("starred_at"))

    def rating(self, ident: str) -> int | None:
        return (self.notes.get(ident) or {}).get("rating") or None

    def play_count(self, ident: str) -> int:
        return self.plays.get(ident, (0, 0.0))[0]

    def played(self, ident: str) -> str | None:
        p = self.plays.get(ident)
        return iso(p[1]) if p else None


def extras_sync(db, user_id: str, ids: list[str], track_ids: list[str]) -> Extras:
    from ...store import plays as plays_store

    from ...store import metadata as meta_store

    return Extras(annotations.of(db, user_id, ids), plays_store.plays_of(db, user_id, ids), sq.people_of(db, track_ids),
                  meta_store.known(db, ids), versions=sq.album_versions(db, [i for i in ids if i.startswith("al-")]))


async def decorate(call, tracks=(), albums=(), artists=()) -> Extras:
    ids = [x["id"] for x in (*tracks, *albums, *artists)]
    track_ids = [t["id"] for t in tracks]
    if not ids:
        return Extras()
    x = await call.store.read(extras_sync, call.uid, ids, track_ids)
    from ..images import image_url

    for ident, found in x.found.items():
        if found.get("picture") and ident.startswith("ar-"):
            x.pictures[ident] = await image_url(call.node, ident, 600)
    return x


def _int(value) -> int | None:
    return None if value is None else int(round(value))


def _artist_ref(a: dict) -> dict:
    return {"id": a["id"], "name": a["name"]}


def child(t: dict, x: Extras) -> dict:
    """A song as a ``Child`` (with the OpenSubsonic fields filled from the index)."""
    people = x.people.get(t["id"], {})
    artists = [_artist_ref(a) for a in people.get("artist", [])]
    album_artists = [_artist_ref(a) for a in people.get("albumartist", [])]
    composers = [a["name"] for a in people.get("composer", [])]
    suffix = posixpath.splitext(t["path"])[1].lstrip(".").lower() or t.get("format")
    gain = clean({"trackGain": t.get("rg_track_gain"), "albumGain": t.get("rg_album_gain"),
                  "trackPeak": t.get("rg_track_peak"), "albumPeak": t.get("rg_album_peak")})
    genres = t.get("genres") or []
    return clean({
        "id": t["id"],
        "parent": t["album_id"],
        "isDir": False,
        "title": t["title"],
        "album": t["album"],
        "artist": t["artist"],
        "track": t.get("track_no"),
        "year": t.get("year"),
        "genre": genres[0] if genres else None,
        "coverArt": t.get("cover") or t["album_id"],
        "size": t.get("size"),
        "contentType": mime_for(t["path"]).split(";")[0],
        "suffix": suffix,
        "duration": _int(t.get("duration")),
        "bitRate": t.get("bitrate"),
        "bitDepth": t.get("bit_depth"),
        "samplingRate": t.get("sample_rate"),
        "channelCount": t.get("channels"),
        "path": t["path"],
        "isVideo": False,
        "userRating": x.rating(t["id"]),
        "playCount": x.play_count(t["id"]),
        "discNumber": t.get("disc_no"),
        "created": iso(t.get("created_at")),
        "starred": x.starred(t["id"]),
        "albumId": t["album_id"],
        "artistId": t.get("artist_id") or (artists[0]["id"] if artists else None),
        "type": "music",
        "mediaType": "song",
        "played": x.played(t["id"]),
        "bpm": _int(t.get("bpm")),
        "comment": t.get("comment"),
        "sortName": (t.get("tags") or {}).get("sort_title"),
        "musicBrainzId": t.get("mb_recording_id") or x.mbid(t["id"]),
        "genres": [{"name": g} for g in genres],
        "artists": artists,
        "displayArtist": t["artist"],
        "albumArtists": album_artists,
        "displayAlbumArtist": t.get("album_artist"),
        "displayComposer": ", ".join(composers) or None,
        "replayGain": gain or None,
        **_classical(t.get("tags") or {}),
        **_transcoded(t),
    }) | {"genres": [{"name": g} for g in genres], "artists": artists, "albumArtists": album_artists}


def _classical(tags: dict) -> dict:
    """ISRCs, groupings, work and movement (OpenSubsonic 2025), where the tags have them; absent otherwise."""
    work = clean({"name": tags.get("work"), "musicBrainzId": tags.get("mb_work_id")}) if tags.get("work") else None
    movement = clean({"name": tags.get("movement_name"), "number": tags.get("movement_no"),
                      "count": tags.get("movement_total")}) if tags.get("movement_name") else None
    return {"isrc": list(tags.get("isrc") or []) or None, "groupings": list(tags.get("groupings") or []) or None,
            "works": [work] if work else None, "movements": [movement] if movement else None}


def disc_titles(tracks: list[dict]) -> list[dict] | None:
    """An album's discs with their subtitles and art (a disc's own cover when its songs carry one),
    for albums of several discs or with a subtitle; None for a plain single disc."""
    discs: dict[int, dict] = {}
    for t in tracks:
        no = t.get("disc_no") or 1
        disc = discs.setdefault(no, {"disc": no, "title": "", "coverArt": None})
        if not disc["title"] and t.get("disc_subtitle"):
            disc["title"] = t["disc_subtitle"]
        if disc["coverArt"] is None and t.get("cover"):
            disc["coverArt"] = t["cover"]
    if len(discs) < 2 and not any(d["title"] for d in discs.values()):
        return None
    return [{k: v for k, v in d.items() if v is not None} for _, d in sorted(discs.items())]


def album_version(tracks: list[dict]) -> str | None:
    """The album's version (Remastered, Deluxe…): the first of its songs' ``albumversion`` tags."""
    return next(((t.get("tags") or {}).get("album_version") for t in tracks
                 if (t.get("tags") or {}).get("album_version")), None)


def _transcoded(t: dict) -> dict:
    """What ``stream`` without a format sends for a codec few players decode (DSD, WMA, Musepack…)."""
    from quart import current_app

    from ...streaming import FORMATS
    from ...streaming.mime import mime_for_format
    from ..streams import plays_widely

    if plays_widely(t):
        return {}
    fmt = current_app.node.config.default_format_wan
    fmt = fmt if fmt in FORMATS else "opus"
    return {"transcodedSuffix": fmt, "transcodedContentType": mime_for_format(fmt).split(";")[0]}


def album_id3(a: dict, x: Extras) -> dict:
    genres = a.get("genres") or []
    artists = [{"id": a["artist_id"], "name": a["artist"]}] if a.get("artist_id") else []
    return clean({
        "id": a["id"],
        "name": a["name"],
        "version": a.get("version") or x.versions.get(a["id"]),
        "artist": a["artist"],
        "artistId": a.get("artist_id"),
        "coverArt": a.get("cover") or a["id"],
        "songCount": a["song_count"],
        "duration": _int(a["duration"]) or 0,
        "playCount": x.play_count(a["id"]),
        "created": iso(a["created_at"]),
        "starred": x.starred(a["id"]),
        "year": a.get("year"),
        "genre": genres[0] if genres else None,
        "played": x.played(a["id"]),
        "userRating": x.rating(a["id"]),
        "musicBrainzId": a.get("mbid") or x.mbid(a["id"]),
        "genres": [{"name": g} for g in genres],
        "artists": artists,
        "displayArtist": a["artist"],
        "sortName": a.get("sort_name"),
        "isCompilation": bool(a.get("compilation")),
        "discTitles": a.get("disc_titles"),
    }) | {"songCount": a["song_count"], "duration": _int(a["duration"]) or 0,
          "genres": [{"name": g} for g in genres], "artists": artists}


def album_child(a: dict, x: Extras) -> dict:
    """An album as a directory ``Child`` (getAlbumList, getMusicDirectory, search2, getStarred)."""
    genres = a.get("genres") or []
    return clean({
        "id": a["id"],
        "parent": a.get("artist_id"),
        "isDir": True,
        "title": a["name"],
        "album": a["name"],
        "artist": a["artist"],
        "year": a.get("year"),
        "genre": genres[0] if genres else None,
        "coverArt": a.get("cover") or a["id"],
        "duration": _int(a["duration"]),
        "userRating": x.rating(a["id"]),
        "playCount": x.play_count(a["id"]),
        "created": iso(a["created_at"]),
        "starred": x.starred(a["id"]),
        "albumId": a["id"],
        "artistId": a.get("artist_id"),
        "played": x.played(a["id"]),
    })


def artist_id3(ar: dict, x: Extras) -> dict:
    return clean({
        "id": ar["id"],
        "name": ar["name"],
        "coverArt": ar.get("cover") or ar["id"],
        "albumCount": ar.get("album_count") or 0,
        "starred": x.starred(ar["id"]),
        "musicBrainzId": ar.get("mbid") or x.mbid(ar["id"]),
        "sortName": ar.get("sort_name"),
        "artistImageUrl": x.pictures.get(ar["id"]),
        "disambiguation": (x.found.get(ar["id"]) or {}).get("disambiguation"),
    }) | {"albumCount": ar.get("album_count") or 0}


def artist_v1(ar: dict, x: Extras) -> dict:
    return clean({"id": ar["id"], "name": ar["name"], "starred": x.starred(ar["id"]),
                  "userRating": x.rating(ar["id"]), "artistImageUrl": x.pictures.get(ar["id"])})


def playlist(p: dict, user: dict) -> dict:
    from ...store import playlists as pl

    return clean({
        "id": p["id"],
        "name": p["name"],
        "comment": p.get("comment"),
        "owner": p["owner"],
        "public": bool(p["public"]),
        "songCount": p["song_count"],
        "duration": _int(p["duration"]) or 0,
        "created": iso(p["created_at"]),
        "changed": iso(p["updated_at"]),
        "coverArt": p["id"],
        "readonly": not pl.can_write(p, user),
        "validUntil": iso(valid_until(p)),
    }) | {"songCount": p["song_count"], "duration": _int(p["duration"]) or 0}


SMART_VALID_S = 60.0  # a smart playlist changes with any counted play or library change: re-read after a minute


def valid_until(p: dict, now: float | None = None) -> float | None:
    """When a generated playlist's contents will change: daily mixes and the like at their next daily
    refresh, smart playlists soon (they follow plays and the library). None for playlists people edit."""
    import time

    from ...analytics.service import SETTINGS

    kind = p.get("generated")
    if not kind:
        return None
    now = time.time() if now is None else now
    if kind == "smart":
        return now + SMART_VALID_S
    next_refresh = (p.get("updated_at") or now) + SETTINGS["refresh_every_s"]
    return next_refresh if next_refresh > now else now + SETTINGS["refresh_check_s"]  # overdue: the next check


def user(u: dict, folders: list[int], sharing: bool = False) -> dict:
    """``sharing``: whether the node lets users make share links (``share_links``): everyone may, then."""
    admin = u["role"] in ("owner", "admin")
    return {
        "username": u["name"],
        "scrobblingEnabled": True,
        "adminRole": admin,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": False,
        "commentRole": False,
        "podcastRole": admin,  # podcasts.can_manage
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": sharing,
        "videoConversionRole": False,
        "folder": folders,
    }
