"""Federation membership: a genesis, admissions and revocations, as a grow-only set.

Theory of operation
-------------------
A federation is named by its :class:`Genesis`, signed by the founder; the
federation id is ``hex(digest("genesis", genesis body))``. Everything else is a
signed record in a grow-only set that gossips like catalogues:

* :class:`Admission` -- ``by`` admits ``node`` with a ``role`` (``member`` |
  ``admin``), its addresses and TLS certificate pin;
* :class:`Revocation` -- ``by`` revokes ``node`` (permanently: a revoked key is
  never a member again; the person makes a new key);
* :class:`Announce` -- a member states its own current addresses (signed by
  itself). Only the latest announce of each node is kept (last writer wins by
  ``(time, id)``), so a node whose address changed tells everyone through
  gossip, and the set stays bounded by the number of members.

**Rules.** Let *admins* be the founder plus, transitively, every node admitted
with role ``admin`` by an admin (revocations ignored, so this set only grows).

1. An admission is *accepted into the set* if it is signed by ``by``, names our
   federation, ``by`` is the founder or the subject of an accepted admission
   (else ``not_member``; it may be retried once that admission arrives), and
   role ``admin`` is granted only by an admin (else ``not_authorised``).
2. A revocation is accepted if signed by ``by`` and ``by`` is the founder, or
   the subject itself (leaving), or an admin revoking a non-admin. Nobody
   revokes the founder (``not_authorised``).
3. *Revoked* = subjects of accepted revocations. *Members* = the founder plus,
   transitively, subjects of admissions whose signer is a member and not
   revoked, and who are not revoked themselves. So revoking a node also drops
   the nodes only it vouched for, until someone else admits them again.

4. An announce is accepted if signed by its subject, who is the founder or the
   subject of an accepted admission (``not_member``, retry later). A member's
   addresses are those of its latest announce, else of its latest admission.

Acceptance depends only on records that can only grow (announces are a
last-writer-wins register per node, which also only moves forward), so every
node that holds the same records computes the same view, whatever the order
they came in: the set is a CRDT and the gossip digest (:meth:`summary`)
converges.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any, Union

from . import canonical
from .canonical import b2h, h2b
from .catalogue import _fields, _int
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import MAX_ADDRESS, MAX_ADDRESSES, MAX_MEMBERSHIP_RECORDS, MAX_TEXT

__all__ = ["Genesis", "Admission", "Revocation", "Announce", "MemberRecord", "MemberInfo", "MembershipState",
           "parse_record", "ROLES"]

ROLES = ("member", "admin")


def _addresses(v: Any) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)) or len(v) > MAX_ADDRESSES:
        raise RemoteProtocolError("bad_field", f"addresses: a list of at most {MAX_ADDRESSES}")
    for a in v:
        if not isinstance(a, str) or not 0 < len(a) <= MAX_ADDRESS:
            raise RemoteProtocolError("bad_field", "an address is a non-empty string")
    return tuple(v)


class _Signed:
    """Shared by the signed membership documents."""

    TYPE = ""
    sig: bytes
    by: NodeId

    def body(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @functools.cached_property
    def id(self) -> bytes:
        return canonical.digest("membership", self.body())

    def verify(self) -> None:
        self.by.verify("membership", self.body(), self.sig)


@dataclass(frozen=True)
class Genesis(_Signed):
    TYPE = "genesis"
    name: str
    founder: NodeId
    addresses: tuple[str, ...]
    cert_pin: bytes
    time: int
    sig: bytes = field(repr=False)

    @property
    def by(self) -> NodeId:  # type: ignore[override]
        return self.founder

    @property
    def fed_id(self) -> str:
        return b2h(canonical.digest("genesis", self.body()))

    def body(self) -> dict[str, Any]:
        return {"type": "genesis", "name": self.name, "founder": str(self.founder),
                "addresses": list(self.addresses), "cert_pin": b2h(self.cert_pin), "time": self.time}

    def verify(self) -> None:
        self.founder.verify("genesis", self.body(), self.sig)

    @classmethod
    def create(cls, founder: NodeIdentity, name: str, addresses: list[str], cert_pin: bytes, now_ms: int) -> Genesis:
        if len(name) > MAX_TEXT:
            raise LocalProtocolError("federation name too long")
        g = cls(name, founder.node_id, tuple(addresses), cert_pin, now_ms, bytes(64))
        return cls(name, founder.node_id, tuple(addresses), cert_pin, now_ms, founder.sign("genesis", g.body()))

    @classmethod
    def from_obj(cls, obj: Any) -> Genesis:
        o = _fields(obj, {"type", "name", "founder", "addresses", "cert_pin", "time", "sig"}, "genesis")
        if o["type"] != "genesis" or not isinstance(o["name"], str) or len(o["name"]) > MAX_TEXT:
            raise RemoteProtocolError("bad_field", "genesis type/name")
        return cls(o["name"], NodeId.parse(o["founder"]), _addresses(o["addresses"]),
                   h2b(o["cert_pin"], 32, what="cert_pin"), _int(o, "time"), h2b(o["sig"], 64, what="sig"))


@dataclass(frozen=True)
class Admission(_Signed):
    TYPE = "admit"
    fed: str
    node: NodeId
    role: str
    by: NodeId
    invite: bytes  # the invite nonce redeemed (may be empty for a direct admission)
    addresses: tuple[str, ...]
    cert_pin: bytes
    time: int
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"type": "admit", "fed": self.fed, "node": str(self.node), "role": self.role, "by": str(self.by),
                "invite": b2h(self.invite), "addresses": list(self.addresses), "cert_pin": b2h(self.cert_pin),
                "time": self.time}

    @classmethod
    def create(cls, by: NodeIdentity, fed: str, node: NodeId, role: str, addresses: list[str] | tuple[str, ...],
               cert_pin: bytes, now_ms: int, invite: bytes = b"") -> Admission:
        if role not in ROLES:
            raise LocalProtocolError(f"role must be one of {ROLES}")
        a = cls(fed, node, role, by.node_id, invite, tuple(addresses), cert_pin, now_ms, bytes(64))
        return cls(fed, node, role, by.node_id, invite, tuple(addresses), cert_pin, now_ms,
                   by.sign("membership", a.body()))

    @classmethod
    def from_obj(cls, obj: Any) -> Admission:
        o = _fields(obj, {"type", "fed", "node", "role", "by", "invite", "addresses", "cert_pin", "time", "sig"},
                    "admission")
        if o["role"] not in ROLES:
            raise RemoteProtocolError("bad_field", "role")
        inv = o["invite"]
        return cls(b2h(h2b(o["fed"], 32, what="fed")), NodeId.parse(o["node"]), o["role"], NodeId.parse(o["by"]),
                   h2b(inv, None, what="invite") if inv else b"", _addresses(o["addresses"]),
                   h2b(o["cert_pin"], 32, what="cert_pin"), _int(o, "time"), h2b(o["sig"], 64, what="sig"))


@dataclass(frozen=True)
class Revocation(_Signed):
    TYPE = "revoke"
    fed: str
    node: NodeId
    by: NodeId
    reason: str
    time: int
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"type": "revoke", "fed": self.fed, "node": str(self.node), "by": str(self.by),
                "reason": self.reason, "time": self.time}

    @classmethod
    def create(cls, by: NodeIdentity, fed: str, node: NodeId, reason: str, now_ms: int) -> Revocation:
        r = cls(fed, node, by.node_id, reason[:256], now_ms, bytes(64))
        return cls(fed, node, by.node_id, r.reason, now_ms, by.sign("membership", r.body()))

    @classmethod
    def from_obj(cls, obj: Any) -> Revocation:
        o = _fields(obj, {"type", "fed", "node", "by", "reason", "time", "sig"}, "revocation")
        if not isinstance(o["reason"], str) or len(o["reason"]) > 256:
            raise RemoteProtocolError("bad_field", "reason")
        return cls(b2h(h2b(o["fed"], 32, what="fed")), NodeId.parse(o["node"]), NodeId.parse(o["by"]),
                   o["reason"], _int(o, "time"), h2b(o["sig"], 64, what="sig"))


@dataclass(frozen=True)
class Announce(_Signed):
    """A member's own statement of where it can be reached now (it replaces its earlier ones)."""

    TYPE = "announce"
    fed: str
    node: NodeId
    addresses: tuple[str, ...]
    time: int
    sig: bytes = field(repr=False)

    @property
    def by(self) -> NodeId:  # type: ignore[override]
        return self.node

    def body(self) -> dict[str, Any]:
        return {"type": "announce", "fed": self.fed, "node": str(self.node), "addresses": list(self.addresses),
                "time": self.time}

    def newer_than(self, other: Announce) -> bool:
        return (self.time, self.id) > (other.time, other.id)

    @classmethod
    def create(cls, node: NodeIdentity, fed: str, addresses: list[str] | tuple[str, ...], now_ms: int) -> Announce:
        if len(addresses) > MAX_ADDRESSES or not all(0 < len(a) <= MAX_ADDRESS for a in addresses):
            raise LocalProtocolError(f"at most {MAX_ADDRESSES} addresses of at most {MAX_ADDRESS} characters")
        a = cls(fed, node.node_id, tuple(addresses), now_ms, bytes(64))
        return cls(fed, node.node_id, tuple(addresses), now_ms, node.sign("membership", a.body()))

    @classmethod
    def from_obj(cls, obj: Any) -> Announce:
        o = _fields(obj, {"type", "fed", "node", "addresses", "time", "sig"}, "announce")
        return cls(b2h(h2b(o["fed"], 32, what="fed")), NodeId.parse(o["node"]), _addresses(o["addresses"]),
                   _int(o, "time"), h2b(o["sig"], 64, what="sig"))


