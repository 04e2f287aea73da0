"""The library scan, in phases (as Navidrome's scanner):

    walk ──► diff by (size, mtime) ──► read tags (here, + process pool) ──► upsert in batches
                     │                                                   │
                     └──► vanished files ──► moved? (audio_id) ──► remove ┴──► albums, artists

Unchanged files are skipped without opening them. Each batch is committed in
its own transaction, so ``kill -9`` loses at most the batch in flight and the
next scan completes the work. One scan at a time per data folder, across
processes (``serve`` and ``sonantica scan``): a file lock serialises them.
"""

from __future__ import annotations

import concurrent.futures as cf
import fcntl
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import trio

from ..store import tracks as tracks_store
from ..store.db import Store
from .walk import FoundFile, walk

BATCH = 256
INLINE_LIMIT = 1000  # up to this many files, starting a process pool costs more than it saves


@dataclass
class ScanSummary:
    seen: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    moved: int = 0
    unchanged: int = 0
    errors: int = 0
    unsupported: int = 0  # music files in formats the node cannot read (listed with the errors)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d


Progress = Callable[[int, int], None]


class Scanner:
    """Scans one node's library folders into its store."""

    def __init__(self, store: Store, music: list[str], covers_dir: Path, lock_path: Path, workers: int = 0) -> None:
        self.store = store
        self.music = list(music)
        self.covers_dir = Path(covers_dir)
        self.lock_path = Path(lock_path)
        self.workers = workers or os.cpu_count() or 1
        self._lock = trio.Lock()
        self.running = False
        self.progress: tuple[int, int] = (0, 0)
        self.listeners: list[Callable[[str, dict], None]] = []
        self.inline_limit = INLINE_LIMIT  # more files than this to read: a process pool joins in
        self.read_here = True  # read batches in this process too (tests turn it off to try the pool alone)
        self._batches = {"here": 0, "pool": 0}

    def statistics(self) -> dict:
        """Where the last scan's batches were read: ``{"here": n, "pool": m}``."""
        return dict(self._batches)

    def _emit(self, kind: str, data: dict) -> None:
        for listener in list(self.listeners):
            listener(kind, data)

    async def scan(self, full: bool = False, progress: Progress | None = None) -> ScanSummary:
        async with self._lock:
            lock_fd = await _acquire_file_lock(self.lock_path)
            try:
                self.running = True
                return await self._scan(full, progress)
            finally:
                self.running = False
                os.close(lock_fd)

    async def _scan(self, full: bool, progress: Progress | None) -> ScanSummary:
        started = time.monotonic()
        wall = time.time()
        summary = ScanSummary()
        folders = await self.store.write(tracks_store.sync_folders, self.music)
        await self.store.write(tracks_store.save_scan_state, wall, None, None)
        self._emit("scan.started", {"full": full})
        found = await trio.to_thread.run_sync(walk, folders)
        summary.problems = [f"{p.relpath or '.'}: {p.reason}" for p in found.problems]
        known = await self.store.read(tracks_store.known_files)
        known_err = await self.store.read(tracks_store.known_errors)
        roots = dict(folders)
        to_read: list[FoundFile] = []
        present: set[tuple[int, str]] = set()
        for f in found.files:
            key = (f.folder_id, f.relpath)
            present.add(key)
            old = known.get(key)
            if not full and old is not None and old[0] == f.size and old[1] == f.mtime_ns:
                continue
            if not full and old is None and known_err.get(key) == (f.size, f.mtime_ns):
                continue  # same broken file as last time: keep its recorded error
            to_read.append(f)
        summary.seen = len(found.files)
        summary.unchanged = summary.seen - len(to_read)
        offline = _offline_folders(found, known, roots, full)
        summary.problems += [f"library folder {roots[fid]} is empty: its {n} tracks are kept as they were (an "
                             "unmounted disk?); `sonantica scan --full` removes them if the music is really gone"
                             for fid, n in offline.pop("empty", {}).items()]
        vanished = [known[k][2] for k in known
                    if k not in present and k[0] in roots and not _under(k, offline["kept"])]
        moved_from = await self.store.read(_audio_ids_of, vanished) if vanished and to_read else {}
        initial_moves = dict(moved_from)
        await self.store.write(tracks_store.set_folder_images, found.images)
        unsupported = [(f.folder_id, f.relpath, f"unsupported format ({os.path.splitext(f.relpath)[1].lower()})",
                        f.size, f.mtime_ns) for f in found.unsupported]
        present.update((f.folder_id, f.relpath) for f in found.unsupported)
        if unsupported:
            await self.store.write(tracks_store.record_errors, unsupported)
        summary.unsupported = len(unsupported)
        await self.store.write(tracks_store.set_artist_images, found.artist_images)
        gone_errors = [k for k in known_err if k not in present]
        if gone_errors:
            await self.store.write(tracks_store.forget_errors, gone_errors)

        total = len(to_read)
        done = 0
        self.progress = (0, total)
        if progress:
            progress(0, total)

        async def apply(results: list) -> None:
            nonlocal done
            ok, errs = [], []
            for r in results:
                if r[0] == "ok":
                    _, fid, rel, size, mtime, props, tags, cover, mime, aid = r
                    ok.append(tracks_store.TrackRecord(fid, rel, size, mtime, props, tags, cover, aid))
                    if cover:
                        ok[-1].cover_mime = mime  # type: ignore[attr-defined]
                else:
                    errs.append(r[1:])
            before = dict(moved_from)
            added, updated, albums = await self.store.write(_apply_batch, ok, errs, moved_from)
            summary.moved += len(before) - len(moved_from)
            summary.added += added
            summary.updated += updated - (len(before) - len(moved_from))
            summary.errors += len(errs)
            done += len(results)
            self.progress = (done, total)
            if progress:
                progress(done, total)
            self._emit("scan.progress", {"done": done, "total": total})

        items = [(f.folder_id, roots[f.folder_id], f.relpath, f.size, f.mtime_ns) for f in to_read]
        await self._read_all(items, apply)
        taken_over = set(initial_moves.values()) - set(moved_from.values())
        remove = [tid for tid in vanished if tid not in taken_over]
        if remove:
            albums = await self.store.write(tracks_store.remove_tracks, remove)
            await self.store.write(tracks_store.refresh_albums, albums)
        summary.removed = len(remove)
        await self.store.write(tracks_store.prune_artists)
        await self.store.write(tracks_store.link_artist_images)
        summary.errors = len(await self.store.read(tracks_store.scan_errors))
        summary.seconds = time.monotonic() - started
        await self.store.write(tracks_store.save_scan_state, wall, time.time(), summary.as_dict())
        self._emit("scan.finished", summary.as_dict())
        if summary.added or summary.updated or summary.removed:
            self._emit("library.changed", summary.as_dict())
        return summary

    async def _read_all(self, items: list, apply: Callable) -> None:
        """Read every item's tags, batch by batch, and apply each batch as it comes.

        This process reads batches from the first moment (in a worker thread). When there are
        more than ``INLINE_LIMIT`` files, a process pool starts beside it and, once its first
        worker answers, takes batches too: a small library is done before a pool would have
        started (starting one costs about a second of CPU on a small machine), and a large
        one gets every core.
        """
        self._batches = {"here": 0, "pool": 0}
        if not items:
            return
        batches = iter([items[i : i + BATCH] for i in range(0, len(items), BATCH)])
        covers = str(self.covers_dir)

        async def consume(where: str, read: Callable) -> None:
            for batch in batches:  # shared by every reader: each batch is taken once
                results = await read(batch)
                self._batches[where] += 1
                await apply(results)

        async def read_here(batch: list) -> list:
            from . import reader

            return await trio.to_thread.run_sync(reader.read_batch, batch, covers)

        if len(items) <= self.inline_limit or self.workers <= 1:
            await consume("here", read_here)
            return
        warming = trio.CancelScope()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pool_readers, consume, covers, warming)
            if self.read_here:
                await consume("here", read_here)
                warming.cancel()  # nothing left to read: a pool still starting is not needed

    async def _pool_readers(self, consume: Callable, covers: str, warming: trio.CancelScope) -> None:
        from . import reader

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sonantica.node.library.reader"])  # workers start with mutagen loaded
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=reader.init_worker)
        try:
            with warming:
                await trio.to_thread.run_sync(pool.submit(os.getpid).result, abandon_on_cancel=True)
            if warming.cancelled_caught:
                return

            async def read_in_pool(batch: list) -> list:
                future = pool.submit(reader.read_batch, batch, covers)
                return await trio.to_thread.run_sync(future.result, abandon_on_cancel=True)

            async with trio.open_nursery() as nursery:
                for _ in range(self.workers * 2):  # two batches per worker: one read while one travels
                    nursery.start_soon(consume, "pool", read_in_pool)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _offline_folders(found, known: dict, roots: dict[int, str], full: bool) -> dict:
    """Folders whose indexed files are kept although the walk did not see them.

    A folder that cannot be read (a NAS away, a permission slip) says nothing
    about its files; neither does a library folder that is suddenly empty
    while tracks were indexed in it: that is what an unmounted disk's mount
    point looks like. Taking either for "every file deleted" would throw away
    the tracks' ids, play counts, stars and playlists' entries (Navidrome
    keeps them as missing, too). ``scan --full`` does believe an empty folder.
    """
    kept = set(found.unreadable)
    seen_in = {f.folder_id for f in found.files}
    indexed: dict[int, int] = {}
    for folder_id, _ in known:
        indexed[folder_id] = indexed.get(folder_id, 0) + 1
    empty = {fid: n for fid, n in indexed.items() if fid in roots and fid not in seen_in
             and (fid, "") not in kept and not full}
    kept |= {(fid, "") for fid in empty}
    return {"kept": kept, "empty": empty}


def _under(key: tuple[int, str], folders: set[tuple[int, str]]) -> bool:
    if not folders:
        return False
    folder_id, path = key
    return any(fid == folder_id and (not rel or path.startswith(rel + "/")) for fid, rel in folders)


def _audio_ids_of(db, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        q = f"SELECT audio_id, id FROM track WHERE id IN ({','.join('?' * len(chunk))}) AND audio_id IS NOT NULL"
        out.update(dict(db.conn.execute(q, chunk).fetchall()))
    return out


def _apply_batch(db, ok: list, errs: list, moved_from: dict[str, str]) -> tuple[int, int, set[str]]:
    for rec in ok:
        if rec.cover:
            tracks_store.add_cover(db, rec.cover, "embedded", None, None, getattr(rec, "cover_mime", None))
    added, updated, albums = tracks_store.upsert_tracks(db, ok, moved_from)
    if errs:
        tracks_store.record_errors(db, errs)
    tracks_store.refresh_albums(db, albums)
    return added, updated, albums


async def _acquire_file_lock(path: Path) -> int:
    """Wait (cancellably) until this process holds the scan lock of the data folder."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                await trio.sleep(0.2)
    except BaseException:
        os.close(fd)
        raise
