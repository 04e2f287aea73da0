"""Verified ranged fetch of a file from its holders, with failover and hedging.

Theory of operation
-------------------
:func:`open_range` (and the iterator form :func:`fetch_range`) delivers bytes
``[start, end]`` of a file known by its ``file_id`` and its ``size`` from the
signed catalogue record (never from a sender). Three kinds of task cooperate::

    sessions ──(chunk i, verified | failure)──▶ producer ──(bytes)──▶ consumer
    (one per holder asked,                     (picks holders,       (the caller's
     each streams a run of chunks)              failover, hedging)    async for)

1. **Leaves first, by page.** Before a chunk, the producer obtains the page
   of leaf hashes that covers it (protocol §4: :data:`LEAF_PAGE` leaves, 128 MiB
   of file; from memory, the cache, else a holder chosen by
   :func:`.selection.choose`) and accepts it only when
   :func:`~sonantica.protocol.chunks.verify_leaf_page` proves it against the
   root in ``file_id``, with the chunk count taken from ``size``. A holder
   that sends a bad page is banned for this transfer. A holder still hashing
   the file answers :class:`LeavesPending`; it is asked again every
   ``LEAVES_POLL`` s and kept while its count grows (progress is liveness),
   dropped after ``HASHING_STALL`` s without any. Verified leaves make every
   later chunk check a single hash; no message and no wait grows with the
   file (a 4 GiB file is 32 pages of 16 KiB, fetched as the stream reaches them).
2. **Verification.** A session asks one holder for a *run* of chunks (within
   one leaf page) with ``source.read(file_id, first, count)``, reassembles
   the pieces (any size) into chunks and checks ``chunk_hash(chunk) == leaves[i]`` before handing
   chunk ``i`` to the producer. Bytes of a chunk that fails are dropped,
   so a corrupted chunk never reaches the consumer; the holder is banned for
   this transfer. Chunks read back from the cache are checked the same way.
3. **Failover.** A session ends with a failure when the source raises
   :class:`PeerUnavailable` (excluded for this chunk) or :class:`PeerRejected`
   (banned), ends early, sends too much, or sends no byte for
   ``stall_timeout`` seconds (time spent waiting for the consumer does not
   count). Only silence is a stall: every arriving piece restarts the clock,
   so a slow-but-moving holder keeps its session however long the run, and
   no request has a deadline that grows with the file. The producer records
   the failure in the holder's stats and opens a session at another holder
   *starting at the chunk it is waiting for*: the next unverified chunk. As only whole verified chunks are passed on, the
   consumer sees one uninterrupted, byte-exact stream.
4. **Hedging.** If the chunk the producer waits for is not verified within
   ``hedge_after`` seconds, it opens a second session at the next holder
   (chosen with the current one excluded) for the same chunk onwards. The
   first verified copy wins; the loser is cancelled (its throughput so far is
   recorded with :meth:`HolderStats.on_slow`) and the winner carries on as
   the primary source. At most one hedge per chunk is in flight; if it fails,
   another may start ``hedge_after`` later. A failed primary is replaced by a
   live hedge before any new holder is asked.
5. **Another round.** When every holder left failed for a chunk (or a leaf
   page) only in ways that may pass -- silence, a lost connection, an early
   end -- they are all asked again, up to ``RETRY_ROUNDS`` times, with the
   stall deadline doubled each round: on a busy machine two holders can each
   miss 0.4 s once during a long file, and the chance of that grows with the
   file's length, so the give-up rule must not. A dead holder fails again at
   once; a refusing or lying one stays banned.
6. **Give up.** When no holder is left for a chunk (each failed for it, or is
   banned) after those rounds and no session is still running, the producer raises
   :class:`TransferFailed` naming the file, the chunk and each holder's reason.

**Read-ahead and backpressure.** The producer sends verified bytes into a
memory channel of ``read_ahead`` chunks (default 3), so holders stream while
the consumer writes to its client; when the channel is full the sessions block
and their stall clocks stop. **Cache.** Each chunk is looked up in the cache
first (re-verified against the leaves, discarded if bad); chunks fetched from
the network are put into it after verification, and leaf pages likewise (as
received, and verified again when read back). At most ``PAGES_KEPT`` pages of
leaves are held in memory.

**Structure.** Every task lives in the nursery of :func:`open_range`; leaving
the ``async with`` (or ``aclose()`` of :func:`fetch_range`'s iterator)
cancels the producer and every session, which close their source iterators.
Sessions and the producer never raise into the nursery: failures travel as
values, and a :class:`TransferFailed` (or a bug) reaches the consumer from its
``async for``. Hashing runs inline (about 0.3 ms per 256 KiB chunk).
"""

