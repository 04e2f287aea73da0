"""Live events for clients as server-sent events: scan progress, library changes, analysis."""

from __future__ import annotations

import json

import trio
from quart import Blueprint, Response, current_app

from .access import USER, access

bp = Blueprint("events", __name__, url_prefix="/api/v1")

KEEPALIVE_S = 15


@bp.get("/events")
@access(USER)
async def events():
    bus = current_app.node.bus
    sub = bus.subscribe()

    async def stream():
        with sub:
            yield b"retry: 3000\n\n"
            while True:
                with trio.move_on_after(KEEPALIVE_S) as scope:
                    event = await sub.get()
                if scope.cancelled_caught:
                    yield b": keep-alive\n\n"
                    continue
                payload = json.dumps(event.data, ensure_ascii=False, default=str)
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {payload}\n\n".encode()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
