"""One pass over the library's items that lack outside data: albums, then artists, then tracks.

Albums go first because a matched release names the album artist's MBID (used for the
artist's picture and biography) and each track's recording MBID. Each item is handed to
the enabled providers of its kind in the order of ``PROVIDERS``; what they find is stored
at once (a later failure loses nothing), and the item is marked with when to look again:
``recheck_s`` after a complete look, ``retry_s`` after a provider could not answer.

Low priority: between items the worker waits while anything plays (``busy()``), and
every request keeps its provider's pace, so a pass over a large library takes hours, by design.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ..store import metadata as meta_store
from . import acoustid, coverart, images, lrclib, musicbrainz, wikimedia
from .base import Context, enabled
from .http import Http, Unavailable

log = logging.getLogger(__name__)

#: Every provider, in the order they run for an item of their kind.
PROVIDERS = (musicbrainz.Albums(), coverart.Covers(), musicbrainz.Artists(), wikimedia.Artists(),
             acoustid.Recordings(), lrclib.Lyrics())
KINDS = ("album", "artist", "track")
BATCH = 20


@dataclass
class Pace:
    recheck_s: float = 30 * 86_400.0
    retry_s: float = 3600.0
    busy_wait_s: float = 2.0


PACE = Pace()


@dataclass
class PassResult:
    looked: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    found: int = 0  # items something new was stored for
    failures: list[str] = field(default_factory=list)


class Worker:
    """Looks items up; one per node (``node.metadata``) or per ``sonantica metadata refresh``."""

    def __init__(self, store, config, image_dir: Path, *, busy=lambda: False) -> None:
        self.store = store
        self.config = config
        self.image_dir = image_dir
        self.http = Http(store, config)
        self.busy = busy
        self.running = False
        self.current: str | None = None
        self.errors: list[str] = []  # the last few failures, for status

    def providers(self, kind: str) -> list:
        return [p for p in PROVIDERS if p.kind == kind and enabled(p, self.config)]

    async def run_pass(self) -> PassResult:
        result = PassResult()
        if not self.config.metadata:
            return result
        self.running = True
        try:
            for kind in KINDS:
                providers = self.providers(kind)
                if providers:
                    await self._walk(kind, providers, result)
            await self._trim_images()
        finally:
            self.running = False
            self.current = None
        return result

    async def _walk(self, kind: str, providers: list, result: PassResult) -> None:
        while True:
            batch = await self.store.read(meta_store.pending, kind, time.time(), BATCH)
            if not batch:
                return
            for ident, refresh in batch:
                while self.busy():
                    await trio.sleep(PACE.busy_wait_s)
                await self.look(kind, ident, providers, refresh, result)

    async def look(self, kind: str, ident: str, providers: list, fresh: bool, result: PassResult) -> None:
        self.current = ident
        item = await self.store.read(load_item, kind, ident)
        ok, later = True, False
        if item is not None:
            ctx = Context(self.http, self.config, self.image_dir, fresh=fresh)
            for provider in providers:
                try:
                    found = await provider.lookup(ctx, item)
                except Unavailable as exc:
                    ok = False
                    self._failed(f"{kind} {ident}: {exc}", result)
                    continue
                except Exception as exc:  # a provider's bug must not stop the pass
                    ok = False
                    log.exception("metadata: %s failed on %s %s", provider.name, kind, ident)
                    self._failed(f"{kind} {ident}: {provider.name}: {type(exc).__name__}", result)
                    continue
                later = bool(found.pop("_later", False)) or later  # a provider waits for the analysis
                if found:
                    item.update(found)
                    await self.store.write(apply, kind, ident, found)
                    result.found += 1
        retry = time.time() + (PACE.recheck_s if ok and not later else PACE.retry_s)
        await self.store.write(meta_store.mark_checked, kind, ident, retry)
        result.looked[kind] += 1

    def _failed(self, message: str, result: PassResult) -> None:
        log.info("metadata: %s", message)
        result.failures.append(message)
        self.errors = (self.errors + [message])[-20:]

    async def _trim_images(self) -> None:
        limit = self.config.metadata_image_cache_mb * 1024 * 1024
        gone = await trio.to_thread.run_sync(images.trim, self.image_dir, limit)
        if gone:
            await self.store.write(meta_store.forget_images, gone)


# -- items: read and write (in the store's threads) ------------------------------
def load_item(db, kind: str, ident: str) -> dict | None:
    return {"album": _album_item, "artist": _artist_item, "track": _track_item}[kind](db, ident)


def _album_item(db, ident: str) -> dict | None:
    rows = list(db.query("SELECT id, name, artist, artist_id, mbid, cover FROM album WHERE id = ?", [ident]))
    if not rows:
        return None
    album = rows[0]
    meta = meta_store.album_row(db, ident) or {}
    album["own_cover"] = bool(album["cover"]) and album["cover"] != meta.get("cover")
    album["cover"] = meta.get("cover")
    album["release_mbid"] = meta.get("release_mbid")
    album["tracks"] = list(db.query(
        "SELECT id, title, duration, track_no, disc_no, mb_recording_id FROM track WHERE album_id = ?", [ident]))
    return album


def _artist_item(db, ident: str) -> dict | None:
    rows = list(db.query("SELECT id, name, mbid AS tag_mbid FROM artist WHERE id = ?", [ident]))
    if not rows:
        return None
    artist = rows[0]
    meta = meta_store.artist_row(db, ident) or {}
    artist.update({k: meta.get(k) for k in ("mbid", "image", "biography")})
    own = db.conn.execute("SELECT 1 FROM artist_picture WHERE artist_id = ?", (ident,)).fetchone()
    artist["own_picture"] = own is not None  # an artist.jpg in the library: no picture is fetched
    row = db.conn.execute(
        "SELECT coalesce((SELECT t.mb_album_artist_id FROM track t WHERE t.album_id = a.id "
        "AND t.mb_album_artist_id IS NOT NULL LIMIT 1), m.artist_mbid) FROM album a "
        "LEFT JOIN meta_album m ON m.album_id = a.id WHERE a.artist_id = ? "
        "AND (m.artist_mbid IS NOT NULL OR EXISTS (SELECT 1 FROM track t WHERE t.album_id = a.id "
        "AND t.mb_album_artist_id IS NOT NULL)) LIMIT 1", (ident,)).fetchone()
    artist["album_mbid"] = row[0] if row else None
    if not artist.get("tag_mbid"):
        row = db.conn.execute("SELECT mb_artist_id FROM track WHERE artist_id = ? AND mb_artist_id IS NOT NULL "
                              "LIMIT 1", (ident,)).fetchone()
        artist["tag_mbid"] = row[0] if row else None
    return artist


def _track_item(db, ident: str) -> dict | None:
    rows = list(db.query(
        "SELECT t.id, t.title, t.artist, t.album, t.duration, t.lyrics, t.path, t.mb_recording_id, f.path AS root "
        "FROM track t JOIN folder f ON f.id = t.folder_id WHERE t.id = ?", [ident]))
    if not rows:
        return None
    track = rows[0]
    meta = meta_store.track_row(db, ident) or {}
    track.update({k: meta.get(k) for k in ("lyrics_synced", "lyrics_plain", "recording_mbid")})
    return track


def apply(db, kind: str, ident: str, found: dict) -> None:
    """Store one provider's findings about one item."""
    found = dict(found)
    found.pop("caa_front", None)
    found.pop("wikidata", None)
    if kind == "album":
        for track_id, rec in (found.pop("recordings", None) or {}).items():
            meta_store.save(db, "track", track_id, {"recording_mbid": rec})
        cover = found.pop("cover", None)
        source = found.pop("cover_source", None)
        if cover:
            meta_store.set_album_cover(db, ident, cover, source or "")
    if kind == "artist" and found.get("image"):
        meta_store.set_artist_image(db, ident, found.pop("image"), found.pop("image_source", "") or "",
                                    found.pop("image_attribution", "") or "")
    columns = {k: v for k, v in found.items() if k in _COLUMNS[kind]}
    meta_store.save(db, kind, ident, columns)


_COLUMNS = {
    "album": {"release_mbid", "release_group_mbid", "artist_mbid"},
    "artist": {"mbid", "biography", "biography_source", "biography_attribution", "disambiguation"},
    "track": {"recording_mbid", "lyrics_synced", "lyrics_plain", "lyrics_source"},
}