from __future__ import annotations

import logging
import math
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

import trio

from ...protocol.chunks import (
    CHUNK_SIZE,
    LEAF_PAGE,
    chunk_count_for_size,
    chunk_hash,
    leaf_page_size,
    parse_file_id,
    verify_leaf_page,
)
from ...protocol.errors import RemoteProtocolError
from .chunk_cache import ChunkCache
from .errors import LeavesPending, PeerRejected, PeerUnavailable, TransferFailed
from .selection import HolderStats, choose

__all__ = [
    "DEFAULT_READ_AHEAD",
    "ChunkSource",
    "TransferEvent",
    "fetch_range",
    "open_range",
]

log = logging.getLogger(__name__)

DEFAULT_READ_AHEAD = 3  # chunks of verified bytes buffered ahead of the consumer
LEAVES_POLL = 0.2  # s between asking a holder that is still hashing the file again
HASHING_STALL = 5.0  # s a hashing holder may report no progress before it is called stalled
PAGES_KEPT = 8  # pages of leaf hashes held in memory (8 x 16 KiB)
RETRY_ROUNDS = 2  # times every holder is asked again when all failed by silence or a lost connection
_PASSING = ("stall", "unavailable", "short")  # failures that may not happen again


class ChunkSource(Protocol):
    """One holder of files, as the transfer layer sees it (the peer client implements it)."""

    node_id: str

    def leaf_page(self, file_id: str, page: int) -> AsyncIterator[bytes]:
        """The holder's body of leaf page ``page`` (protocol §4), in pieces of any size.

        Raises :class:`LeavesPending` (before any piece) while the holder is
        still hashing the file; PeerUnavailable / PeerRejected on failure.
        """
        ...

    def read(self, file_id: str, first: int, count: int) -> AsyncIterator[bytes]:
        """Raw bytes of chunks ``[first, first+count)`` concatenated, in pieces of any size."""
        ...


@dataclass(frozen=True)
class TransferEvent:
    """What happened, for logs, metrics and tests.

    ``kind``: ``leaves`` (a verified leaf page from a holder: ``chunk`` is its
    first chunk), ``leaves_pending`` (the holder is hashing: ``detail`` says
    how far), ``leaves_failed``,
    ``source`` (a session opened), ``hedge`` (a hedge opened), ``hedge_won``,
    ``retry`` (every holder failed in ways that may pass: another round),
    ``failed`` (a session failed: ``reason`` is ``unavailable``, ``rejected``,
    ``stall``, ``corrupt``, ``short`` or ``overlong``), ``cache_hit``,
    ``cache_bad``, ``done``.
    """

    kind: str
    time: float
    node_id: str | None = None
    chunk: int | None = None
    reason: str = ""
    detail: str = ""


Holder = tuple[ChunkSource, HolderStats]


class _SessionFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(eq=False)
class _Session:
    source: ChunkSource
    stats: HolderStats
    next: int  # next chunk it will deliver
    stop: int  # exclusive (within one leaf page)
    leaves: list[bytes]  # the leaves of the page holding chunks [next, stop)
    base: int  # index of leaves[0]
    stall: float  # seconds without a byte that end it
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    opened: float = 0.0
    nbytes: int = 0
    rtt_ms: float | None = None
    mark: float = 0.0  # when the chunk now being received was asked for
    mark_bytes: int = 0  # nbytes at that time


