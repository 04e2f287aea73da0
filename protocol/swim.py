"""SWIM-style failure detection, sans-IO.

Theory of operation
-------------------
Every protocol period (``round_ms``) a node probes one peer, taken in turn
from a shuffled list of the peers it does not believe dead:

1. send ``ping(seq)``; an ``ack(seq)`` within ``probe_timeout_ms`` ends it;
2. otherwise ask ``k`` other live peers with ``ping_req(seq, target)``; each
   pings the target on our behalf and relays its ack;
3. no ack by the end of the period: the target becomes **suspect**. A suspect
   that does not refute within ``suspicion_ms`` becomes **dead**;
4. with probability ``1/reconnect_every`` per period, also ping one dead peer
   (untracked): this is how partitions heal and restarted nodes are noticed.

Beliefs spread as :class:`~.messages.Update` ``(node, state, incarnation)``
piggybacked on every outgoing message, each retransmitted
``PIGGYBACK_MULTIPLIER * ceil(log2(N+1))`` times. Only a node raises its own
incarnation: hearing that it is suspect (or dead: it has come back) it
announces ``alive`` with a higher incarnation, which overrides the rumour. A
node that hears from a peer it believes suspect or dead tells it so directly
(:meth:`Swim.beliefs_for`), so a restarted node learns it must refute.

Which update overrides which is the table :data:`OVERRIDES`: for the current
state and the incoming state, the predicate on ``(incoming inc, current inc)``.

Time is integer milliseconds passed in; randomness is a ``random.Random``
passed in. The class emits ``(peer, message)`` pairs and state-change events;
it never touches the network.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import LocalProtocolError
from .identity import NodeId
from .limits import (
    DEFAULT_INDIRECT_PROBES,
    DEFAULT_PROBE_TIMEOUT_MS,
    DEFAULT_RECONNECT_EVERY,
    DEFAULT_ROUND_MS,
    DEFAULT_SUSPICION_MS,
    MAX_PIGGYBACK,
    PIGGYBACK_MULTIPLIER,
)
from .messages import Ack, Message, Ping, PingReq, Update

__all__ = ["ALIVE", "SUSPECT", "DEAD", "OVERRIDES", "SwimConfig", "PeerStatus", "Swim"]

ALIVE, SUSPECT, DEAD = "alive", "suspect", "dead"

_gt: Callable[[int, int], bool] = lambda new, cur: new > cur
_ge: Callable[[int, int], bool] = lambda new, cur: new >= cur

#: (current state, incoming state) -> does the incoming update win?
OVERRIDES: dict[tuple[str, str], Callable[[int, int], bool]] = {
    (ALIVE, ALIVE): _gt,
    (ALIVE, SUSPECT): _ge,
    (ALIVE, DEAD): _ge,
    (SUSPECT, ALIVE): _gt,
    (SUSPECT, SUSPECT): _gt,
    (SUSPECT, DEAD): _ge,
    (DEAD, ALIVE): _gt,  # a node that came back refutes its death with a higher incarnation
    (DEAD, SUSPECT): lambda new, cur: False,
    (DEAD, DEAD): lambda new, cur: False,
}


@dataclass(frozen=True)
class SwimConfig:
    round_ms: int = DEFAULT_ROUND_MS
    probe_timeout_ms: int = DEFAULT_PROBE_TIMEOUT_MS
    indirect_probes: int = DEFAULT_INDIRECT_PROBES
    suspicion_ms: int = DEFAULT_SUSPICION_MS
    reconnect_every: int = DEFAULT_RECONNECT_EVERY

    def __post_init__(self) -> None:
        if not 0 < self.probe_timeout_ms < self.round_ms or self.suspicion_ms <= 0 or self.indirect_probes < 0:
            raise LocalProtocolError("need 0 < probe_timeout_ms < round_ms and suspicion_ms > 0")


@dataclass
class PeerStatus:
    state: str
    inc: int
    since: int


@dataclass
class _Probe:
    target: NodeId
    seq: int
    started: int
    acked: bool = False
    indirect: bool = False


class Swim:
    """Failure detector for one node. Drive with :meth:`tick` and the ``on_*`` methods."""

    def __init__(self, me: NodeId, peers: Iterable[NodeId], now: int, make_ping: Callable[[int], Ping],
                 config: SwimConfig = SwimConfig()) -> None:
        self.me = me
        self.inc = 0
        self.config = config
        self.make_ping = make_ping
        self.peers: dict[NodeId, PeerStatus] = {}
        self._queue: list[NodeId] = []
        self._probe: _Probe | None = None
        self._next_period = now
        self._seq = 0
        self._forwards: dict[int, tuple[NodeId, int, int]] = {}
        self._gossip: dict[NodeId, tuple[Update, int]] = {}
        self.events: list[tuple[NodeId, str]] = []
        self.set_peers(peers, now)

    # --- membership of the detector ------------------------------------------------
    def set_peers(self, peers: Iterable[NodeId], now: int) -> None:
        """Follow the federation's member list (new members start alive)."""
        want = set(peers) - {self.me}
        for p in list(self.peers):
            if p not in want:
                del self.peers[p]
                self._gossip.pop(p, None)
        for p in want:
            if p not in self.peers:
                self.peers[p] = PeerStatus(ALIVE, 0, now)

    def live(self) -> list[NodeId]:
        """Peers not believed dead, in a stable order."""
        return sorted(p for p, s in self.peers.items() if s.state != DEAD)

    def state_of(self, node: NodeId) -> str:
        return ALIVE if node == self.me else self.peers[node].state

    # --- time -------------------------------------------------------------------------
    def next_deadline(self) -> int:
        t = self._next_period
        if self._probe and not self._probe.acked and not self._probe.indirect:
            t = min(t, self._probe.started + self.config.probe_timeout_ms)
        for s in self.peers.values():
            if s.state == SUSPECT:
                t = min(t, s.since + self.config.suspicion_ms)
        return t

    def tick(self, now: int, rng: random.Random) -> list[tuple[NodeId, Message]]:
        out: list[tuple[NodeId, Message]] = []
        cfg = self.config
        for p, s in self.peers.items():
            if s.state == SUSPECT and now >= s.since + cfg.suspicion_ms:
                self._set(p, DEAD, s.inc, now)
        probe = self._probe
        if probe and not probe.acked and not probe.indirect and now >= probe.started + cfg.probe_timeout_ms:
            probe.indirect = True
            helpers = [p for p in self.live() if p != probe.target and self.peers[p].state == ALIVE]
            for h in rng.sample(helpers, min(cfg.indirect_probes, len(helpers))):
                out.append((h, PingReq(probe.seq, probe.target)))
        if now >= self._next_period:
            if probe and not probe.acked and probe.target in self.peers:
                s = self.peers[probe.target]
                if s.state == ALIVE:
                    self._set(probe.target, SUSPECT, s.inc, now)
            self._probe = None
            self._forwards = {k: v for k, v in self._forwards.items() if v[2] > now}
            target = self._next_target(rng)
            if target is not None:
                self._seq += 1
                self._probe = _Probe(target, self._seq, now)
                out.append((target, self.make_ping(self._seq)))
            dead = sorted(p for p, s in self.peers.items() if s.state == DEAD)
            if dead and rng.random() < 1 / cfg.reconnect_every:
                # Heal partitions and notice restarts: an untracked ping to a dead peer
                # tells it what we believe (beliefs_for); its refutation comes back on the ack.
                self._seq += 1
                out.append((rng.choice(dead), self.make_ping(self._seq)))
            self._next_period = now + cfg.round_ms
        return out

    def _next_target(self, rng: random.Random) -> NodeId | None:
        while self._queue:
            t = self._queue.pop()
            if t in self.peers and self.peers[t].state != DEAD:
                return t
        live = self.live()
        if not live:
            return None
        rng.shuffle(live)
        self._queue = live
        return self._queue.pop()

    # --- messages -------------------------------------------------------------------
    def on_ping(self, peer: NodeId, msg: Ping) -> list[tuple[NodeId, Message]]:
        return [(peer, Ack(msg.seq))]

    def on_ack(self, peer: NodeId, msg: Ack, now: int) -> list[tuple[NodeId, Message]]:
        fwd = self._forwards.pop(msg.seq, None)
        if fwd is not None:
            return [(fwd[0], Ack(fwd[1]))]
        if self._probe and msg.seq == self._probe.seq:
            self._probe.acked = True
        return []

    def on_ping_req(self, peer: NodeId, msg: PingReq, now: int) -> list[tuple[NodeId, Message]]:
        if msg.target == self.me or msg.target not in self.peers:
            return []
        self._seq += 1
        self._forwards[self._seq] = (peer, msg.seq, now + self.config.round_ms)
        return [(msg.target, self.make_ping(self._seq))]

    # --- dissemination -----------------------------------------------------------------
    def absorb(self, updates: Iterable[Update], now: int) -> None:
        for u in updates:
            if u.node == self.me:
                if u.state != ALIVE and u.inc >= self.inc:
                    self.inc = u.inc + 1  # refute
                    self._queue_update(Update(self.me, ALIVE, self.inc))
                continue
            s = self.peers.get(u.node)
            if s is None:
                continue  # not a member (yet): membership decides who exists
            if OVERRIDES[(s.state, u.state)](u.inc, s.inc):
                self._set(u.node, u.state, u.inc, now)

    def _set(self, node: NodeId, state: str, inc: int, now: int) -> None:
        s = self.peers[node]
        changed = s.state != state
        s.state, s.inc, s.since = state, inc, now
        self._queue_update(Update(node, state, inc))
        if changed:
            self.events.append((node, state))

    def _queue_update(self, u: Update) -> None:
        self._gossip[u.node] = (u, 0)

    def take_updates(self, limit: int = MAX_PIGGYBACK) -> tuple[Update, ...]:
        """Updates to piggyback on one outgoing message (fewest-sent first)."""
        if not self._gossip:
            return ()
        budget = PIGGYBACK_MULTIPLIER * max(1, math.ceil(math.log2(len(self.peers) + 2)))
        items = sorted(self._gossip.items(), key=lambda kv: (kv[1][1], str(kv[0])))[:limit]
        out = []
        for node, (u, n) in items:
            out.append(u)
            if n + 1 >= budget:
                del self._gossip[node]
            else:
                self._gossip[node] = (u, n + 1)
        return tuple(out)

    def beliefs_for(self, peer: NodeId) -> tuple[Update, ...]:
        """If we think ``peer`` is suspect or dead, tell it so it can refute."""
        s = self.peers.get(peer)
        if s is None or s.state == ALIVE:
            return ()
        return (Update(peer, s.state, s.inc),)
