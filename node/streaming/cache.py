"""A size-bounded, LRU, crash-safe on-disk cache of finished transcodes.

Layout under ``root``::

    entries/<key>        finished transcodes, each complete (the only files served)
    tmp/<key>.<rand>     transcodes being written; deleted on open, never served

* **Key** = source content identity + format + bitrate + offset (ms) + a cache
  version and the PyAV version (a new encoder never serves old bytes).
* **Atomicity**: a :class:`CacheWriter` writes to ``tmp/``, and only on
  ``commit()`` — called by the transcode worker after the muxer closed
  cleanly — fsyncs and ``os.replace``-s the file into ``entries/``.  A crash
  mid-write leaves only a temp file, which :meth:`TranscodeCache.open` deletes.
* **LRU**: the index is an ordered dict key → size, rebuilt on open from the
  entries' mtimes; a hit moves the key to the end and sets the mtime, so the
  order survives restarts.  After each commit the oldest entries are unlinked
  until the total is within ``max_bytes``.  Unlinking an entry that is being
  served is safe on POSIX: the open descriptor keeps reading it.
* **Threads**: writers run in the transcode worker thread; the index is
  guarded by a lock.  Every method the event loop calls does its I/O in a
  worker thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import av
import trio

if TYPE_CHECKING:
    from .transcode import TranscodeSpec

__all__ = ["CACHE_VERSION", "CacheWriter", "TranscodeCache", "cache_key"]

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def cache_key(source_identity: str, spec: TranscodeSpec) -> str:
    """A file-name-safe key for one transcode of one source content."""
    parts = [f"v{CACHE_VERSION}", f"av{av.__version__}", source_identity, spec.format, str(spec.bitrate),
             str(spec.offset_ms)]
    if spec.channels is not None or spec.sample_rate is not None:  # keys of plain transcodes stay as they were
        parts += [f"ch{spec.channels}", f"sr{spec.sample_rate}"]
    material = "|".join(parts)
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


class CacheWriter:
    """Writes one entry; used from the transcode worker thread.

    The temp file is created on the first ``write`` (so building a writer does
    no I/O); ``commit`` publishes it atomically, ``abort`` removes it.
    """

    def __init__(self, cache: TranscodeCache, key: str) -> None:
        self._cache = cache
        self.key = key
        self._tmp = cache.tmp_dir / f"{key}.{secrets.token_hex(6)}"
        self._file: BinaryIO | None = None
        self._size = 0
        self._finished = False

    def write(self, data: bytes) -> None:
        if self._finished:
            return  # aborted (e.g. too large): the transcode goes on, uncached
        if self._size + len(data) > self._cache.max_bytes:
            self.abort()  # larger than the whole cache: do not keep it
            return
        if self._file is None:
            self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in commit/abort
        self._file.write(data)
        self._size += len(data)

    def commit(self) -> Path | None:
        """Publish the entry; returns its path (None if nothing was kept)."""
        if self._finished or self._file is None:
            self._finished = True
            return None
        self._finished = True
        f, self._file = self._file, None
        try:
            f.flush()
            os.fsync(f.fileno())
            f.close()
            path = self._cache.entries_dir / self.key
            os.replace(self._tmp, path)
        except OSError as exc:
            log.warning("could not store transcode %s in the cache: %s", self.key, exc)
            f.close()
            self._unlink_tmp()
            return None
        self._cache._added(self.key, self._size)
        return path

    def abort(self) -> None:
        self._finished = True
        f, self._file = self._file, None
        if f is not None:
            f.close()
            self._unlink_tmp()

    def _unlink_tmp(self) -> None:
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


class TranscodeCache:
    """Use ``await TranscodeCache.open(root, max_bytes)``; the constructor does no I/O."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.entries_dir = self.root / "entries"
        self.tmp_dir = self.root / "tmp"
        self._lock = threading.Lock()
        self._index: OrderedDict[str, int] = OrderedDict()
        self._total = 0

    @classmethod
    async def open(cls, root: str | os.PathLike[str], max_bytes: int) -> TranscodeCache:
        cache = cls(root, max_bytes)
        await trio.to_thread.run_sync(cache.load)
        return cache

    def load(self) -> None:
        """(Sync.) Create the directories, delete leftover temp files, rebuild the index."""
        self.entries_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.iterdir():
            log.info("removing unfinished transcode %s", leftover.name)
            leftover.unlink(missing_ok=True)
        found = []
        for entry in self.entries_dir.iterdir():
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            found.append((st.st_mtime_ns, entry.name, st.st_size))
        with self._lock:
            self._index = OrderedDict((name, size) for _, name, size in sorted(found))
            self._total = sum(self._index.values())
        self._evict()

    # --- statistics ---------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        return self._total

    def keys(self) -> list[str]:
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._index)

    # --- use ----------------------------------------------------------------

    def key(self, source_identity: str, spec: TranscodeSpec) -> str:
        return cache_key(source_identity, spec)

    def writer(self, key: str) -> CacheWriter:
        return CacheWriter(self, key)

    async def get(self, key: str) -> Path | None:
        """The entry's path if cached (and mark it most recently used), else None."""
        with self._lock:
            if key not in self._index:
                return None
            self._index.move_to_end(key)
        path = self.entries_dir / key
        try:
            await trio.to_thread.run_sync(os.utime, path)
        except FileNotFoundError:
            self._forget(key)
            return None
        return path

    def _added(self, key: str, size: int) -> None:
        with self._lock:
            self._total += size - self._index.pop(key, 0)
            self._index[key] = size
        self._evict()

    def _forget(self, key: str) -> None:
        with self._lock:
            self._total -= self._index.pop(key, 0)

    def _evict(self) -> None:
        while True:
            with self._lock:
                if self._total <= self.max_bytes or not self._index:
                    return
                key, size = self._index.popitem(last=False)
                self._total -= size
            (self.entries_dir / key).unlink(missing_ok=True)
