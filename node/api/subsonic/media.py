"""Media: stream (original or transcoded), download, cover art, lyrics.

``stream`` reuses the native API's :func:`~sonantica.node.api.streams.stream_response`:
``format=raw`` (or the file's own suffix) serves the original bit-exact with
Range; ``format=opus|mp3|aac|m4a`` or a ``maxBitRate`` below the original's
transcodes; ``timeOffset`` starts a transcode part-way (transcodeOffset).
Streaming never counts a play: only ``scrobble`` does.
"""

from __future__ import annotations

import json

from quart import Response

from ...errors import NotFound
from ...library import lyrics as lyrics_mod
from ..covers import cover_or_placeholder
from ...store import browse, scope
from ...store import subsonic_queries as sq
from ...streaming import FORMATS
from ..streams import choose_format, client_is_local, stream_response, track_source
from .core import Call, method
from .envelope import GENERIC, SubsonicError, not_found


async def _source(call: Call, ident: str):
    if ident.startswith("pe-"):  # a podcast episode's streamId
        from ..podcasts import episode_source

        try:
            return await episode_source(ident)
        except NotFound:
            raise not_found(f"podcast episode {ident!r} (or its file: only downloaded episodes play)") from None
    if not ident.startswith("tr-"):
        raise not_found(f"song {ident!r}")
    try:
        return await track_source(ident)
    except NotFound:
        raise not_found(f"song {ident!r}") from None


def _format(track: dict, fmt: str | None) -> str | None:
    fmt = (fmt or "").lower() or None
    if fmt is None:
        return None
    if fmt in ("raw", "original") or fmt == (track.get("format") or "").lower() or \
            track["path"].lower().endswith("." + fmt):
        return "raw"
    if fmt in ("ogg", "oga"):
        return "opus"
    if fmt in ("aac", "m4a", "mp3", "opus"):
        return fmt
    raise SubsonicError(GENERIC, f"unknown format {fmt!r}: raw, {', '.join(sorted(FORMATS))}")


async def _settings(call: Call) -> dict:
    raw = await call.store.read(sq.user_settings, call.uid)
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@method("stream")
async def stream(call: Call) -> Response:
    from quart import request

    track, path = await _source(call, call.require("id"))
    kbps = call.int("maxBitRate", 0, 0, 10_000) or None
    spec = choose_format(track, _format(track, call.get("format")), kbps, client_is_local(request.remote_addr),
                         await _settings(call))
    return await stream_response(track, path, spec, _time_offset(call), method=call.http_method)


def _time_offset(call: Call) -> float:
    """``timeOffset`` in seconds; fractions are kept (players resume at a position, not a whole second)."""
    raw = call.get("timeOffset")
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise SubsonicError(GENERIC, "parameter 'timeOffset' must be a number of seconds") from None
    if not 0 <= value < 86_400:  # also refuses nan and inf
        raise SubsonicError(GENERIC, "parameter 'timeOffset' must be between 0 and 86400 seconds")
    return value


@method("download")
async def download(call: Call) -> Response:
    track, path = await _source(call, call.require("id"))
    return await stream_response(track, path, None, 0.0, download=True, method=call.http_method)


@method("getCoverArt")
async def get_cover_art(call: Call) -> Response:
    """The art of any advertised coverArt id, or a placeholder picture (see api/covers.py); 70 if the id is unknown."""
    ident = call.require("id")
    size = call.int("size", None, 16, 4096)
    try:
        if ident.startswith(("pc-", "pe-")):  # a podcast channel's picture
            from ..podcasts import podcast_cover

            cover = await podcast_cover(ident, size)
        elif ident.startswith("ir-"):  # an internet radio station's picture
            from ..radio import station_cover

            cover = await station_cover(call.node, ident, size)
        else:
            cover = await cover_or_placeholder(call.node, ident, size, call.user)
    except NotFound:
        raise not_found(f"cover art {ident!r}") from None
    return Response(cover.data, mimetype=cover.mime, headers={"Cache-Control": cover.cache_control})


