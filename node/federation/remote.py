"""Playing tracks held by other members: verified bytes from the best holder, failing over.

A client asks its own node; for a track it does not hold, the node answers
with the same Range semantics as for a local file (the size and ETag come
from the signed catalogue record), and the body is produced by
:func:`.transfer.fetch_range` across every member holding the same
``file_id``. Transcoding a remote track first completes a verified copy in the
chunk cache (a fast LAN fetch), then transcodes that file.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator

import httpx
import trio

from sonantica.protocol import CHUNK_SIZE, NodeId
from sonantica.protocol.chunks import chunk_count_for_size
from sonantica.protocol.limits import MAX_CHUNKS_PER_REQUEST

from ..store import peers as peers_store
from ..streaming.mime import mime_for
from ..streaming.originals import StreamResponse, content_disposition
from ..streaming.ranges import FileFacts, decide, make_etag
from .errors import LeavesPending, PeerRejected, PeerUnavailable, TransferFailed
from .selection import HolderStats
from .sources import LiveSources
from .transfer import TransferEvent, fetch_range

log = logging.getLogger(__name__)

STALL_TIMEOUT = 0.4
HEDGE_AFTER = 1.0


class PeerChunkSource:
    """A member as a :class:`~.transfer.ChunkSource`: the peer API's content routes."""

    def __init__(self, federation, node: NodeId) -> None:
        self.federation = federation
        self.node = node
        self.node_id = str(node)

    async def leaf_page(self, file_id: str, page: int) -> AsyncIterator[bytes]:
        """Leaf page ``page`` as the holder sends it; LeavesPending while it hashes the file (202)."""
        addresses, pin = self.federation.addresses_of(self.node)
        path = f"/peer/v1/content/{file_id}/leaves?page={page}"
        async with self.federation.client.stream(addresses, pin, self.node_id, "GET", path) as response:
            if response.status_code == 202:
                raise _pending(self.node_id, await _read(response, self.node_id))
            if response.status_code != 200:
                raise PeerRejected(self.node_id, f"leaf page answered {response.status_code}")
            got = 0
            try:
                async for piece in response.aiter_raw(64 * 1024):
                    got += len(piece)
                    yield piece
            except httpx.HTTPError as exc:
                raise PeerUnavailable(self.node_id, f"connection lost after {got} bytes") from exc

    async def read(self, file_id: str, first: int, count: int) -> AsyncIterator[bytes]:
        """Chunks ``[first, first+count)``: one request per MAX_CHUNKS_PER_REQUEST chunks, back to back."""
        addresses, pin = self.federation.addresses_of(self.node)
        stop = first + count
        while first < stop:
            n = min(stop - first, MAX_CHUNKS_PER_REQUEST)
            path = f"/peer/v1/content/{file_id}?first={first}&count={n}"
            got = 0
            try:
                async with self.federation.client.stream(addresses, pin, self.node_id, "GET", path) as response:
                    async for piece in response.aiter_raw(64 * 1024):
                        got += len(piece)
                        yield piece
            except httpx.HTTPError as exc:  # transport errors mid-body
                raise PeerUnavailable(self.node_id, f"connection lost after {got} bytes") from exc
            finally:
                if got:
                    self.federation.count_fetched(self.node_id, got)
            first += n


async def _read(response, node_id: str, limit: int = 4096) -> bytes:
    """A short body (at most ``limit`` bytes)."""
    try:
        body = await response.aread()
    except httpx.HTTPError as exc:
        raise PeerUnavailable(node_id, f"connection lost: {exc}") from exc
    if len(body) > limit:
        raise PeerRejected(node_id, f"answer longer than {limit} bytes")
    return body


