"""The members' cover cache counts each cached file once, however many requests open it at once."""

import trio

from sonantica.node.federation.covers import MemberCovers


async def test_concurrent_first_requests_load_the_cache_once(tmp_path):
    root = tmp_path / "member-covers"
    root.mkdir()
    for i in range(3):
        (root / f"em-{i:024x}").write_bytes(b"x" * 1000)
    (root / ".tmp-leftover").write_bytes(b"partial")  # a write killed mid-way
    cache = MemberCovers(root, max_bytes=3500)
    async with trio.open_nursery() as n:  # a page of albums asks for many covers at once
        for _ in range(8):
            n.start_soon(cache._ensure_loaded)
    assert cache.statistics() == {"entries": 3, "bytes": 3000, "max_bytes": 3500}
    assert not (root / ".tmp-leftover").exists()
    # a new cover fits beside them: nothing already fetched is evicted
    await cache._put("em-" + "f" * 24, b"y" * 400)
    assert sorted(p.name for p in root.iterdir()) == [f"em-{i:024x}" for i in range(3)] + ["em-" + "f" * 24]