@dataclass(frozen=True)
class _Chunk:
    session: _Session
    index: int
    data: bytes
    seconds: float


@dataclass(frozen=True)
class _Failure:
    session: _Session
    error: _SessionFailed


@dataclass(frozen=True)
class _Raise:
    error: BaseException


@asynccontextmanager
async def open_range(
    file_id: str,
    size: int,
    start: int,
    end: int,
    holders: Sequence[Holder],
    *,
    rng: random.Random,
    stall_timeout: float = 2.0,
    hedge_after: float | None = 1.0,
    cache: ChunkCache | None = None,
    on_event: Callable[[TransferEvent], None] | None = None,
    read_ahead: int = DEFAULT_READ_AHEAD,
) -> AsyncIterator[AsyncIterator[bytes]]:
    """``async with open_range(...) as body: async for piece in body: ...``

    Yields bytes ``[start, end]`` (inclusive) of the file, every chunk verified
    before any of its bytes; ``hedge_after=None`` disables hedging. Raises
    :class:`TransferFailed` from the iteration when no holder can deliver.
    """
    root = parse_file_id(file_id)
    if not 0 <= start <= end < size:
        raise ValueError(f"range {start}-{end} is not within a file of {size} bytes")
    if read_ahead < 1:
        raise ValueError("read_ahead must be >= 1")
    send, recv = trio.open_memory_channel[bytes | _Raise](read_ahead)
    transfer = _Transfer(
        file_id, root, size, start, end, list(holders), rng, stall_timeout,
        math.inf if hedge_after is None else hedge_after, cache, on_event,
    )
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(transfer.run, send)
            try:
                with recv:
                    yield _Body(recv)
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The tasks never raise (they report failures as values), so the group
        # holds what the consumer's body raised (TransferFailed, GeneratorExit on
        # aclose, Cancelled ...): re-raise it unwrapped, as a plain call would.
        _raise_single(group)


def _raise_single(group: BaseExceptionGroup) -> NoReturn:
    leaves = list(_flatten(group))
    others = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if len(others) > 1:
        raise group
    exc = others[0] if others else leaves[0]
    try:
        raise exc
    finally:
        exc.__context__ = group.__context__
        del exc


