"""Sharing: getShares, createShare, updateShare, deleteShare, over the node's share links
(:mod:`...store.shares`; the page is :mod:`..share_page`).

``url`` is the link visitors open, built from this request's public address (a trusted proxy's
``X-Forwarded-*`` honoured). ``getShares`` lists the caller's own shares (the native API's
``?all=true`` gives admins everyone's); updateShare and deleteShare act on the caller's own, and admins
on any. ``createShare`` takes songs, albums and playlists (``id``, repeatable), ``description`` and
``expires`` (ms since the epoch; default 30 days), and Navidrome's ``downloadable``.
"""

from __future__ import annotations

import time

from ...store import shares as shares_store
from .. import params
from ..shares import DEFAULT_TTL_S, MAX_EXPIRY_MS, enabled, share_url
from . import shapes
from .core import Call, method
from .envelope import NOT_AUTHORISED, SubsonicError, missing


async def _share(call: Call, share: dict) -> dict:
    tracks = await call.store.read(shares_store.tracks_of, share)
    x = await shapes.decorate(call, tracks=tracks)
    return shapes.clean({
        "id": share["id"],
        "url": await share_url(share),
        "description": share["description"],
        "username": share["username"],
        "created": shapes.iso(share["created_at"]),
        "expires": shapes.iso(share["expires_at"]),
        "lastVisited": shapes.iso(share["last_visited_at"]),
        "visitCount": share["visit_count"],
    }) | {"visitCount": share["visit_count"], "entry": [shapes.child(t, x) for t in tracks]}


def _expires(call: Call, default: float | None) -> float | None:
    raw = call.get("expires")
    if raw in (None, ""):
        return default
    ms = params.integer(raw, "expires", 0, MAX_EXPIRY_MS)
    return None if ms == 0 else ms / 1000


@method("getShares")
async def get_shares(call: Call) -> dict:
    rows = await call.store.read(shares_store.listing, call.uid)
    return {"shares": {"share": [await _share(call, s) for s in rows]}}


@method("createShare")
async def create_share(call: Call) -> dict:
    if not enabled():
        raise SubsonicError(NOT_AUTHORISED, "sharing is turned off on this node")
    ids = [params.ident(v, "id") for v in call.all("id")]
    if not ids:
        raise missing("id")
    expires = _expires(call, time.time() + DEFAULT_TTL_S)
    share = await call.store.write(shares_store.create, call.user, ids, call.get("description"), expires,
                                   call.bool("downloadable"))
    return {"shares": {"share": [await _share(call, share)]}}


@method("updateShare")
async def update_share(call: Call) -> dict:
    share_id = params.ident(call.require("id"), "id")
    changes: dict = {}
    if call.get("description") is not None:
        changes["description"] = call.get("description")
    if call.get("expires") not in (None, ""):
        changes["expires_at"] = _expires(call, None)
    if call.get("downloadable") not in (None, ""):
        changes["downloadable"] = call.bool("downloadable")
    await call.store.write(lambda db: shares_store.update(db, share_id, call.user, **changes))
    return {}


@method("deleteShare")
async def delete_share(call: Call) -> dict:
    share_id = params.ident(call.require("id"), "id")
    await call.store.write(shares_store.delete, share_id, call.user)
    return {}
