"""Content identity: chunk hashes, the Merkle root (``file_id``) and proofs.

Theory of operation
-------------------
A file is cut into chunks of exactly :data:`CHUNK_SIZE` bytes (the last one may
be shorter). Each chunk is hashed with BLAKE2b-256 behind a one-byte domain
prefix, and the leaves are folded pairwise into a binary Merkle tree::

    leaf  = BLAKE2b-256(0x00 || chunk bytes)
    node  = BLAKE2b-256(0x01 || left || right)

Odd-node rule: at every level, a last node without a right sibling is
*promoted unchanged* to the next level (it is not duplicated, so two different
leaf lists never share a root). A one-chunk file's root is its leaf hash. The
empty file is one empty chunk: its root is ``BLAKE2b-256(0x00)`` and its chunk
count is 1; ``merkle_root([])`` returns that same root.

``file_id = "f1" + lowercase hex(root)``. The receiver of a chunk derives the
chunk count from the file size in the signed catalogue
(:func:`chunk_count_for_size`), asks any holder for chunk ``i`` with its proof
(the sibling hashes from the leaf upwards, skipping promoted levels), and calls
:func:`verify_chunk` before passing a single byte on.

Leaf pages
----------
A receiver that verifies a whole stream wants every leaf hash, not one proof
per chunk: with the leaves of a run of chunks in hand, each chunk check is a
single hash. The leaves travel in **pages** of :data:`LEAF_PAGE` (a power of
two, ``2**k``) consecutive leaves, so that no message grows with the file
(a 4 GiB file has 32 pages of 16 KiB; the largest file allowed, 8192 pages).
Because pages are aligned on ``2**k`` leaves, the root of page ``p``'s leaves
(folded with the same odd-node rule) *is* node ``p`` of level ``k`` of the
file's tree, and the tree over the page roots is the top of the file's tree::

    merkle_root(page_roots(leaves)) == merkle_root(leaves)

A page body is the page's leaves followed by the page root's proof among the
page roots (:func:`leaf_page_body`); :func:`verify_leaf_page` checks it
against the root in ``file_id`` before any of its leaves is used. Both sides
derive every length from ``chunk_count`` (from the signed record), so a body
carries no framing. A one-page file's page 0 is exactly its leaf list.

This module is pure: it never reads files. :class:`FileIdBuilder` is fed the
bytes by its caller (the analysis worker), in pieces of any size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .errors import LocalProtocolError, RemoteProtocolError
from .limits import CHUNK_SIZE, LEAF_PAGE, MAX_CHUNKS

__all__ = [
    "CHUNK_SIZE",
    "EMPTY_ROOT",
    "LEAF_PAGE",
    "FileIdBuilder",
    "chunk_count_for_size",
    "chunk_hash",
    "file_id_of",
    "leaf_page_body",
    "leaf_page_count",
    "leaf_page_size",
    "leaf_page_span",
    "merkle_root",
    "page_roots",
    "parse_file_id",
    "proof",
    "verify_chunk",
    "verify_leaf_page",
]

_LEAF = b"\x00"
_NODE = b"\x01"
_PREFIX = "f1"
HASH_SIZE = 32


def chunk_hash(data: bytes) -> bytes:
    """Leaf hash of one chunk: BLAKE2b-256(0x00 || data)."""
    if len(data) > CHUNK_SIZE:
        raise LocalProtocolError(f"chunk of {len(data)} bytes exceeds CHUNK_SIZE")
    return hashlib.blake2b(_LEAF + bytes(data), digest_size=HASH_SIZE).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.blake2b(_NODE + left + right, digest_size=HASH_SIZE).digest()


EMPTY_ROOT = chunk_hash(b"")


def chunk_count_for_size(size: int) -> int:
    """Number of chunks of a file of ``size`` bytes (the empty file has one)."""
    if size < 0:
        raise LocalProtocolError("negative size")
    return max(1, -(-size // CHUNK_SIZE))


def _check_leaves(leaf_hashes: Sequence[bytes]) -> None:
    if len(leaf_hashes) > MAX_CHUNKS:
        raise LocalProtocolError("too many chunks")
    for h in leaf_hashes:
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise LocalProtocolError("leaf hashes must be 32-byte bytes")


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Root of the tree over ``leaf_hashes`` (odd last node promoted)."""
    _check_leaves(leaf_hashes)
    level = [bytes(h) for h in leaf_hashes]
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        nxt = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling hashes proving leaf ``index``, from the leaf upwards."""
    _check_leaves(leaf_hashes)
    level = [bytes(h) for h in leaf_hashes] or [EMPTY_ROOT]
    if not 0 <= index < len(level):
        raise LocalProtocolError(f"index {index} out of range 0..{len(level) - 1}")
    out: list[bytes] = []
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            out.append(level[sibling])
        nxt = [_node(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, i = nxt, i // 2
    return out


def file_id_of(root: bytes) -> str:
    """Printable file id: ``"f1" + hex(root)``."""
    if not isinstance(root, (bytes, bytearray)) or len(root) != HASH_SIZE:
        raise LocalProtocolError("root must be 32 bytes")
    return _PREFIX + bytes(root).hex()


def parse_file_id(s: str) -> bytes:
    """The 32-byte root of a file id; ``RemoteProtocolError("bad_file_id")`` if malformed."""
    if not isinstance(s, str) or len(s) != 2 + 2 * HASH_SIZE or not s.startswith(_PREFIX):
        raise RemoteProtocolError("bad_file_id", f"expected 'f1' + 64 hex digits, got {s!r:.80}")
    body = s[2:]
    if body != body.lower():
        raise RemoteProtocolError("bad_file_id", "hex digits must be lowercase")
    try:
        return bytes.fromhex(body)
    except ValueError as exc:
        raise RemoteProtocolError("bad_file_id", "not hexadecimal") from exc


def verify_chunk(
    file_id_or_root: str | bytes,
    index: int,
    chunk_count: int,
    data: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check chunk ``index`` of a ``chunk_count``-chunk file against its root.

    Raises ``RemoteProtocolError("chunk_mismatch")`` if the data, its length or
    the proof do not lead to the root; returns ``None`` when the chunk is good.
    """
    root = parse_file_id(file_id_or_root) if isinstance(file_id_or_root, str) else file_id_or_root
    if not isinstance(root, (bytes, bytearray)) or len(root) != HASH_SIZE:
        raise LocalProtocolError("root must be 32 bytes or a file id string")
    if not 1 <= chunk_count <= MAX_CHUNKS or not 0 <= index < chunk_count:
        raise LocalProtocolError(f"chunk {index} of {chunk_count} is out of range")
    last = index == chunk_count - 1
    n = len(data)
    if (not last and n != CHUNK_SIZE) or (last and not (0 < n <= CHUNK_SIZE or chunk_count == 1)) or n > CHUNK_SIZE:
        raise RemoteProtocolError("chunk_mismatch", f"chunk {index} has wrong length {n}")
    if _climb(chunk_hash(data), index, chunk_count, proof, f"chunk {index}") != bytes(root):
        raise RemoteProtocolError("chunk_mismatch", f"chunk {index} does not match the file id")


