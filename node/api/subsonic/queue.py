"""Play queue: getPlayQueue and savePlayQueue, over the native per-user saved queue."""

from __future__ import annotations

from ...store import browse
from ...store import playlists as pl
from . import shapes
from .core import Call, method
from .envelope import GENERIC, SubsonicError


@method("getPlayQueue")
async def get_play_queue(call: Call) -> dict:
    q = await call.store.read(pl.get_queue, call.uid)
    if q is None:  # the schema wants a playQueue even when none was saved
        return {"playQueue": {"username": call.user["name"], "changed": shapes.iso(0.0), "changedBy": "none",
                              "entry": []}}
    tracks = await call.store.read(browse.tracks_by_ids, q["track_ids"])
    x = await shapes.decorate(call, tracks=tracks)
    return {"playQueue": shapes.clean({
        "current": q["current"], "position": q["position_ms"], "username": call.user["name"],
        "changed": shapes.iso(q["changed_at"]), "changedBy": q["changed_by"] or "unknown",
    }) | {"entry": [shapes.child(t, x) for t in tracks]}}


@method("savePlayQueue")
async def save_play_queue(call: Call) -> dict:
    ids = call.all("id")
    current = call.get("current") or None
    if current is not None and current not in ids:
        raise SubsonicError(GENERIC, "current must be one of the ids")
    position = call.int("position", 0, 0, 10**12)
    await call.store.write(pl.save_queue, call.uid, ids, current, position, call.client())
    return {}
