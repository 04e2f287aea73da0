"""Gossip benchmark: one JSON line of figures from the protocol simulator.

    python bench/gossip.py [--quick]

* rounds until every node holds a new catalogue entry, N = 10, 100, 1000
  (median and max over 20 seeds; 5 seeds for N = 1000 unless --full);
* idle bytes sent per node per round (payload + signed request headers);
* bytes to bring a new member up to date with a 100k-track federation
  (snapshot manifest + pages + head, as serialised on the wire);
* verification throughput of catalogue entries (entries/s, one core).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time

from sonantica.protocol.catalogue import CatalogueLog, Entry, LogReplica
from sonantica.protocol.gossip import ServeLog, serve_log
from sonantica.protocol.limits import DEFAULT_ROUND_MS
from sonantica.protocol.messages import Entries, serialize
from sonantica.protocol.snapshots import make_snapshot
from sonantica.protocol.testing import Network, auth_overhead, fixed_identity, sample_record


def rounds_to_spread(n: int, seed: int) -> int:
    net = Network(n, seed=seed, wire=n <= 100)
    net.run_rounds(2)
    t0 = net.now
    net.append(0, record=sample_record(seed))
    ok = net.run_until(t0 + 60 * DEFAULT_ROUND_MS, lambda: net.has_seq(net.nodes[0].id, 1))
    if not ok:
        return 10**6
    return math.ceil((net.now - t0) / DEFAULT_ROUND_MS)


def idle_bytes(n: int) -> dict[str, float]:
    net = Network(n, seed=99)
    net.run_rounds(5)
    before, t0, msgs0 = sum(net.bytes_sent.values()), net.now, net.messages
    rounds = 20
    net.run_rounds(rounds)
    total = sum(net.bytes_sent.values()) - before
    msgs = net.messages - msgs0
    per_round = total / n / rounds
    return {
        "bytes_per_node_per_round": round(per_round, 1),
        "bytes_per_node_per_s": round(per_round * 1000 / DEFAULT_ROUND_MS, 1),
        "payload_bytes_per_node_per_round": round((total - msgs * net.overhead) / n / rounds, 1),
        "messages_per_node_per_round": round(msgs / n / rounds, 2),
    }


def new_member_bytes(tracks: int) -> dict[str, float]:
    ident = fixed_identity(1)
    log = CatalogueLog(ident)
    records = [sample_record(i, owner=1) for i in range(tracks)]
    for r in records[:100]:  # a little history; the snapshot covers everything
        log.append("add", 1, record=r)
    manifest, pages = make_snapshot(ident, log.seq, log.hash, records, 2)
    head = log.head(3)
    sends = serve_log(ServeLog(fixed_identity(2).node_id, ident.node_id, 1, head), None, (manifest, pages))
    payload = sum(len(serialize(s.message)) for s in sends)
    return {"tracks": tracks, "messages": len(sends), "bytes": payload + len(sends) * auth_overhead(),
            "bytes_per_track": round(payload / tracks, 1)}


def verify_throughput(count: int) -> float:
    ident = fixed_identity(3)
    log = CatalogueLog(ident)
    entries = [log.append("add", i, record=sample_record(i, owner=3)) for i in range(count)]
    wire = [serialize(Entries(log.head(count), tuple(entries[i:i + 256]))) for i in range(0, count, 256)]
    from sonantica.protocol.messages import parse
    t = time.perf_counter()
    rep = LogReplica(ident.node_id)
    for data in wire:
        msg = parse(data)
        rep.apply_entries(list(msg.entries))
    dt = time.perf_counter() - t
    assert rep.seq == count
    return round(count / dt)


def main() -> None:
    quick = "--quick" in sys.argv
    full = "--full" in sys.argv
    t = time.perf_counter()
    spread = {}
    for n in (10, 100, 1000):
        seeds = 20 if (n <= 100 or full) else 5
        if quick:
            seeds = 3 if n <= 100 else 1
        rs = [rounds_to_spread(n, s) for s in range(seeds)]
        spread[str(n)] = {"median": statistics.median(rs), "max": max(rs), "seeds": seeds,
                          "target": round(math.log2(n) + 3, 2)}
    idle = idle_bytes(100)
    out = {
        "bench": "gossip",
        "round_ms": DEFAULT_ROUND_MS,
        "rounds_to_all": spread,
        "target_met_n100": spread["100"]["max"] <= math.log2(100) + 3,
        "idle_n100": idle,
        "idle_target_met": idle["bytes_per_node_per_s"] <= 1024,
        "new_member_100k": new_member_bytes(10_000 if quick else 100_000),
        "verify_entries_per_s": verify_throughput(2000 if quick else 10_000),
        "auth_header_bytes": auth_overhead(),
        "wall_s": round(time.perf_counter() - t, 1),
    }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
