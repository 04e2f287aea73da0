"""Members' lyrics: the lyrics a node fetched (LRCLIB, docs/metadata.md) serve every member.

Theory of operation
-------------------
::

    publisher            record.lyrics = "ly-" + BLAKE2b-96 of the fetched text (synced LRC, else plain, ≤ 64 KiB)
    holder (peer API)    GET /peer/v1/lyrics/{file_id} ─► that text, for a *shared* track only
    asking node          getLyricsBySongId / native lyrics of a member's track ─► cache? ─► fetch from the
                           holders publishing that id, best first ─► UTF-8 bytes whose id matches ─► cache

The text is too large for a record (``MAX_RECORD_BYTES``), so the signed record carries only its
content id and the text travels apart, verified like a cover (covers.py, whose holder loop and
bounded, content-addressed file cache this reuses): a cached text never goes stale and is shown
while its holders are away. Lyrics from the member's own files are not published (only fetched
ones are); on the asking node a recording it holds itself is its own track, so its own files and
its own fetches always win.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import trio

from sonantica.protocol.limits import MAX_LYRICS_BYTES
from sonantica.protocol.records import is_lyrics_id

from ..library import lyrics as lyrics_mod
from ..store import tracks as tracks_store
from . import catalogue
from .covers import MemberCovers, fetch_verified

CACHE_BYTES = 16 * 1024 * 1024  # members' lyrics kept on disk (≈ 4000 songs of synced lyrics)


def shareable(synced: str | None, plain: str | None) -> str | None:
    """The fetched text a node publishes for a track (synced if any, else plain), None if none or too large."""
    text = synced or plain
    if not text or len(text.encode("utf-8")) > MAX_LYRICS_BYTES:
        return None
    return text


def digest(data: bytes) -> str:
    return "ly-" + hashlib.blake2b(data, digest_size=12).hexdigest()


# -- serving: the fetched lyrics of a shared track, to a member --------------------------------------
def _shared_text(db, file_id: str, share: str, share_folders) -> str | None:
    allowed = catalogue.shared_folder_ids(tracks_store.folders(db), share, share_folders)
    for folder_id, synced, plain in db.conn.execute(
            "SELECT t.folder_id, mt.lyrics_synced, mt.lyrics_plain FROM track t JOIN meta_track mt "
            "ON mt.track_id = t.id WHERE t.file_id = ?", (file_id,)).fetchall():
        if folder_id in allowed and (text := shareable(synced, plain)):
            return text
    return None


async def shared_lyrics(node, file_id: str) -> bytes | None:
    """The fetched lyrics of a track this node shares (by file_id) as UTF-8, or None."""
    config = node.config
    text = await node.store.read(_shared_text, file_id, config.share, config.share_folders)
    return text.encode("utf-8") if text else None


# -- fetching: members' lyrics, verified, in a bounded cache -----------------------------------------
def _wanted(db, track_id: str) -> str | None:
    """The lyrics id the recording's holders publish (the primary holder's first)."""
    for (value,) in db.conn.execute(
            "SELECT json_extract(record, '$.lyrics') FROM remote_track WHERE id = ? ORDER BY primary_holder DESC",
            (track_id,)):
        if is_lyrics_id(value):
            return value
    return None


def _holders(db, wanted: str) -> list[dict]:
    rows = db.conn.execute("SELECT log, min(file_id) FROM remote_track WHERE json_extract(record, '$.lyrics') = ? "
                           "GROUP BY log", (wanted,)).fetchall()
    return [{"node": r[0], "file_id": r[1]} for r in rows]


async def _fetch(node, wanted: str) -> bytes | None:
    federation = node.federation
    if federation is None or federation.membership is None:
        return None
    holders = await node.store.read(_holders, wanted)
    return await fetch_verified(node, holders, wanted, "lyrics", MAX_LYRICS_BYTES, digest)


_caches: dict[Path, MemberCovers] = {}


def _cache(node) -> MemberCovers:
    root = node.data.cache_dir / "member-lyrics"
    cache = _caches.get(root)
    if cache is None:
        cache = _caches[root] = MemberCovers(root, CACHE_BYTES, fetch=_fetch)
    return cache


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LYRICS_BYTES + 1)
        return data.decode("utf-8") if len(data) <= MAX_LYRICS_BYTES else None
    except (OSError, UnicodeDecodeError):
        return None


async def member_lyrics(node, track_id: str) -> str | None:
    """The lyrics a member fetched for its recording ``track_id`` (verified, cached), or None."""
    wanted = await node.store.read(_wanted, track_id)
    if wanted is None:
        return None
    path = await _cache(node).original(node, wanted)
    return await trio.to_thread.run_sync(_read_text, path) if path else None


async def lyrics_of_member_track(node, track: dict) -> dict:
    """A member's track's lyrics in the shape of ``library.lyrics.lyrics_for`` (no lines if none)."""
    text = await member_lyrics(node, track["id"])
    if not text:
        return {"synced": False, "lines": [], "tags": {}, "source": None}
    result = lyrics_mod.parse_lrc(text)
    result["source"] = "fetched"
    return result
