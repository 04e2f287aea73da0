"""Native API: browse, search, covers, lyrics, stars and ratings, scan status (``/api/v1``)."""

from __future__ import annotations

import trio
from quart import Blueprint, current_app, jsonify, request

from ..library import lyrics as lyrics_mod
from ..library import search as search_mod
from .covers import cover_or_placeholder
from ..store import annotations, browse, scope
from ..store import metadata as meta_store
from ..store import tracks as tracks_store
from .access import ADMIN, USER, access
from . import params
from .app import current_user, json_body, query_bool
from .app import query_int as _int
from .errors import bad_request

bp = Blueprint("library", __name__, url_prefix="/api/v1")


def _bool(name: str) -> bool | None:
    return query_bool(name)


async def annotate(items: list[dict]) -> list[dict]:
    """Add the caller's ``starred``/``rating`` to tracks, albums or artists."""
    if not items:
        return items
    notes = await current_app.node.store.read(annotations.of, current_user()["id"], [i["id"] for i in items])
    for item in items:
        note = notes.get(item["id"], {})
        item["starred"] = note.get("starred_at")
        item["rating"] = note.get("rating", 0)
    return items


def _listing(items: list[dict], next_cursor: str | None, total: int | None) -> dict:
    """A list page; the first page (no cursor) also says how long the whole list is."""
    out: dict = {"items": items, "next_cursor": next_cursor}
    if total is not None:
        out["total"] = total
    return out


def track_json(t: dict) -> dict:
    t = dict(t)
    # its own picture, else its album's cover (lib_track), else none: never a URL that 404s
    t["cover_url"] = f"/api/v1/covers/{t['cover']}" if t.get("cover") else None
    t["stream_url"] = f"/api/v1/tracks/{t['id']}/stream"
    return t


def album_json(a: dict) -> dict:
    a = dict(a)
    a["cover_url"] = f"/api/v1/covers/{a['cover']}" if a.get("cover") else None
    return a


def artist_json(a: dict) -> dict:
    a = dict(a)
    a["cover_url"] = f"/api/v1/covers/{a['cover']}" if a.get("cover") else None
    return a


@bp.get("/tracks")
@access(USER)
async def tracks():
    rows, nxt, total = await current_app.node.store.read(lambda db: browse.list_tracks(
        db, sort=request.args.get("sort", "title"), order=request.args.get("order", "asc"),
        limit=_int("limit", 50, 1, browse.MAX_PAGE), cursor=request.args.get("cursor"),
        album_id=request.args.get("album"), artist_id=request.args.get("artist"), genre=request.args.get("genre"),
        year_from=_int("year_from", None, 0, 9999), year_to=_int("year_to", None, 0, 9999),
        folder_id=_int("folder"), lossless=_bool("lossless"), format=request.args.get("format")))
    return jsonify(_listing([track_json(t) for t in await annotate(rows)], nxt, total))


@bp.get("/tracks/<track_id>")
@access(USER)
async def track(track_id: str):
    store = current_app.node.store
    t = await store.read(browse.require_track, track_id)
    t["analysis"] = await _analysis_of(track_id)
    t["holders"] = await store.read(_holders_of, t)
    [t] = await annotate([t])
    return jsonify(track_json(t))


def _holders_of(db, track: dict) -> list[dict]:
    """Who holds this recording: this node (if local) and every member with the same audio/file id."""
    from ..store import peers as peers_store

    names = {p["node"]: p["name"] for p in peers_store.peers(db)}
    out = [] if track.get("source") else [{"node": None, "name": "this node", "local": True}]
    seen = set()
    for h in peers_store.holders(db, track["id"]):
        if h["node"] not in seen:
            seen.add(h["node"])
            out.append({"node": h["node"], "name": names.get(h["node"]), "local": False})
    return out


async def _analysis_of(track_id: str) -> dict | None:
    try:
        from ..store import analysis as analysis_store
    except ImportError:
        return None
    return await current_app.node.store.read(analysis_store.summary, track_id)


