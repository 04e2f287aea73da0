"""The leaf hashes of the files this node shares: computed ahead, served by page.

A member streaming one of our files first asks for its leaf hashes, page by
page (protocol §4, :func:`sonantica.protocol.chunks.leaf_page_body`). Hashing
a file takes about 2 ms per MB, far longer than a member waits for an answer
(its stall deadline is 0.4 s: 200 MB already took 0.45 s), so the leaves are
computed **when the file_id is**: by the analysis worker and by the publisher,
both through :func:`hash_file` and :func:`write_leaves`. Layout::

    <root>/<file_id>        the file's leaf hashes, 32 bytes each, concatenated
    <root>/<file_id>.roots  the root of each page of leaves (written second)
    <root>/tmp-*            a write in progress (atomic rename; leftovers removed)

:class:`LeafStore` serves the pages. It keeps, per file, only the page roots
in memory (32 bytes per 128 MiB of file, read from the roots file and checked
against the file id) and reads one page's leaves from disk per request, checked
against its page root before it is sent: so no request hashes more than one
page plus the page roots. Stored leaves that do not fold to their file id
(torn, damaged) are deleted. When a file has no leaves file (hashed before this store
existed, or deleted), the store hashes it **in the background** and answers
:class:`Pending` with the bytes hashed so far, which the asker counts as a
sign of life and asks again; a request never waits for hashing.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio

from sonantica.protocol import RemoteProtocolError
from sonantica.protocol.chunks import (
    FileIdBuilder,
    chunk_count_for_size,
    leaf_page_body,
    leaf_page_count,
    leaf_page_span,
    merkle_root,
    page_roots,
    parse_file_id,
)

__all__ = ["LeafStore", "Pending", "file_id_and_leaves", "hash_file", "leaves_dir", "remove_leaves", "write_leaves"]

log = logging.getLogger(__name__)

READ_BLOCK = 1 << 20
ROOTS_CACHED = 64  # files whose page roots stay in memory (<= 256 KiB each, 32 B per 128 MiB)
HASHING_AT_ONCE = 2  # background hashings of files without stored leaves


def leaves_dir(data) -> Path:
    """Where a node keeps the leaf hashes of its files (a cache: rebuilt from the files if lost)."""
    return Path(data.file_leaves_dir)


def hash_file(path: str, progress: Callable[[int], None] | None = None,
              stop: threading.Event | None = None) -> tuple[str, list[bytes]]:
    """(Blocking) ``(file_id, leaves)`` of a file; ``progress(bytes so far)`` after each block."""
    builder = FileIdBuilder()
    with open(path, "rb") as f:
        while block := f.read(READ_BLOCK):
            if stop is not None and stop.is_set():
                raise InterruptedError("hashing stopped")
            builder.update(block)
            if progress is not None:
                progress(builder.size)
    return builder.finish()


def write_leaves(root: str | os.PathLike[str], file_id: str, leaves: list[bytes]) -> None:
    """(Blocking) store a file's leaves, then its page roots, each atomically, under ``root``."""
    parse_file_id(file_id)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _write_atomic(root, root / file_id, b"".join(leaves))
    _write_atomic(root, root / f"{file_id}.roots", b"".join(page_roots(leaves)))


def _write_atomic(root: Path, path: Path, data: bytes) -> None:
    tmp = root / f"tmp-{secrets.token_hex(8)}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def file_id_and_leaves(path: str, root: str | os.PathLike[str]) -> str:
    """(Blocking) the file_id of a file, its leaves stored under ``root`` on the way."""
    file_id, leaves = hash_file(path)
    write_leaves(root, file_id, leaves)
    return file_id


@dataclass(frozen=True)
class Pending:
    """The leaves are being computed: ``hashed`` of ``size`` bytes so far."""

    hashed: int
    size: int


@dataclass(eq=False)
class _Job:
    path: str
    size: int
    hashed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def advance(self, hashed: int) -> None:  # called from the hashing thread
        self.hashed = hashed


