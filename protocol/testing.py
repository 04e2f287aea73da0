"""Test support: deterministic keys, a memory store, and an N-node network simulator.

Theory of operation
-------------------
:class:`Network` is h11's ``ConnectionPair`` scaled to N: it owns a fake clock
(integer ms) and a heap of timed events -- message deliveries and node ticks.
Every :class:`~.gossip.Send` is serialised (so sizes are real and parsing is
exercised), delayed by a latency drawn from ``latency_ms``, dropped with
probability ``loss`` or when a partition separates the two nodes, and handed to
the receiver's :meth:`GossipMachine.receive`. Store actions go to the node's
:class:`MemoryStore`, which answers :class:`~.gossip.ServeLog` with
:func:`~.gossip.serve_log`. Nodes can crash (they stop ticking and drop
everything) and restart (a fresh machine rebuilt from their store, like a
rebooted daemon). All randomness comes from one seeded ``random.Random``, so a
run is reproducible.

``bytes_sent`` counts each message's canonical bytes plus
``auth_overhead`` -- the size of the signed ``peer_auth`` headers a real node
adds to every request.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .catalogue import Entry, Head, LogReplica
from .errors import RemoteProtocolError
from .gossip import (
    Action, DropLog, GossipConfig, GossipMachine, PeerState, Send, ServeLog, StoreEntries, StoreRecords,
    StoreSnapshot, serve_log,
)
from .identity import NodeId, NodeIdentity
from .membership import Admission, Genesis, MemberRecord, MembershipState
from .messages import parse, serialize
from .records import TrackRecord
from .snapshots import Manifest, Page, make_snapshot
from .swim import SwimConfig

__all__ = ["fixed_identity", "sample_record", "make_federation", "MemoryStore", "SimNode", "Network", "auth_overhead"]


def fixed_identity(i: int) -> NodeIdentity:
    """Deterministic key number ``i`` (never use outside tests)."""
    return NodeIdentity.from_seed(hashlib.blake2b(b"sonantica-test-key" + i.to_bytes(8, "big"), digest_size=32).digest())


def sample_record(i: int, owner: int = 0, **kw: Any) -> TrackRecord:
    """A plausible, deterministic track record."""
    fid = "f1" + hashlib.blake2b(b"%d/%d" % (owner, i), digest_size=32).hexdigest()
    base: dict[str, Any] = dict(
        track_key=f"music/artist{i % 97}/album{i % 13}/{i:06d}.flac", file_id=fid, size=20_000_000 + i,
        title=f"Track {i}", artists=(f"Artist {i % 97}",), album=f"Album {i % 13}", track_no=i % 20 + 1,
        year=1990 + i % 30, genres=("Jazz",), format="flac", codec="flac", lossless=True, sample_rate=44100,
        bit_depth=16, channels=2, duration_ms=240_000 + i, bitrate=900_000, audio_id="a1" + fid[2:34],
        folder="music", analysis={"bpm_milli": 120_000 + i, "key": "Am", "loudness_mlufs": -9000},
    )
    base.update(kw)
    return TrackRecord(**base)


def make_federation(n: int, now: int = 0, *, first_key: int = 0) -> tuple[Genesis, list[NodeIdentity], list[MemberRecord]]:
    """A founder (key ``first_key``) that admitted ``n - 1`` others directly."""
    ids = [fixed_identity(first_key + i) for i in range(n)]
    g = Genesis.create(ids[0], "test federation", ["sim://0"], bytes(32), now)
    recs: list[MemberRecord] = [
        Admission.create(ids[0], g.fed_id, ids[i].node_id, "member", [f"sim://{i}"], bytes(32), now)
        for i in range(1, n)
    ]
    return g, ids, recs


def auth_overhead() -> int:
    """Bytes of the signed request headers (name + value + CRLF) a node adds to each message."""
    from .peer_auth import sign_request
    h = sign_request(fixed_identity(0), "POST", "/peer/v1/gossip", b"{}", 1_700_000_000_000, bytes(16))
    return sum(len(k) + 2 + len(v) + 2 for k, v in h.items())


class MemoryStore:
    """What a node's database would hold: entries, snapshots, records, materialised tracks."""

    def __init__(self) -> None:
        self.entries: dict[NodeId, dict[int, Entry]] = defaultdict(dict)
        self.floor: dict[NodeId, int] = defaultdict(int)  # first seq we still hold entries from, minus 1
        self.snapshot: dict[NodeId, tuple[Manifest, list[Page]]] = {}
        self.tracks: dict[NodeId, dict[str, TrackRecord]] = defaultdict(dict)
        self.heads: dict[NodeId, Head] = {}
        self.records: list[MemberRecord] = []

    def apply(self, a: Action) -> None:
        if isinstance(a, StoreEntries):
            for e in a.entries:
                self.entries[a.log][e.seq] = e
                if e.op == "remove":
                    self.tracks[a.log].pop(e.key, None)
                else:
                    self.tracks[a.log][e.key] = e.record  # type: ignore[assignment]
            if a.head is not None:
                self.heads[a.log] = a.head
        elif isinstance(a, StoreSnapshot):
            m = a.manifest
            self.entries[a.log] = {s: e for s, e in self.entries[a.log].items() if s > m.seq}
            self.floor[a.log] = m.seq
            pages = [Page(m.log, m.seq, i // 256, tuple(a.records[i:i + 256])) for i in range(0, len(a.records), 256)]
            self.snapshot[a.log] = (m, pages)
            self.tracks[a.log] = {r.track_key: r for r in a.records}
            if a.head is not None:
                self.heads[a.log] = a.head
        elif isinstance(a, StoreRecords):
            self.records.extend(a.records)
        elif isinstance(a, DropLog):
            for d in (self.entries, self.floor, self.snapshot, self.tracks, self.heads):
                d.pop(a.log, None)

    def compact(self, identity: NodeIdentity, seq: int, last_hash: bytes, now: int) -> None:
        """Owner: snapshot our own log at ``seq`` and drop the entries before it."""
        me = identity.node_id
        self.snapshot[me] = make_snapshot(identity, seq, last_hash, list(self.tracks[me].values()), now)
        self.entries[me] = {s: e for s, e in self.entries[me].items() if s > seq}
        self.floor[me] = seq

    def serve(self, a: ServeLog) -> list[Send]:
        held = self.entries.get(a.log, {})
        if a.from_seq > self.floor[a.log] and a.from_seq in held:
            run = []
            s = a.from_seq
            while s in held and len(run) < 256:
                run.append(held[s])
                s += 1
            return serve_log(a, run, None)
        return serve_log(a, None, self.snapshot.get(a.log))


@dataclass
class SimNode:
    index: int
    identity: NodeIdentity
    machine: GossipMachine
    store: MemoryStore
    up: bool = True
    states: dict[NodeId, str] = field(default_factory=dict)

    @property
    def id(self) -> NodeId:
        return self.identity.node_id


class Network:
    """N gossip machines, a fake clock, latency, loss, partitions and churn."""

    def __init__(self, n: int, *, seed: int = 0, latency_ms: tuple[int, int] = (5, 40), loss: float = 0.0,
                 config: GossipConfig = GossipConfig(), wire: bool = True, members: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.now = 0
        self.latency_ms = latency_ms
        self.loss = loss
        self.config = config
        self.wire = wire
        self.overhead = auth_overhead()
        self.genesis, ids, records = make_federation(n)
        self.records = records
        self.nodes: list[SimNode] = []
        self.by_id: dict[NodeId, SimNode] = {}
        self._heap: list[tuple[int, int, str, Any]] = []
        self._counter = 0
        self.groups: dict[NodeId, int] | None = None
        self.bytes_sent: dict[NodeId, int] = defaultdict(int)
        self.messages = 0
        self.errors: list[tuple[str, str]] = []
        for i, ident in enumerate(ids):
            self._add(i, ident, list(records))
        for node in self.nodes:
            self._schedule_tick(node, self.rng.randrange(config.swim.round_ms))

    # --- building ----------------------------------------------------------------------
    def _add(self, i: int, ident: NodeIdentity, records: list[MemberRecord], store: MemoryStore | None = None) -> SimNode:
        ms = MembershipState(self.genesis, records)
        store = store or MemoryStore()
        me = ident.node_id
        own = store.heads.get(me)
        replicas = [LogReplica(log, h.seq, h.hash, h) for log, h in store.heads.items() if log != me]
        m = GossipMachine(ident, ms, self.now, config=self.config, replicas=replicas,
                          log_seq=own.seq if own else 0, log_hash=own.hash if own else bytes(32))
        node = SimNode(i, ident, m, store)
        if i < len(self.nodes):
            self.nodes[i] = node
        else:
            self.nodes.append(node)
        self.by_id[me] = node
        return node

    def _push(self, at: int, kind: str, payload: Any) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (at, self._counter, kind, payload))

    def _schedule_tick(self, node: SimNode, at: int) -> None:
        self._push(at, "tick", (node.index, node.machine))

    # --- driving ---------------------------------------------------------------------------
    def perform(self, node: SimNode, actions: Iterable[Action]) -> None:
        for a in actions:
            if isinstance(a, Send):
                self._send(node, a)
            elif isinstance(a, ServeLog):
                for s in node.store.serve(a):
                    self._send(node, s)
            elif isinstance(a, PeerState):
                node.states[a.node] = a.state
            else:
                node.store.apply(a)

    def _send(self, node: SimNode, a: Send) -> None:
        data = serialize(a.message)
        self.bytes_sent[node.id] += len(data) + self.overhead
        self.messages += 1
        if self.rng.random() < self.loss or not self.can_talk(node.id, a.peer):
            return
        delay = self.rng.randint(*self.latency_ms)
        self._push(self.now + delay, "msg", (node.id, a.peer, data if self.wire else a.message))

    def can_talk(self, a: NodeId, b: NodeId) -> bool:
        return self.groups is None or self.groups.get(a, -1) == self.groups.get(b, -2)

    def run_until(self, t: int, until: Any = None) -> bool:
        """Process events up to time ``t``; stop early (True) when ``until()`` holds."""
        while self._heap and self._heap[0][0] <= t:
            at, _, kind, payload = heapq.heappop(self._heap)
            self.now = at
            if kind == "tick":
                idx, machine = payload
                node = self.nodes[idx]
                if not node.up or node.machine is not machine:
                    continue
                self.perform(node, machine.tick(at, self.rng))
                self._schedule_tick(node, max(machine.next_deadline(), at + 1))
            else:
                src, dst, data = payload
                node = self.by_id[dst]
                if not node.up:
                    continue
                try:
                    msg = parse(data) if self.wire else data
                    self.perform(node, node.machine.receive(src, msg, at))
                except RemoteProtocolError as exc:
                    self.errors.append((exc.code, str(exc)))
            if until is not None and until():
                return True
        self.now = max(self.now, t)
        return until() if until is not None else False

    def run_rounds(self, rounds: float) -> None:
        self.run_until(self.now + int(rounds * self.config.swim.round_ms))

    # --- scenario helpers -------------------------------------------------------------------
    def append(self, i: int, op: str = "add", record: TrackRecord | None = None, key: str | None = None) -> Entry:
        node = self.nodes[i]
        actions = node.machine.append(op, self.now, record=record, key=key)
        self.perform(node, actions)
        return actions[0].entries[0]  # type: ignore[attr-defined]

    def local_records(self, i: int, records: list[MemberRecord]) -> None:
        node = self.nodes[i]
        self.perform(node, node.machine.add_records(records, self.now))

    def join(self, identity: NodeIdentity, records: list[MemberRecord]) -> SimNode:
        node = self._add(len(self.nodes), identity, records)
        self._schedule_tick(node, self.now + 1)
        return node

    def partition(self, *groups: Iterable[int]) -> None:
        self.groups = {self.nodes[i].id: g for g, members in enumerate(groups) for i in members}

    def heal(self) -> None:
        self.groups = None

    def crash(self, i: int) -> None:
        self.nodes[i].up = False

    def restart(self, i: int) -> SimNode:
        old = self.nodes[i]
        node = self._add(i, old.identity, list(self.records) + list(old.store.records), old.store)
        self._schedule_tick(node, self.now + 1)
        return node

    def live_nodes(self) -> list[SimNode]:
        return [n for n in self.nodes if n.up]

    def has_seq(self, log: NodeId, seq: int) -> bool:
        return all(n.machine._seq_of(log) >= seq for n in self.live_nodes())
