"""A bounded on-disk LRU of verified chunks, with pinned permanent replicas.

Layout under ``root``::

    chunks/<file_id>/<index>   one verified chunk per file (decimal index)
    leaves/<file_id>.<page>    a page of the file's leaf hashes, as a holder sent it (protocol §4)
    pins/<file_id>             an empty marker: this file is a permanent replica
    tmp/                       writes in progress; emptied by :meth:`ChunkCache.load`

* **What goes in**: only chunks the transfer layer has verified against the
  file's leaves, and leaf pages it has verified against the ``file_id``. The
  cache trusts nothing it reads back, though: :mod:`.transfer` re-checks every
  chunk it gets from here against the leaves (and each leaf page against the
  root), and :meth:`discard`-s a bad one. That is why writes are atomic
  (temp file + ``os.replace``) but not fsynced: a torn entry after a crash
  is caught and refetched, never served.
* **Bound**: ``max_bytes`` bounds the *unpinned* chunks; after each
  :meth:`put` the least recently used unpinned chunks are unlinked until the
  total fits. Chunks of a pinned file are outside the LRU and never evicted;
  they count in :meth:`statistics` as ``pinned_bytes``. Leaf pages are
  removed with the last chunk of an unpinned file.
* **Recency** survives restarts: a hit sets the file's mtime, and
  :meth:`load` rebuilds the index ordered by mtime.
* **Threads**: the in-memory index is only touched on the trio thread; every
  disk access runs in a worker thread (``trio.to_thread.run_sync``) except
  :meth:`load`, which is synchronous for startup.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import trio

from ...protocol.chunks import parse_file_id

__all__ = ["CacheStatistics", "ChunkCache"]

log = logging.getLogger(__name__)

Key = tuple[str, int]


@dataclass(frozen=True)
class CacheStatistics:
    entries: int
    cached_bytes: int
    pinned_entries: int
    pinned_bytes: int
    max_bytes: int
    pinned_files: int


class ChunkCache:
    """Verified chunks keyed by ``(file_id, chunk index)``; call :meth:`load` once before use."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lru: OrderedDict[Key, int] = OrderedDict()  # unpinned, oldest first
        self._pinned_chunks: dict[Key, int] = {}
        self._pins: set[str] = set()
        self._cached_bytes = 0
        self._loaded = False

    # -- paths --------------------------------------------------------------

    def _chunk_path(self, file_id: str, index: int) -> Path:
        return self.root / "chunks" / file_id / str(index)

    def _leaf_page_path(self, file_id: str, page: int) -> Path:
        return self.root / "leaves" / f"{file_id}.{page}"

    def _tmp_path(self) -> Path:
        return self.root / "tmp" / secrets.token_hex(8)

    # -- startup ------------------------------------------------------------

    def load(self) -> None:
        """Create the layout, delete leftover temp files, rebuild the index (sync, for startup)."""
        for sub in ("chunks", "leaves", "pins", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink(missing_ok=True)
        for old in (self.root / "leaves").iterdir():  # whole leaf lists of the former layout
            if "." not in old.name:
                old.unlink(missing_ok=True)
        self._pins = {p.name for p in (self.root / "pins").iterdir() if _valid_file_id(p.name)}
        found: list[tuple[int, Key, int]] = []
        for fdir in (self.root / "chunks").iterdir():
            if not fdir.is_dir() or not _valid_file_id(fdir.name):
                continue
            for entry in fdir.iterdir():
                if not entry.name.isdigit():
                    continue
                st = entry.stat()
                found.append((st.st_mtime_ns, (fdir.name, int(entry.name)), st.st_size))
        self._lru.clear()
        self._pinned_chunks.clear()
        self._cached_bytes = 0
        for _, key, size in sorted(found):
            self._index(key, size)
        self._loaded = True
        evicted = self._take_evictions()
        self._unlink_chunks(evicted, frozenset(self._pins))

    # -- queries (sync: memory only) ---------------------------------------

    def contains(self, file_id: str, index: int) -> bool:
        key = (file_id, index)
        return key in self._lru or key in self._pinned_chunks

    def has_file(self, file_id: str, chunk_count: int) -> bool:
        """Whether every chunk ``0..chunk_count-1`` of the file is here."""
        return all(self.contains(file_id, i) for i in range(chunk_count))

    def is_pinned(self, file_id: str) -> bool:
        return file_id in self._pins

    def statistics(self) -> CacheStatistics:
        return CacheStatistics(
            entries=len(self._lru),
            cached_bytes=self._cached_bytes,
            pinned_entries=len(self._pinned_chunks),
            pinned_bytes=sum(self._pinned_chunks.values()),
            max_bytes=self.max_bytes,
            pinned_files=len(self._pins),
        )

    # -- chunks -------------------------------------------------------------

    async def get(self, file_id: str, index: int) -> bytes | None:
        """The stored bytes of a chunk (unverified: the caller checks them), or ``None``."""
        self._check_loaded()
        key = (file_id, index)
        if not self.contains(file_id, index):
            return None
        if key in self._lru:
            self._lru.move_to_end(key)
        path = self._chunk_path(file_id, index)
        try:
            return await trio.to_thread.run_sync(_read_and_touch, path)
        except FileNotFoundError:
            self._forget(key)
            return None

    async def put(self, file_id: str, index: int, data: bytes) -> None:
        """Store a verified chunk atomically, then evict down to ``max_bytes``."""
        self._check_loaded()
        parse_file_id(file_id)
        key = (file_id, index)
        if self.contains(file_id, index):
            return
        if file_id not in self._pins and len(data) > self.max_bytes:
            return
        await trio.to_thread.run_sync(self._write_atomic, self._chunk_path(file_id, index), data)
        if not self.contains(file_id, index):
            self._index(key, len(data))
        evicted = self._take_evictions()
        if evicted:
            await trio.to_thread.run_sync(self._unlink_chunks, evicted, frozenset(self._pins))

    async def discard(self, file_id: str, index: int) -> None:
        """Remove a chunk (e.g. one that failed verification when read back)."""
        key = (file_id, index)
        if self._forget(key):
            await trio.to_thread.run_sync(self._unlink_chunks, [key], frozenset(self._pins))

    # -- leaves -------------------------------------------------------------

    async def get_leaf_page(self, file_id: str, page: int) -> bytes | None:
        """A stored leaf page body (unverified: check it against the root), or ``None``."""
        self._check_loaded()
        parse_file_id(file_id)
        try:
            return await trio.to_thread.run_sync(self._leaf_page_path(file_id, int(page)).read_bytes)
        except FileNotFoundError:
            return None

    async def put_leaf_page(self, file_id: str, page: int, body: bytes) -> None:
        """Keep a verified leaf page body (until the file's last chunk leaves the cache)."""
        self._check_loaded()
        parse_file_id(file_id)
        await trio.to_thread.run_sync(self._write_atomic, self._leaf_page_path(file_id, int(page)), body)

    async def discard_leaf_page(self, file_id: str, page: int) -> None:
        """Remove a leaf page that failed verification when read back."""
        parse_file_id(file_id)
        await trio.to_thread.run_sync(lambda: self._leaf_page_path(file_id, int(page)).unlink(missing_ok=True))

    # -- pins ---------------------------------------------------------------

    async def pin(self, file_id: str) -> None:
        """Keep every chunk of ``file_id`` (present and future) out of eviction."""
        self._check_loaded()
        parse_file_id(file_id)
        await trio.to_thread.run_sync(self._write_atomic, self.root / "pins" / file_id, b"")
        self._pins.add(file_id)
        for key in [k for k in self._lru if k[0] == file_id]:
            size = self._lru.pop(key)
            self._cached_bytes -= size
            self._pinned_chunks[key] = size

    async def unpin(self, file_id: str) -> None:
        """Return the file's chunks to the LRU (as most recent), then evict to the bound."""
        self._check_loaded()
        if file_id not in self._pins:
            return
        await trio.to_thread.run_sync(lambda: (self.root / "pins" / file_id).unlink(missing_ok=True))
        self._pins.discard(file_id)
        for key in sorted(k for k in self._pinned_chunks if k[0] == file_id):
            size = self._pinned_chunks.pop(key)
            self._lru[key] = size
            self._cached_bytes += size
        evicted = self._take_evictions()
        if evicted:
            await trio.to_thread.run_sync(self._unlink_chunks, evicted, frozenset(self._pins))

    # -- internals (index: trio thread; disk: worker threads) ---------------

    def _check_loaded(self) -> None:
        if not self._loaded:
            raise RuntimeError("ChunkCache.load() must be called before use")

    def _index(self, key: Key, size: int) -> None:
        if key[0] in self._pins:
            self._pinned_chunks[key] = size
        else:
            self._lru[key] = size
            self._cached_bytes += size

    def _forget(self, key: Key) -> bool:
        if key in self._lru:
            self._cached_bytes -= self._lru.pop(key)
            return True
        return self._pinned_chunks.pop(key, None) is not None

    def _take_evictions(self) -> list[Key]:
        evicted = []
        while self._cached_bytes > self.max_bytes and self._lru:
            key, size = self._lru.popitem(last=False)
            self._cached_bytes -= size
            evicted.append(key)
        return evicted

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = self._tmp_path()
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            for attempt in range(3):  # an eviction may rmdir the file's folder meanwhile
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(tmp, path)
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise
        finally:
            tmp.unlink(missing_ok=True)

    def _unlink_chunk(self, key: Key) -> None:
        file_id, index = key
        self._chunk_path(file_id, index).unlink(missing_ok=True)

    def _unlink_chunks(self, keys: list[Key], pins: frozenset[str]) -> None:
        """Worker thread: unlink evicted chunks; drop a file's leaves with its last chunk."""
        for key in keys:
            self._unlink_chunk(key)
        for file_id in {k[0] for k in keys}:
            fdir = self.root / "chunks" / file_id
            try:
                fdir.rmdir()  # only succeeds when empty
            except OSError:
                continue
            if file_id not in pins:
                for page in (self.root / "leaves").glob(f"{file_id}.*"):
                    page.unlink(missing_ok=True)


def _read_and_touch(path: Path) -> bytes:
    data = path.read_bytes()
    os.utime(path)
    return data


def _valid_file_id(name: str) -> bool:
    try:
        parse_file_id(name)
    except Exception:
        return False
    return True
