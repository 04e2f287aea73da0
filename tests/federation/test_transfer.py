"""fetch_range against in-memory fake holders (real data, real hashes, no mocks)."""

import random
from contextlib import aclosing

import pytest
import trio

from sonantica.node.federation.chunk_cache import ChunkCache
from sonantica.node.federation.errors import LeavesPending, PeerRejected, PeerUnavailable, TransferFailed
from sonantica.node.federation.selection import HolderStats
from sonantica.node.federation.transfer import fetch_range, open_range
from sonantica.protocol.chunks import (
    CHUNK_SIZE, LEAF_PAGE, FileIdBuilder, chunk_hash, file_id_of, leaf_page_body, merkle_root, page_roots,
)

CS = CHUNK_SIZE


def make_file(size: int, seed: int = 0) -> tuple[str, bytes, list[bytes]]:
    data = random.Random(seed).randbytes(size)
    b = FileIdBuilder()
    b.update(data)
    fid, leaves = b.finish()
    return fid, data, leaves


class MemorySource:
    """A holder serving real bytes from memory, with configurable misbehaviour.

    die_after / stall_after: total bytes sent (over all reads) before dying /
    going silent; corrupt_chunk: flip a byte of that chunk; piece_delay: sleep
    before each piece; refuse: PeerRejected on everything; bad_leaves: a flipped bit in
    every leaf page; hashing(now): still hashing the file (bytes so far), or None once done.
    """

    def __init__(self, node_id, files, *, die_after=None, stall_after=None, corrupt_chunk=None,
                 piece_delay=0.0, piece_size=64 * 1024, refuse=False, bad_leaves=False, extra=b"",
                 hashing=None, leaf_delay=0.0, poll_delay=None, stall_once_after=None, silent_pages=0):
        self.node_id = node_id
        self.files = files  # file_id -> (data, leaves)
        self.die_after = die_after
        self.stall_after = stall_after
        self.corrupt_chunk = corrupt_chunk
        self.piece_delay = piece_delay
        self.piece_size = piece_size
        self.refuse = refuse
        self.bad_leaves = bad_leaves
        self.extra = extra
        self.sent = 0
        self.active = 0
        self.reads: list[tuple[int, int]] = []
        self.leaf_calls = 0
        self.pages: list[int] = []  # leaf pages asked for
        self.hashing = hashing  # now -> bytes hashed so far (LeavesPending), or None when the leaves are ready
        self.leaf_delay = leaf_delay  # sleep before each 4 KiB piece of a leaf page
        self.poll_delay = poll_delay  # hashed -> seconds to wait before answering LeavesPending
        self.stall_once_after = stall_once_after  # go silent once after this many bytes, then serve well
        self.silent_pages = silent_pages  # this many leaf page requests get no answer at all
        self.dead = False

    async def leaf_page(self, file_id, page):
        await trio.lowlevel.checkpoint()
        self.leaf_calls += 1
        self.pages.append(page)
        if self.refuse:
            raise PeerRejected(self.node_id, "not a member")
        if self.dead:
            raise PeerUnavailable(self.node_id, "connection refused")
        if self.silent_pages:
            self.silent_pages -= 1
            await trio.sleep_forever()
        if self.hashing is not None:
            hashed = self.hashing(trio.current_time())
            if hashed is not None:
                if self.poll_delay:
                    await trio.sleep(self.poll_delay(hashed))
                raise LeavesPending(self.node_id, hashed, len(self.files[file_id][0]))
        leaves = list(self.files[file_id][1])
        first = page * LEAF_PAGE
        body = bytearray(leaf_page_body(leaves[first : first + LEAF_PAGE], page_roots(leaves), page))
        if self.bad_leaves:
            body[0] ^= 1
        for off in range(0, len(body), 4096):  # in pieces, like a network
            if self.leaf_delay:
                await trio.sleep(self.leaf_delay)
            yield bytes(body[off : off + 4096])

    async def read(self, file_id, first, count):
        self.reads.append((first, count))
        self.active += 1
        try:
            if self.refuse:
                raise PeerRejected(self.node_id, "not a member")
            if self.dead:
                raise PeerUnavailable(self.node_id, "connection refused")
            data = bytearray(self.files[file_id][0][first * CS : (first + count) * CS])
            if self.corrupt_chunk is not None and first <= self.corrupt_chunk < first + count:
                data[(self.corrupt_chunk - first) * CS + 7] ^= 0xFF
            data += self.extra
            for off in range(0, len(data), self.piece_size):
                if self.piece_delay:
                    await trio.sleep(self.piece_delay)
                else:
                    await trio.lowlevel.checkpoint()
                piece = bytes(data[off : off + self.piece_size])
                if self.die_after is not None and self.sent + len(piece) > self.die_after:
                    part = piece[: self.die_after - self.sent]
                    self.sent += len(part)
                    self.dead = True
                    if part:
                        yield part
                    raise PeerUnavailable(self.node_id, "connection reset")
                if self.stall_once_after is not None and self.sent + len(piece) > self.stall_once_after:
                    self.stall_once_after = None
                    await trio.sleep_forever()
                if self.stall_after is not None and self.sent + len(piece) > self.stall_after:
                    part = piece[: self.stall_after - self.sent]
                    self.sent += len(part)
                    if part:
                        yield part
                    await trio.sleep_forever()
                self.sent += len(piece)
                yield piece
        finally:
            self.active -= 1