def _flatten(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _flatten(exc)
        else:
            yield exc


class _Body:
    """The consumer's view: verified bytes, or the error that ended the transfer."""

    def __init__(self, recv: trio.MemoryReceiveChannel[bytes | _Raise]) -> None:
        self._recv = recv

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        try:
            item = await self._recv.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise StopAsyncIteration from None
        if isinstance(item, _Raise):
            raise item.error
        return item


async def fetch_range(
    file_id: str,
    size: int,
    start: int,
    end: int,
    holders: Sequence[Holder],
    *,
    rng: random.Random,
    stall_timeout: float = 2.0,
    hedge_after: float | None = 1.0,
    cache: ChunkCache | None = None,
    on_event: Callable[[TransferEvent], None] | None = None,
    read_ahead: int = DEFAULT_READ_AHEAD,
) -> AsyncIterator[bytes]:
    """Iterator form of :func:`open_range` (same arguments), e.g. for a response body.

    Iterate it from one task and close it there (``async with aclosing(...)``,
    or run it to the end): ``aclose()`` cancels every fetch at once. The
    background tasks never raise into the caller between items.
    """
    async with open_range(
        file_id, size, start, end, holders, rng=rng, stall_timeout=stall_timeout,
        hedge_after=hedge_after, cache=cache, on_event=on_event, read_ahead=read_ahead,
    ) as body:
        async for piece in body:
            yield piece


class _Transfer:
    """The producer: one per ``open_range``; runs in its nursery."""

    def __init__(
        self, file_id: str, root: bytes, size: int, start: int, end: int, holders: list[Holder],
        rng: random.Random, stall_timeout: float, hedge_after: float,
        cache: ChunkCache | None, on_event: Callable[[TransferEvent], None] | None,
    ) -> None:
        self.file_id = file_id
        self.root = root
        self.size = size
        self.start = start
        self.end = end
        self.count = chunk_count_for_size(size)
        self.holders = holders
        self.by_id = {stats.node_id: (source, stats) for source, stats in holders}
        self.rng = rng
        self.stall_timeout = stall_timeout
        self.hedge_after = hedge_after
        self.cache = cache
        self.on_event = on_event
        self.pages: OrderedDict[int, list[bytes]] = OrderedDict()  # page -> verified leaves
        self.banned: dict[str, str] = {}  # node id -> reason, for the whole transfer
        self.rounds: dict[tuple[str, int], int] = {}  # ("chunk" | "page", index) -> extra rounds so far
        self.primary: _Session | None = None
        self.events_send, self.events_recv = trio.open_memory_channel[_Chunk | _Failure](0)
        self.nursery: trio.Nursery | None = None

    # -- helpers ------------------------------------------------------------

    def _emit(self, kind: str, node_id: str | None = None, chunk: int | None = None, reason: str = "", detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(TransferEvent(kind, trio.current_time(), node_id, chunk, reason, detail))

    def _chunk_len(self, index: int) -> int:
        return CHUNK_SIZE if index < self.count - 1 else self.size - (self.count - 1) * CHUNK_SIZE

    def _choose(self, exclude: set[str]) -> Holder | None:
        stats = choose([s for _, s in self.holders], self.rng, frozenset(exclude) | self.banned.keys())
        return None if stats is None else self.by_id[stats.node_id]

    def _stall(self, key: tuple[str, int]) -> float:
        """The stall deadline for ``key`` in its current round (doubled each round)."""
        return self.stall_timeout * 2 ** self.rounds.get(key, 0)

    def _another_round(self, key: tuple[str, int], failed: dict[str, str]) -> bool:
        """Forget ``failed`` for one more round, if each failure may pass and rounds are left."""
        rounds = self.rounds.get(key, 0)
        if not failed or rounds >= RETRY_ROUNDS or not all(r.startswith(_PASSING) for r in failed.values()):
            return False
        self.rounds[key] = rounds + 1
        self._emit("retry", chunk=key[1], detail=f"{key[0]} {key[1]}: round {rounds + 1}, stall {self._stall(key):g} s")
        failed.clear()
        return True

    def _give_up(self, what: str, failed: dict[str, str]) -> TransferFailed:
        reasons = {**failed, **self.banned}
        detail = "; ".join(f"{node}: {why}" for node, why in reasons.items()) or "no holders"
        return TransferFailed(self.file_id, f"{what}: every holder failed ({detail})")

    # -- producer -----------------------------------------------------------

    async def run(self, out: trio.MemorySendChannel[bytes | _Raise]) -> None:
        failure: BaseException | None = None
        async with out:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                try:
                    await self._produce(out)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass  # the consumer went away
                except Exception as exc:  # delivered to the consumer, never raised into the nursery
                    failure = exc
                nursery.cancel_scope.cancel()
            if failure is not None:
                try:
                    await out.send(_Raise(failure))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass

    async def _produce(self, out: trio.MemorySendChannel[bytes | _Raise]) -> None:
        first, last = self.start // CHUNK_SIZE, self.end // CHUNK_SIZE
        for index in range(first, last + 1):
            data = await self._from_cache(index)
            if data is None:
                data = await self._from_network(index)
            offset = index * CHUNK_SIZE
            lo = max(self.start, offset) - offset
            hi = min(self.end + 1, offset + len(data)) - offset
            await out.send(data[lo:hi])
        self._close_primary()
        self._emit("done")

    # -- leaf pages -----------------------------------------------------------

    async def _leaves_for(self, index: int) -> tuple[list[bytes], int]:
        """The verified leaves of the page holding chunk ``index``, and the page's first index."""
        page = index // LEAF_PAGE
        leaves = self.pages.get(page)
        if leaves is None:
            leaves = await self._page_from_cache(page)
            if leaves is None:
                leaves = await self._page_from_network(page)
            self.pages[page] = leaves
            while len(self.pages) > PAGES_KEPT:
                self.pages.popitem(last=False)
        self.pages.move_to_end(page)
        return leaves, page * LEAF_PAGE

    async def _page_from_cache(self, page: int) -> list[bytes] | None:
        if self.cache is None:
            return None
        body = await self.cache.get_leaf_page(self.file_id, page)
        if body is None:
            return None
        try:
            return verify_leaf_page(self.root, self.count, page, body)
        except RemoteProtocolError:
            await self._cache_call(self.cache.discard_leaf_page(self.file_id, page))
            return None

    async def _page_from_network(self, page: int) -> list[bytes]:
        failed: dict[str, str] = {}
        hashing: dict[str, tuple[int, float]] = {}  # node -> (bytes hashed, when that count last grew)
        while True:
            for node in hashing.keys() & self.banned.keys():
                del hashing[node]
            holder = self._choose(set(failed) | hashing.keys())
            if holder is not None:
                asking = [holder]
            elif hashing:  # every holder left is hashing the file: ask them again shortly
                await trio.sleep(LEAVES_POLL)
                asking = [self.by_id[node] for node in hashing]
            elif self._another_round(("page", page), failed):
                continue
            else:
                raise self._give_up(f"leaf page {page}", failed)
            for source, stats in asking:
                result = await self._try_page(source, stats, page)
                if isinstance(result, list):
                    return result
                self._page_failure(stats, result, failed, hashing)

    def _page_failure(self, stats: HolderStats, result: LeavesPending | str,
                      failed: dict[str, str], hashing: dict[str, tuple[int, float]]) -> None:
        """Note one holder's answer that was not a page: a hashing holder is kept while its count grows.

        A holder busy hashing may answer a poll late ("stall"): that is no
        progress this time, not a failure; it fails after ``HASHING_STALL``
        without progress, or at once when it is gone or refuses.
        """
        node, now = stats.node_id, trio.current_time()
        seen = hashing.get(node)
        if isinstance(result, LeavesPending) and (seen is None or result.hashed > seen[0]):
            hashing[node] = (result.hashed, now)
            self._emit("leaves_pending", node, detail=f"{result.hashed} of {result.size} bytes hashed")
            return
        if seen is not None and (isinstance(result, LeavesPending) or result == "stall"):
            if now - seen[1] < HASHING_STALL:
                return
            result = f"hashing made no progress for {HASHING_STALL:g} s"
        hashing.pop(node, None)
        failed[node] = str(result)
        stats.on_failure(now)
        self._emit("leaves_failed", node, reason=str(result))

    async def _try_page(self, source: ChunkSource, stats: HolderStats, page: int) -> list[bytes] | LeavesPending | str:
        """One holder's page: its verified leaves, or LeavesPending, or why it failed (maybe banned)."""
        node, expected = stats.node_id, leaf_page_size(self.count, page)
        t0 = trio.current_time()
        stats.in_flight += 1
        pieces = source.leaf_page(self.file_id, page)
        body = bytearray()
        try:
            stall = self._stall(("page", page))
            deadline = t0 + stall
            while True:
                with trio.move_on_at(deadline) as timer:
                    piece = await anext(pieces, None)
                if timer.cancelled_caught:
                    return "stall"
                if piece is None:
                    break
                body += piece
                deadline = trio.current_time() + stall  # bytes arriving: alive
                if len(body) > expected:
                    self.banned[node] = f"leaf page {page} is longer than {expected} bytes"
                    return self.banned[node]
            if len(body) < expected:
                return f"short: leaf page {page} ended after {len(body)} of {expected} bytes"
            try:
                leaves = verify_leaf_page(self.root, self.count, page, bytes(body))
            except RemoteProtocolError as exc:
                self.banned[node] = f"bad leaf page: {exc}"
                return self.banned[node]
            stats.on_success((trio.current_time() - t0) * 1000, 0, 0.0)
            self._emit("leaves", node, page * LEAF_PAGE)
            if self.cache is not None:
                await self._cache_call(self.cache.put_leaf_page(self.file_id, page, bytes(body)))
            return leaves
        except LeavesPending as exc:
            return exc
        except PeerRejected as exc:
            self.banned[node] = exc.reason
            return f"rejected: {exc.reason}"
        except PeerUnavailable as exc:
            return f"unavailable: {exc.reason}"
        except Exception as exc:  # a bug in a source: log it, treat the holder as refusing
            log.exception("source %s failed unexpectedly", node)
            self.banned[node] = f"unexpected error {exc!r}"
            return self.banned[node]
        finally:
            stats.in_flight -= 1
            await _aclose(pieces)

    async def _from_cache(self, index: int) -> bytes | None:
        if self.cache is None or not self.cache.contains(self.file_id, index):
            return None
        leaves, base = await self._leaves_for(index)
        data = await self.cache.get(self.file_id, index)
        if data is None:
            return None
        if len(data) != self._chunk_len(index) or chunk_hash(data) != leaves[index - base]:
            self._emit("cache_bad", chunk=index)
            await self._cache_call(self.cache.discard(self.file_id, index))
            return None
        self._emit("cache_hit", chunk=index)
        return data

    async def _cache_call(self, op) -> None:  # type: ignore[no-untyped-def]
        try:
            await op
        except OSError as exc:  # a full or broken cache disk must not break the stream
            log.warning("chunk cache: %s", exc)

    # -- network: failover and hedging --------------------------------------

    async def _from_network(self, index: int) -> bytes:
        page = await self._leaves_for(index)
        failed: dict[str, str] = {}
        hedge: _Session | None = None
        if self.primary is not None and not (self.primary.next == index < self.primary.stop):
            self._close_primary()
        if self.primary is None:
            self.primary = self._open(index, set(), "source", failed, page)
        hedge_at = trio.current_time() + self.hedge_after
        while True:
            with trio.move_on_at(hedge_at if hedge is None else math.inf) as timer:
                event = await self.events_recv.receive()
            if timer.cancelled_caught:
                hedge_at = math.inf
                hedge = self._try_open(index, {self.primary.stats.node_id} | failed.keys(), "hedge", page)
                continue
            session = event.session
            if session is not self.primary and session is not hedge:
                continue  # from a session already abandoned
            if isinstance(event, _Chunk):
                self._record_success(event)
                if session is hedge:
                    self._emit("hedge_won", session.stats.node_id, index)
                    self._abandon(self.primary)
                    self.primary = hedge
                elif hedge is not None:
                    self._abandon(hedge)
                if self.cache is not None:
                    await self._cache_call(self.cache.put(self.file_id, index, event.data))
                return event.data
            # a failure
            error = event.error
            node = session.stats.node_id
            session.stats.on_failure(trio.current_time())
            failed[node] = f"{error.reason}: {error.detail}"
            if error.reason in ("rejected", "corrupt", "overlong"):
                self.banned[node] = failed[node]
            self._emit("failed", node, index, error.reason, error.detail)
            if session is hedge:
                hedge = None
                hedge_at = trio.current_time() + self.hedge_after
            elif hedge is not None:
                self.primary, hedge = hedge, None
                hedge_at = trio.current_time() + self.hedge_after
            else:
                self.primary = self._open(index, set(), "source", failed, page)
                hedge_at = trio.current_time() + self.hedge_after

    def _run_end(self, index: int) -> int:
        """Exclusive end of the run of chunks to ask one holder for, from ``index`` (within its page)."""
        stop = index + 1
        last = min(self.end // CHUNK_SIZE, (index // LEAF_PAGE + 1) * LEAF_PAGE - 1)
        while stop <= last and not (self.cache is not None and self.cache.contains(self.file_id, stop)):
            stop += 1
        return stop

    def _try_open(self, index: int, exclude: set[str], kind: str, page: tuple[list[bytes], int]) -> _Session | None:
        holder = self._choose(exclude)
        if holder is None:
            return None
        source, stats = holder
        now = trio.current_time()
        session = _Session(source, stats, index, self._run_end(index), page[0], page[1], self._stall(("chunk", index)),
                           opened=now, mark=now)
        assert self.nursery is not None
        self.nursery.start_soon(self._session, session)
        self._emit(kind, stats.node_id, index)
        return session

    def _open(self, index: int, exclude: set[str], kind: str, failed: dict[str, str],
              page: tuple[list[bytes], int]) -> _Session:
        session = self._try_open(index, exclude | failed.keys(), kind, page)
        if session is None and self._another_round(("chunk", index), failed):
            session = self._try_open(index, exclude, kind, page)
        if session is None:
            raise self._give_up(f"chunk {index}", failed)
        return session

    def _abandon(self, session: _Session | None) -> None:
        if session is None:
            return
        session.scope.cancel()
        session.stats.on_slow(session.nbytes - session.mark_bytes, trio.current_time() - session.mark)

    def _close_primary(self) -> None:
        if self.primary is not None:
            self.primary.scope.cancel()
            self.primary = None

    def _record_success(self, event: _Chunk) -> None:
        s = event.session
        rtt = s.rtt_ms if s.rtt_ms is not None else 0.0
        s.stats.on_success(rtt, len(event.data), event.seconds)

    # -- sessions -----------------------------------------------------------

    async def _session(self, s: _Session) -> None:
        s.stats.in_flight += 1
        try:
            with s.scope:
                try:
                    await self._stream(s)
                except _SessionFailed as exc:
                    await self.events_send.send(_Failure(s, exc))
                except PeerUnavailable as exc:
                    await self.events_send.send(_Failure(s, _SessionFailed("unavailable", exc.reason)))
                except PeerRejected as exc:
                    await self.events_send.send(_Failure(s, _SessionFailed("rejected", exc.reason)))
                except Exception as exc:  # a bug in a source: log it, treat the holder as refusing
                    log.exception("source %s failed unexpectedly", s.stats.node_id)
                    await self.events_send.send(_Failure(s, _SessionFailed("rejected", f"unexpected error {exc!r}")))
        finally:
            s.stats.in_flight -= 1

    async def _stream(self, s: _Session) -> None:
        leaves, base = s.leaves, s.base
        buf = bytearray()
        pieces = s.source.read(self.file_id, s.next, s.stop - s.next)
        chunk_started = trio.current_time()
        deadline = chunk_started + s.stall
        try:
            while s.next < s.stop:
                with trio.move_on_at(deadline) as timer:
                    piece = await anext(pieces, None)
                if timer.cancelled_caught:
                    raise _SessionFailed("stall", f"no data for {s.stall:g} s at chunk {s.next}")
                if piece is None:
                    raise _SessionFailed("short", f"ended before chunk {s.next} was complete")
                if not piece:
                    continue
                now = trio.current_time()
                if s.rtt_ms is None:
                    s.rtt_ms = (now - s.opened) * 1000
                deadline = now + s.stall
                s.nbytes += len(piece)
                buf += piece
                while s.next < s.stop and len(buf) >= (need := self._chunk_len(s.next)):
                    if s.next == s.stop - 1 and len(buf) > need:
                        raise _SessionFailed("overlong", "sent more bytes than the chunks asked for")
                    data = bytes(buf[:need])
                    del buf[:need]
                    if chunk_hash(data) != leaves[s.next - base]:
                        raise _SessionFailed("corrupt", f"chunk {s.next} does not match its leaf hash")
                    await self.events_send.send(_Chunk(s, s.next, data, trio.current_time() - chunk_started))
                    s.next += 1
                    chunk_started = s.mark = trio.current_time()
                    s.mark_bytes = s.nbytes - len(buf)
                    deadline = chunk_started + s.stall  # waiting for the consumer is no stall
        finally:
            await _aclose(pieces)


async def _aclose(pieces: AsyncIterator[bytes]) -> None:
    """Close a source's iterator (its HTTP response), even while being cancelled, within 1 s."""
    aclose = getattr(pieces, "aclose", None)
    if aclose is not None:
        with trio.CancelScope(shield=True), trio.move_on_after(1.0):
            await aclose()
