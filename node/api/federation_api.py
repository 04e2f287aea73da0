"""Native API for the federation: members, invites, join, revoke, leave, pins (for the web app)."""

from __future__ import annotations

import trio
from quart import Blueprint, current_app, jsonify

from ..federation import invites
from ..store import browse, scope
from ..store import tracks as tracks_store
from ..store import peers as peers_store
from .access import ADMIN, OWNER, USER, access
from . import params
from .app import json_body
from .errors import ApiError

bp = Blueprint("federation_api", __name__, url_prefix="/api/v1/federation")


def _fed():
    fed = getattr(current_app.node, "federation", None)
    if fed is None:
        raise ApiError(503, "unavailable", "the federation service is not running on this node")
    return fed


@bp.get("/members")
@access(USER)
async def members():
    """Members of the federation with their state (this node included)."""
    fed = _fed()
    node = current_app.node
    if fed.membership is None:
        return jsonify({"federation_id": None, "name": None, "items": []})
    rows = {r["node"]: r for r in await node.store.read(peers_store.peers)}
    counts = await node.store.read(peers_store.remote_counts)
    own = await node.store.read(peers_store.published_count)
    if scope.limited():  # a listener limited to some folders counts only the tracks they may see
        folder_of = await node.store.read(peers_store.member_folders)
        counts = {k: (v if scope.allows(folder_of.get(k)) else 0) for k, v in counts.items()}
        own = (await node.store.read(tracks_store.counts))["tracks"]
    items = []
    for member, info in fed.membership.members.items():
        key = str(member)
        r = rows.get(key, {})
        me = member == fed.me
        items.append({
            "node_id": key, "name": node.config.name if me else r.get("name"), "self": me,
            "online": me or r.get("state") == "alive", "last_seen": r.get("last_seen"),
            "rtt_ms": r.get("rtt_ms"), "tracks": own if me else counts.get(key, 0),
            "load": r.get("load"), "bytes_served": r.get("bytes_served", 0),
            "bytes_fetched": r.get("bytes_fetched", 0), "admin": fed.membership.is_admin(member),
        })
    items.sort(key=lambda i: (not i["self"], (i["name"] or "").lower()))
    return jsonify({"federation_id": fed.membership.fed_id, "name": fed.membership.genesis.name, "items": items,
                    "revoked": sorted(str(n) for n in fed.membership.revoked)})


@bp.post("/invites")
@access(ADMIN)
async def create_invite():
    """Make an invite code (founds the federation on first use)."""
    body = await json_body()
    node = current_app.node
    uses = params.integer(body.get("uses"), "uses", 1, 100, 1)
    ttl = invites.parse_duration(str(body.get("ttl", "24h")))
    role = "admin" if body.get("admin") else "member"
    code = await trio.to_thread.run_sync(lambda: invites.create_invite(node.store, node.data, node.config, uses,
                                                                       ttl, role))
    import time

    return jsonify({"code": code, "uses": uses, "expires_at": time.time() + ttl / 1000}), 201


@bp.post("/join")
@access(OWNER)
async def join():
    """Join a federation with an invite code."""
    body = await json_body("code")
    node = current_app.node
    result = await invites.join_async(node.store, node.data, node.config, str(body["code"]))
    return jsonify(result), 201


@bp.delete("/members/<node_id>")
@access(OWNER)
async def revoke(node_id: str):
    """Revoke a member."""
    node = current_app.node
    short = await trio.to_thread.run_sync(invites.revoke, node.store, node.data, node.config, node_id, "")
    return jsonify({"revoked": short})


@bp.post("/leave")
@access(OWNER)
async def leave():
    """Leave the federation."""
    node = current_app.node
    await invites.leave(node.store, node.data, node.config)
    return jsonify({"left": True})


@bp.get("/pins")
@access(USER)
async def pins():
    """Albums kept as permanent local replicas."""
    from sonantica.protocol.chunks import chunk_count_for_size

    from ..federation.runtime import _pinned_remote_tracks

    store = current_app.node.store
    fed = _fed()
    ids = await store.read(peers_store.pins)
    albums = await store.read(browse.albums_by_ids, ids)
    remote = await store.read(_pinned_remote_tracks)
    for album in albums:
        tracks = [t for t in remote if t["album_id"] == album["id"]]
        album["replicated"] = fed.chunk_cache is not None and all(
            fed.chunk_cache.has_file(t["file_id"], chunk_count_for_size(int(t["size"]))) for t in tracks)
    return jsonify({"items": albums})


@bp.put("/pins/<album_id>")
@access(ADMIN)
async def pin(album_id: str):
    """Keep a full local copy of an album held by others."""
    store = current_app.node.store
    await store.read(browse.get_album, album_id)
    await store.write(peers_store.pin, album_id, True)
    _fed().pin_now()
    return "", 204


@bp.delete("/pins/<album_id>")
@access(ADMIN)
async def unpin(album_id: str):
    """Stop keeping a local copy."""
    store = current_app.node.store
    if album_id not in await store.read(peers_store.pins):
        await store.read(browse.get_album, album_id)  # neither pinned nor known: 404
    await store.write(peers_store.pin, album_id, False)
    _fed().pin_now()
    return "", 204