@bp.get("/albums")
@access(USER)
async def albums():
    rows, nxt, total = await current_app.node.store.read(lambda db: browse.list_albums(
        db, sort=request.args.get("sort", "name"), order=request.args.get("order", "asc"),
        limit=_int("limit", 50, 1, browse.MAX_PAGE), cursor=request.args.get("cursor"),
        artist_id=request.args.get("artist"), genre=request.args.get("genre"),
        year_from=_int("year_from", None, 0, 9999), year_to=_int("year_to", None, 0, 9999), folder_id=_int("folder")))
    return jsonify(_listing([album_json(a) for a in await annotate(rows)], nxt, total))


@bp.get("/albums/<album_id>")
@access(USER)
async def album(album_id: str):
    store = current_app.node.store
    a = await store.read(browse.get_album, album_id)
    tracks_ = await store.read(browse.album_tracks, album_id)
    [a] = await annotate([a])
    a = album_json(a)
    a["tracks"] = [track_json(t) for t in await annotate(tracks_)]
    a["info"] = await store.read(meta_store.album_info, album_id)
    return jsonify(a)


@bp.get("/artists")
@access(USER)
async def artists():
    rows, nxt, total = await current_app.node.store.read(lambda db: browse.list_artists(
        db, album_artists_only=bool(_bool("album_artists")), limit=_int("limit", 50, 1, browse.MAX_PAGE),
        cursor=request.args.get("cursor"), order=request.args.get("order", "asc")))
    return jsonify(_listing([artist_json(a) for a in await annotate(rows)], nxt, total))


@bp.get("/artists/<artist_id>")
@access(USER)
async def artist(artist_id: str):
    store = current_app.node.store
    raw = await store.read(browse.get_artist, artist_id)
    [a] = await annotate([raw])
    a = artist_json(a)
    a["albums"] = [album_json(x) for x in await annotate(await store.read(browse.artist_albums, artist_id))]
    a["top_tracks"] = [track_json(t) for t in await store.read(browse.top_tracks_of_artist, artist_id, 10)]
    from ..federation.artist_info import with_members

    a["info"] = await with_members(current_app.node, raw, await store.read(meta_store.artist_info, artist_id))
    return jsonify(a)


@bp.get("/genres")
@access(USER)
async def genres():
    return jsonify({"items": await current_app.node.store.read(browse.list_genres)})


@bp.get("/folders")
@access(USER)
async def folders():
    from ..store import peers as peers_store

    rows = await current_app.node.store.read(tracks_store.folders)
    members = await current_app.node.store.read(peers_store.member_folder_list)
    return jsonify({"items": [{"id": r["id"], "name": r["name"], "node": None} for r in rows if scope.allows(r["id"])]
                    + [{"id": r["id"], "name": r["name"], "node": r["node"]} for r in members
                       if scope.allows(r["id"])]})


@bp.get("/search")
@access(USER)
async def search():
    q = request.args.get("q", "")
    if len(q) > 200:
        raise bad_request("the query is too long (200 characters at most)")
    limit = _int("limit", 20, 1, 200)
    store = current_app.node.store

    def run(db):
        return (
            browse.artists_by_ids(db, search_mod.search_artists(db, q, limit)),
            browse.albums_by_ids(db, search_mod.search_albums(db, q, limit)),
            browse.tracks_by_ids(db, search_mod.search_tracks(db, q, limit)),
        )

    ars, als, trs = await store.read(run)
    return jsonify({
        "query": q,
        "artists": [artist_json(a) for a in ars],
        "albums": [album_json(a) for a in als],
        "tracks": [track_json(t) for t in await annotate(trs)],
    })


@bp.get("/covers/<ident>")
@access(USER)
async def cover(ident: str):
    from quart import Response

    cover = await cover_or_placeholder(current_app.node, ident, _int("size", None, 16, 4096), current_user())
    return Response(cover.data, mimetype=cover.mime, headers={"Cache-Control": cover.cache_control})


