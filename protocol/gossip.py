"""Push-pull anti-entropy over catalogues and membership, with SWIM on top.

Theory of operation
-------------------
A :class:`GossipMachine` is one node's whole federation state: its own
:class:`~.catalogue.CatalogueLog`, a :class:`~.catalogue.LogReplica` per other
member, the :class:`~.membership.MembershipState`, and a :class:`~.swim.Swim`
failure detector. It performs no I/O. The driver calls

* ``tick(now, rng)`` at :meth:`next_deadline` (or more often);
* ``receive(peer, message_or_bytes, now, rng)`` for every message from an
  authenticated ``peer`` (``RemoteProtocolError`` if refused; state unchanged);
* ``append(...)`` / ``add_records(...)`` for local changes;

and performs the returned actions (:class:`Send`, :class:`ServeLog`,
:class:`StoreEntries`, :class:`StoreSnapshot`, :class:`StoreRecords`,
:class:`DropLog`, :class:`PeerState`).

One exchange, A and B both members::

    A -> B  ping(seq, logs=summary16, members=summary16)   every round (SWIM probe)
    B -> A  ack(seq)
    B -> A  digest(reply=true, every log's [id, seq, hash8], every record id)
                                                           only if a summary differs
    A -> B  want(logs=[[id, from_seq]], members=[ids])     what B has and A lacks
    A -> B  digest(reply=false, logs A is ahead on)        push: B will want them
    A -> B  records([...])                                 records B lacks
    B -> A  entries(head, [...])  | snapshot + snapshot_page*   (driver: ServeLog)

When idle, a round costs one ping and one ack per node: the digest is
replaced by two 16-byte summaries.

A node whose addresses changed cannot rely on that exchange: the others would
answer its pings at the address they hold, which is the old one. So it pushes
its own latest :class:`~.membership.Announce` (a ``records`` message) to every
member at once, and again before each ping to a member it has not heard from
since, until that member's first message reaches it (which proves the member
can reach it). After a restart it does the same once, in case its last
announce was lost.

After learning something new a node is
*hot* for ``hot_rounds`` rounds and also sends ``sync`` (the summaries alone)
to ``fanout - 1`` random live peers each round, so that news spreads in
O(log N) rounds. Large logs move in pages of at most
``MAX_ENTRIES_PER_MESSAGE`` entries; a receiver that is still behind the head
it was sent asks the same peer for the next page at once.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

from . import canonical
from .canonical import b2h
from .catalogue import ZERO_HASH, CatalogueLog, Entry, Head, LogReplica
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import DEFAULT_FANOUT, MAX_ENTRIES_PER_MESSAGE, MAX_IDS_PER_MESSAGE, MAX_PIGGYBACK, MAX_WANTS_PER_MESSAGE
from .membership import MemberRecord, MembershipState
from .messages import (
    Ack, Digest, DigestItem, Entries, Message, Ping, PingReq, Records, Snapshot, SnapshotPage, Sync, Want, parse,
)
from .records import TrackRecord
from .snapshots import Manifest, Page, SnapshotReceiver
from .swim import Swim, SwimConfig

__all__ = [
    "GossipConfig", "GossipMachine", "Action", "Send", "ServeLog", "StoreEntries", "StoreSnapshot",
    "StoreRecords", "DropLog", "PeerState", "serve_log",
]


# --- actions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    pass


@dataclass(frozen=True)
class Send(Action):
    """Deliver ``message`` to ``peer`` (signed request, see ``peer_auth``)."""
    peer: NodeId
    message: Message


@dataclass(frozen=True)
class ServeLog(Action):
    """``peer`` wants ``log`` from ``from_seq``: read the store, reply with :func:`serve_log`."""
    peer: NodeId
    log: NodeId
    from_seq: int
    head: Head


@dataclass(frozen=True)
class StoreEntries(Action):
    """Verified entries of ``log`` (ours or a peer's) to persist and apply; ``head`` when it matches."""
    log: NodeId
    entries: tuple[Entry, ...]
    head: Head | None


@dataclass(frozen=True)
class StoreSnapshot(Action):
    """Replace the stored catalogue of ``log`` by this verified snapshot."""
    log: NodeId
    manifest: Manifest
    records: tuple[TrackRecord, ...]
    head: Head | None


@dataclass(frozen=True)
class StoreRecords(Action):
    records: tuple[MemberRecord, ...]


@dataclass(frozen=True)
class DropLog(Action):
    """``log``'s owner is no longer a member: forget its catalogue."""
    log: NodeId


@dataclass(frozen=True)
class PeerState(Action):
    node: NodeId
    state: str  # alive | suspect | dead


@dataclass(frozen=True)
class GossipConfig:
    swim: SwimConfig = field(default_factory=SwimConfig)
    fanout: int = DEFAULT_FANOUT
    hot_rounds: int = 4


def serve_log(action: ServeLog, entries: list[Entry] | None,
              snapshot: tuple[Manifest, list[Page]] | None) -> list[Send]:
    """The reply to a :class:`ServeLog`, given what the store holds.

    ``entries`` are the stored entries of ``action.log`` from ``action.from_seq``
    on (at most ``MAX_ENTRIES_PER_MESSAGE`` are sent), or ``None`` if the store
    no longer has ``from_seq`` (compacted); then the latest snapshot is sent.
    """
    if entries:
        if entries[0].seq != action.from_seq:
            raise LocalProtocolError("entries must start at from_seq")
        run = tuple(e for e in entries[:MAX_ENTRIES_PER_MESSAGE] if e.seq <= action.head.seq)
        return [Send(action.peer, Entries(action.head, run))] if run else []
    if snapshot is not None:
        m, pages = snapshot
        return [Send(action.peer, Snapshot(action.head, m))] + [Send(action.peer, SnapshotPage(p)) for p in pages]
    return []


class GossipMachine:
    def __init__(self, identity: NodeIdentity, membership: MembershipState, now: int, *,
                 config: GossipConfig = GossipConfig(), log_seq: int = 0, log_hash: bytes = ZERO_HASH,
                 replicas: list[LogReplica] = ()) -> None:
        self.identity = identity
        self.me = identity.node_id
        self.membership = membership
        self.config = config
        self.log = CatalogueLog(identity, log_seq, log_hash)
        self.own_head = self.log.head(now)
        self.replicas: dict[NodeId, LogReplica] = {r.log: r for r in replicas}
        self.snapshots: dict[NodeId, SnapshotReceiver] = {}
        self._snap_heads: dict[NodeId, Head] = {}
        self.hot_until = -1
        self._logs_summary: bytes | None = None
        self.swim = Swim(self.me, [], now, self._make_ping, config.swim)
        self._sync_members(now)
        self.swim.events.clear()
        #: members that may not know where we are now (see the module doc on announces)
        self.announce_to: set[NodeId] = set()
        if membership.announce_of(self.me) is not None:
            self.announce_to = set(membership.members) - {self.me}

    # --- summaries and digests ----------------------------------------------------------
    def _items(self) -> list[tuple[NodeId, int, bytes]]:
        items = [(self.me, self.log.seq, self.log.hash)] if self.log.seq else []
        items += [(r.log, r.seq, r.hash) for r in self.replicas.values() if r.seq]
        return sorted(items)

    def logs_summary(self) -> bytes:
        if self._logs_summary is None:
            self._logs_summary = canonical.digest(
                "logs", [[str(n), s, b2h(h[:8])] for n, s, h in self._items()])[:16]
        return self._logs_summary

    def digest(self, reply: bool) -> Digest:
        logs = tuple(DigestItem(n, s, h[:8]) for n, s, h in self._items())
        return Digest(reply, logs, tuple(sorted(self.membership.records)))

    def _make_ping(self, seq: int) -> Ping:
        return Ping(seq, self.logs_summary(), self.membership.summary())

    def _seq_of(self, log: NodeId) -> int:
        if log == self.me:
            return self.log.seq
        r = self.replicas.get(log)
        return r.seq if r else 0

    # --- time ---------------------------------------------------------------------------
    def next_deadline(self) -> int:
        return self.swim.next_deadline()

    def tick(self, now: int, rng: random.Random) -> list[Action]:
        was_period = now >= self.swim._next_period
        out = [Send(p, m) for p, m in self.swim.tick(now, rng)]
        own = self.membership.announce_of(self.me)
        if own is not None and self.announce_to:
            out = [x for a in out for x in (
                (Send(a.peer, Records((own,))), a) if isinstance(a.message, Ping) and a.peer in self.announce_to
                else (a,))]
        if was_period and now < self.hot_until and self.config.fanout > 1:
            target = next((a.peer for a in out if isinstance(a.message, Ping)), None)
            others = [p for p in self.swim.live() if p != target]
            for p in rng.sample(others, min(self.config.fanout - 1, len(others))):
                out.append(Send(p, Sync(self.logs_summary(), self.membership.summary())))
        return self._finish(out)

    def _finish(self, out: list[Any]) -> list[Action]:
        """Attach piggybacked SWIM updates and turn SWIM events into actions."""
        done: list[Action] = []
        for a in out:
            if isinstance(a, Send):
                up = self.swim.beliefs_for(a.peer) + self.swim.take_updates()
                seen: dict[NodeId, Any] = {}
                for u in up:
                    seen.setdefault(u.node, u)
                up = tuple(seen.values())[:MAX_PIGGYBACK]
                a = Send(a.peer, _with_up(a.message, up)) if up else a
            done.append(a)
        for node, state in self.swim.events:
            done.append(PeerState(node, state))
        self.swim.events.clear()
        return done

    def _hot(self, now: int) -> None:
        self.hot_until = now + self.config.hot_rounds * self.config.swim.round_ms

    # --- local changes ----------------------------------------------------------------------
    def append(self, op: str, now: int, *, record: TrackRecord | None = None, key: str | None = None) -> list[Action]:
        """Append to our own catalogue; returns the store action."""
        entry = self.log.append(op, now, record=record, key=key)
        self.own_head = self.log.head(now)
        self._logs_summary = None
        self._hot(now)
        return [StoreEntries(self.me, (entry,), self.own_head)]

    def add_records(self, records: list[MemberRecord], now: int) -> list[Action]:
        """Local membership changes (an admission we signed, a revocation)."""
        accepted, errors = self.membership.add_many(list(records))
        if errors and not accepted:
            raise errors[0]
        return self._after_records(accepted, now)

    def _after_records(self, accepted: list[MemberRecord], now: int) -> list[Action]:
        if not accepted:
            return []
        self._hot(now)
        out: list[Action] = [StoreRecords(tuple(accepted))]
        out += self._sync_members(now)
        own = self.membership.announce_of(self.me)
        if own is not None and own in accepted:  # we moved: tell everyone now (module doc)
            self.announce_to = set(self.membership.members) - {self.me}
            out += [Send(p, Records((own,))) for p in sorted(self.announce_to, key=str)]
        return out

    def _sync_members(self, now: int) -> list[Action]:
        out: list[Action] = []
        members = set(self.membership.members) - {self.me}
        for n in members:
            self.replicas.setdefault(n, LogReplica(n))
        for n in list(self.replicas):
            if n not in members:
                del self.replicas[n]
                self.snapshots.pop(n, None)
                out.append(DropLog(n))
                self._logs_summary = None
        self.swim.set_peers(members, now)
        return out

    # --- receiving ---------------------------------------------------------------------------
    def receive(self, peer: NodeId, message: Message | bytes, now: int, rng: random.Random | None = None) -> list[Action]:
        """Handle one message from authenticated ``peer``; refusals raise and change nothing."""
        self.membership.check_peer(peer)
        msg = parse(message) if isinstance(message, (bytes, bytearray)) else message
        self.announce_to.discard(peer)  # it reached us, so it knows a working address of ours
        handler = _HANDLERS.get(type(msg))
        if handler is None:
            raise LocalProtocolError(f"cannot handle {type(msg).__name__} here")
        out = handler(self, peer, msg, now)
        self.swim.absorb(msg.up, now)
        return self._finish(out)

    def _on_ping(self, peer: NodeId, msg: Ping, now: int) -> list[Any]:
        out: list[Any] = [Send(p, m) for p, m in self.swim.on_ping(peer, msg)]
        return out + self._on_sync(peer, msg, now)

    def _on_sync(self, peer: NodeId, msg: Ping | Sync, now: int) -> list[Any]:
        if msg.logs != self.logs_summary() or msg.members != self.membership.summary():
            return [Send(peer, self.digest(reply=True))]
        return []

    def _on_ack(self, peer: NodeId, msg: Ack, now: int) -> list[Any]:
        return [Send(p, m) for p, m in self.swim.on_ack(peer, msg, now)]

    def _on_ping_req(self, peer: NodeId, msg: PingReq, now: int) -> list[Any]:
        return [Send(p, m) for p, m in self.swim.on_ping_req(peer, msg, now)]

    def _on_digest(self, peer: NodeId, msg: Digest, now: int) -> list[Any]:
        theirs = {i.log: i for i in msg.logs}
        wants = []
        for log, item in theirs.items():
            if log == self.me or log not in self.replicas:
                continue
            if item.seq > self._seq_of(log) and len(wants) < MAX_WANTS_PER_MESSAGE:
                wants.append((log, self._seq_of(log) + 1))
        their_ids = set(msg.members)
        want_ids = tuple(i for i in msg.members if i not in self.membership.records)[:MAX_IDS_PER_MESSAGE]
        out: list[Any] = []
        if wants or want_ids:
            out.append(Send(peer, Want(tuple(wants), want_ids)))
        push = [r for i, r in self.membership.records.items() if i not in their_ids][:MAX_IDS_PER_MESSAGE]
        if push:
            out.append(Send(peer, Records(tuple(push))))
        if msg.reply:
            ahead = tuple(DigestItem(n, s, h[:8]) for n, s, h in self._items()
                          if n not in theirs or theirs[n].seq < s)
            if ahead:
                out.append(Send(peer, Digest(False, ahead, ())))
        return out

    def _on_want(self, peer: NodeId, msg: Want, now: int) -> list[Any]:
        out: list[Any] = []
        for log, from_seq in msg.logs:
            if log == self.me:
                if from_seq <= self.log.seq:
                    out.append(ServeLog(peer, log, from_seq, self.own_head))
                continue
            r = self.replicas.get(log)
            if r is not None and r.head is not None and from_seq <= r.seq:
                out.append(ServeLog(peer, log, from_seq, r.head))
        recs = tuple(self.membership.records[i] for i in msg.members if i in self.membership.records)
        if recs:
            out.append(Send(peer, Records(recs)))
        return out

    def _replica(self, log: NodeId) -> LogReplica:
        if log == self.me:
            raise RemoteProtocolError("rollback", "a peer offered us our own log")
        self.membership.check_peer(log)
        r = self.replicas.get(log)
        if r is None:
            raise RemoteProtocolError("unknown_log", f"no log for {log.short}")
        return r

    def _on_entries(self, peer: NodeId, msg: Entries, now: int) -> list[Any]:
        head = msg.head
        r = self._replica(head.log)
        if any(e.log != r.log for e in msg.entries):
            raise RemoteProtocolError("wrong_key", "entries of another log")
        head.verify()
        if head.seq < r.seq:
            raise RemoteProtocolError("rollback", f"head seq {head.seq} < verified {r.seq} (stale relay?)")
        entries = list(msg.entries)
        # Duplicates from a second relay are normal: drop what we already hold, after
        # checking that the overlapping entry agrees with us.
        while entries and entries[0].seq <= r.seq:
            e = entries.pop(0)
            if e.seq == r.seq and e.hash != r.hash:
                raise RemoteProtocolError("fork", f"entry {e.seq} differs from ours")
        probe = LogReplica(r.log, r.seq, r.hash)
        seq, h = probe.check_entries(entries)
        if head.seq == seq and head.hash != h:
            raise RemoteProtocolError("fork", "entries do not lead to the signed head")
        complete = head.seq == seq
        if complete and r.head is not None and r.head.seq == seq and r.head.time >= head.time:
            complete_head = r.head
        else:
            complete_head = head if complete else None
        # commit
        r.seq, r.hash = seq, h
        if complete_head is not None:
            r.head = complete_head
        if not entries:
            return []
        self._logs_summary = None
        self._hot(now)
        out: list[Any] = [StoreEntries(r.log, tuple(entries), complete_head)]
        if head.seq > seq:
            out.append(Send(peer, Want(((r.log, seq + 1),), ())))
        return out

    def _on_snapshot(self, peer: NodeId, msg: Snapshot, now: int) -> list[Any]:
        m = msg.manifest
        r = self._replica(m.log)
        if msg.head.log != m.log or msg.head.seq < m.seq:
            raise RemoteProtocolError("snapshot_mismatch", "head and manifest disagree")
        msg.head.verify()
        if m.seq <= r.seq:
            return []
        cur = self.snapshots.get(m.log)
        if cur is None or cur.manifest != m:
            rec = SnapshotReceiver(m)  # verifies the manifest
            self.snapshots[m.log] = rec
        self._snap_heads[m.log] = msg.head
        return self._maybe_install(peer, m.log, now)

    def _on_snapshot_page(self, peer: NodeId, msg: SnapshotPage, now: int) -> list[Any]:
        rec = self.snapshots.get(msg.page.log)
        if rec is None:
            return []  # late page of a snapshot we no longer need
        rec.add_page(msg.page)
        return self._maybe_install(peer, msg.page.log, now)

    def _maybe_install(self, peer: NodeId, log: NodeId, now: int) -> list[Any]:
        rec = self.snapshots[log]
        if not rec.done:
            return []
        records = rec.records()
        m = rec.manifest
        del self.snapshots[log]
        head = self._snap_heads.pop(log, None)
        r = self.replicas[log]
        if m.seq <= r.seq:
            return []
        r.reset_to(m.seq, m.hash)
        complete = head is not None and head.seq == m.seq and head.hash == m.hash
        if complete:
            r.head = head
        self._logs_summary = None
        self._hot(now)
        out: list[Any] = [StoreSnapshot(log, m, tuple(records), head if complete else None)]
        if head is not None and head.seq > m.seq:
            out.append(Send(peer, Want(((log, m.seq + 1),), ())))
        return out

    def _on_records(self, peer: NodeId, msg: Records, now: int) -> list[Any]:
        for rec in msg.records:  # all-or-nothing on forgeries
            if rec.id not in self.membership.records:
                if rec.fed != self.membership.fed_id:
                    raise RemoteProtocolError("wrong_federation", "record of another federation")
                rec.verify()
        accepted, _ = self.membership.add_many(list(msg.records))
        return self._after_records(accepted, now)


def _with_up(msg: Message, up: tuple[Any, ...]) -> Message:
    return dataclasses.replace(msg, up=up)


_HANDLERS = {
    Ping: GossipMachine._on_ping,
    Sync: GossipMachine._on_sync,
    Ack: GossipMachine._on_ack,
    PingReq: GossipMachine._on_ping_req,
    Digest: GossipMachine._on_digest,
    Want: GossipMachine._on_want,
    Entries: GossipMachine._on_entries,
    Snapshot: GossipMachine._on_snapshot,
    SnapshotPage: GossipMachine._on_snapshot_page,
    Records: GossipMachine._on_records,
}