def holders(*sources, rtts=None):
    """(source, stats) pairs; the first source gets the best RTT so it is chosen first."""
    out = []
    for i, s in enumerate(sources):
        stats = HolderStats(s.node_id, rtt_ms=(rtts[i] if rtts else 10.0 * (i + 1)))
        out.append((s, stats))
    return out


async def collect(fid, size, start, end, hs, events=None, **kw):
    kw.setdefault("rng", random.Random(1))
    out = bytearray()
    async with aclosing(fetch_range(fid, size, start, end, hs, on_event=events.append if events is not None else None, **kw)) as it:
        async for piece in it:
            out += piece
    return bytes(out)


SIZES = [1, 100, CS - 1, CS, CS + 1, 3 * CS + 12345, 4 * CS]


@pytest.mark.parametrize("size", SIZES)
async def test_byte_exact_for_random_ranges(size):
    fid, data, leaves = make_file(size, seed=size)
    rng = random.Random(size)
    ranges = [(0, size - 1), (size - 1, size - 1), (0, 0)]
    for _ in range(12):
        a, b = sorted(rng.randrange(size) for _ in range(2))
        ranges.append((a, b))
    if size > CS:
        ranges += [(CS - 1, CS), (CS, size - 1)]
    if size > CS + 10:
        ranges.append((CS + 5, size - 2))
    for start, end in ranges:
        src = MemorySource("a", {fid: (data, leaves)}, piece_size=rng.choice([1000, 64 * 1024, 300_000]))
        got = await collect(fid, size, start, end, holders(src))
        assert got == data[start : end + 1], (start, end)
        assert src.active == 0


async def test_several_holders_and_stats_updated():
    fid, data, leaves = make_file(3 * CS + 999)
    files = {fid: (data, leaves)}
    hs = holders(MemorySource("a", files), MemorySource("b", files), MemorySource("c", files))
    assert await collect(fid, len(data), 10, len(data) - 10, hs) == data[10:-9]
    used = [stats for _, stats in hs if stats.throughput_samples]
    assert used and all(stats.in_flight == 0 for _, stats in hs)


async def test_failover_when_the_source_dies_mid_stream():
    fid, data, leaves = make_file(6 * CS + 777, seed=2)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, die_after=int(1.5 * CS))
    b = MemorySource("b", files)
    events = []
    hs = holders(a, b)
    assert await collect(fid, len(data), 0, len(data) - 1, hs, events) == data
    kinds = [(e.kind, e.node_id) for e in events]
    assert ("failed", "a") in kinds and ("source", "b") in kinds
    assert b.reads[0][0] == 1  # resumed at the first unverified chunk
    assert hs[0][1].failure > 0 and hs[0][1].last_failure is not None


async def test_failover_twice_and_ranges_mid_chunk():
    fid, data, leaves = make_file(8 * CS + 5, seed=3)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, die_after=CS // 3)
    b = MemorySource("b", files, die_after=2 * CS + 100)
    c = MemorySource("c", files)
    start, end = CS + 17, 7 * CS + 3
    assert await collect(fid, len(data), start, end, holders(a, b, c)) == data[start : end + 1]
    assert a.dead and b.dead


