"""Members' artist biographies: the biography a node fetched (Wikipedia, docs/metadata.md) for the
artist of a shared track serves every member.

The track's record names a small document (protocol ``encode_artist_info``: the artist's name, the
biography as plain text ≤ 8 KiB, its source link and attribution) by its content id
(``artist_info``, ``ai-`` + BLAKE2b-96); the holder serves it at ``GET /peer/v1/artist-info/{file_id}``
and the asking node keeps it only if it hashes to that id and names the artist asked about, in a
bounded content-addressed cache (covers.py's), so it stays shown while its owner is away. An
artist's document is the same on all its tracks' records: fetched once. The node's own biography
of an artist always wins.
"""

from __future__ import annotations

import logging
from pathlib import Path

import trio

from sonantica.protocol.errors import LocalProtocolError
from sonantica.protocol.limits import MAX_ARTIST_INFO_BYTES
from sonantica.protocol.records import artist_info_id, decode_artist_info, encode_artist_info, is_artist_info_id

from ..store import tracks as tracks_store
from ..store.tracks import artist_id as artist_key
from . import catalogue
from .covers import MemberCovers, fetch_verified

__all__ = ["document", "published_ids", "shared_document", "member_biography", "with_members", "prefetch_loop",
           "is_artist_info_id"]

log = logging.getLogger(__name__)

CACHE_BYTES = 4 * 1024 * 1024
PREFETCH_QUEUE = 1024  # documents waiting to be fetched as records arrive; more are fetched when asked for


def document(artist: str | None, biography: str | None, source: str | None, attribution: str | None) -> bytes | None:
    """The document a node publishes for an artist it fetched a biography of, None if none or out of bounds."""
    if not artist or not biography:
        return None
    try:
        return encode_artist_info(artist, biography, source, attribution)
    except LocalProtocolError:
        return None


def published_ids(db) -> dict[str, str]:
    """{artist id: artist_info id} for the artists with a fetched biography (the publisher's)."""
    out = {}
    for artist_id, name, bio, source, attribution in db.conn.execute(
            "SELECT m.artist_id, a.name, m.biography, m.biography_source, m.biography_attribution "
            "FROM meta_artist m JOIN artist a ON a.id = m.artist_id WHERE m.biography IS NOT NULL"):
        if (data := document(name, bio, source, attribution)) is not None:
            out[artist_id] = artist_info_id(data)
    return out


def _shared_document(db, file_id: str, share: str, share_folders) -> bytes | None:
    allowed = catalogue.shared_folder_ids(tracks_store.folders(db), share, share_folders)
    for folder_id, name, bio, source, attribution in db.conn.execute(
            "SELECT t.folder_id, a.name, m.biography, m.biography_source, m.biography_attribution FROM track t "
            "JOIN artist a ON a.id = t.artist_id JOIN meta_artist m ON m.artist_id = t.artist_id "
            "WHERE t.file_id = ?", (file_id,)).fetchall():
        if folder_id in allowed and (data := document(name, bio, source, attribution)) is not None:
            return data
    return None


async def shared_document(node, file_id: str) -> bytes | None:
    """The biography document of the artist of a track this node shares (by file_id), or None."""
    return await node.store.read(_shared_document, file_id, node.config.share, node.config.share_folders)


def _published(db, artist_id: str) -> tuple[str | None, list[dict]]:
    """The artist_info id members publish for this artist and the holders ({node, file_id}) of it."""
    rows = db.conn.execute(
        "SELECT r.log, r.file_id, json_extract(r.record, '$.artist_info') FROM remote_track r "
        "WHERE r.artist_id = ? ORDER BY r.primary_holder DESC LIMIT 200", (artist_id,)).fetchall()
    wanted = next((value for _, _, value in rows if is_artist_info_id(value)), None)
    holders = {}
    for log_id, file_id, value in rows:
        if wanted and value == wanted:
            holders.setdefault(log_id, file_id)
    return wanted, [{"node": n, "file_id": f} for n, f in holders.items()]


_caches: dict[Path, MemberCovers] = {}


async def _nothing(node, wanted: str) -> None:
    return None


def _cache(node) -> MemberCovers:
    root = node.data.cache_dir / "member-artists"
    if (cache := _caches.get(root)) is None:
        cache = _caches[root] = MemberCovers(root, CACHE_BYTES, fetch=_nothing)
    return cache


def _from(holders: list[dict]):
    async def fetch(node, wanted: str) -> bytes | None:
        if node.federation is None or node.federation.membership is None or not holders:
            return None
        return await fetch_verified(node, holders, wanted, "artist-info", MAX_ARTIST_INFO_BYTES, artist_info_id)

    return fetch


async def prefetch_loop(node, arrivals) -> None:
    """Fetch members' biography documents as their records arrive (``arrivals``: a receive channel of
    (artist_info id, holder node, file_id)), one at a time; a cached one costs nothing."""
    async for wanted, holder, file_id in arrivals:
        try:
            await _cache(node).original(node, wanted, _from([{"node": holder, "file_id": file_id}]))
        except Exception:  # a failed prefetch must not end the federation's nursery
            log.exception("prefetching artist info %s failed", wanted)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_ARTIST_INFO_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_ARTIST_INFO_BYTES else None


async def member_biography(node, artist: dict) -> dict | None:
    """{biography, biography_source, biography_attribution} a member fetched for ``artist``, or None."""
    wanted, holders = await node.store.read(_published, artist["id"])
    if wanted is None:
        return None
    path = await _cache(node).original(node, wanted, _from(holders))
    data = await trio.to_thread.run_sync(_read, path) if path else None
    doc = decode_artist_info(data) if data else None
    if doc is None or artist_key(doc["artist"]) != artist["id"]:
        return None  # not a document, or about another artist: ignored
    return {"biography": doc["biography"], "biography_source": doc.get("source"),
            "biography_attribution": doc.get("attribution")}


async def with_members(node, artist: dict, info: dict) -> dict:
    """``info`` (the node's own, meta_store.artist_info) with a member's biography when it has none."""
    if info.get("biography"):
        return info
    found = await member_biography(node, artist)
    return {**info, **found} if found else info

