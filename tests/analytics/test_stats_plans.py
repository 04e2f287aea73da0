"""The stats read's query plans: every read of stat_bucket seeks its buckets, with or without ANALYZE data."""

from __future__ import annotations

import sqlite3

from sonantica.node.analytics import plays, stats
from sonantica.node.store.db import Database, Store

from . import synth


class _Planner:
    """Stands in for a connection: records the plan of every statement, then runs it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.real, self.plans = conn, []

    def execute(self, sql, params=()):
        self.plans.append((sql, [r[3] for r in self.real.execute("EXPLAIN QUERY PLAN " + sql, params)]))
        return self.real.execute(sql, params)


def test_every_stat_bucket_read_seeks_its_buckets(tmp_path):
    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 40, 4)
    uid = store.write_sync(synth.add_user, "ana")
    store.write_sync(stats.set_timezone, uid, "UTC", False)
    for n in range(30):
        at = 1_700_000_000.0 + n * 5 * 86400
        store.write_sync(plays.apply_scrobble, uid, cat[n % 7]["id"], True, "dsub", at, None, None, at + 300)
    store.write_sync(lambda db: db.conn.execute("DROP TABLE IF EXISTS sqlite_stat1"))  # a node never analysed
    db = Database(sqlite3.connect(str(tmp_path / "node.db")))
    planner = _Planner(db.conn)
    db.conn = planner  # type: ignore[assignment]
    now = 1_700_000_000.0 + 200 * 86400
    for period in ("today", "week", "month", "year", "all"):
        stats.stats(db, uid, period, now=now)
    stats.stats(db, uid, "range", now=now, start="2023-10-20", end="2024-03-05")  # days, months and a year
    seen = 0
    for sql, plan in planner.plans:
        for step in plan:
            if "stat_bucket" in step and ("SCAN" in step or "SEARCH" in step):
                seen += 1
                assert "gran=?" in step, (sql, plan)  # never the whole user's range
    assert seen > 20
    store.close()
