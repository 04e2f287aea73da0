"""Native API for external metadata: progress and per-item refresh (``/api/v1/metadata``).

What was found is part of the items themselves: ``info`` on ``GET /artists/{id}`` and
``GET /albums/{id}``, fetched lyrics through ``GET /tracks/{id}/lyrics``, covers and artist
pictures through the usual cover URLs.
"""

from __future__ import annotations

from dataclasses import replace

from quart import Blueprint, current_app, jsonify

from ..metadata.worker import PROVIDERS
from ..store import browse, scope
from ..store import metadata as meta_store
from .access import ADMIN, USER, access
from .app import current_user, json_body
from .errors import bad_request

bp = Blueprint("metadata", __name__, url_prefix="/api/v1")


async def status(node) -> dict:
    """Whether it is on, each provider's switch (``switches``) and health (``providers``: requests,
    failures, last error), and how far the first pass is (``albums``, ``artists``, ``tracks``)."""
    config = node.config
    progress = await node.store.read(meta_store.progress)
    service = getattr(node, "metadata", None)
    from ..metadata.base import enabled

    switches: dict[str, bool] = {}
    for p in PROVIDERS:
        switches[p.name] = switches.get(p.name, False) or enabled(p, replace(config, metadata=True))
    return {
        "enabled": bool(config.metadata),
        "switches": dict(sorted(switches.items())),
        "running": bool(service and service.worker.running),
        "current": service.worker.current if service else None,
        "recent_failures": list(service.worker.errors) if service else [],
        **progress,
    }


@bp.get("/metadata")
@access(USER)
async def metadata_status():
    """External metadata: whether it is on, each provider's switch and health, the first pass's progress."""
    out = await status(current_app.node)
    if current_user()["role"] not in ("owner", "admin"):
        out["recent_failures"] = []  # they name items and providers' answers: the admin's to read
        out["current"] = None
    if scope.limited():  # the progress counts the whole library, folders this listener does not see included
        out = {k: out[k] for k in ("enabled", "switches", "running")}
    return jsonify(out)


@bp.post("/metadata/refresh")
@access(ADMIN)
async def refresh():
    """Look again at one artist, album or track (``{"id": …}``), or at everything (no id), skipping cached answers."""
    body = await json_body(optional=True)
    node = current_app.node
    ident = body.get("id")
    kind = None
    if ident is not None:
        if not isinstance(ident, str):
            raise bad_request("id must be an artist, album or track id")
        kind = await node.store.read(browse.item_kind, ident)
        if kind is None:
            raise bad_request(f"no artist, album or track {ident!r} in this library")
    queued = await node.store.write(meta_store.request_refresh, kind, ident)
    service = getattr(node, "metadata", None)
    if service is not None:
        service.wake()
    return jsonify({"queued": queued, "enabled": bool(node.config.metadata)}), 202
