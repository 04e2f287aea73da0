"""Gossip and failure-detection messages: types, versions, bounds, parsing.

Every message is one canonical JSON object::

    {"v": 1, "type": "<name>", ...fields..., "up": [<swim update>, ...]}

``v`` must be in :data:`SUPPORTED_VERSIONS` (``unknown_version``), ``type`` one
of :data:`TYPES` (``unknown_type``), the bytes at most
:data:`MAX_MESSAGE_BYTES` (``oversized``), and fields exactly those of the
type (``bad_field``). ``up`` (optional, at most :data:`MAX_PIGGYBACK`) carries
SWIM membership updates piggybacked on any message. The authenticated sender
is not in the message: the transport (``peer_auth``) establishes it.

:func:`parse` turns bytes into a frozen message object or raises
``RemoteProtocolError``; :func:`serialize` is its inverse and raises
``LocalProtocolError`` if we try to build something out of bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from . import canonical
from .canonical import b2h, h2b
from .catalogue import Entry, Head
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId
from .limits import (
    MAX_ENTRIES_PER_MESSAGE,
    MAX_HEADS_PER_MESSAGE,
    MAX_IDS_PER_MESSAGE,
    MAX_INT,
    MAX_MESSAGE_BYTES,
    MAX_PIGGYBACK,
    MAX_SEQ,
    MAX_WANTS_PER_MESSAGE,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
)
from .membership import MemberRecord, parse_record
from .snapshots import Manifest, Page

__all__ = [
    "Update", "Message", "Ping", "Sync", "Ack", "PingReq", "Digest", "DigestItem", "Want", "Entries",
    "Snapshot", "SnapshotPage", "Records", "TYPES", "parse", "serialize", "STATES",
]

STATES = ("alive", "suspect", "dead")


def _seq(v: Any, what: str, lo: int = 0) -> int:
    if type(v) is not int or not lo <= v <= MAX_SEQ:
        raise RemoteProtocolError("bad_field", f"{what}: integer in {lo}..{MAX_SEQ}")
    return v


def _list(v: Any, limit: int, what: str) -> list[Any]:
    if not isinstance(v, list) or len(v) > limit:
        raise RemoteProtocolError("bad_field", f"{what}: a list of at most {limit}")
    return v


@dataclass(frozen=True)
class Update:
    """SWIM dissemination: ``node`` is ``state`` at incarnation ``inc``."""

    node: NodeId
    state: str
    inc: int

    def to_obj(self) -> dict[str, Any]:
        return {"node": str(self.node), "state": self.state, "inc": self.inc}

    @classmethod
    def from_obj(cls, o: Any) -> Update:
        if not isinstance(o, dict) or set(o) != {"node", "state", "inc"} or o["state"] not in STATES:
            raise RemoteProtocolError("bad_field", "swim update")
        return cls(NodeId.parse(o["node"]), o["state"], _seq(o["inc"], "inc"))


@dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""
    up: tuple[Update, ...] = field(default=(), kw_only=True)

    def fields_obj(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_obj(self) -> dict[str, Any]:
        d = {"v": PROTOCOL_VERSION, "type": self.TYPE, **self.fields_obj()}
        if self.up:
            d["up"] = [u.to_obj() for u in self.up]
        return d

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Message:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class Ping(Message):
    """Probe; carries the sender's digest summaries (anti-entropy piggyback)."""

    TYPE: ClassVar[str] = "ping"
    seq: int
    logs: bytes  # 16-byte summary of catalogue heads
    members: bytes  # 16-byte summary of membership records

    def fields_obj(self) -> dict[str, Any]:
        return {"seq": self.seq, "logs": b2h(self.logs), "members": b2h(self.members)}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Ping:
        return cls(_seq(o["seq"], "seq"), h2b(o["logs"], 16, what="logs"), h2b(o["members"], 16, what="members"))


@dataclass(frozen=True)
class Sync(Message):
    """The summaries alone, sent to extra peers while a node has fresh news."""

    TYPE: ClassVar[str] = "sync"
    logs: bytes
    members: bytes

    def fields_obj(self) -> dict[str, Any]:
        return {"logs": b2h(self.logs), "members": b2h(self.members)}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Sync:
        return cls(h2b(o["logs"], 16, what="logs"), h2b(o["members"], 16, what="members"))


