"""Play queue: getPlayQueue/savePlayQueue (current by id) and the ``indexBasedQueue`` extension
(getPlayQueueByIndex/savePlayQueueByIndex, current by its place), over the one per-user saved queue
the web app also keeps through the native API. Whichever saved it, every reader gets the same place."""

from __future__ import annotations

from ...store import browse, scope
from ...store import playlists as pl
from .. import params
from . import shapes
from .core import Call, method
from .envelope import GENERIC, MISSING_PARAMETER, SubsonicError, not_found


async def _saved(call: Call) -> tuple[dict | None, list[dict], int | None]:
    """The saved queue, its tracks still in the library (in order, copies kept) and the current one's place
    among them: a track that left the library drops out and the place moves with it (to the next track
    when the current one itself is gone)."""
    q = await call.store.read(pl.get_queue, call.uid)
    if q is None:
        return None, [], None
    tracks = await call.store.read(browse.tracks_by_ids, q["track_ids"])
    index = q["current_index"]
    if index is not None:
        known = {t["id"] for t in tracks}
        index = sum(1 for i in q["track_ids"][:index] if i in known)
        if index >= len(tracks):
            index = None
        if index is None or tracks[index]["id"] != q["current"]:
            q = q | {"position_ms": 0}  # another track is current now: from its start
    return q, tracks, index


def _header(call: Call, q: dict | None) -> dict:
    if q is None:  # the schema wants a queue even when none was saved
        return {"username": call.user["name"], "changed": shapes.iso(0.0), "changedBy": "none"}
    return {"username": call.user["name"], "changed": shapes.iso(q["changed_at"]),
            "changedBy": q["changed_by"] or "unknown"}


@method("getPlayQueue")
async def get_play_queue(call: Call) -> dict:
    q, tracks, index = await _saved(call)
    x = await shapes.decorate(call, tracks=tracks)
    place = {} if q is None else shapes.clean({
        "current": tracks[index]["id"] if index is not None else None,
        "position": q["position_ms"] if index is not None else None})
    return {"playQueue": place | _header(call, q) | {"entry": [shapes.child(t, x) for t in tracks]}}


@method("getPlayQueueByIndex")
async def get_play_queue_by_index(call: Call) -> dict:
    q, tracks, index = await _saved(call)
    x = await shapes.decorate(call, tracks=tracks)
    place = {} if index is None else {"currentIndex": index, "position": q["position_ms"]}
    return {"playQueueByIndex": place | _header(call, q) | {"entry": [shapes.child(t, x) for t in tracks]}}


async def _queue_ids(call: Call) -> list[str]:
    """The queue's ids; a listener limited to some music folders cannot queue what lies outside them
    (error 70, as for any id they cannot see)."""
    ids = [params.ident(v, "id") for v in call.all("id")]
    if scope.limited() and ids:
        known = {t["id"] for t in await call.store.read(browse.tracks_by_ids, list(dict.fromkeys(ids)))}
        hidden = [i for i in ids if i not in known]
        if hidden:
            raise not_found(f"song {hidden[0]!r}")
    return ids  # type: ignore[return-value]


@method("savePlayQueue")
async def save_play_queue(call: Call) -> dict:
    ids = await _queue_ids(call)
    current = params.ident(call.get("current"), "current")
    if current is not None and current not in ids:
        raise SubsonicError(GENERIC, "current must be one of the ids")
    position = call.int("position", 0, 0, params.MAX_POSITION_MS)
    await call.store.write(pl.save_queue, call.uid, ids, current, position, call.client())
    return {}


@method("savePlayQueueByIndex")
async def save_play_queue_by_index(call: Call) -> dict:
    """``currentIndex`` is required with ids and must point into the queue (error 10 otherwise, as the
    extension says); no ids at all clears the queue."""
    ids = await _queue_ids(call)
    index = params.integer(call.get("currentIndex"), "currentIndex", -(10**9), 10**9)
    position = params.integer(call.get("position"), "position", 0, params.MAX_POSITION_MS, 0)
    if not ids:
        if index is not None:
            raise SubsonicError(MISSING_PARAMETER, "currentIndex must not be given without any id (that clears the queue)")
        await call.store.write(pl.save_queue, call.uid, [], None, 0, call.client())
        return {}
    if index is None:
        raise SubsonicError(MISSING_PARAMETER, "required parameter is missing: currentIndex")
    if not 0 <= index < len(ids):
        raise SubsonicError(MISSING_PARAMETER, f"currentIndex must be between 0 and {len(ids) - 1} (the queue's length - 1)")
    await call.store.write(pl.save_queue, call.uid, ids, None, position, call.client(), index)
    return {}
