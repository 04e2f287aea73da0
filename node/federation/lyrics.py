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
import logging
from pathlib import Path

import trio

from sonantica.protocol.limits import MAX_LYRICS_BYTES
from sonantica.protocol.records import is_lyrics_id

from ..library import lyrics as lyrics_mod
from ..store import tracks as tracks_store
from . import catalogue
from .covers import MemberCovers, fetch_verified

log = logging.getLogger(__name__)

CACHE_BYTES = 16 * 1024 * 1024  # members' lyrics kept on disk (≈ 4000 songs of synced lyrics)
PREFETCH_QUEUE = 4096  # lyrics ids waiting to be fetched as they arrive; more are fetched when asked for


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
def _published(db, track_id: str) -> tuple[str | None, list[dict]]:
    """The lyrics id a member's recording carries (its primary holder's first) and the holders
    ({node, file_id}) publishing that id for it: by the recording's id, an indexed look-up."""
    rows = db.conn.execute("SELECT log, file_id, json_extract(record, '$.lyrics') FROM remote_track WHERE id = ? "
                           "ORDER BY primary_holder DESC", (track_id,)).fetchall()
    wanted = next((value for _, _, value in rows if is_lyrics_id(value)), None)
    holders = {log_id: file_id for log_id, file_id, value in rows if wanted and value == wanted}
    return wanted, [{"node": n, "file_id": f} for n, f in holders.items()]


def _from(holders: list[dict]):
    async def fetch(node, wanted: str) -> bytes | None:
        federation = node.federation
        if federation is None or federation.membership is None or not holders:
            return None
        return await fetch_verified(node, holders, wanted, "lyrics", MAX_LYRICS_BYTES, digest)

    return fetch


async def _nothing(node, wanted: str) -> None:
    return None  # a cache without a fetcher of its own: every call names its holders


_caches: dict[Path, MemberCovers] = {}


def _cache(node) -> MemberCovers:
    root = node.data.cache_dir / "member-lyrics"
    cache = _caches.get(root)
    if cache is None:
        cache = _caches[root] = MemberCovers(root, CACHE_BYTES, fetch=_nothing)
    return cache


async def prefetch_loop(node, arrivals) -> None:
    """Fetch members' lyrics as their records arrive (``arrivals``: a receive channel of
    (lyrics id, holder node, file_id)), one at a time; an id already cached costs nothing, one the
    holder does not give now is fetched again when first asked for."""
    async for wanted, holder, file_id in arrivals:
        try:
            await _cache(node).original(node, wanted, _from([{"node": holder, "file_id": file_id}]))
        except Exception:  # a failed prefetch must not end the federation's nursery
            log.exception("prefetching lyrics %s failed", wanted)


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LYRICS_BYTES + 1)
        return data.decode("utf-8") if len(data) <= MAX_LYRICS_BYTES else None
    except (OSError, UnicodeDecodeError):
        return None


async def member_lyrics(node, track_id: str) -> str | None:
    """The lyrics a member fetched for its recording ``track_id`` (verified, cached), or None."""
    wanted, holders = await node.store.read(_published, track_id)
    if wanted is None:
        return None
    path = await _cache(node).original(node, wanted, _from(holders))
    return await trio.to_thread.run_sync(_read_text, path) if path else None


async def lyrics_of_member_track(node, track: dict) -> dict:
    """A member's track's lyrics in the shape of ``library.lyrics.lyrics_for`` (no lines if none)."""
    text = await member_lyrics(node, track["id"])
    if not text:
        return {"synced": False, "lines": [], "tags": {}, "source": None}
    result = lyrics_mod.parse_lrc(text)
    result["source"] = "fetched"
    return result