def _climb(h: bytes, index: int, width: int, proof: Sequence[bytes], what: str) -> bytes:
    """The root reached from node ``h`` at ``index`` of a level ``width`` wide, consuming ``proof`` exactly."""
    steps = iter(proof)
    i = index
    try:
        while width > 1:
            if i % 2:
                h = _node(_sibling(next(steps)), h)
            elif i + 1 < width:
                h = _node(h, _sibling(next(steps)))
            i, width = i // 2, (width + 1) // 2
    except StopIteration:
        raise RemoteProtocolError("chunk_mismatch", f"proof for {what} is too short") from None
    if next(steps, None) is not None:
        raise RemoteProtocolError("chunk_mismatch", f"proof for {what} is too long")
    return h


def _sibling(h: object) -> bytes:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        raise RemoteProtocolError("chunk_mismatch", "proof hashes must be 32 bytes")
    return bytes(h)


# -- leaf pages -------------------------------------------------------------------


def _check_page_size(page_size: int) -> None:
    if page_size < 1 or page_size & (page_size - 1):
        raise LocalProtocolError("page_size must be a power of two")


def _check_count(chunk_count: int) -> None:
    if not 1 <= chunk_count <= MAX_CHUNKS:
        raise LocalProtocolError(f"chunk_count {chunk_count} is out of range 1..{MAX_CHUNKS}")


