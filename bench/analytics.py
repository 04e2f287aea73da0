"""Analytics benchmark: one JSON line of figures.

- ``ingest_events_per_s``: native play events (start, 5 × progress, end per listen; every listen
  runs to the end and counts) applied through ``plays.apply_many`` in batches of 1,000, the
  aggregates maintained as they go;
- ``stats_p99_ms``: ``stats()`` reads through the store (thread hop included) for every period,
  for the user with the most history, once the node holds ``--events`` play events: 40 rounds of
  today, week, month, year and all, and the same rounds again on a fresh reader connection each
  time (an empty SQLite page cache: the first read after a pooled reader was opened or evicted);
  ``stats_p50_ms`` / ``stats_p99_ms`` are over every pooled read (the first round included, as
  before), ``stats_cold_p99_ms`` over the fresh-connection reads, and ``stats_by_period`` gives
  each period's pooled p50/p99 and cold p99;
- ``recommend_ms`` / ``daily_mix_ms``: one user's 20 recommendations and daily mixes over a
  ``--tracks`` catalogue, cold (first call: candidates and co-listening model loaded) and warm.

Targets (DESIGN §9 / issue 9): ingest ≥ 5,000 events/s, stats p99 ≤ 50 ms, daily mix ≤ 1 s.
Run: ``.venv/bin/python bench/analytics.py [--events 1000000] [--tracks 100000]``
(``--quick``: 200k events over a 20k-track catalogue, for a check in under a minute).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sonantica.node.analytics import playlists, plays, recommend, stats  # noqa: E402
from sonantica.node.store.db import Store, connect  # noqa: E402
from tests.analytics import synth  # noqa: E402

EVENTS_PER_LISTEN = 7
BATCH = 1000
PERIODS = ("today", "week", "month", "year", "all")
ROUNDS = 40


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 40 samples is the slowest)."""
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)


def listens(rng: random.Random, favourites: list[str], n: int, t0: float) -> list[dict]:
    out, at = [], t0
    for k in range(n):
        if k % 12 == 0:
            at += rng.uniform(6, 30) * 3600
        tid = rng.choice(favourites)
        out.append({"event": "start", "track_id": tid, "at": at, "client": "bench"})
        out += [{"event": "progress", "position_ms": p * 30_000, "at": at + p * 30, "client": "bench"}
                for p in range(1, 6)]
        out.append({"event": "end", "position_ms": 180_000, "at": at + 180, "client": "bench"})
        at += 200
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="200k events, 20k tracks")
    args = ap.parse_args()
    if args.quick:
        args.events, args.tracks = 200_000, 20_000
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        cat = store.write_sync(synth.add_catalogue, args.tracks, 16, max(10, args.tracks // 500))
        rng = random.Random(3)
        users = [store.write_sync(synth.add_user, f"u{i}") for i in range(args.users)]
        for u in users:
            store.write_sync(stats.set_timezone, u, "UTC", False)
        t0 = time.time() - 3 * 365 * 86400
        heavy = users[0]
        n_events, ingest_s = 0, 0.0
        for i, u in enumerate(users):
            clusters = rng.sample(range(16), 3)
            pool = [t["id"] for t in cat if t["cluster"] in clusters]
            favourites = rng.sample(pool, min(len(pool), 3000))
            # the first user holds a third of all events (years of heavy listening), the rest share the others
            share = args.events // 3 if i == 0 else (args.events - args.events // 3) // max(1, args.users - 1)
            evs = listens(rng, favourites, max(1, share // EVENTS_PER_LISTEN), t0)
            start = time.perf_counter()
            for k in range(0, len(evs), BATCH):
                store.write_sync(plays.apply_many, u, evs[k:k + BATCH])
            ingest_s += time.perf_counter() - start
            n_events += len(evs)
        total_plays = store.read_sync(lambda db: db.conn.execute("SELECT count(*) FROM play").fetchone()[0])

        now = time.time()
        warm: dict[str, list[float]] = {p: [] for p in PERIODS}
        cold: dict[str, list[float]] = {p: [] for p in PERIODS}
        for _ in range(ROUNDS):
            for period in PERIODS:
                s = time.perf_counter()
                store.read_sync(lambda db: stats.stats(db, heavy, period, now=now))
                warm[period].append((time.perf_counter() - s) * 1000)
        for _ in range(ROUNDS):
            for period in PERIODS:
                fresh = connect(Path(tmp) / "bench.db")  # an empty page cache, as a newly pooled reader has
                try:
                    s = time.perf_counter()
                    fresh.conn.execute("BEGIN")
                    stats.stats(fresh, heavy, period, now=now)
                    fresh.conn.execute("COMMIT")
                    cold[period].append((time.perf_counter() - s) * 1000)
                finally:
                    fresh.conn.close()
        lat = [v for p in PERIODS for v in warm[p]]
        by_period = {p: {"p50_ms": pct(warm[p], 0.5), "p99_ms": pct(warm[p], 0.99),
                         "cold_p99_ms": pct(cold[p], 0.99)} for p in PERIODS}
        s = time.perf_counter()
        store.read_sync(lambda db: stats.stats(db, heavy, "range", now=now, start="2001-03-15", end="2099-06-10"))
        range_ms = (time.perf_counter() - s) * 1000

        def timed(fn):
            s = time.perf_counter()
            result = store.read_sync(fn)
            return (time.perf_counter() - s) * 1000, result

        rec_cold, _ = timed(lambda db: recommend.recommend(db, heavy, 20))
        rec_warm, picks = timed(lambda db: recommend.recommend(db, heavy, 20))
        mix_ms, mixes = timed(lambda db: playlists.daily_mixes(db, heavy))
        size = os.path.getsize(Path(tmp) / "bench.db")
        store.close()
    print(json.dumps({
        "bench": "analytics", "tracks": args.tracks, "users": args.users, "play_events": n_events,
        "listens": total_plays, "ingest_events_per_s": round(n_events / ingest_s),
        "stats_p50_ms": pct(lat, 0.5), "stats_p99_ms": pct(lat, 0.99),
        "stats_cold_p99_ms": pct([v for p in PERIODS for v in cold[p]], 0.99), "stats_by_period": by_period,
        "stats_any_range_ms": round(range_ms, 2), "recommend_cold_ms": round(rec_cold, 1),
        "recommend_ms": round(rec_warm, 1), "recommendations": len(picks), "daily_mix_ms": round(mix_ms, 1),
        "daily_mixes": len(mixes), "db_mb": round(size / 2**20, 1),
        "targets": {"ingest_events_per_s": 5000, "stats_p99_ms": 50, "daily_mix_ms": 1000},
    }))


if __name__ == "__main__":
    main()