async def test_a_stalled_source_is_abandoned_within_stall_timeout(autojump_clock):
    fid, data, leaves = make_file(4 * CS, seed=4)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, stall_after=CS + 1000)
    b = MemorySource("b", files)
    events = []
    t0 = trio.current_time()
    got = await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events, stall_timeout=2.0, hedge_after=None)
    assert got == data
    stall = next(e for e in events if e.kind == "failed")
    assert stall.node_id == "a" and stall.reason == "stall" and stall.chunk == 1
    assert stall.time - t0 <= 2.0 + 0.01
    assert trio.current_time() - t0 <= 2.0 + 0.01
    assert a.active == 0


async def test_a_corrupted_chunk_never_reaches_the_consumer():
    fid, data, leaves = make_file(5 * CS + 1, seed=5)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, corrupt_chunk=2)
    b = MemorySource("b", files)
    events = []
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events) == data
    bad = next(e for e in events if e.kind == "failed")
    assert (bad.node_id, bad.reason, bad.chunk) == ("a", "corrupt", 2)
    assert b.reads[0][0] == 2


async def test_only_holder_corrupt_yields_only_good_bytes_then_fails():
    fid, data, leaves = make_file(5 * CS, seed=6)
    a = MemorySource("a", {fid: (data, leaves)}, corrupt_chunk=3)
    got = bytearray()
    with pytest.raises(TransferFailed, match=fid) as info:
        async for piece in fetch_range(fid, len(data), 0, len(data) - 1, holders(a), rng=random.Random(0)):
            got += piece
    assert bytes(got) == data[: 3 * CS]
    assert "chunk 3" in str(info.value) and "corrupt" in str(info.value)


async def test_source_sending_too_much_is_refused():
    fid, data, leaves = make_file(2 * CS + 10, seed=7)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, extra=b"junk")
    b = MemorySource("b", files)
    events = []
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events) == data
    assert any(e.kind == "failed" and e.reason == "overlong" for e in events)


async def test_bad_leaves_are_refused():
    fid, data, leaves = make_file(3 * CS, seed=8)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, bad_leaves=True)
    b = MemorySource("b", files)
    events = []
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events) == data
    assert ("leaves_failed", "a") in [(e.kind, e.node_id) for e in events]
    assert a.reads == []  # never asked for data after lying about the leaves
    with pytest.raises(TransferFailed, match="bad leaf page"):
        await collect(fid, len(data), 0, 10, holders(MemorySource("a", files, bad_leaves=True)))


async def test_leaves_of_the_wrong_size_are_refused():
    """A sender cannot choose the size: leaves for a shorter file are refused."""
    fid, data, leaves = make_file(3 * CS, seed=9)
    with pytest.raises(TransferFailed, match="leaf page 0: every holder failed .a: short"):
        # the catalogue says the file has 4 chunks; the holder's leaves say 3
        await collect(fid, 4 * CS, 0, 10, holders(MemorySource("a", {fid: (data, leaves)})))


async def test_all_holders_failing_raises_transfer_failed_naming_the_file():
    fid, data, leaves = make_file(2 * CS, seed=10)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, refuse=True)
    b = MemorySource("b", files, die_after=0)
    with pytest.raises(TransferFailed) as info:
        await collect(fid, len(data), 0, len(data) - 1, holders(a, b))
    msg = str(info.value)
    assert fid in msg and "a: " in msg and "b: " in msg
    with pytest.raises(TransferFailed, match="no holders"):
        await collect(fid, len(data), 0, 1, [])


async def test_all_holders_dying_mid_stream(autojump_clock):
    fid, data, leaves = make_file(4 * CS, seed=11)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, die_after=CS + 10)
    b = MemorySource("b", files, stall_after=CS + 10)
    with pytest.raises(TransferFailed, match="chunk 2"):
        await collect(fid, len(data), 0, len(data) - 1, holders(a, b), hedge_after=None)
    assert a.active == b.active == 0


