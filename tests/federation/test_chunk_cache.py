import os
import time

import pytest

from sonantica.node.federation.chunk_cache import ChunkCache
from sonantica.protocol.chunks import file_id_of, chunk_hash

K = 1024


def fid(n: int) -> str:
    return file_id_of(chunk_hash(bytes([n])))


def open_cache(path, max_bytes) -> ChunkCache:
    cache = ChunkCache(path, max_bytes)
    cache.load()
    return cache


async def test_put_get_roundtrip_and_miss(tmp_path):
    cache = open_cache(tmp_path, 100 * K)
    assert await cache.get(fid(1), 0) is None
    await cache.put(fid(1), 0, b"a" * K)
    assert await cache.get(fid(1), 0) == b"a" * K
    assert cache.contains(fid(1), 0) and not cache.contains(fid(1), 1)
    assert cache.statistics().cached_bytes == K


async def test_lru_eviction_keeps_the_recently_used(tmp_path):
    cache = open_cache(tmp_path, 3 * K)
    for i in range(3):
        await cache.put(fid(1), i, bytes([i]) * K)
    assert await cache.get(fid(1), 0) is not None  # 0 becomes most recent
    await cache.put(fid(1), 3, b"x" * K)  # evicts 1, the least recently used
    assert [cache.contains(fid(1), i) for i in range(4)] == [True, False, True, True]
    assert not (tmp_path / "chunks" / fid(1) / "1").exists()
    assert cache.statistics().cached_bytes == 3 * K


async def test_pinned_chunks_survive_eviction_and_unpin_returns_them(tmp_path):
    cache = open_cache(tmp_path, 2 * K)
    await cache.put(fid(1), 0, b"p" * K)
    await cache.pin(fid(1))
    await cache.put(fid(1), 1, b"q" * K)  # pinned file: stored though the LRU is "full" later
    for i in range(10):
        await cache.put(fid(2), i, bytes([i]) * K)
    assert cache.has_file(fid(1), 2)
    assert await cache.get(fid(1), 0) == b"p" * K
    stats = cache.statistics()
    assert stats.pinned_bytes == 2 * K and stats.cached_bytes <= 2 * K
    assert cache.is_pinned(fid(1))
    # pins persist across restarts
    again = open_cache(tmp_path, 2 * K)
    assert again.is_pinned(fid(1)) and again.has_file(fid(1), 2)
    await again.unpin(fid(1))
    assert not again.is_pinned(fid(1))
    assert again.statistics().cached_bytes <= 2 * K
    assert again.has_file(fid(1), 2)  # unpinned chunks join as most recent


async def test_has_file(tmp_path):
    cache = open_cache(tmp_path, 100 * K)
    for i in (0, 2):
        await cache.put(fid(3), i, b"z")
    assert not cache.has_file(fid(3), 3)
    await cache.put(fid(3), 1, b"z")
    assert cache.has_file(fid(3), 3)


async def test_index_rebuilt_at_open_in_lru_order_and_temp_files_removed(tmp_path):
    cache = open_cache(tmp_path, 3 * K)
    for i in range(3):
        await cache.put(fid(1), i, bytes([i]) * K)
    base = time.time() - 100
    for age, i in enumerate((2, 0, 1)):  # oldest first: 2, then 0, then 1
        os.utime(tmp_path / "chunks" / fid(1) / str(i), (base + age, base + age))
    (tmp_path / "tmp" / "leftover").write_bytes(b"half a chunk")
    again = open_cache(tmp_path, 3 * K)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert again.statistics().entries == 3
    await again.put(fid(1), 3, b"x" * K)
    assert not again.contains(fid(1), 2) and again.contains(fid(1), 0)


async def test_open_with_a_smaller_bound_evicts(tmp_path):
    cache = open_cache(tmp_path, 10 * K)
    for i in range(5):
        await cache.put(fid(1), i, b"a" * K)
    smaller = open_cache(tmp_path, 2 * K)
    assert smaller.statistics().cached_bytes == 2 * K
    assert len(list((tmp_path / "chunks" / fid(1)).iterdir())) == 2


async def test_leaf_pages_roundtrip_and_removed_with_the_last_chunk(tmp_path):
    cache = open_cache(tmp_path, 1 * K)
    page0, page3 = chunk_hash(b"a") + chunk_hash(b"b"), chunk_hash(b"c")
    assert await cache.get_leaf_page(fid(1), 0) is None
    await cache.put_leaf_page(fid(1), 0, page0)
    await cache.put_leaf_page(fid(1), 3, page3)
    await cache.put(fid(1), 0, b"a" * K)
    assert await cache.get_leaf_page(fid(1), 0) == page0 and await cache.get_leaf_page(fid(1), 3) == page3
    await cache.discard_leaf_page(fid(1), 3)
    assert await cache.get_leaf_page(fid(1), 3) is None
    await cache.put(fid(2), 0, b"b" * K)  # evicts the only chunk of fid(1)
    assert await cache.get_leaf_page(fid(1), 0) is None


def test_whole_leaf_lists_of_the_former_layout_are_removed_at_load(tmp_path):
    (tmp_path / "leaves").mkdir()
    (tmp_path / "leaves" / fid(1)).write_bytes(chunk_hash(b"a"))
    (tmp_path / "leaves" / f"{fid(2)}.0").write_bytes(chunk_hash(b"b"))
    open_cache(tmp_path, K)
    assert sorted(p.name for p in (tmp_path / "leaves").iterdir()) == [f"{fid(2)}.0"]


async def test_discard_and_vanished_files(tmp_path):
    cache = open_cache(tmp_path, 10 * K)
    await cache.put(fid(1), 0, b"a")
    await cache.put(fid(1), 1, b"b")
    await cache.discard(fid(1), 0)
    assert not cache.contains(fid(1), 0)
    (tmp_path / "chunks" / fid(1) / "1").unlink()  # removed behind our back
    assert await cache.get(fid(1), 1) is None
    assert not cache.contains(fid(1), 1)


async def test_an_entry_larger_than_the_bound_is_not_kept(tmp_path):
    cache = open_cache(tmp_path, 10)
    await cache.put(fid(1), 0, b"x" * 11)
    assert not cache.contains(fid(1), 0)


async def test_bad_file_id_refused_and_use_before_load(tmp_path):
    from sonantica.protocol.errors import RemoteProtocolError

    cache = open_cache(tmp_path, 10 * K)
    with pytest.raises(RemoteProtocolError):
        await cache.put("../../etc", 0, b"x")
    with pytest.raises(RuntimeError, match="load"):
        await ChunkCache(tmp_path / "other", 1).get(fid(1), 0)
