"""Native API: the caller's bookmarks (resume positions), the same ones Subsonic apps read and write.

The web app saves the position of a long track (or a podcast episode) while it plays, on pause and
when the page goes away, and starts it there next time (see ``web/js/resume.js``).
"""

from __future__ import annotations

from quart import Blueprint, current_app, jsonify, request

from ..store import bookmarks as bm
from . import params
from .access import USER, access
from .app import current_user, json_body
from .errors import ApiError
from .library import track_json

bp = Blueprint("bookmarks", __name__, url_prefix="/api/v1")


def _json(mark: dict, item: dict | None) -> dict:
    out = dict(mark)
    if item is not None and item["id"].startswith("tr-"):
        out["track"] = track_json(item)
    elif item is not None and item["id"].startswith("pe-"):
        from .podcasts import episode_json

        out["episode"] = episode_json(item)
    return out


@bp.get("/bookmarks")
@access(USER)
async def list_bookmarks():
    """The caller's bookmarks, most recently moved first (with the track each is on)."""
    store = current_app.node.store
    only = params.ident(request.args.get("media_id"), "media_id")
    if only is not None:  # one item's, as a list that is empty when there is none (no 404 to log)
        mark = await store.read(bm.get, current_user()["id"], only)
        marks = [mark] if mark else []
    else:
        marks = await store.read(bm.of_user, current_user()["id"])
    found = await store.read(bm.playable, [m["item_id"] for m in marks])
    return jsonify({"items": [_json(m, found[m["item_id"]]) for m in marks if m["item_id"] in found]})


@bp.get("/bookmarks/<media_id>")
@access(USER)
async def get_bookmark(media_id: str):
    """The caller's bookmark on one item (404 when there is none)."""
    mark = await current_app.node.store.read(bm.get, current_user()["id"], media_id)
    if mark is None:
        raise ApiError(404, "not_found", f"no bookmark on {media_id}")
    return jsonify(mark)


@bp.put("/bookmarks/<media_id>")
@access(USER)
async def put_bookmark(media_id: str):
    """Create or move the caller's bookmark on a track (``position_ms``, optional ``comment``)."""
    body = await json_body("position_ms")
    position = params.integer(body["position_ms"], "position_ms", 0, params.MAX_POSITION_MS)
    comment = body.get("comment")
    store = current_app.node.store
    found = await store.read(bm.playable, [media_id])
    if media_id not in found:
        raise ApiError(404, "not_found", f"no track or podcast episode {media_id}")
    mark = await store.write(bm.save, current_user()["id"], media_id, position, comment)
    return jsonify(_json(mark, found[media_id]))


@bp.delete("/bookmarks/<media_id>")
@access(USER)
async def delete_bookmark(media_id: str):
    """Forget the caller's bookmark on an item (404 when there was none)."""
    await current_app.node.store.write(bm.delete, current_user()["id"], media_id)
    return "", 204