async def test_hedging_wins_when_the_first_holder_is_slow(autojump_clock):
    fid, data, leaves = make_file(3 * CS, seed=12)
    files = {fid: (data, leaves)}
    slow = MemorySource("slow", files, piece_delay=1.0)  # 64 KiB/s: 4 s per chunk
    fast = MemorySource("fast", files, piece_delay=0.01)
    events = []
    hs = holders(slow, fast)
    t0 = trio.current_time()
    got = await collect(fid, len(data), 0, len(data) - 1, hs, events, hedge_after=1.0, stall_timeout=5.0)
    assert got == data
    kinds = [(e.kind, e.node_id) for e in events]
    assert ("hedge", "fast") in kinds and ("hedge_won", "fast") in kinds
    assert trio.current_time() - t0 < 2.0  # 4 s per chunk from the slow one, 12 s in all
    assert slow.active == 0 and fast.reads[0] == (0, 3)  # the winner carried on
    assert hs[0][1].throughput < hs[1][1].throughput
    assert not any(e.kind == "failed" for e in events)


async def test_hedge_loses_when_the_primary_is_merely_late(autojump_clock):
    fid, data, leaves = make_file(2 * CS, seed=13)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, piece_delay=0.3)  # 1.2 s per chunk
    b = MemorySource("b", files, piece_delay=1.0)
    events = []
    got = await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events, hedge_after=1.0)
    assert got == data
    kinds = [e.kind for e in events]
    assert "hedge" in kinds and "hedge_won" not in kinds
    assert b.active == 0


async def test_consumer_aclose_cancels_background_fetches(autojump_clock):
    fid, data, leaves = make_file(8 * CS, seed=14)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, piece_delay=0.01)
    b = MemorySource("b", files, piece_delay=0.5)
    it = fetch_range(fid, len(data), 0, len(data) - 1, holders(a, b), rng=random.Random(0), hedge_after=0.1)
    first = await it.__anext__()
    assert first == data[:CS]
    await it.aclose()
    assert a.active == 0 and b.active == 0
    sent = a.sent + b.sent
    await trio.sleep(10)
    assert a.sent + b.sent == sent


async def test_leaving_open_range_early_cancels_and_read_ahead_is_bounded(autojump_clock):
    fid, data, leaves = make_file(12 * CS, seed=15)
    a = MemorySource("a", {fid: (data, leaves)})
    async with open_range(fid, len(data), 0, len(data) - 1, holders(a), rng=random.Random(0), read_ahead=2) as body:
        async for piece in body:
            assert piece == data[:CS]
            await trio.sleep(5)  # a slow client: the fetch must wait, not race ahead
            # 1 taken + 2 buffered + 1 held by the session + its partial next chunk
            assert a.sent <= 5 * CS
            break
    assert a.active == 0


async def test_cache_hits_avoid_the_network(tmp_path):
    fid, data, leaves = make_file(4 * CS + 3, seed=16)
    files = {fid: (data, leaves)}
    cache = ChunkCache(tmp_path, 100 * CS)
    cache.load()
    a = MemorySource("a", files)
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a), cache=cache) == data
    assert cache.has_file(fid, 5)
    b = MemorySource("b", files, refuse=True)
    events = []
    got = await collect(fid, len(data), 100, len(data) - 2, holders(b), events, cache=cache)
    assert got == data[100:-1]
    assert b.reads == [] and b.leaf_calls == 0
    assert [e.kind for e in events].count("cache_hit") == 5


async def test_partially_cached_file_fetches_only_the_gaps(tmp_path):
    fid, data, leaves = make_file(6 * CS, seed=17)
    files = {fid: (data, leaves)}
    cache = ChunkCache(tmp_path, 100 * CS)
    cache.load()
    await collect(fid, len(data), CS, 2 * CS - 1, holders(MemorySource("a", files)), cache=cache)
    await collect(fid, len(data), 4 * CS, 4 * CS, holders(MemorySource("a", files)), cache=cache)
    c = MemorySource("c", files)
    assert await collect(fid, len(data), 0, len(data) - 1, holders(c), cache=cache) == data
    assert c.reads == [(0, 1), (2, 2), (5, 1)]


async def test_a_bad_cached_chunk_is_discarded_and_refetched(tmp_path):
    fid, data, leaves = make_file(2 * CS, seed=18)
    files = {fid: (data, leaves)}
    cache = ChunkCache(tmp_path, 100 * CS)
    cache.load()
    await collect(fid, len(data), 0, len(data) - 1, holders(MemorySource("a", files)), cache=cache)
    path = tmp_path / "chunks" / fid / "1"
    path.write_bytes(b"rot" + path.read_bytes()[3:])
    events = []
    b = MemorySource("b", files)
    assert await collect(fid, len(data), 0, len(data) - 1, holders(b), events, cache=cache) == data
    assert "cache_bad" in [e.kind for e in events] and b.reads == [(1, 1)]
    assert (await cache.get(fid, 1)) == data[CS:]