async def _lyrics_of(call: Call, track: dict) -> dict:
    from ...federation.lyrics import lyrics_of_member_track
    from ...store import metadata as meta_store

    if track.get("source"):  # a member's recording: the lyrics it fetched, if it shares them
        return await lyrics_of_member_track(call.node, track)
    folder = await call.store.read(browse.folder_of, track["folder_id"])
    fetched = await call.store.read(meta_store.fetched_lyrics, track["id"])
    return await lyrics_mod.lyrics_for(folder["path"], track["path"], track.get("lyrics"), fetched)


@method("getLyrics")
async def get_lyrics(call: Call) -> dict:
    artist, title = call.get("artist") or "", call.get("title") or ""

    def find(db):
        rows = list(db.query(
            "SELECT id FROM lib_track WHERE title = ? COLLATE NOCASE AND (? = '' OR artist = ? COLLATE NOCASE "
            "OR id IN (SELECT ta.track_id FROM lib_track_artist ta JOIN lib_artist ar ON ar.id = ta.artist_id "
            f"WHERE ar.name = ? COLLATE NOCASE)) AND {scope.sql()} ORDER BY lyrics IS NULL LIMIT 5",
            [title, artist, artist, artist]))
        return browse.tracks_by_ids(db, [r["id"] for r in rows])

    for track in (await call.store.read(find) if title else []):
        found = await _lyrics_of(call, track)
        if found["lines"]:
            text = "\n".join(line["text"] for line in found["lines"])
            return {"lyrics": {"artist": track["artist"], "title": track["title"], "value": text}}
    return {"lyrics": {"value": ""}}


@method("getLyricsBySongId")
async def get_lyrics_by_song_id(call: Call) -> dict:
    """songLyrics 1 and 2: ``enhanced=true`` adds ``kind``, word cues (``cueLine``) and singers (``agents``)."""
    ident = call.require("id")
    enhanced = call.bool("enhanced")
    try:
        track = await call.store.read(browse.require_track, ident)
    except NotFound:
        raise not_found(f"song {ident!r}") from None
    found = await _lyrics_of(call, track)
    if not found["lines"]:
        return {"lyricsList": {"structuredLyrics": []}}
    entries = [structured_lyrics(found, track, enhanced)]
    if enhanced:  # translations and romanisations: version 2, only when asked
        entries += [structured_lyrics({**layer, "tags": found.get("tags")}, track, True, layer["kind"])
                    for layer in found.get("layers", ())]
    return {"lyricsList": {"structuredLyrics": entries}}


def structured_lyrics(found: dict, track: dict, enhanced: bool, kind: str = "main") -> dict:
    """One ``structuredLyrics`` entry; without ``enhanced`` exactly the version 1 shape."""
    synced = bool(found["synced"])
    lines = [{"start": line["start_ms"], "value": line["text"]} if synced else {"value": line["text"]}
             for line in found["lines"]]
    tags = found.get("tags") or {}
    entry = {
        "displayArtist": tags.get("ar") or track["artist"],
        "displayTitle": tags.get("ti") or track["title"],
        "lang": found.get("lang") or tags.get("la") or tags.get("lang") or "xxx",
        "offset": 0,
        "synced": synced,
        "line": lines,
    }
    if not enhanced:
        return entry
    entry = {"kind": kind, **entry}
    if synced and found.get("cue_lines"):
        if found.get("agents"):
            entry["agents"] = [{k: a[k] for k in ("id", "role", "name") if k in a} for a in found["agents"]]
        entry["cueLine"] = [_cue_line(c) for c in found["cue_lines"]]
    return entry


def _cue_line(cue: dict) -> dict:
    """Words with their inclusive UTF-8 byte ranges in the line's text (the words concatenate to it)."""
    out: dict = {"index": cue["index"]}
    if "agent" in cue:
        out["agentId"] = cue["agent"]
    out["start"] = cue["start_ms"]
    if cue.get("end_ms") is not None:
        out["end"] = cue["end_ms"]
    out["value"] = cue["text"]
    cues, pos = [], 0
    for word in cue["words"]:
        size = len(word["text"].encode("utf-8"))
        item = {"start": word["start_ms"]}
        if "end_ms" in word:
            item["end"] = word["end_ms"]
        item.update({"byteStart": pos, "byteEnd": pos + size - 1, "value": word["text"]})
        cues.append(item)
        pos += size
    out["cue"] = cues
    return out