@dataclass(frozen=True)
class Ack(Message):
    TYPE: ClassVar[str] = "ack"
    seq: int

    def fields_obj(self) -> dict[str, Any]:
        return {"seq": self.seq}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Ack:
        return cls(_seq(o["seq"], "seq"))


@dataclass(frozen=True)
class PingReq(Message):
    """Ask the receiver to probe ``target`` for us and ack ``seq`` if it answers."""

    TYPE: ClassVar[str] = "ping_req"
    seq: int
    target: NodeId

    def fields_obj(self) -> dict[str, Any]:
        return {"seq": self.seq, "target": str(self.target)}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> PingReq:
        return cls(_seq(o["seq"], "seq"), NodeId.parse(o["target"]))


@dataclass(frozen=True)
class DigestItem:
    log: NodeId
    seq: int
    hash: bytes  # first 8 bytes of the head hash

    def to_obj(self) -> list[Any]:
        return [str(self.log), self.seq, b2h(self.hash)]

    @classmethod
    def from_obj(cls, o: Any) -> DigestItem:
        if not isinstance(o, list) or len(o) != 3:
            raise RemoteProtocolError("bad_field", "digest item is [log, seq, hash8]")
        return cls(NodeId.parse(o[0]), _seq(o[1], "seq"), h2b(o[2], 8, what="hash8"))


@dataclass(frozen=True)
class Digest(Message):
    """Full digest: every log's (seq, hash prefix) and every membership record id.

    ``reply`` is true when answering a ping/sync whose summary differed; the
    receiver then pushes what only it has (a ``digest`` with ``reply`` false
    listing just those logs) and asks for the rest (``want``).
    """

    TYPE: ClassVar[str] = "digest"
    reply: bool
    logs: tuple[DigestItem, ...]
    members: tuple[bytes, ...]

    def fields_obj(self) -> dict[str, Any]:
        return {"reply": self.reply, "logs": [i.to_obj() for i in self.logs], "members": [b2h(m) for m in self.members]}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Digest:
        if type(o["reply"]) is not bool:
            raise RemoteProtocolError("bad_field", "reply")
        logs = tuple(DigestItem.from_obj(i) for i in _list(o["logs"], MAX_HEADS_PER_MESSAGE, "logs"))
        members = tuple(h2b(m, 32, what="record id") for m in _list(o["members"], MAX_IDS_PER_MESSAGE, "members"))
        return cls(o["reply"], logs, members)


@dataclass(frozen=True)
class Want(Message):
    """Ask for log entries from ``from_seq`` on, and for membership records by id."""

    TYPE: ClassVar[str] = "want"
    logs: tuple[tuple[NodeId, int], ...]
    members: tuple[bytes, ...]

    def fields_obj(self) -> dict[str, Any]:
        return {"logs": [[str(n), s] for n, s in self.logs], "members": [b2h(m) for m in self.members]}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Want:
        logs = []
        for i in _list(o["logs"], MAX_WANTS_PER_MESSAGE, "logs"):
            if not isinstance(i, list) or len(i) != 2:
                raise RemoteProtocolError("bad_field", "want item is [log, from_seq]")
            logs.append((NodeId.parse(i[0]), _seq(i[1], "from_seq", 1)))
        members = tuple(h2b(m, 32, what="record id") for m in _list(o["members"], MAX_IDS_PER_MESSAGE, "members"))
        return cls(tuple(logs), members)


@dataclass(frozen=True)
class Entries(Message):
    """A run of consecutive entries of one log, with its newest signed head."""

    TYPE: ClassVar[str] = "entries"
    head: Head
    entries: tuple[Entry, ...]

    def fields_obj(self) -> dict[str, Any]:
        return {"head": self.head.to_obj(), "entries": [e.to_obj() for e in self.entries]}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Entries:
        es = tuple(Entry.from_obj(e) for e in _list(o["entries"], MAX_ENTRIES_PER_MESSAGE, "entries"))
        return cls(Head.from_obj(o["head"]), es)