class LeafStore:
    """Pages of leaf hashes of shared files; hashing in the background when they are missing."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._roots: OrderedDict[str, list[bytes]] = OrderedDict()
        self._jobs: dict[str, _Job] = {}
        self._failed: dict[str, tuple[tuple[str, int, int], str]] = {}  # file_id -> (file stat, reason)
        self._limiter = trio.CapacityLimiter(HASHING_AT_ONCE)

    def statistics(self) -> dict:
        return {"hashing": {fid: (j.hashed, j.size) for fid, j in self._jobs.items()}, "roots_cached": len(self._roots)}

    async def page(self, file_id: str, path: str, size: int, page: int,
                   spawn: Callable[..., None]) -> bytes | Pending:
        """Page ``page``'s body, or :class:`Pending` (hashing started with ``spawn(fn, *args)``).

        Raises ``RemoteProtocolError("chunk_mismatch")`` when the file on disk
        no longer has this file id (it changed since it was published).
        """
        count = chunk_count_for_size(size)
        first, n = leaf_page_span(count, page)
        roots = await self._page_roots(file_id, count)
        if roots is None:
            return await self._pending(file_id, path, size, spawn)
        leaves = await trio.to_thread.run_sync(_read_leaves, self.root / file_id, first, n)
        if leaves is None:  # removed meanwhile
            self._roots.pop(file_id, None)
            return await self._pending(file_id, path, size, spawn)
        try:
            return leaf_page_body(leaves, roots, page)
        except Exception:  # the file was rewritten under us: start again from the disk
            log.warning("leaves of %s changed while serving them; rehashing", file_id)
            self._roots.pop(file_id, None)
            await trio.to_thread.run_sync(remove_leaves, self.root, file_id)
            return await self._pending(file_id, path, size, spawn)

    async def _page_roots(self, file_id: str, count: int) -> list[bytes] | None:
        roots = self._roots.get(file_id)
        if roots is None:
            roots = await trio.to_thread.run_sync(_load_roots, self.root, file_id, count)
            if roots is None:
                return None
            self._roots[file_id] = roots
            while len(self._roots) > ROOTS_CACHED:
                self._roots.popitem(last=False)
        self._roots.move_to_end(file_id)
        return roots

    async def _pending(self, file_id: str, path: str, size: int, spawn: Callable[..., None]) -> Pending:
        job = self._jobs.get(file_id)
        if job is None:
            failed = self._failed.get(file_id)
            if failed is not None:
                stat = await trio.to_thread.run_sync(_stat_key, path)
                if stat == failed[0]:
                    raise RemoteProtocolError("chunk_mismatch", failed[1])
                del self._failed[file_id]
            job = self._jobs[file_id] = _Job(path, size)
            spawn(self._hash, file_id, job)
        return Pending(job.hashed, job.size)

    async def _hash(self, file_id: str, job: _Job) -> None:
        """Background: hash the file, keep its leaves if they are the published file's."""
        try:
            stat = await trio.to_thread.run_sync(_stat_key, job.path)
            found, leaves = await trio.to_thread.run_sync(
                hash_file, job.path, job.advance, job.stop, limiter=self._limiter, abandon_on_cancel=True)
            await trio.to_thread.run_sync(write_leaves, self.root, found, leaves)
            if found != file_id:
                self._failed[file_id] = (stat, "the file changed since it was published")
            log.info("leaf hashes of %s computed (%d MB)", found, job.size // 1_000_000)
        except (OSError, InterruptedError) as exc:
            log.warning("cannot hash %s for its leaf hashes: %s", job.path, exc)
            self._failed[file_id] = (await trio.to_thread.run_sync(_stat_key, job.path),
                                     f"the file cannot be read: {exc}")
        finally:
            job.stop.set()  # a cancelled hashing thread stops at its next block
            self._jobs.pop(file_id, None)


def _stat_key(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_size, st.st_mtime_ns)


def _load_roots(root_dir: Path, file_id: str, count: int) -> list[bytes] | None:
    """(Blocking) the page roots of a stored file, or None (missing; bad ones are deleted).

    The roots file is checked against the file id here (at most 8192 hashes);
    each page's leaves are checked against their root when served.
    """
    leaves_path, roots_path = root_dir / file_id, root_dir / f"{file_id}.roots"
    if not leaves_path.exists():
        return None
    try:
        raw = roots_path.read_bytes()
    except FileNotFoundError:  # leaves written by hand or by an older node: derive the roots once
        raw = leaves_path.read_bytes()
        if len(raw) == 32 * count:
            raw = b"".join(page_roots([raw[i : i + 32] for i in range(0, len(raw), 32)]))
            _write_atomic(root_dir, roots_path, raw)
    roots = [raw[i : i + 32] for i in range(0, len(raw), 32)]
    if len(raw) != 32 * leaf_page_count(count) or merkle_root(roots) != parse_file_id(file_id) \
            or leaves_path.stat().st_size != 32 * count:
        log.warning("stored leaf hashes of %s do not match the file id: deleted", file_id)
        remove_leaves(root_dir, file_id)
        return None
    return roots


def remove_leaves(root_dir: Path, file_id: str) -> None:
    """(Blocking) forget a file's stored leaves."""
    (root_dir / f"{file_id}.roots").unlink(missing_ok=True)
    (root_dir / file_id).unlink(missing_ok=True)


def _read_leaves(path: Path, first: int, n: int) -> list[bytes] | None:
    try:
        with open(path, "rb") as f:
            raw = os.pread(f.fileno(), 32 * n, 32 * first)
    except FileNotFoundError:
        return None
    if len(raw) != 32 * n:
        return None
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]