@bp.get("/tracks/<track_id>/lyrics")
@access(USER)
async def lyrics(track_id: str):
    store = current_app.node.store
    t = await store.read(browse.require_track, track_id)
    if t.get("source"):  # a member's recording: the lyrics it fetched, if it shares them
        from ..federation.lyrics import lyrics_of_member_track

        return jsonify(await lyrics_of_member_track(current_app.node, t))
    folder = await store.read(browse.folder_of, t["folder_id"])
    fetched = await store.read(meta_store.fetched_lyrics, track_id)
    return jsonify(await lyrics_mod.lyrics_for(folder["path"], t["path"], t.get("lyrics"), fetched))


@bp.put("/stars/<item_id>")
@access(USER)
async def star(item_id: str):
    await current_app.node.store.write(annotations.star, current_user()["id"], item_id, True)
    return "", 204


@bp.delete("/stars/<item_id>")
@access(USER)
async def unstar(item_id: str):
    await current_app.node.store.write(annotations.star, current_user()["id"], item_id, False)
    return "", 204


@bp.get("/stars")
@access(USER)
async def starred():
    store = current_app.node.store
    uid = current_user()["id"]

    def run(db):
        return (
            browse.artists_by_ids(db, annotations.starred(db, uid, "artist")),
            browse.albums_by_ids(db, annotations.starred(db, uid, "album")),
            browse.tracks_by_ids(db, annotations.starred(db, uid, "track")),
        )

    ars, als, trs = await store.read(run)
    return jsonify({"artists": [artist_json(a) for a in await annotate(ars)],
                    "albums": [album_json(a) for a in await annotate(als)],
                    "tracks": [track_json(t) for t in await annotate(trs)]})


@bp.put("/ratings/<item_id>")
@access(USER)
async def rate(item_id: str):
    body = await json_body("rating")
    await current_app.node.store.write(annotations.rate, current_user()["id"], item_id, body["rating"])
    return "", 204


@bp.get("/scan")
@access(USER)
async def scan_status():
    node = current_app.node
    state = await node.store.read(tracks_store.scan_state)
    counts = await node.store.read(tracks_store.counts)
    done, total = node.scanner.progress
    summary = (state or {}).get("summary")
    if summary and current_user()["role"] not in ("owner", "admin"):
        # the problems name library folders and files (an admin's to fix): a listener gets the counts
        summary["problems"] = []
    if summary and scope.limited():  # what a scan found may lie in folders this listener does not see
        state["summary"] = {k: (0 if isinstance(v, int) else v) for k, v in summary.items()}
    unsupported = [] if scope.limited() else await node.store.read(tracks_store.unsupported_formats)
    return jsonify({"scanning": node.scanner.running, "done": done, "total": total, "last": state, "library": counts,
                    "unsupported_formats": unsupported, "cannot_transcode": await _cannot_transcode(node)})


async def _cannot_transcode(node) -> dict[str, int]:
    """Indexed tracks whose codec this FFmpeg build cannot decode: they play only as originals."""
    from ..library.probe import missing_decoders

    codecs = await node.store.read(tracks_store.codec_counts)
    return {c: codecs[c] for c in await trio.to_thread.run_sync(missing_decoders, list(codecs))}


@bp.post("/scan")
@access(ADMIN)
async def start_scan():
    body = await json_body(optional=True)
    node = current_app.node
    started = node.start_scan(full=params.boolean(body.get("full"), "full"))
    return jsonify({"started": started, "scanning": True}), 202


@bp.get("/scan/errors")
@access(ADMIN)
async def scan_errors():
    """Files not indexed (with the reason) and files indexed although their header was wrong (``notes``)."""
    store = current_app.node.store
    return jsonify({"items": await store.read(tracks_store.scan_errors, 1000),
                    "notes": await store.read(tracks_store.scan_notes, 1000)})