@dataclass(frozen=True)
class Snapshot(Message):
    """A snapshot manifest, sent when the wanted entries were compacted away."""

    TYPE: ClassVar[str] = "snapshot"
    head: Head
    manifest: Manifest

    def fields_obj(self) -> dict[str, Any]:
        return {"head": self.head.to_obj(), "manifest": self.manifest.to_obj()}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Snapshot:
        return cls(Head.from_obj(o["head"]), Manifest.from_obj(o["manifest"]))


@dataclass(frozen=True)
class SnapshotPage(Message):
    TYPE: ClassVar[str] = "snapshot_page"
    page: Page

    def fields_obj(self) -> dict[str, Any]:
        return {"page": self.page.to_obj()}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> SnapshotPage:
        return cls(Page.from_obj(o["page"]))


@dataclass(frozen=True)
class Records(Message):
    """Membership records (admissions, revocations)."""

    TYPE: ClassVar[str] = "records"
    records: tuple[MemberRecord, ...]

    def fields_obj(self) -> dict[str, Any]:
        return {"records": [r.to_obj() for r in self.records]}

    @classmethod
    def from_fields(cls, o: dict[str, Any]) -> Records:
        return cls(tuple(parse_record(r) for r in _list(o["records"], MAX_IDS_PER_MESSAGE, "records")))


TYPES: dict[str, type[Message]] = {
    c.TYPE: c for c in (Ping, Sync, Ack, PingReq, Digest, Want, Entries, Snapshot, SnapshotPage, Records)
}


def _field_names(cls: type[Message]) -> set[str]:
    return {f.name for f in fields(cls)} - {"up"}


_FIELDS = {t: _field_names(c) for t, c in TYPES.items()}


def serialize(msg: Message) -> bytes:
    if not isinstance(msg, Message) or type(msg) not in TYPES.values():
        raise LocalProtocolError(f"not a protocol message: {msg!r:.60}")
    if len(msg.up) > MAX_PIGGYBACK:
        raise LocalProtocolError("too many piggybacked updates")
    data = canonical.encode(msg.to_obj())
    if len(data) > MAX_MESSAGE_BYTES:
        raise LocalProtocolError(f"message of {len(data)} bytes exceeds MAX_MESSAGE_BYTES")
    return data


def parse(data: bytes) -> Message:
    """Bytes -> message; ``RemoteProtocolError`` with a stable code otherwise."""
    obj = canonical.decode(data, max_bytes=MAX_MESSAGE_BYTES)
    if not isinstance(obj, dict):
        raise RemoteProtocolError("malformed", "a message is an object")
    v = obj.get("v")
    if v not in SUPPORTED_VERSIONS or type(v) is not int:
        raise RemoteProtocolError("unknown_version", f"protocol version {v!r} is not supported (we speak {PROTOCOL_VERSION})")
    t = obj.get("type")
    cls = TYPES.get(t) if isinstance(t, str) else None
    if cls is None:
        raise RemoteProtocolError("unknown_type", f"message type {t!r:.40} is unknown")
    body = {k: v for k, v in obj.items() if k not in ("v", "type", "up")}
    if set(body) != _FIELDS[t]:
        raise RemoteProtocolError("bad_field", f"{t} fields {sorted(body)} != {sorted(_FIELDS[t])}")
    up: tuple[Update, ...] = ()
    if "up" in obj:
        raw = _list(obj["up"], MAX_PIGGYBACK, "up")
        if not raw:
            raise RemoteProtocolError("not_canonical", "omit an empty 'up'")
        up = tuple(Update.from_obj(u) for u in raw)
    try:
        msg = cls.from_fields(body)
    except LocalProtocolError as exc:
        raise RemoteProtocolError("bad_field", f"{t}: {exc}") from exc
    return msg if not up else _with_up(msg, up)


def _with_up(msg: Message, up: tuple[Update, ...]) -> Message:
    kwargs = {f.name: getattr(msg, f.name) for f in fields(msg) if f.name != "up"}
    return type(msg)(**kwargs, up=up)
