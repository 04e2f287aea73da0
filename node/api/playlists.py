"""Native API: playlists (CRUD, reorder, M3U8/XSPF import and export) and the play queue."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify, request

from ..library import playlist_files
from ..store import browse, scope
from ..store import playlists as pl
from .access import USER, access
from . import params
from .app import current_user, json_body
from .errors import ApiError, bad_request, forbidden
from .library import annotate, track_json

bp = Blueprint("playlists", __name__, url_prefix="/api/v1")


async def _readable(playlist_id: str) -> dict:
    p = await current_app.node.store.read(pl.get, playlist_id)
    if not pl.can_read(p, current_user()):
        raise ApiError(404, "not_found", f"no playlist {playlist_id}")
    return p


async def _writable(playlist_id: str) -> dict:
    p = await _readable(playlist_id)
    if not pl.can_write(p, current_user()):
        raise forbidden("only the playlist's owner can change it" + (" (generated playlists are read-only)"
                                                                     if p["generated"] else ""))
    return p


def _ids(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("track_ids must be a list of track ids")
    return value


async def _known(ids: list[str]) -> list[str]:
    found = {t["id"] for t in await current_app.node.store.read(browse.tracks_by_ids, ids)}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ApiError(404, "not_found", f"unknown track id(s): {', '.join(unknown[:5])}")
    return ids


@bp.get("/playlists")
@access(USER)
async def list_playlists():
    return jsonify({"items": await current_app.node.store.read(pl.visible, current_user()["id"])})


@bp.post("/playlists")
@access(USER)
async def create_playlist():
    body = await json_body("name")
    ids = await _known(_ids(body.get("track_ids", [])))
    pid = await current_app.node.store.write(pl.create, current_user()["id"], str(body["name"]), ids,
                                             str(body.get("comment", "")), bool(body.get("public", False)))
    return jsonify(await current_app.node.store.read(pl.get, pid)), 201


@bp.get("/playlists/<playlist_id>")
@access(USER)
async def get_playlist(playlist_id: str):
    p = await _readable(playlist_id)
    store = current_app.node.store
    ids = await store.read(pl.items, playlist_id)
    tracks = await store.read(browse.tracks_by_ids, ids)
    p["tracks"] = [track_json(t) for t in await annotate(tracks)]
    return jsonify(p)


@bp.patch("/playlists/<playlist_id>")
@access(USER)
async def update_playlist(playlist_id: str):
    await _writable(playlist_id)
    body = await json_body()
    store = current_app.node.store
    await store.write(pl.update, playlist_id, name=body.get("name"), comment=body.get("comment"),
                      public=body.get("public"))
    if "track_ids" in body:
        await store.write(pl.set_items, playlist_id, await _known(_ids(body["track_ids"])))
    return jsonify(await store.read(pl.get, playlist_id))


@bp.post("/playlists/<playlist_id>/tracks")
@access(USER)
async def add_tracks(playlist_id: str):
    await _writable(playlist_id)
    body = await json_body("track_ids")
    ids = await _known(_ids(body["track_ids"]))
    await current_app.node.store.write(pl.edit, playlist_id, ids, [])
    return jsonify(await current_app.node.store.read(pl.get, playlist_id))


@bp.delete("/playlists/<playlist_id>/tracks/<int:position>")
@access(USER)
async def remove_track(playlist_id: str, position: int):
    await _writable(playlist_id)
    await current_app.node.store.write(pl.edit, playlist_id, [], [position])
    return "", 204


@bp.post("/playlists/<playlist_id>/move")
@access(USER)
async def move_track(playlist_id: str):
    await _writable(playlist_id)
    body = await json_body("from", "to")
    if not isinstance(body["from"], int) or not isinstance(body["to"], int):
        raise bad_request("from and to must be integer positions")
    await current_app.node.store.write(pl.move, playlist_id, body["from"], body["to"])
    return jsonify({"track_ids": await current_app.node.store.read(pl.items, playlist_id)})


@bp.delete("/playlists/<playlist_id>")
@access(USER)
async def delete_playlist(playlist_id: str):
    p = await _readable(playlist_id)
    if p["owner_id"] != current_user()["id"] and current_user()["role"] != "owner":
        raise forbidden("only the playlist's owner can delete it")
    await current_app.node.store.write(pl.delete, playlist_id)
    return "", 204


def _match_all(db, entries, base: str) -> tuple[list[str], int]:
    rows = db.conn.execute(
        "SELECT t.id, f.path, t.path, t.artist, t.title FROM track t JOIN folder f ON f.id = t.folder_id "
        f"WHERE {scope.sql('t.folder_id')}").fetchall()
    named = list({e.ident for e in entries if e.ident})
    known = frozenset(t["id"] for t in browse.tracks_by_ids(db, named))  # ids our exports carry, members' too
    matcher = playlist_files.Matcher(rows, known)
    ids, missing = [], 0
    for entry in entries:
        tid = matcher.match(entry, base)
        if tid:
            ids.append(tid)
        else:
            missing += 1
    return ids, missing


@bp.post("/playlists/import")
@access(USER)
async def import_playlist():
    """Body: the M3U8 or XSPF text; ``?name=`` overrides the playlist's own title."""
    raw = await request.get_data()
    if len(raw) > 16 * 1024 * 1024:
        raise ApiError(413, "too_large", "a playlist file may be 16 MB at most")
    text = raw.decode("utf-8-sig", "replace")
    if not text.strip():
        raise bad_request("send the M3U8 or XSPF text as the request body")
    try:
        if text.lstrip().startswith("<"):
            title, entries = playlist_files.parse_xspf(text)
        else:
            title, entries = playlist_files.parse_m3u(text)
    except (ValueError, SyntaxError) as exc:
        raise bad_request(f"not a readable M3U8 or XSPF playlist: {exc}") from exc
    name = request.args.get("name") or title or "Imported playlist"
    store = current_app.node.store
    ids, missing = await store.read(_match_all, entries, request.args.get("base", ""))
    pid = await store.write(pl.create, current_user()["id"], name, ids)
    result = await store.read(pl.get, pid)
    result["matched"], result["unmatched"] = len(ids), missing
    return jsonify(result), 201


