"""Leaf pages (protocol.chunks): bounded pages of leaf hashes, each proved against the file id."""

import hashlib

import pytest
from hypothesis import given, settings, strategies as st

from sonantica.protocol.chunks import (
    CHUNK_SIZE,
    EMPTY_ROOT,
    chunk_count_for_size,
    file_id_of,
    leaf_page_body,
    leaf_page_count,
    leaf_page_size,
    leaf_page_span,
    merkle_root,
    page_roots,
    verify_leaf_page,
)
from sonantica.protocol.errors import LocalProtocolError, RemoteProtocolError
from sonantica.protocol.limits import LEAF_PAGE, MAX_CHUNKS, MAX_CHUNKS_PER_REQUEST, MAX_FILE_SIZE, MAX_MESSAGE_BYTES


def fake_leaves(n: int, salt: bytes = b"") -> list[bytes]:
    """Distinct 32-byte leaves without hashing any file data (cheap for millions)."""
    return [hashlib.blake2b(salt + i.to_bytes(4, "big"), digest_size=32).digest() for i in range(n)]


def body_of(leaves: list[bytes], page: int, page_size: int) -> bytes:
    roots = page_roots(leaves, page_size)
    first, count = leaf_page_span(len(leaves), page, page_size)
    return leaf_page_body(leaves[first : first + count], roots, page)


@given(n=st.integers(1, 300), k=st.integers(0, 6))
@settings(max_examples=300, deadline=None)
def test_page_roots_are_a_level_of_the_file_tree(n, k):
    leaves = fake_leaves(n)
    assert merkle_root(page_roots(leaves, 2**k)) == merkle_root(leaves)


@given(n=st.integers(1, 200), k=st.integers(0, 5), data=st.data())
@settings(max_examples=300, deadline=None)
def test_every_page_verifies_and_pages_rebuild_the_leaf_list(n, k, data):
    leaves, size = fake_leaves(n), 2**k
    root = merkle_root(leaves)
    pages = leaf_page_count(n, size)
    got = []
    for p in range(pages):
        body = body_of(leaves, p, size)
        assert len(body) == leaf_page_size(n, p, size)
        got += verify_leaf_page(root, n, p, body, size)
    assert got == leaves
    # any flipped bit, or any truncation / extension, is refused
    p = data.draw(st.integers(0, pages - 1))
    body = bytearray(body_of(leaves, p, size))
    i = data.draw(st.integers(0, len(body) - 1))
    body[i] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(RemoteProtocolError) as e:
        verify_leaf_page(root, n, p, bytes(body), size)
    assert e.value.code == "chunk_mismatch"
    good = body_of(leaves, p, size)
    for bad in (good[:-32], good + bytes(32), good[:-1]):
        with pytest.raises(RemoteProtocolError, match="expected"):
            verify_leaf_page(root, n, p, bad, size)


def test_a_page_of_another_file_or_another_index_is_refused():
    a, b = fake_leaves(40, b"a"), fake_leaves(40, b"b")
    with pytest.raises(RemoteProtocolError):
        verify_leaf_page(merkle_root(a), 40, 1, body_of(b, 1, 8), 8)
    with pytest.raises(RemoteProtocolError):  # page 2's body offered as page 1 (same length)
        verify_leaf_page(merkle_root(a), 40, 1, body_of(a, 2, 8), 8)


def test_one_page_file_body_is_its_leaf_list():
    leaves = fake_leaves(LEAF_PAGE)
    assert body_of(leaves, 0, LEAF_PAGE) == b"".join(leaves)
    assert verify_leaf_page(file_id_of(merkle_root(leaves)), LEAF_PAGE, 0, b"".join(leaves)) == leaves


def test_empty_file_has_one_page_of_one_leaf():
    assert page_roots([]) == [EMPTY_ROOT]
    assert verify_leaf_page(EMPTY_ROOT, 1, 0, EMPTY_ROOT) == [EMPTY_ROOT]


def test_bad_arguments_are_local_errors():
    for bad in (0, 3, 6):
        with pytest.raises(LocalProtocolError):
            leaf_page_count(10, bad)
    with pytest.raises(LocalProtocolError):
        leaf_page_count(0)
    with pytest.raises(LocalProtocolError):
        leaf_page_span(10, 1, 16)
    with pytest.raises(LocalProtocolError):
        leaf_page_body(fake_leaves(3), page_roots(fake_leaves(4), 2), 1)


def test_four_gibibytes_by_construction():
    """A 4 GiB file: 16,384 leaves in 32 pages, each a bounded message verified on its own."""
    size = 4 * 2**30
    n = chunk_count_for_size(size)
    assert n == 16_384 and leaf_page_count(n) == 32
    leaves = fake_leaves(n)
    fid = file_id_of(merkle_root(leaves))
    roots = page_roots(leaves)
    got = []
    for p in range(leaf_page_count(n)):
        first, count = leaf_page_span(n, p)
        body = leaf_page_body(leaves[first : first + count], roots, p)
        assert len(body) == leaf_page_size(n, p) <= 32 * (LEAF_PAGE + 5)
        got += verify_leaf_page(fid, n, p, body)
    assert got == leaves


def test_every_page_of_the_largest_file_fits_a_message():
    n = chunk_count_for_size(MAX_FILE_SIZE)
    assert n == MAX_CHUNKS and leaf_page_count(n) == 8192
    worst = max(leaf_page_size(n, p) for p in (0, 1, 4095, 8191))
    assert worst == 32 * (LEAF_PAGE + 13) < MAX_MESSAGE_BYTES
    # the last page of an odd-sized file is short, and its proof skips promoted levels
    n = MAX_CHUNKS - 1
    assert leaf_page_size(n, leaf_page_count(n) - 1) == 32 * (LEAF_PAGE - 1 + 13)
    assert MAX_CHUNKS_PER_REQUEST * CHUNK_SIZE <= 16 * 2**20