MemberRecord = Union[Admission, Revocation, Announce]


def parse_record(obj: Any) -> MemberRecord:
    t = obj.get("type") if isinstance(obj, dict) else None
    if t == "admit":
        return Admission.from_obj(obj)
    if t == "revoke":
        return Revocation.from_obj(obj)
    if t == "announce":
        return Announce.from_obj(obj)
    raise RemoteProtocolError("unknown_type", f"membership record type {t!r}")


@dataclass(frozen=True)
class MemberInfo:
    node: NodeId
    role: str
    addresses: tuple[str, ...]
    cert_pin: bytes


class MembershipState:
    """The set of membership records and the view derived from it (see module doc)."""

    def __init__(self, genesis: Genesis, records: list[MemberRecord] = ()) -> None:
        genesis.verify()
        self.genesis = genesis
        self.fed_id = genesis.fed_id
        self.founder = genesis.founder
        self.records: dict[bytes, MemberRecord] = {}
        self._admitted: set[NodeId] = {self.founder}
        self._admins: set[NodeId] = {self.founder}
        self._announces: dict[NodeId, Announce] = {}
        self._summary: bytes | None = None
        self._view: tuple[dict[NodeId, MemberInfo], set[NodeId]] | None = None
        self.add_many(list(records))

    @property
    def members(self) -> dict[NodeId, MemberInfo]:
        """Current members (founder included) and what their latest admission says."""
        return self._get_view()[0]

    @property
    def revoked(self) -> set[NodeId]:
        return self._get_view()[1]

    def _get_view(self) -> tuple[dict[NodeId, MemberInfo], set[NodeId]]:
        if self._view is None:
            self._view = self._recompute()
        return self._view

    # --- queries ---------------------------------------------------------------
    def is_member(self, node: NodeId) -> bool:
        return node in self.members

    def is_revoked(self, node: NodeId) -> bool:
        return node in self.revoked

    def is_admin(self, node: NodeId) -> bool:
        return node in self._admins and node in self.members

    def check_peer(self, node: NodeId) -> None:
        """Raise ``revoked`` / ``not_member`` unless ``node`` is a current member."""
        if node in self.revoked:
            raise RemoteProtocolError("revoked", f"{node.short} has been revoked")
        if node not in self.members:
            raise RemoteProtocolError("not_member", f"{node.short} is not a member of this federation")

    def summary(self) -> bytes:
        """16-byte digest of the record set (equal sets <=> equal summaries)."""
        if self._summary is None:
            self._summary = canonical.digest("members", sorted(b2h(i) for i in self.records))[:16]
        return self._summary

    # --- changes -----------------------------------------------------------------
    def check(self, rec: MemberRecord) -> bool:
        """Verify ``rec`` against the current set; False if we already hold it. No mutation."""
        if not isinstance(rec, (Admission, Revocation, Announce)):
            raise LocalProtocolError("not a membership record")
        if rec.id in self.records:
            return False
        if rec.fed != self.fed_id:
            raise RemoteProtocolError("wrong_federation", "record of another federation")
        if isinstance(rec, Announce):
            current = self._announces.get(rec.node)
            if current is not None and not rec.newer_than(current):
                return False  # superseded: as good as held
        elif len(self.records) >= MAX_MEMBERSHIP_RECORDS:
            raise RemoteProtocolError("oversized", "membership record set is full")
        rec.verify()
        if isinstance(rec, Announce):
            if rec.node not in self._admitted:
                raise RemoteProtocolError("not_member", f"{rec.node.short} is not (yet) known as a member")
        elif isinstance(rec, Admission):
            if rec.node == self.founder:
                raise RemoteProtocolError("bad_field", "the founder is not admitted")
            if rec.by not in self._admitted:
                raise RemoteProtocolError("not_member", f"signer {rec.by.short} is not (yet) known as a member")
            if rec.role == "admin" and rec.by not in self._admins:
                raise RemoteProtocolError("not_authorised", "only admins grant the admin role")
        else:
            if rec.node == self.founder:
                raise RemoteProtocolError("not_authorised", "the founder cannot be revoked")
            ok = rec.by == self.founder or rec.by == rec.node or (rec.by in self._admins and rec.node not in self._admins)
            if not ok:
                raise RemoteProtocolError("not_authorised", f"{rec.by.short} may not revoke {rec.node.short}")
        return True

    def add(self, rec: MemberRecord) -> bool:
        """Verify and add one record; True if new. State unchanged on refusal."""
        if not self.check(rec):
            return False
        self.records[rec.id] = rec
        if isinstance(rec, Announce):
            old = self._announces.get(rec.node)
            if old is not None:
                del self.records[old.id]
            self._announces[rec.node] = rec
        elif isinstance(rec, Admission):
            self._admitted.add(rec.node)
            if rec.role == "admin":
                self._grow_admins()
        self._summary = None
        self._view = None
        return True

    def add_many(self, recs: list[MemberRecord]) -> tuple[list[MemberRecord], list[RemoteProtocolError]]:
        """Add what can be added, in any order; returns (accepted, refusals)."""
        pending = list(recs)
        accepted: list[MemberRecord] = []
        while True:
            errors: list[RemoteProtocolError] = []
            left: list[MemberRecord] = []
            for r in pending:
                try:
                    if self.add(r):
                        accepted.append(r)
                except RemoteProtocolError as exc:
                    errors.append(exc)
                    left.append(r)
            if len(left) == len(pending) or not left:
                return accepted, errors
            pending = left

    def _grow_admins(self) -> None:
        changed = True
        while changed:
            changed = False
            for r in self.records.values():
                if isinstance(r, Admission) and r.role == "admin" and r.by in self._admins and r.node not in self._admins:
                    self._admins.add(r.node)
                    changed = True

    def _recompute(self) -> tuple[dict[NodeId, MemberInfo], set[NodeId]]:
        revoked = {r.node for r in self.records.values() if isinstance(r, Revocation)}
        g = self.genesis
        members = {self.founder: MemberInfo(self.founder, "admin", g.addresses, g.cert_pin)}
        adm = sorted((r for r in self.records.values() if isinstance(r, Admission)), key=lambda r: (r.time, r.id))
        changed = True
        while changed:
            changed = False
            for r in adm:
                if r.node in revoked or r.by in revoked or r.by not in members:
                    continue
                cur = members.get(r.node)
                info = MemberInfo(r.node, "admin" if r.node in self._admins else "member", r.addresses, r.cert_pin)
                if cur != info:  # latest admission (by time) gives addresses and pin
                    if cur is None:
                        changed = True
                    members[r.node] = info
        for node, ann in self._announces.items():  # a member's own word on its addresses wins
            if node in members:
                members[node] = replace(members[node], addresses=ann.addresses)
        return members, revoked

    def announce_of(self, node: NodeId) -> Announce | None:
        """The latest address announce of ``node`` we hold."""
        return self._announces.get(node)