def _pending(node_id: str, body: bytes) -> LeavesPending:
    """The holder's 202 answer ``{"pending": {"hashed", "size"}}``; PeerRejected if malformed."""
    try:
        pending = json.loads(body)["pending"]
        return LeavesPending(node_id, int(pending["hashed"]), int(pending["size"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise PeerRejected(node_id, "malformed answer to a leaf page request") from exc


class Holders:
    """Per-member statistics kept for source selection (RTT, throughput, failures, load)."""

    def __init__(self) -> None:
        self.stats: dict[str, HolderStats] = {}
        self.live = LiveSources()  # which member each running transfer reads from (songSources)

    def get(self, node_id: str, load: float = 0.0) -> HolderStats:
        stats = self.stats.setdefault(node_id, HolderStats(node_id))
        stats.load = load
        return stats


async def remote_stream(node, track: dict, method: str, headers, download: bool = False,
                        on_event=None) -> StreamResponse:
    federation = node.federation
    if federation is None or federation.membership is None:
        raise PeerUnavailable("-", "this node is not in a federation")
    holders_rows = await node.store.read(peers_store.holders, track["id"])
    peer_rows = {r["node"]: r for r in await node.store.read(peers_store.peers)}
    file_id, size = track["file_id"], int(track["size"])
    holders = []
    for row in holders_rows:
        if row["file_id"] != file_id:
            continue
        try:
            nid = NodeId.parse(row["node"])
            federation.addresses_of(nid)
        except Exception:
            continue  # no longer a member
        load = float(peer_rows.get(row["node"], {}).get("load") or 0)
        holders.append((PeerChunkSource(federation, nid), federation.holders.get(row["node"], load)))
    if not holders:
        raise PeerUnavailable("-", f"no member that holds {track['title']!r} is reachable")
    facts = FileFacts(size=size, etag=make_etag(size=size, mtime_ns=0, content_id=file_id),
                      last_modified=int(track.get("created_at") or time.time()))
    decision = decide(method, headers, facts)
    out = list(decision.headers)
    if decision.status in (200, 206):
        out.append(("Content-Type", mime_for(f"file.{track['format'] or 'flac'}")))
        if download:
            out.append(("Content-Disposition", content_disposition(f"{track['title']}.{track['format']}")))
    if decision.span is None or decision.span.length == 0:
        return StreamResponse(decision.status, out, _empty())
    start, end = decision.span.start, decision.span.start + decision.span.length - 1
    live = federation.holders.live
    opened = [False]

    def follow(event) -> None:
        if event.kind in ("source", "hedge_won") and event.node_id:
            if not opened[0]:
                opened[0] = True
                live.opened(file_id, event.node_id)
            else:
                live.moved(file_id, event.node_id)
        if on_event is not None:
            on_event(event)

    body = fetch_range(file_id, size, start, end, holders, rng=random.Random(), stall_timeout=STALL_TIMEOUT,
                       hedge_after=HEDGE_AFTER, cache=federation.chunk_cache, on_event=follow)
    return StreamResponse(decision.status, out, _tracked(body, live, file_id, opened))


async def _tracked(body, live: LiveSources, file_id: str, opened: list[bool]):
    """The transfer's bytes; when it ends, however it ends, the file is no longer being streamed."""
    try:
        async for piece in body:
            yield piece
    finally:
        if opened[0]:
            live.closed(file_id)


async def _empty():
    return
    yield b""  # pragma: no cover


async def local_copy(node, track: dict) -> str:
    """A verified complete copy of a remote track on disk (for transcoding); from the chunk cache."""
    federation = node.federation
    dest_dir = node.data.cache_dir / "remote-files"
    dest = dest_dir / track["file_id"]
    if dest.exists():
        return str(dest)
    resp = await remote_stream(node, track, "GET", {})
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    with open(tmp, "wb") as f:
        async for piece in resp.body:
            await trio.to_thread.run_sync(f.write, piece)
    os.replace(tmp, dest)
    del federation
    return str(dest)


__all__ = ["PeerChunkSource", "Holders", "remote_stream", "local_copy", "TransferFailed", "TransferEvent",
           "CHUNK_SIZE", "chunk_count_for_size"]
