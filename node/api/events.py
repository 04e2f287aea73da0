"""Live events for clients as server-sent events: scan progress, library changes, analysis."""

from __future__ import annotations

import json

import trio
from quart import Blueprint, Response, current_app

from ..store import scope
from .access import USER, access
from .app import current_user

bp = Blueprint("events", __name__, url_prefix="/api/v1")

KEEPALIVE_S = 15


@bp.get("/events")
@access(USER)
async def events():
    bus = current_app.node.bus
    sub = bus.subscribe()
    me, limited = current_user()["id"], scope.limited()

    async def stream():
        with sub:
            yield b"retry: 3000\n\n"
            while True:
                with trio.move_on_after(KEEPALIVE_S) as scope:
                    event = await sub.get()
                if scope.cancelled_caught:
                    yield b": keep-alive\n\n"
                    continue
                data = _shown(event.kind, event.data, me, limited)
                if data is None:
                    continue
                payload = json.dumps(data, ensure_ascii=False, default=str)
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {payload}\n\n".encode()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _shown(kind: str, data: dict, me: str, limited: bool) -> dict | None:
    """What a listener limited to some music folders (store/scope.py) is told: their own plays, and that
    something changed (without the counts and names, which may lie in folders they do not see)."""
    if not limited:
        return data
    if kind.startswith("play."):
        return data if data.get("user_id") == me else None
    return {}
