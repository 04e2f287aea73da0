"""Native API: share links (``/api/v1/shares``): create, list (admins: everyone's), change, revoke.

The links themselves are served by :mod:`.share_page`. A share is the author's to change or revoke,
and every admin's (they see and revoke every share: ``?all=true``). With ``share_links = false`` in
config.toml nobody creates new ones (403) and every link answers 404; existing shares stay listed.
"""

from __future__ import annotations

import time

import trio
from quart import Blueprint, current_app, jsonify, request

from .. import sharing
from ..store import scope
from ..store import shares as shares_store
from . import params
from .access import USER, access
from .app import current_user, json_body, query_bool
from .errors import ApiError, forbidden

bp = Blueprint("shares", __name__, url_prefix="/api/v1")

DEFAULT_TTL_S = 30 * 86400  # a link without an expiry given lasts 30 days
MAX_EXPIRY_MS = 253_402_300_799_000  # 9999-12-31


async def link_key() -> bytes:
    """The node's share-link key (read once from the key file, in a thread)."""
    node = current_app.node
    key = getattr(node, "share_link_key", None)
    if key is None:
        key = await trio.to_thread.run_sync(sharing.link_key, node.data.key_path)
        node.share_link_key = key
    return key


def base_url() -> str:
    """This request's public base URL (see :func:`...sharing.public_base`)."""
    return sharing.public_base(request.scheme, request.host, request.remote_addr or "",
                               request.headers, current_app.node.config.trusted_proxies)


async def share_url(share: dict) -> str:
    return f"{base_url()}/s/{sharing.make_token(await link_key(), share['id'], share['nonce'])}"


def enabled() -> bool:
    return bool(current_app.node.config.share_links)


async def share_json(share: dict, tracks: list[dict] | None = None) -> dict:
    out = {k: v for k, v in share.items() if k not in ("nonce", "user_id")}
    out["url"] = await share_url(share)
    out["expired"] = not shares_store.is_live(share)
    out["title"] = await current_app.node.store.read(shares_store.title_of, share)
    if scope.limited():  # what was shared before the caller was limited to some folders is not named
        out["items"] = await current_app.node.store.read(shares_store.visible_items, out["items"])
    if tracks is not None:
        from .library import track_json

        out["tracks"] = [track_json(t) for t in tracks]
    return out


def expiry_ms(value, name: str = "expires_at") -> float | None:
    """ms since the epoch → seconds; None stays None (no expiry)."""
    if value is None:
        return None
    ms = params.integer(value, name, 1, MAX_EXPIRY_MS)
    return ms / 1000


@bp.get("/shares")
@access(USER)
async def list_shares():
    """The caller's shares; ``?all=true`` (admins): every user's."""
    user = current_user()
    everyone = query_bool("all", False)
    if everyone and user["role"] not in ("owner", "admin"):
        raise forbidden("only admins see every user's shares")
    rows = await current_app.node.store.read(shares_store.listing, None if everyone else user["id"])
    return jsonify({"items": [await share_json(s) for s in rows], "enabled": enabled()})


@bp.post("/shares")
@access(USER)
async def create_share():
    """Share songs, albums or a playlist: ``ids``, optional ``description``, ``expires_at`` (ms since the epoch,
    default in 30 days, null: never), ``downloadable``."""
    if not enabled():
        raise forbidden("sharing is turned off on this node (share_links = false in config.toml)")
    body = await json_body("ids")
    expires = expiry_ms(body["expires_at"]) if "expires_at" in body else time.time() + DEFAULT_TTL_S
    share = await current_app.node.store.write(
        shares_store.create, current_user(), body["ids"], body.get("description"), expires,
        bool(body.get("downloadable", False)))
    return jsonify(await share_json(share)), 201


@bp.get("/shares/<share_id>")
@access(USER)
async def get_share(share_id: str):
    """One share with the songs it plays now (its author's, or any for admins)."""
    store = current_app.node.store
    share = await store.read(shares_store.get, share_id)
    if not shares_store.may_change(share, current_user()):
        raise ApiError(404, "not_found", f"no share {share_id}")
    return jsonify(await share_json(share, await store.read(shares_store.tracks_of, share)))


@bp.patch("/shares/<share_id>")
@access(USER)
async def update_share(share_id: str):
    """Change the ``description``, ``expires_at`` (null: never) or ``downloadable``."""
    body = await json_body()
    changes = {}
    if "description" in body:
        changes["description"] = body["description"]
    if "expires_at" in body:
        changes["expires_at"] = expiry_ms(body["expires_at"])
    if "downloadable" in body:
        changes["downloadable"] = bool(body["downloadable"])
    share = await current_app.node.store.write(lambda db: shares_store.update(db, share_id, current_user(), **changes))
    return jsonify(await share_json(share))


@bp.delete("/shares/<share_id>")
@access(USER)
async def delete_share(share_id: str):
    """Revoke: the link answers 404 from now on."""
    await current_app.node.store.write(shares_store.delete, share_id, current_user())
    return "", 204
