"""Members' covers: the cover hint a node publishes, the covers it serves, and those it fetches.

Theory of operation
-------------------
::

    publisher            record.cover = content id of the track's cover (≤ MAX_COVER_BYTES)
    holder (peer API)    GET /peer/v1/cover/{file_id} ─► the cover of a *shared* track with that file_id
    asking node          /api/v1/covers/em-… or getCoverArt ─► local file? ─► member cache? ─► fetch:
                           holders of the cover, best first ─► bytes ≤ MAX_COVER_BYTES whose content id
                           matches ─► cache (bounded LRU) ─► original or thumbnail

* A cover is known by its **content id**, ``em-`` and the hex BLAKE2b-96 of the image bytes:
  the id the scanner already gives an embedded picture, so a member's cover and the same
  picture held here are one cover. For a folder image (``cover.jpg``) the publisher hashes the
  file (cached by path, size and mtime, so a republish costs a ``stat``).
* The holder serves a cover only for a track of a shared folder (the share policy, checked on
  its side), from its cover cache or from a folder image confined to the library root and in a
  shared folder too; never more than :data:`MAX_COVER_BYTES`.
* The asking node verifies what it gets as it verifies audio: the bytes must hash to the cover
  id it asked for, else the answer is dropped and the next holder asked. Holders are tried
  one after another, best first (the source-selection score), all within
  :data:`FETCH_DEADLINE` seconds; a cover no holder could give is remembered for
  :data:`FAIL_TTL` seconds, so a page of albums of a member that is away answers 404 at once.
* Verified covers and their thumbnails live in ``cache/member-covers`` (an LRU bounded by
  ``member_cover_cache_mb``); a cover is content-addressed, so a cached copy never goes stale
  and is served while its holders are away.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections import OrderedDict
from pathlib import Path

import httpx
import trio

from sonantica.protocol import NodeId

from ..errors import InvalidInput, NotFound
from ..library import artwork
from ..library.paths import OutsideLibrary, confine
from ..store import browse
from ..store import peers as peers_store
from ..store import tracks as tracks_store
from . import catalogue
from .errors import PeerRejected, PeerUnavailable
from .selection import score

log = logging.getLogger(__name__)

MAX_COVER_BYTES = 8 * 1024 * 1024
FETCH_DEADLINE = 4.0  # seconds for a cover request, every holder tried included
HOLDER_SILENCE = 1.0  # seconds without a byte (or a connection) before the next holder is asked
FAIL_TTL = 30.0
_HASHED_MAX = 20_000  # folder images whose content id is remembered by the publisher

is_cover_id = peers_store.is_cover_id


def content_id(data: bytes) -> str:
    return "em-" + hashlib.blake2b(data, digest_size=12).hexdigest()


# -- publishing: the content id of each shared track's cover ----------------------------------------
_hashed: dict[tuple[str, int, int], str] = {}


def _cover_refs(db) -> tuple[dict[str, str], dict[str, str]]:
    """({track id: cover id as the library knows it}, {folder cover id: absolute path}) for hashed tracks."""
    refs = dict(db.conn.execute(
        "SELECT t.id, coalesce(t.cover, a.cover) FROM track t LEFT JOIN album a ON a.id = t.album_id "
        "WHERE t.file_id IS NOT NULL AND coalesce(t.cover, a.cover) IS NOT NULL").fetchall())
    roots = {f["id"]: f["path"] for f in tracks_store.folders(db)}
    paths = {}
    for cover_id in {r for r in refs.values() if not r.startswith(("em-", "mx-"))}:
        if (path := _folder_image_path(db, cover_id, roots, set(roots))) is not None:
            paths[cover_id] = path
    return refs, paths


def _folder_image_path(db, cover_id: str, roots: dict[int, str], allowed: set[int]) -> str | None:
    """The file of a folder image (``fi-…``), if it lies in one of the ``allowed`` library folders."""
    row = browse.cover_row(db, cover_id)
    if not row or row["folder_id"] not in allowed or not row["path"]:
        return None
    try:
        return confine(roots[row["folder_id"]], row["path"])
    except OutsideLibrary:
        return None


def _cover_file(covers_dir: Path, ref: str) -> Path:
    """An embedded picture's file (``cache/covers``) or a fetched cover's (``cache/metadata``)."""
    return covers_dir / ref if ref.startswith("em-") else covers_dir.parent / "metadata" / ref


def _content_ids(refs: set[str], folder_paths: dict[str, str], covers_dir: Path) -> dict[str, str]:
    """(Blocking) library cover id -> content id, for covers that exist and fit the bound."""
    out = {}
    for ref in refs:
        if ref.startswith(("em-", "mx-")):
            # mx-: a cover external metadata fetched (node/metadata/images.py), kept under the same
            # BLAKE2b-96 content hash: members get it as the em- id of those bytes
            if not is_cover_id("em-" + ref[3:]):
                continue
            try:
                if os.path.getsize(_cover_file(covers_dir, ref)) <= MAX_COVER_BYTES:
                    out[ref] = "em-" + ref[3:]
            except OSError:
                continue
        elif ref in folder_paths:
            path = folder_paths[ref]
            try:
                st = os.stat(path)
                if st.st_size > MAX_COVER_BYTES:
                    continue
                key = (path, st.st_size, st.st_mtime_ns)
                if key not in _hashed:
                    with open(path, "rb") as f:
                        data = f.read(MAX_COVER_BYTES + 1)
                    if len(_hashed) >= _HASHED_MAX:
                        _hashed.clear()
                    _hashed[key] = content_id(data)
                out[ref] = _hashed[key]
            except OSError:
                continue
    return out


async def published_cover_ids(node) -> dict[str, str]:
    """{local track id: content id of its cover} for the publisher (tracks without a cover are left out)."""
    refs, folder_paths = await node.store.read(_cover_refs)
    ids = await trio.to_thread.run_sync(_content_ids, set(refs.values()), folder_paths,
                                        node.data.cache_dir / "covers")
    return {tid: ids[ref] for tid, ref in refs.items() if ref in ids}


# -- serving: the cover of a shared track, to a member ------------------------------------------------
def _shared_cover_path(db, file_id: str, share: str, share_folders, covers_dir: str) -> str | None:
    folders = tracks_store.folders(db)
    allowed = catalogue.shared_folder_ids(folders, share, share_folders)
    paths = {f["id"]: f["path"] for f in folders}
    for folder_id, ref in db.conn.execute(
            "SELECT t.folder_id, coalesce(t.cover, a.cover) FROM track t LEFT JOIN album a ON a.id = t.album_id "
            "WHERE t.file_id = ?", (file_id,)).fetchall():
        if folder_id not in allowed or not ref:
            continue
        if ref.startswith(("em-", "mx-")):
            if is_cover_id("em-" + ref[3:]):
                return str(_cover_file(Path(covers_dir), ref))
            continue
        if (path := _folder_image_path(db, ref, paths, allowed)) is not None:  # of a shared folder only
            return path
    return None


def _read_bounded(path: str) -> bytes | None:
    try:
        if os.path.getsize(path) > MAX_COVER_BYTES:
            return None
        with open(path, "rb") as f:
            data = f.read(MAX_COVER_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_COVER_BYTES else None


async def shared_cover(node, file_id: str) -> bytes | None:
    """The cover of a track this node shares (by file_id), or None: not shared, no cover, too large."""
    config = node.config
    path = await node.store.read(_shared_cover_path, file_id, config.share, config.share_folders,
                                 str(node.data.cache_dir / "covers"))
    if path is None:
        return None
    return await trio.to_thread.run_sync(_read_bounded, path)


# -- fetching: members' covers, verified, in a bounded cache -----------------------------------------
class MemberCovers:
    """Covers fetched from members, by content id, and their thumbnails: an LRU of files under ``root``."""

    def __init__(self, root: Path, max_bytes: int, fetch=None) -> None:
        self.root = Path(root)
        self._fetch = fetch or fetch_cover  # (node, content id) -> verified bytes or None
        self.max_bytes = max_bytes
        self._lru: OrderedDict[str, int] = OrderedDict()  # file name -> size, oldest first
        self._total = 0
        self._loaded = False
        self._failed: dict[str, float] = {}  # cover id -> trio time of the last failed fetch
        self._fetching: dict[str, trio.Event] = {}
        self._load_lock = trio.Lock()

    def _load(self) -> tuple[OrderedDict[str, int], int]:
        """The files already cached, oldest first (a page of albums asks for many covers at once:
        the caller makes sure this runs once, else every file would be counted several times)."""
        self.root.mkdir(parents=True, exist_ok=True)
        entries = []
        for entry in os.scandir(self.root):
            try:
                if entry.name.startswith(".tmp-"):
                    os.unlink(entry.path)
                elif entry.is_file():
                    st = entry.stat()
                    entries.append((st.st_mtime, entry.name, st.st_size))
            except FileNotFoundError:
                continue
        lru = OrderedDict((name, size) for _, name, size in sorted(entries))
        return lru, sum(lru.values())

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        async with self._load_lock:
            if not self._loaded:
                self._lru, self._total = await trio.to_thread.run_sync(self._load)
                self._loaded = True

    def statistics(self) -> dict:
        return {"entries": len(self._lru), "bytes": self._total, "max_bytes": self.max_bytes}

    async def _put(self, name: str, data: bytes) -> None:
        def write() -> None:
            tmp = self.root / f".tmp-{secrets.token_hex(6)}"
            tmp.write_bytes(data)
            os.replace(tmp, self.root / name)

        await trio.to_thread.run_sync(write)
        await self._remember(name, len(data))

    async def _remember(self, name: str, size: int) -> None:
        """Count a new file and evict the least recently used ones past the bound."""
        self._total += size - self._lru.pop(name, 0)
        self._lru[name] = size
        evict = []
        while self._total > self.max_bytes and len(self._lru) > 1:
            old, old_size = self._lru.popitem(last=False)
            self._total -= old_size
            evict.append(old)
        if evict:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self._unlink, evict)

    def _unlink(self, names: list[str]) -> None:
        for name in names:
            try:
                os.unlink(self.root / name)
            except OSError:
                pass

    async def _hit(self, name: str) -> str | None:
        if name not in self._lru:
            return None
        path = self.root / name
        self._lru.move_to_end(name)
        try:
            await trio.to_thread.run_sync(os.utime, path)  # recency survives a restart
        except OSError:
            self._total -= self._lru.pop(name, 0)
            return None
        return str(path)

    async def original(self, node, cover_id: str, fetch=None) -> str | None:
        """The path of a verified copy of a member's cover, fetching it if needed (with ``fetch``, else the
        cache's own fetcher); None if no holder gave it."""
        await self._ensure_loaded()
        if (path := await self._hit(cover_id)) is not None:
            return path
        failed = self._failed.get(cover_id)
        if failed is not None and trio.current_time() - failed < FAIL_TTL:
            return None
        waiting = self._fetching.get(cover_id)
        if waiting is not None:  # someone is fetching it: wait for them
            with trio.move_on_after(FETCH_DEADLINE + 1):
                await waiting.wait()
            return await self._hit(cover_id)
        done = self._fetching[cover_id] = trio.Event()
        try:
            with trio.move_on_after(FETCH_DEADLINE):
                data = await (fetch or self._fetch)(node, cover_id)
                if data is not None:
                    await self._put(cover_id, data)
                    self._failed.pop(cover_id, None)
                    return str(self.root / cover_id)
            self._failed[cover_id] = trio.current_time()
            if len(self._failed) > 4096:
                self._failed.pop(next(iter(self._failed)))
            return None
        finally:
            del self._fetching[cover_id]
            done.set()

    async def cover_bytes(self, node, cover_id: str, size: int | None) -> tuple[bytes, str]:
        src = await self.original(node, cover_id)
        if src is None:
            raise NotFound(f"the cover {cover_id} is held by members that cannot give it now")
        try:
            if size is None:
                data = await trio.to_thread.run_sync(_read_bounded, src)
                if data is None:
                    raise OSError("unreadable")
                return data, artwork._sniff(data)
            name = f"{cover_id}-{artwork._snap(size)}.jpg"
            if (thumb := await self._hit(name)) is not None:
                return await trio.to_thread.run_sync(Path(thumb).read_bytes), "image/jpeg"
            data = await trio.to_thread.run_sync(artwork._thumbnail, src, self.root / name, artwork._snap(size))
            await self._remember(name, len(data))
            return data, "image/jpeg"
        except OSError as exc:
            raise NotFound(f"the cached cover {cover_id} cannot be read") from exc
        except Exception as exc:  # Pillow on a picture that hashes right but is not an image
            raise InvalidInput(f"cover art {cover_id} is not a readable image") from exc


