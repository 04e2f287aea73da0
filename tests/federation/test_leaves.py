"""The holder's leaf store: leaves kept with the file_id, served by page, hashed in the background when missing."""

import random

import trio

from sonantica.node.analysis.worker import file_identity
from sonantica.node.federation.leaves import LeafStore, Pending, file_id_and_leaves, hash_file, write_leaves
from sonantica.protocol import RemoteProtocolError
from sonantica.protocol.chunks import CHUNK_SIZE, LEAF_PAGE, verify_leaf_page

CS = CHUNK_SIZE


def write_file(path, size, seed=0):
    path.write_bytes(random.Random(seed).randbytes(size))
    return str(path)


async def serve_page(store, nursery, file_id, path, size, page):
    return await store.page(file_id, path, size, page, nursery.start_soon)


async def test_leaves_kept_with_the_file_id_are_served_by_page_without_hashing(tmp_path):
    size = (LEAF_PAGE + 3) * CS + 10  # two pages
    path = write_file(tmp_path / "f.wav", size)
    fid = file_id_and_leaves(path, tmp_path / "leaves")
    assert (tmp_path / "leaves" / fid).stat().st_size == 32 * (LEAF_PAGE + 4)
    store = LeafStore(tmp_path / "leaves")
    async with trio.open_nursery() as nursery:
        got = []
        for page in range(2):
            body = await serve_page(store, nursery, fid, path, size, page)
            got += verify_leaf_page(fid, LEAF_PAGE + 4, page, body)
        assert store.statistics()["hashing"] == {}
    assert got == hash_file(path)[1]


async def test_missing_leaves_are_hashed_in_the_background_with_progress(tmp_path):
    size = 40 * CS + 1
    path = write_file(tmp_path / "f.wav", size, seed=1)
    fid, leaves = hash_file(path)
    store = LeafStore(tmp_path / "leaves")
    async with trio.open_nursery() as nursery:
        first = await serve_page(store, nursery, fid, path, size, 0)
        assert first == Pending(0, size)
        with trio.fail_after(20):
            while isinstance(body := await serve_page(store, nursery, fid, path, size, 0), Pending):
                assert 0 <= body.hashed <= size
                await trio.sleep(0.01)
    assert verify_leaf_page(fid, 41, 0, body) == leaves
    assert (tmp_path / "leaves" / fid).exists()


async def test_a_file_changed_since_it_was_published_is_chunk_mismatch(tmp_path):
    size = 3 * CS
    path = write_file(tmp_path / "f.wav", size, seed=2)
    published, _ = hash_file(path)
    write_file(tmp_path / "f.wav", size, seed=3)  # re-written in place, same size
    store = LeafStore(tmp_path / "leaves")
    async with trio.open_nursery() as nursery:
        assert isinstance(await serve_page(store, nursery, published, path, size, 0), Pending)
        with trio.fail_after(20):
            while True:
                try:
                    await serve_page(store, nursery, published, path, size, 0)
                except RemoteProtocolError as exc:
                    assert exc.code == "chunk_mismatch" and "changed since it was published" in str(exc)
                    break
                await trio.sleep(0.01)


async def test_damaged_stored_leaves_are_deleted_and_rehashed(tmp_path):
    size = 5 * CS
    path = write_file(tmp_path / "f.wav", size, seed=4)
    fid, leaves = hash_file(path)
    write_leaves(tmp_path / "leaves", fid, [bytes(32)] + leaves[1:])  # torn or damaged: roots do not fold to fid
    store = LeafStore(tmp_path / "leaves")
    async with trio.open_nursery() as nursery:
        assert isinstance(await serve_page(store, nursery, fid, path, size, 0), Pending)
        with trio.fail_after(20):
            while isinstance(body := await serve_page(store, nursery, fid, path, size, 0), Pending):
                await trio.sleep(0.01)
    assert verify_leaf_page(fid, 5, 0, body) == leaves


async def test_leaves_without_their_roots_file_get_one(tmp_path):
    size = 2 * CS
    path = write_file(tmp_path / "f.wav", size, seed=5)
    fid, leaves = hash_file(path)
    (tmp_path / "leaves").mkdir()
    (tmp_path / "leaves" / fid).write_bytes(b"".join(leaves))  # as an older node left them
    store = LeafStore(tmp_path / "leaves")
    async with trio.open_nursery() as nursery:
        body = await serve_page(store, nursery, fid, path, size, 0)
    assert verify_leaf_page(fid, 2, 0, body) == leaves
    assert (tmp_path / "leaves" / f"{fid}.roots").exists()


def test_the_analysis_worker_keeps_the_leaves_with_the_file_id(tmp_path):
    path = write_file(tmp_path / "f.wav", 3 * CS + 7, seed=6)
    result = file_identity(path, str(tmp_path / "leaves"))
    fid, leaves = hash_file(path)
    assert result["file_id"] == fid
    assert (tmp_path / "leaves" / fid).read_bytes() == b"".join(leaves)
    assert file_identity(path)["file_id"] == fid  # without a folder: nothing kept