async def test_a_local_holder_is_used_first():
    fid, data, leaves = make_file(2 * CS, seed=19)
    files = {fid: (data, leaves)}
    remote, local = MemorySource("remote", files), MemorySource("local", files)
    hs = holders(remote, local)
    hs[1][1].local = True
    assert await collect(fid, len(data), 0, len(data) - 1, hs) == data
    assert remote.reads == [] and local.reads == [(0, 2)]


async def test_rejected_holder_is_not_asked_again():
    fid, data, leaves = make_file(3 * CS, seed=20)
    files = {fid: (data, leaves)}

    class RejectsReads(MemorySource):
        async def read(self, file_id, first, count):
            self.reads.append((first, count))
            raise PeerRejected(self.node_id, "share policy")
            yield b""  # pragma: no cover

    a, b = RejectsReads("a", files), MemorySource("b", files, die_after=CS + 5)
    with pytest.raises(TransferFailed, match="share policy"):
        await collect(fid, len(data), 0, len(data) - 1, holders(a, b))
    assert len(a.reads) == 1


async def test_bad_arguments():
    fid, data, leaves = make_file(10)
    src = holders(MemorySource("a", {fid: (data, leaves)}))
    for start, end in [(-1, 3), (5, 4), (0, 10)]:
        with pytest.raises(ValueError):
            await collect(fid, 10, start, end, src)
    with pytest.raises(Exception, match="bad_file_id|expected"):
        await collect("nope", 10, 0, 1, src)


async def test_throughput_is_near_a_memory_read():
    """Sanity on a real clock: 3 MiB through verification and read-ahead is quick."""
    fid, data, leaves = make_file(12 * CS, seed=21)
    a = MemorySource("a", {fid: (data, leaves)})
    t0 = trio.current_time()
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a)) == data
    assert trio.current_time() - t0 < 1.0


async def test_an_unexpected_error_in_a_source_fails_over_and_is_logged(caplog):
    fid, data, leaves = make_file(2 * CS, seed=22)
    files = {fid: (data, leaves)}

    class Buggy(MemorySource):
        async def read(self, file_id, first, count):
            raise KeyError("bug in a peer client")
            yield b""  # pragma: no cover

    b = MemorySource("b", files)
    assert await collect(fid, len(data), 0, len(data) - 1, holders(Buggy("a", files), b)) == data
    assert "source a failed unexpectedly" in caplog.text


async def test_a_stalled_source_is_hedged_first_with_the_defaults(autojump_clock):
    fid, data, leaves = make_file(3 * CS, seed=23)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, stall_after=10)
    events = []
    t0 = trio.current_time()
    assert await collect(fid, len(data), 0, len(data) - 1, holders(a, MemorySource("b", files)), events) == data
    assert trio.current_time() - t0 <= 1.0 + 0.01  # hedge_after, well before stall_timeout
    assert ("hedge_won", "b") in [(e.kind, e.node_id) for e in events]


# -- large files: leaf pages, progress as liveness (issue 18) -----------------------------


