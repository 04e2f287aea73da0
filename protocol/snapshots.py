"""Signed snapshots: a log's whole catalogue at one ``seq``, verifiable on its own.

Theory of operation
-------------------
The owner sorts its live records by ``track_key`` and cuts them into pages of
:data:`MAX_SNAPSHOT_PAGE` records. Each page is hashed
(``digest("snapshot-page", page)``) and a signed :class:`Manifest` lists the
page hashes together with the log's ``(seq, hash)`` at that point and the
record count. A receiver verifies the manifest signature once, then each page
against its hash as it arrives (:class:`SnapshotReceiver`), so a 100k-track
catalogue arrives in ~200 bounded messages and is never trusted before it is
checked. After the last page the receiver's :class:`~.catalogue.LogReplica`
jumps to ``(seq, hash)`` and continues with entries ``seq+1...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import canonical
from .canonical import b2h, h2b
from .catalogue import _fields, _int
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import MAX_SEQ, MAX_SNAPSHOT_PAGE, MAX_SNAPSHOT_PAGES
from .records import TrackRecord

__all__ = ["Manifest", "Page", "make_snapshot", "SnapshotReceiver"]


@dataclass(frozen=True)
class Page:
    log: NodeId
    seq: int
    index: int
    records: tuple[TrackRecord, ...]

    def to_obj(self) -> dict[str, Any]:
        return {"log": str(self.log), "seq": self.seq, "page": self.index, "tracks": [r.to_obj() for r in self.records]}

    @property
    def hash(self) -> bytes:
        return canonical.digest("snapshot-page", self.to_obj())

    @classmethod
    def from_obj(cls, obj: Any) -> Page:
        o = _fields(obj, {"log", "seq", "page", "tracks"}, "snapshot page")
        if not isinstance(o["tracks"], list) or len(o["tracks"]) > MAX_SNAPSHOT_PAGE:
            raise RemoteProtocolError("bad_field", f"a page holds at most {MAX_SNAPSHOT_PAGE} tracks")
        return cls(NodeId.parse(o["log"]), _int(o, "seq", 0, MAX_SEQ), _int(o, "page", 0, MAX_SNAPSHOT_PAGES - 1),
                   tuple(TrackRecord.from_obj(t) for t in o["tracks"]))


@dataclass(frozen=True)
class Manifest:
    log: NodeId
    seq: int
    hash: bytes
    time: int
    count: int
    pages: tuple[bytes, ...]
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"log": str(self.log), "seq": self.seq, "hash": b2h(self.hash), "time": self.time,
                "count": self.count, "pages": [b2h(p) for p in self.pages]}

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @classmethod
    def from_obj(cls, obj: Any) -> Manifest:
        o = _fields(obj, {"log", "seq", "hash", "time", "count", "pages", "sig"}, "snapshot manifest")
        if not isinstance(o["pages"], list) or len(o["pages"]) > MAX_SNAPSHOT_PAGES:
            raise RemoteProtocolError("bad_field", f"at most {MAX_SNAPSHOT_PAGES} pages")
        return cls(NodeId.parse(o["log"]), _int(o, "seq", 0, MAX_SEQ), h2b(o["hash"], 32, what="hash"),
                   _int(o, "time"), _int(o, "count", 0, MAX_SNAPSHOT_PAGE * MAX_SNAPSHOT_PAGES),
                   tuple(h2b(p, 32, what="page hash") for p in o["pages"]), h2b(o["sig"], 64, what="sig"))

    def verify(self) -> None:
        self.log.verify("snapshot", self.body(), self.sig)
        expect = -(-self.count // MAX_SNAPSHOT_PAGE)
        if len(self.pages) != expect:
            raise RemoteProtocolError("snapshot_mismatch", f"{self.count} records need {expect} pages")


def make_snapshot(identity: NodeIdentity, seq: int, last_hash: bytes, records: list[TrackRecord],
                  now_ms: int) -> tuple[Manifest, list[Page]]:
    """The owner's snapshot of its live ``records`` at ``(seq, last_hash)``."""
    recs = sorted(records, key=lambda r: r.track_key)
    if any(a.track_key == b.track_key for a, b in zip(recs, recs[1:])):
        raise LocalProtocolError("duplicate track_key in snapshot")
    if len(recs) > MAX_SNAPSHOT_PAGE * MAX_SNAPSHOT_PAGES:
        raise LocalProtocolError("catalogue too large for one snapshot")
    node = identity.node_id
    pages = [Page(node, seq, i // MAX_SNAPSHOT_PAGE, tuple(recs[i:i + MAX_SNAPSHOT_PAGE]))
             for i in range(0, len(recs), MAX_SNAPSHOT_PAGE)]
    body = {"log": str(node), "seq": seq, "hash": b2h(last_hash), "time": now_ms, "count": len(recs),
            "pages": [b2h(p.hash) for p in pages]}
    m = Manifest(node, seq, last_hash, now_ms, len(recs), tuple(p.hash for p in pages), identity.sign("snapshot", body))
    return m, pages


class SnapshotReceiver:
    """Collects and verifies the pages of one manifest, in any order."""

    def __init__(self, manifest: Manifest) -> None:
        manifest.verify()
        self.manifest = manifest
        self.pages: dict[int, Page] = {}

    @property
    def done(self) -> bool:
        return len(self.pages) == len(self.manifest.pages)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(len(self.manifest.pages)) if i not in self.pages]

    def add_page(self, page: Page) -> bool:
        """Verify and keep ``page``; True if it was new. State unchanged on refusal."""
        m = self.manifest
        if page.log != m.log:
            raise RemoteProtocolError("wrong_key", "page of another log")
        if page.seq != m.seq or page.index >= len(m.pages) or page.hash != m.pages[page.index]:
            raise RemoteProtocolError("snapshot_mismatch", f"page {page.index} does not match the manifest")
        keys = [r.track_key for r in page.records]
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            raise RemoteProtocolError("snapshot_mismatch", "page records are not sorted by track_key")
        full = page.index < len(m.pages) - 1
        if (full and len(keys) != MAX_SNAPSHOT_PAGE) or not keys:
            raise RemoteProtocolError("snapshot_mismatch", "page has the wrong number of records")
        new = page.index not in self.pages
        self.pages[page.index] = page
        return new

    def records(self) -> list[TrackRecord]:
        if not self.done:
            raise LocalProtocolError("snapshot is not complete")
        out = [r for i in range(len(self.pages)) for r in self.pages[i].records]
        if len(out) != self.manifest.count:
            raise RemoteProtocolError("snapshot_mismatch", "record count differs from the manifest")
        return out
