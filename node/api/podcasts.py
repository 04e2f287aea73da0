"""Native API: podcasts (channels, episodes, downloads, play, played marks, covers).

Every signed-in user reads podcasts and marks episodes played for themselves; subscribing,
refreshing, downloading and deleting need an admin or the owner (Subsonic's podcastRole). An
episode plays through the same streaming code as tracks (Range, transcodes), from its file in the
node's data folder, once downloaded. Also the helpers the Subsonic API uses for ``pe-``/``pc-`` ids.
"""

from __future__ import annotations

import re
from pathlib import Path

import trio
from quart import Blueprint, Response, current_app, jsonify, request

from ..errors import NotFound
from ..library import artwork
from ..podcasts import files
from ..store import podcasts as store
from .access import ADMIN, USER, access
from .app import current_user, json_body
from .covers import Cover
from .errors import ApiError, bad_request
from .streams import choose_format, client_is_local, stream_response

bp = Blueprint("podcasts", __name__, url_prefix="/api/v1")


def _service():
    podcasts = current_app.node.podcasts
    if podcasts is None:
        raise ApiError(503, "unavailable", "podcasts are not running on this node yet", {"Retry-After": "5"})
    return podcasts


# -- shared with the Subsonic API ----------------------------------------------------------------------
async def episode_source(ident: str) -> tuple[dict, str]:
    """(a track-like dict for the streaming code, the file's confined path) of a downloaded episode."""
    ep = await current_app.node.store.read(store.episode, ident)
    path = _service().episode_path(ep)
    title = re.sub(r"[^\w .,()&'-]+", "_", ep["title"]).strip(" ._")[:120] or ep["id"]
    track = {"id": ep["id"], "path": f"{title}.{ep['format']}", "duration": ep.get("duration"),
             "bitrate": ep.get("bitrate"), "format": ep["format"],
             "audio_id": f"podcast-{ep['id']}-{ep['size']}-{int(ep['downloaded_at'] or 0)}"}
    return track, path


async def podcast_cover(ident: str, size: int | None) -> Cover:
    """The picture of a channel (``pc-``) or of an episode's channel (``pe-``); a placeholder when it has
    none; NotFound when the id names nothing."""
    node = current_app.node
    if ident.startswith("pe-"):
        ident = (await node.store.read(store.episode, ident))["channel_id"]
    ch = await node.store.read(store.channel, ident)
    src = files.cover_path(node.data.root, store.channel_key(ch["id"]))
    if ch["has_cover"] and await trio.to_thread.run_sync(src.exists):
        if size is None:
            data = await trio.to_thread.run_sync(src.read_bytes)
        else:
            size = artwork._snap(size)
            dest = node.data.cache_dir / "thumbs" / f"podcast-{store.channel_key(ch['id'])}-{size}.jpg"
            data = await trio.to_thread.run_sync(_thumbnail, src, dest, size)
        return Cover(data, "image/jpeg")
    return Cover(*await artwork.placeholder("album", size), placeholder=True)


def _thumbnail(src: Path, dest: Path, size: int) -> bytes:
    """A cached thumbnail of a channel's picture, made again when the picture changed (a refresh)."""
    if dest.exists() and dest.stat().st_mtime >= src.stat().st_mtime:
        return dest.read_bytes()
    return artwork._thumbnail(str(src), dest, size)


# -- JSON shapes ---------------------------------------------------------------------------------------
def channel_json(c: dict, counts: dict | None = None) -> dict:
    n = (counts or {}).get(c["id"], {})
    return {"id": c["id"], "url": c["url"], "title": c["title"], "description": c["description"],
            "author": c["author"], "status": c["status"], "error": c["error"],
            "cover_url": f"/api/v1/podcasts/{c['id']}/cover" if c["has_cover"] else None,
            "keep_count": c["keep_count"], "keep_days": c["keep_days"], "download_count": c["download_count"],
            "refreshed_at": c["refreshed_at"], "episodes": n.get("episodes", 0), "downloaded": n.get("downloaded", 0)}


def episode_json(e: dict) -> dict:
    done = e["status"] == "completed" and bool(e.get("file"))
    return {"id": e["id"], "channel_id": e["channel_id"], "channel_title": e.get("channel_title"),
            "title": e["title"], "description": e["description"], "published_at": e["published_at"],
            "duration": e["duration"], "status": e["status"], "error": e["error"],
            "size": e["size"] if done else None, "format": e["format"] if done else None,
            "played": e.get("played_at") is not None, "played_at": e.get("played_at"),
            "stream_url": f"/api/v1/podcasts/episodes/{e['id']}/stream" if done else None,
            "cover_url": f"/api/v1/podcasts/{e['channel_id']}/cover" if e.get("channel_has_cover") else None}


def _policy(body: dict) -> dict:
    out = {}
    for key in ("keep_count", "keep_days", "download_count"):
        if key in body and body[key] is not None:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request(f"{key} must be an integer")
            out[key] = value
    return out