def leaf_page_count(chunk_count: int, page_size: int = LEAF_PAGE) -> int:
    """Pages of leaf hashes of a ``chunk_count``-chunk file (at least one)."""
    _check_count(chunk_count)
    _check_page_size(page_size)
    return -(-chunk_count // page_size)


def leaf_page_span(chunk_count: int, page: int, page_size: int = LEAF_PAGE) -> tuple[int, int]:
    """``(first leaf, number of leaves)`` of page ``page``."""
    pages = leaf_page_count(chunk_count, page_size)
    if not 0 <= page < pages:
        raise LocalProtocolError(f"page {page} out of range 0..{pages - 1}")
    first = page * page_size
    return first, min(page_size, chunk_count - first)


def _proof_length(index: int, width: int) -> int:
    n = 0
    while width > 1:
        if index % 2 or index + 1 < width:
            n += 1
        index, width = index // 2, (width + 1) // 2
    return n


def leaf_page_size(chunk_count: int, page: int, page_size: int = LEAF_PAGE) -> int:
    """Exact bytes of page ``page``'s body: its leaves and its proof, 32 bytes each."""
    _, count = leaf_page_span(chunk_count, page, page_size)
    return HASH_SIZE * (count + _proof_length(page, leaf_page_count(chunk_count, page_size)))


def page_roots(leaf_hashes: Sequence[bytes], page_size: int = LEAF_PAGE) -> list[bytes]:
    """The root of each page of leaves: level ``log2(page_size)`` of the file's tree."""
    _check_leaves(leaf_hashes)
    _check_page_size(page_size)
    if not leaf_hashes:
        return [EMPTY_ROOT]
    return [merkle_root(leaf_hashes[i : i + page_size]) for i in range(0, len(leaf_hashes), page_size)]


def leaf_page_body(page_leaves: Sequence[bytes], roots: Sequence[bytes], page: int) -> bytes:
    """What a holder sends for page ``page``: its leaves, then the proof of its root among ``roots``.

    ``roots`` is :func:`page_roots` of the whole file (a holder keeps it, not
    every leaf); ``page_leaves`` are that page's leaves.
    """
    _check_leaves(page_leaves)
    if merkle_root(page_leaves) != bytes(roots[page]):
        raise LocalProtocolError(f"the leaves of page {page} do not fold to its root")
    return b"".join(bytes(h) for h in page_leaves) + b"".join(proof(roots, page))


def verify_leaf_page(
    file_id_or_root: str | bytes, chunk_count: int, page: int, body: bytes, page_size: int = LEAF_PAGE
) -> list[bytes]:
    """The leaves of page ``page`` from a holder's ``body``, checked against the root.

    Raises ``RemoteProtocolError("chunk_mismatch")`` if the body has the wrong
    length or its leaves and proof do not lead to the root.
    """
    root = parse_file_id(file_id_or_root) if isinstance(file_id_or_root, str) else bytes(file_id_or_root)
    if len(root) != HASH_SIZE:
        raise LocalProtocolError("root must be 32 bytes or a file id string")
    _, count = leaf_page_span(chunk_count, page, page_size)
    expected = leaf_page_size(chunk_count, page, page_size)
    if len(body) != expected:
        raise RemoteProtocolError("chunk_mismatch", f"leaf page {page} has {len(body)} bytes, expected {expected}")
    hashes = [bytes(body[i : i + HASH_SIZE]) for i in range(0, len(body), HASH_SIZE)]
    leaves, steps = hashes[:count], hashes[count:]
    top = _climb(merkle_root(leaves), page, leaf_page_count(chunk_count, page_size), steps, f"leaf page {page}")
    if top != root:
        raise RemoteProtocolError("chunk_mismatch", f"leaf page {page} does not match the file id")
    return leaves


class FileIdBuilder:
    """Incremental file id: ``update()`` with pieces of any size, then ``finish()``.

    >>> b = FileIdBuilder(); b.update(b"abc"); fid, leaves = b.finish()
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._leaves: list[bytes] = []
        self._size = 0
        self._done = False

    @property
    def size(self) -> int:
        """Bytes fed so far."""
        return self._size

    def update(self, data: bytes) -> None:
        if self._done:
            raise LocalProtocolError("update() after finish()")
        self._size += len(data)
        if self._size > CHUNK_SIZE * MAX_CHUNKS:
            raise LocalProtocolError("file too large for a file id")
        view = memoryview(data)
        if self._buf:
            take = min(CHUNK_SIZE - len(self._buf), len(view))
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) == CHUNK_SIZE and view:
                self._leaves.append(chunk_hash(bytes(self._buf)))
                self._buf.clear()
        # Keep the last (possibly full) chunk buffered: finish() hashes it.
        while len(view) > CHUNK_SIZE:
            self._leaves.append(chunk_hash(bytes(view[:CHUNK_SIZE])))
            view = view[CHUNK_SIZE:]
        if view:  # the buffer is empty here: it was either drained or never used
            self._buf += view

    def finish(self) -> tuple[str, list[bytes]]:
        """``(file_id, leaf_hashes)``; the builder cannot be used afterwards."""
        if self._done:
            raise LocalProtocolError("finish() called twice")
        self._done = True
        if self._buf or not self._leaves:
            self._leaves.append(chunk_hash(bytes(self._buf)))
            self._buf.clear()
        return file_id_of(merkle_root(self._leaves)), list(self._leaves)
