"""Signed, hash-chained catalogue logs, their heads, and the replica that checks them.

Theory of operation
-------------------
Each node owns one append-only log. Entry ``n`` (``seq`` from 1) carries the
hash of entry ``n-1`` in ``prev`` (the zero hash for ``seq`` 1), an ``op``
(``add`` | ``update`` | ``remove``), the ``key`` of the track and, except for
``remove``, the full :class:`~.records.TrackRecord`. The owner signs each
entry; its hash is ``digest("entry", body)`` over the body without ``sig``.
A signed :class:`Head` ``(log, seq, hash, time)`` summarises the log; the empty
log's head has ``seq`` 0 and the zero hash.

Anyone may relay anyone's log. A :class:`LogReplica` is the receiver's view of
one log: the last verified ``(seq, hash)`` and the newest verified head. It
refuses, leaving its state unchanged:

=====================================  ===============
an entry or head naming another log    ``wrong_key``
a signature that does not verify       ``bad_signature``
an entry with ``seq`` <= ours           ``rollback``
an entry with ``seq`` > ours + 1        ``gap``
``prev`` != our hash, or a head/entry   ``fork``
with our ``seq`` but another hash
a head older than our newest head      ``rollback``
=====================================  ===============

Batches are all-or-nothing. The replica keeps no track data: verified entries
are handed to the caller (the node's store, or the simulator's memory store).
:mod:`.snapshots` compacts a log so a newcomer need not replay it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import canonical
from .canonical import b2h, h2b
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import MAX_INT, MAX_SEQ
from .records import TrackRecord

__all__ = ["ZERO_HASH", "OPS", "Entry", "Head", "CatalogueLog", "LogReplica"]

ZERO_HASH = bytes(32)
OPS = ("add", "update", "remove")


def _int(obj: dict[str, Any], name: str, lo: int = 0, hi: int = MAX_INT) -> int:
    v = obj.get(name)
    if type(v) is not int or not lo <= v <= hi:
        raise RemoteProtocolError("bad_field", f"{name} must be an integer in {lo}..{hi}")
    return v


def _fields(obj: Any, names: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RemoteProtocolError("malformed", f"{what} must be an object")
    if set(obj) != names:
        raise RemoteProtocolError("bad_field", f"{what} fields {sorted(obj)} != {sorted(names)}")
    return obj


@dataclass(frozen=True)
class Entry:
    log: NodeId
    seq: int
    prev: bytes
    op: str
    key: str
    record: TrackRecord | None
    time: int
    sig: bytes = field(repr=False)
    hash: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise LocalProtocolError(f"op must be one of {OPS}")
        if (self.record is None) != (self.op == "remove"):
            raise LocalProtocolError("remove carries no record; add/update carry one")
        if self.record is not None and self.record.track_key != self.key:
            raise LocalProtocolError("record.track_key must equal the entry key")
        if not 1 <= self.seq <= MAX_SEQ or len(self.prev) != 32 or not 0 <= self.time <= MAX_INT:
            raise LocalProtocolError("bad seq, prev or time")
        object.__setattr__(self, "hash", canonical.digest("entry", self.body()))

    def body(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "log": str(self.log), "seq": self.seq, "prev": b2h(self.prev),
            "op": self.op, "key": self.key, "time": self.time,
        }
        if self.record is not None:
            d["track"] = self.record.to_obj()
        return d

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @classmethod
    def from_obj(cls, obj: Any) -> Entry:
        """Parse (not verify: see :meth:`verify`)."""
        base = {"log", "seq", "prev", "op", "key", "time", "sig"}
        names = base | {"track"} if isinstance(obj, dict) and "track" in obj else base
        o = _fields(obj, names, "entry")
        if o["op"] not in OPS or not isinstance(o["key"], str):
            raise RemoteProtocolError("bad_field", "entry op/key")
        record = TrackRecord.from_obj(o["track"]) if "track" in o else None
        try:
            return cls(
                log=NodeId.parse(o["log"]), seq=_int(o, "seq", 1, MAX_SEQ), prev=h2b(o["prev"], 32, what="prev"),
                op=o["op"], key=o["key"], record=record, time=_int(o, "time"), sig=h2b(o["sig"], 64, what="sig"),
            )
        except LocalProtocolError as exc:
            raise RemoteProtocolError("bad_field", f"entry: {exc}") from exc

    def verify(self) -> None:
        self.log.verify("entry", self.body(), self.sig)


@dataclass(frozen=True)
class Head:
    log: NodeId
    seq: int
    hash: bytes
    time: int
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"log": str(self.log), "seq": self.seq, "hash": b2h(self.hash), "time": self.time}

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @classmethod
    def from_obj(cls, obj: Any) -> Head:
        o = _fields(obj, {"log", "seq", "hash", "time", "sig"}, "head")
        return cls(
            log=NodeId.parse(o["log"]), seq=_int(o, "seq", 0, MAX_SEQ), hash=h2b(o["hash"], 32, what="hash"),
            time=_int(o, "time"), sig=h2b(o["sig"], 64, what="sig"),
        )

    @classmethod
    def sign(cls, identity: NodeIdentity, seq: int, hash: bytes, now_ms: int) -> Head:
        body = {"log": str(identity.node_id), "seq": seq, "hash": b2h(hash), "time": now_ms}
        return cls(identity.node_id, seq, hash, now_ms, identity.sign("head", body))

    def verify(self) -> None:
        self.log.verify("head", self.body(), self.sig)


class CatalogueLog:
    """The owner's side: appends signed entries to its own log.

    It remembers only ``(seq, hash)``; the caller stores the entries. Restore
    after a restart with ``CatalogueLog(identity, seq, hash)``.
    """

    def __init__(self, identity: NodeIdentity, seq: int = 0, last_hash: bytes = ZERO_HASH) -> None:
        self.identity = identity
        self.seq = seq
        self.hash = last_hash

    def append(self, op: str, now_ms: int, *, record: TrackRecord | None = None, key: str | None = None) -> Entry:
        if key is None:
            if record is None:
                raise LocalProtocolError("append() needs a record or a key")
            key = record.track_key
        body_entry = Entry(self.identity.node_id, self.seq + 1, self.hash, op, key, record, now_ms, sig=bytes(64))
        sig = self.identity.sign("entry", body_entry.body())
        entry = Entry(self.identity.node_id, self.seq + 1, self.hash, op, key, record, now_ms, sig=sig)
        self.seq, self.hash = entry.seq, entry.hash
        return entry

    def head(self, now_ms: int) -> Head:
        return Head.sign(self.identity, self.seq, self.hash, now_ms)


class LogReplica:
    """A receiver's verified view of one node's log (see the module docstring)."""

    __slots__ = ("log", "seq", "hash", "head")

    def __init__(self, log: NodeId, seq: int = 0, last_hash: bytes = ZERO_HASH, head: Head | None = None) -> None:
        self.log = log
        self.seq = seq
        self.hash = last_hash
        self.head = head

    @property
    def target(self) -> int:
        """The seq we know exists (from the newest head)."""
        return max(self.seq, self.head.seq if self.head else 0)

    @property
    def behind(self) -> bool:
        return self.head is not None and self.head.seq > self.seq

    def check_head(self, head: Head) -> bool:
        """Verify ``head``; True if it is newer than anything we know. Does not mutate."""
        if head.log != self.log:
            raise RemoteProtocolError("wrong_key", f"head of {head.log.short} offered for {self.log.short}")
        head.verify()
        known = self.head
        if known is not None:
            if head.seq < known.seq:
                raise RemoteProtocolError("rollback", f"head seq {head.seq} < known {known.seq}")
            if head.seq == known.seq:
                if head.hash != known.hash:
                    raise RemoteProtocolError("fork", f"two heads with seq {head.seq}")
                return head.time > known.time
        if head.seq < self.seq:
            raise RemoteProtocolError("rollback", f"head seq {head.seq} < verified seq {self.seq}")
        if head.seq == self.seq and head.hash != self.hash:
            raise RemoteProtocolError("fork", f"head at seq {head.seq} disagrees with the verified log")
        return True

    def accept_head(self, head: Head) -> bool:
        """Verify and keep ``head`` if newer; True if it told us something new."""
        newer = self.check_head(head)
        if newer:
            self.head = head
        return newer

    def check_entries(self, entries: list[Entry]) -> tuple[int, bytes]:
        """Verify a batch against our state; returns the resulting ``(seq, hash)``."""
        seq, h = self.seq, self.hash
        head = self.head
        for e in entries:
            if e.log != self.log:
                raise RemoteProtocolError("wrong_key", f"entry of {e.log.short} offered for {self.log.short}")
            if e.seq <= seq:
                raise RemoteProtocolError("rollback", f"entry seq {e.seq} <= verified seq {seq}")
            if e.seq > seq + 1:
                raise RemoteProtocolError("gap", f"entry seq {e.seq} after verified seq {seq}")
            if e.prev != h:
                raise RemoteProtocolError("fork", f"entry {e.seq} does not chain onto our entry {seq}")
            e.verify()
            if head is not None and e.seq == head.seq and e.hash != head.hash:
                raise RemoteProtocolError("fork", f"entry {e.seq} disagrees with the signed head")
            seq, h = e.seq, e.hash
        return seq, h

    def apply_entries(self, entries: list[Entry]) -> None:
        """All-or-nothing: verify the batch, then advance."""
        self.seq, self.hash = self.check_entries(entries)

    def reset_to(self, seq: int, last_hash: bytes) -> None:
        """Jump to a verified snapshot point (see :mod:`.snapshots`)."""
        if seq < self.seq:
            raise LocalProtocolError("a snapshot may not move a replica backwards")
        self.seq, self.hash = seq, last_hash