_caches: dict[Path, MemberCovers] = {}


def member_covers(node) -> MemberCovers:
    root = node.data.cache_dir / "member-covers"
    cache = _caches.get(root)
    if cache is None:
        cache = _caches[root] = MemberCovers(root, node.config.member_cover_cache_mb * 1024 * 1024)
    return cache


async def fetch_cover(node, cover_id: str) -> bytes | None:
    """Ask the holders of ``cover_id``, best first, for bytes that hash to it; None if none did."""
    if node.federation is None or node.federation.membership is None:
        return None
    holders = await node.store.read(peers_store.cover_holders, cover_id)
    return await fetch_verified(node, holders, cover_id, "cover", MAX_COVER_BYTES, content_id)


async def fetch_verified(node, holders: list[dict], wanted: str, route: str, max_bytes: int, digest) -> bytes | None:
    """Ask ``holders`` ({node, file_id}), best first, for ``/peer/v1/{route}/{file_id}``: the first answer
    of at most ``max_bytes`` whose ``digest`` is ``wanted`` (the content id the owner signed); else None."""
    federation = node.federation
    peer_rows = {r["node"]: r for r in await node.store.read(peers_store.peers)}
    candidates = []
    for h in holders:
        try:
            nid = NodeId.parse(h["node"])
            federation.addresses_of(nid)
        except Exception:
            continue  # no longer a member
        row = peer_rows.get(h["node"], {})
        stats = federation.holders.get(h["node"], float(row.get("load") or 0))
        away = row.get("state") in ("unreachable", "dead")
        candidates.append((away, score(stats), nid, h["file_id"], stats))
    candidates.sort(key=lambda c: (c[0], c[1]))
    for _, _, nid, file_id, stats in candidates:
        t0 = trio.current_time()
        stats.in_flight += 1
        try:
            data = await _ask(federation, nid, file_id, route, max_bytes)
        except PeerRejected as exc:  # it no longer shares or has this cover: not a sign of a bad source
            log.info("%s %s from %s: %s", route, wanted, nid.short, exc)
            continue
        except PeerUnavailable as exc:
            log.info("%s %s from %s: %s", route, wanted, nid.short, exc)
            stats.on_failure(trio.current_time())
            continue
        finally:
            stats.in_flight -= 1
        if digest(data) != wanted:
            log.warning("%s %s from %s does not match its content id: dropped", route, wanted, nid.short)
            stats.on_failure(trio.current_time())
            continue
        elapsed = trio.current_time() - t0
        stats.on_success(elapsed * 1000, len(data), max(elapsed, 1e-3))
        federation.count_fetched(str(nid), len(data))
        return data
    return None


async def _ask(federation, nid: NodeId, file_id: str, route: str, max_bytes: int) -> bytes:
    addresses, pin = federation.addresses_of(nid)
    got = bytearray()
    timeout = httpx.Timeout(HOLDER_SILENCE)
    async with federation.client.stream(addresses, pin, str(nid), "GET", f"/peer/v1/{route}/{file_id}",
                                        timeout=timeout) as response:
        try:
            async for piece in response.aiter_raw(64 * 1024):
                got += piece
                if len(got) > max_bytes:
                    raise PeerRejected(str(nid), f"{route} larger than {max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise PeerUnavailable(str(nid), f"connection lost after {len(got)} bytes") from exc
    return bytes(got)


async def member_cover_bytes(node, ident: str, size: int | None) -> tuple[bytes, str]:
    """The cover of a member's track, album or artist (or a cover id), fetched and cached; NotFound if none."""
    cover_id = await node.store.read(browse.cover_for, ident)
    if not is_cover_id(cover_id) or node.federation is None:
        raise NotFound(f"no cover art for {ident}")
    return await member_covers(node).cover_bytes(node, cover_id, size)