@bp.get("/playlists/<playlist_id>/export")
@access(USER)
async def export_playlist(playlist_id: str):
    p = await _readable(playlist_id)
    fmt = request.args.get("format", "m3u8")
    store = current_app.node.store

    def rows(db):
        # paths relative to each track's music folder (a member's: artist/album/title), never the
        # server's absolute layout: any listener may export a public playlist
        tracks = browse.tracks_by_ids(db, pl.items(db, playlist_id))
        for t in tracks:
            t["location"] = t["path"]
        return tracks

    tracks = await store.read(rows)
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in p["name"]).strip() or "playlist"
    if fmt == "xspf":
        body, mime, ext = playlist_files.write_xspf(p["name"], tracks), "application/xspf+xml", "xspf"
    elif fmt in ("m3u", "m3u8"):
        body, mime, ext = playlist_files.write_m3u(p["name"], tracks), "audio/x-mpegurl", "m3u8"
    else:
        raise bad_request("format must be m3u8 or xspf")
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{safe}.{ext}"'})


@bp.get("/queue")
@access(USER)
async def get_queue():
    store = current_app.node.store
    q = await store.read(pl.get_queue, current_user()["id"])
    if q is None:
        return jsonify({"track_ids": [], "current": None, "current_index": None, "position_ms": 0, "tracks": []})
    tracks = await store.read(browse.tracks_by_ids, q["track_ids"])
    q["tracks"] = [track_json(t) for t in tracks]
    if scope.limited():
        q = _shown_queue(q, {t["id"] for t in tracks})
    return jsonify(q)


def _shown_queue(q: dict, known: set[str]) -> dict:
    """The queue as a listener limited to some music folders sees it: tracks outside them left out (the
    queue may have been saved before), the current place moved with them."""
    ids, index = q["track_ids"], q["current_index"]
    shown = [i for i in ids if i in known]
    if index is not None:
        index = sum(1 for i in ids[:index] if i in known) if ids[index] in known else None
    current = q["current"] if q["current"] in known else None
    return q | {"track_ids": shown, "current": current, "current_index": index if current else None}


@bp.put("/queue")
@access(USER)
async def save_queue():
    """The queue, its current entry by ``current_index`` (its place: a queue may hold a song twice) or by
    ``current`` (an id: its first copy), and the position in it; Subsonic apps read back the same place."""
    body = await json_body("track_ids")
    ids = _ids(body["track_ids"])
    index = params.integer(body.get("current_index"), "current_index", 0, max(0, len(ids) - 1))
    if index is not None and not ids:
        raise bad_request("current_index needs track_ids")
    current = None if index is not None else params.ident(body.get("current"), "current")
    if current is not None and current not in ids:
        raise bad_request("current must be one of track_ids")
    if scope.limited():  # a listener limited to some folders cannot queue what lies outside them
        await _known(list(dict.fromkeys(ids)))
    await current_app.node.store.write(pl.save_queue, current_user()["id"], ids, current,
                                       params.integer(body.get("position_ms"), "position_ms", 0,
                                                      params.MAX_POSITION_MS, 0),
                                       str(body.get("client", "web")), index)
    return "", 204