class VirtualFile:
    """A file of any size whose chunks cost nothing: all zeros but a few stamped chunks.

    Slicing gives real bytes; ``leaves`` are the real leaf hashes (the zero chunk is hashed once).
    """

    def __init__(self, size: int, stamped=()):
        self.size = size
        self.count = max(1, -(-size // CS))
        self.stamped = {i: i.to_bytes(8, "big") * (self._len(i) // 8) + bytes(self._len(i) % 8) for i in stamped}
        zero = chunk_hash(bytes(CS))
        self.leaves = [zero] * (self.count - 1) + [chunk_hash(self.chunk(self.count - 1))]
        for i, data in self.stamped.items():
            self.leaves[i] = chunk_hash(data)
        self.file_id = file_id_of(merkle_root(self.leaves))

    def _len(self, i: int) -> int:
        return CS if i < self.count - 1 else self.size - (self.count - 1) * CS

    def chunk(self, i: int) -> bytes:
        return self.stamped[i] if i in self.stamped else bytes(self._len(i))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, span: slice) -> bytes:
        start, stop = span.start, min(span.stop, self.size)
        out = []
        for i in range(start // CS, -(-stop // CS)):
            piece = self.chunk(i)
            lo, hi = max(start - i * CS, 0), min(stop - i * CS, len(piece))
            out.append(piece[lo:hi] if (lo, hi) != (0, len(piece)) else piece)
        return b"".join(out)


async def test_a_4_gib_file_is_fetched_by_page_only_where_asked():
    """4 GiB + 1000 bytes: 16,385 chunks in 33 leaf pages; a range across a page boundary and the
    last bytes are fetched, verified, with only the pages they need."""
    big = VirtualFile(4 * 2**30 + 1000, stamped=(0, 511, 512, 513, 9000, 16383))
    assert big.count == 16_385
    files = {big.file_id: (big, big.leaves)}
    a = MemorySource("a", files)
    start, end = 511 * CS - 100, 513 * CS + 99  # chunks 510..513: pages 0 and 1
    assert await collect(big.file_id, big.size, start, end, holders(a)) == big[start : end + 1]
    assert a.pages == [0, 1]
    assert a.reads == [(510, 2), (512, 2)]  # one run per page
    b = MemorySource("b", files)
    tail = big[big.size - 5000 : big.size]
    assert await collect(big.file_id, big.size, big.size - 5000, big.size - 1, holders(b)) == tail
    assert b.pages == [31, 32] and b.reads == [(16383, 1), (16384, 1)]  # the last chunk is alone in page 32


async def test_a_stream_across_pages_keeps_at_most_pages_kept_in_memory(autojump_clock):
    from sonantica.node.federation import transfer

    big = VirtualFile(514 * CS + 5, stamped=(0, 511, 512, 513, 514))
    a = MemorySource("a", {big.file_id: (big, big.leaves)})
    got = await collect(big.file_id, big.size, 0, big.size - 1, holders(a))
    assert got == big[0 : big.size]
    assert a.pages == [0, 1] and a.reads == [(0, 512), (512, 3)]
    assert transfer.PAGES_KEPT >= 2


async def test_a_slow_but_moving_holder_is_never_called_stalled(autojump_clock):
    """Pieces every 0.3 s (stall deadline 0.4 s): 10 s for 4 chunks, yet no stall; silence still is one."""
    fid, data, leaves = make_file(4 * CS, seed=30)
    files = {fid: (data, leaves)}
    slow = MemorySource("slow", files, piece_delay=0.3, leaf_delay=0.3)
    events = []
    t0 = trio.current_time()
    got = await collect(fid, len(data), 0, len(data) - 1, holders(slow), events, stall_timeout=0.4, hedge_after=None)
    assert got == data and trio.current_time() - t0 > 4.0
    assert not [e for e in events if e.kind in ("failed", "leaves_failed")]
    silent = MemorySource("silent", files, stall_after=CS + 10)
    t0 = trio.current_time()
    events = []
    with pytest.raises(TransferFailed, match="stall"):
        await collect(fid, len(data), 0, len(data) - 1, holders(silent), events, stall_timeout=0.4, hedge_after=None)
    assert next(e for e in events if e.kind == "failed").time - t0 <= 0.4 + 0.01


async def test_a_holder_still_hashing_is_waited_for_while_its_count_grows(autojump_clock):
    fid, data, leaves = make_file(3 * CS, seed=31)
    files = {fid: (data, leaves)}
    t0 = trio.current_time()
    hashing = MemorySource("h", files, hashing=lambda now: None if now - t0 > 3.0 else int((now - t0) * 1000))
    events = []
    assert await collect(fid, len(data), 0, len(data) - 1, holders(hashing), events) == data
    assert 3.0 < trio.current_time() - t0 < 3.5
    assert [e.kind for e in events].count("leaves_pending") > 5 and "leaves_failed" not in [e.kind for e in events]


async def test_a_hashing_holder_answering_polls_late_is_still_waited_for(autojump_clock):
    """A holder busy hashing answers some polls after the stall deadline: no progress, not a failure."""
    fid, data, leaves = make_file(3 * CS, seed=33)
    files = {fid: (data, leaves)}
    t0 = trio.current_time()
    busy = MemorySource("busy", files, hashing=lambda now: None if now - t0 > 3.0 else int((now - t0) * 1000),
                        poll_delay=lambda hashed: 1.0 if hashed % 2 else 0.0)
    events = []
    assert await collect(fid, len(data), 0, len(data) - 1, holders(busy), events, stall_timeout=0.4) == data
    assert "leaves_failed" not in [e.kind for e in events]


async def test_a_holder_hashing_without_progress_is_dropped_and_a_ready_one_is_preferred(autojump_clock):
    from sonantica.node.federation.transfer import HASHING_STALL

    fid, data, leaves = make_file(2 * CS, seed=32)
    files = {fid: (data, leaves)}
    stuck = MemorySource("stuck", files, hashing=lambda now: 12345)
    t0 = trio.current_time()
    with pytest.raises(TransferFailed, match="stuck: hashing made no progress"):
        await collect(fid, len(data), 0, len(data) - 1, holders(stuck))
    assert HASHING_STALL <= trio.current_time() - t0 <= HASHING_STALL + 0.5
    ready = MemorySource("ready", files)
    t0 = trio.current_time()
    hs = holders(MemorySource("stuck", files, hashing=lambda now: 1), ready)
    assert await collect(fid, len(data), 0, len(data) - 1, hs) == data
    assert trio.current_time() - t0 < 0.1  # the ready holder answered at once: no waiting


async def test_leaf_pages_come_from_the_cache_verified(tmp_path):
    big = VirtualFile(600 * CS, stamped=(3, 550))
    files = {big.file_id: (big, big.leaves)}
    cache = ChunkCache(tmp_path, 10 * CS)
    cache.load()
    await collect(big.file_id, big.size, 549 * CS, 551 * CS - 1, holders(MemorySource("a", files)), cache=cache)
    b = MemorySource("b", files)
    got = await collect(big.file_id, big.size, 549 * CS, 551 * CS - 1, holders(b), cache=cache)
    assert got == big[549 * CS : 551 * CS]
    assert b.pages == [] and b.reads == []
    page = tmp_path / "leaves" / f"{big.file_id}.1"
    page.write_bytes(bytes(len(page.read_bytes())))  # rotten on disk: refused, refetched
    await cache.discard(big.file_id, 550)
    c = MemorySource("c", files)
    got = await collect(big.file_id, big.size, 550 * CS, 550 * CS + 9, holders(c), cache=cache)
    assert got == big[550 * CS : 550 * CS + 10]
    assert c.pages == [1]


async def test_every_holder_silent_once_is_asked_again_with_a_longer_deadline(autojump_clock):
    """On a busy machine both holders may miss the stall deadline once during a long file: another
    round (deadline doubled) instead of ending the stream."""
    fid, data, leaves = make_file(4 * CS, seed=34)
    files = {fid: (data, leaves)}
    a = MemorySource("a", files, stall_once_after=CS + 10, silent_pages=1)
    b = MemorySource("b", files, stall_once_after=10, silent_pages=1)
    events = []
    got = await collect(fid, len(data), 0, len(data) - 1, holders(a, b), events, stall_timeout=0.4, hedge_after=None)
    assert got == data
    retries = [e.detail for e in events if e.kind == "retry"]
    assert retries == ["page 0: round 1, stall 0.8 s", "chunk 1: round 1, stall 0.8 s"], retries


async def test_holders_that_stay_silent_end_the_stream_in_bounded_time(autojump_clock):
    from sonantica.node.federation.transfer import RETRY_ROUNDS

    fid, data, leaves = make_file(3 * CS, seed=35)
    files = {fid: (data, leaves)}
    a, b = MemorySource("a", files, stall_after=10), MemorySource("b", files, stall_after=10)
    t0 = trio.current_time()
    with pytest.raises(TransferFailed, match=r"chunk 0: every holder failed \(.*no data for 1.6 s"):
        await collect(fid, len(data), 0, len(data) - 1, holders(a, b), stall_timeout=0.4, hedge_after=None)
    # two holders, each silent for 0.4 + 0.8 + 1.6 s
    assert trio.current_time() - t0 <= 2 * 0.4 * (2 ** (RETRY_ROUNDS + 1) - 1) + 0.1