# -- channels ------------------------------------------------------------------------------------------
@bp.get("/podcasts")
@access(USER)
async def list_channels():
    node = current_app.node
    chans = await node.store.read(store.channels)
    counts = await node.store.read(store.counts)
    return jsonify({"items": [channel_json(c, counts) for c in chans]})


@bp.post("/podcasts")
@access(ADMIN)
async def subscribe():
    """Subscribe to a feed URL: the feed is fetched and read first; a URL that is not a feed is refused."""
    body = await json_body("url")
    if not isinstance(body["url"], str):
        raise bad_request("url must be the feed's address (http or https)")
    ident = await _service().subscribe(body["url"], **_policy(body))
    return await _channel_response(ident), 201


async def _channel_response(ident: str):
    node = current_app.node
    c = await node.store.read(store.channel, ident)
    eps = await node.store.read(store.episodes, ident, current_user()["id"])
    out = channel_json(c, await node.store.read(store.counts))
    out["items"] = [episode_json(e) for e in eps]
    return jsonify(out)


@bp.get("/podcasts/<channel_id>")
@access(USER)
async def show_channel(channel_id: str):
    return await _channel_response(channel_id)


@bp.patch("/podcasts/<channel_id>")
@access(ADMIN)
async def update_channel(channel_id: str):
    """Change the keep policy (``keep_count``, ``keep_days``) or ``download_count``; applied at once."""
    body = await json_body()
    await current_app.node.store.write(store.set_policy, channel_id, **_policy(body))
    await _service().apply_policy(channel_id)
    return await _channel_response(channel_id)


@bp.delete("/podcasts/<channel_id>")
@access(ADMIN)
async def delete_channel(channel_id: str):
    await _service().delete_channel(channel_id)
    return "", 204


@bp.post("/podcasts/refresh")
@access(ADMIN)
async def refresh_all():
    """Fetch every channel's feed again now (failures are recorded on each channel)."""
    await _service().refresh()
    return "", 204


@bp.post("/podcasts/<channel_id>/refresh")
@access(ADMIN)
async def refresh_channel(channel_id: str):
    await current_app.node.store.read(store.channel, channel_id)
    await _service().refresh(channel_id)
    return await _channel_response(channel_id)


@bp.get("/podcasts/<channel_id>/cover")
@access(USER)
async def channel_cover(channel_id: str):
    size = request.args.get("size")
    if size is not None and (not size.isdigit() or not 16 <= int(size) <= 4096):
        raise bad_request("size must be an integer from 16 to 4096")
    cover = await podcast_cover(channel_id, int(size) if size else None)
    return Response(cover.data, mimetype=cover.mime, headers={"Cache-Control": cover.cache_control})


# -- episodes ------------------------------------------------------------------------------------------
@bp.get("/podcasts/episodes/newest")
@access(USER)
async def newest():
    raw = request.args.get("count", "20")
    if not raw.isdigit():
        raise bad_request("count must be an integer")
    eps = await current_app.node.store.read(store.newest, min(int(raw), 500), current_user()["id"])
    return jsonify({"items": [episode_json(e) for e in eps]})


@bp.get("/podcasts/episodes/<episode_id>")
@access(USER)
async def show_episode(episode_id: str):
    return jsonify(episode_json(await current_app.node.store.read(store.episode, episode_id, current_user()["id"])))


@bp.post("/podcasts/episodes/<episode_id>/download")
@access(ADMIN)
async def download_episode(episode_id: str):
    """Queue the episode's download (answered at once, 202; the status says when it is done)."""
    await _service().download(episode_id)
    ep = await current_app.node.store.read(store.episode, episode_id, current_user()["id"])
    return jsonify(episode_json(ep)), 202


@bp.delete("/podcasts/episodes/<episode_id>")
@access(ADMIN)
async def delete_episode(episode_id: str):
    """Remove the episode's file; it stays listed as ``deleted`` and is not downloaded again by itself."""
    await _service().delete_episode(episode_id)
    return "", 204


@bp.put("/podcasts/episodes/<episode_id>/played")
@access(USER)
async def mark_played(episode_id: str):
    """``{"played": true|false}``: your own mark (each user has theirs)."""
    import time

    body = await json_body("played")
    if not isinstance(body["played"], bool):
        raise bad_request("played must be true or false")
    uid = current_user()["id"]
    await current_app.node.store.write(store.set_played, uid, episode_id, body["played"], time.time())
    return jsonify(episode_json(await current_app.node.store.read(store.episode, episode_id, uid)))


@bp.route("/podcasts/episodes/<episode_id>/stream", methods=["GET", "HEAD"])
@access(USER)
async def stream_episode(episode_id: str):
    """The downloaded episode, original with Range (or ``format``/``bitrate`` to transcode, ``offset`` s)."""
    from .streams import _float_arg, _int_arg

    try:
        track, path = await episode_source(episode_id)
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    fmt = request.args.get("format") or "raw"
    spec = choose_format(track, fmt, _int_arg("bitrate"), client_is_local(request.remote_addr), {})
    return await stream_response(track, path, spec, _float_arg("offset"))
