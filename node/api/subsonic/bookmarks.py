"""Bookmarks: getBookmarks, createBookmark, deleteBookmark (personal resume positions, in milliseconds).

The positions are those the web app keeps through ``/api/v1/bookmarks`` (:mod:`...store.bookmarks`):
a podcast app resuming an episode and the web app resuming a long mix see the same place.
An entry is found through :func:`...store.bookmarks.playable`; a bookmark whose item has left the library is left out.
"""

from __future__ import annotations

from ...store import bookmarks as bm
from .. import params
from . import shapes
from .core import Call, method
from .envelope import missing, not_found


async def playable(call: Call, ids: list[str]) -> dict[str, dict]:
    """{id: row} of the ``ids`` that name something the caller can play (see :func:`...store.bookmarks.playable`)."""
    return await call.store.read(bm.playable, ids)


def _entry(item: dict, x) -> dict:
    """A bookmark's entry: a song, or a podcast episode (a Child with the episode's fields)."""
    if item["id"].startswith("pe-"):
        from .podcasts import episode

        return episode(item)
    return shapes.child(item, x)


@method("getBookmarks")
async def get_bookmarks(call: Call) -> dict:
    marks = await call.store.read(bm.of_user, call.uid)
    found = await playable(call, [m["item_id"] for m in marks])
    x = await shapes.decorate(call, tracks=[t for i, t in found.items() if i.startswith("tr-")])
    out = []
    for m in marks:
        t = found.get(m["item_id"])
        if t is None:
            continue
        out.append(shapes.clean({
            "entry": _entry(t, x) | {"bookmarkPosition": m["position_ms"]},
            "position": m["position_ms"], "username": call.user["name"], "comment": m["comment"],
            "created": shapes.iso(m["created_at"]), "changed": shapes.iso(m["changed_at"])})
            | {"position": m["position_ms"]})
    return {"bookmarks": {"bookmark": out}}


@method("createBookmark")
async def create_bookmark(call: Call) -> dict:
    """Creates or moves the bookmark; a comment not given keeps the one it had."""
    ident = params.ident(call.require("id"), "id")
    raw = call.get("position")
    if raw in (None, ""):
        raise missing("position")
    position = params.integer(raw, "position", 0, params.MAX_POSITION_MS)
    if ident not in await playable(call, [ident]):
        raise not_found(f"song {ident!r}")
    await call.store.write(bm.save, call.uid, ident, position, call.get("comment"))
    return {}


@method("deleteBookmark")
async def delete_bookmark(call: Call) -> dict:
    ident = params.ident(call.require("id"), "id")
    await call.store.write(bm.delete, call.uid, ident)
    return {}
