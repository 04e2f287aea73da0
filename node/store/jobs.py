"""The persistent job queue: background work that survives restarts.

Theory of operation
-------------------
A job is one unit of background work: a ``kind`` (``"analysis"``) and a
``target`` (a track id), unique together, so enqueueing twice is a no-op.
States and transitions::

    pending ──claim──► running ──complete──► done
       ▲                  │
       │   fail, attempts < max (retry at now + backoff)
       └──────────────────┤
                          └─ fail, attempts = max ──► failed (last_error kept)

    running, lease expired ──claim──► running (the holder died: attempts + 1)
    running, lease expired, attempts = max ──claim──► failed
    done | failed ──enqueue with another stamp, or force──► pending (attempts 0)

``claim`` takes a lease (``lease_until``, ``lease_owner``) and counts the
attempt; the holder renews it while it works. If the holder dies (worker
killed, node killed, machine off) nobody renews, the lease runs out and the
next ``claim`` takes the job again. ``complete`` and ``fail`` only act on a
job still leased by the caller, so a holder that lost its lease cannot undo
the work of the one that took over.

``stamp`` is what the target looked like when the job was enqueued (for a
track: size and mtime): a failed job is retried only when its target
changed, so a corrupt file is not decoded again on every scan.

Every function here takes the database and ``now`` (seconds since the
epoch); callers pass time in, so tests need no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from .db import Database


MIGRATIONS = [
    (
        "0001_job",
        """
        CREATE TABLE job (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until REAL,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            stamp TEXT,
            payload TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (kind, target)
        );
        CREATE INDEX job_ready ON job(kind, state, next_attempt_at);
        """,
    ),
]

STATES = ("pending", "running", "done", "failed")


@dataclass(frozen=True)
class Backoff:
    """Retry delays: ``base * 2 ** (attempt - 1)``, capped; ``max_attempts`` then failed."""

    base_s: float = 30.0
    max_s: float = 3600.0
    max_attempts: int = 3

    def delay(self, attempts: int) -> float:
        return min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    target: str
    attempts: int
    payload: dict
    stamp: str | None


def enqueue(db: Database, kind: str, targets: Iterable[tuple[str, str | None]], now: float,
            payload: dict | None = None, force: bool = False) -> int:
    """Queue (target, stamp) pairs; returns how many became pending.

    A pending or running job is left alone (unless ``force`` updates its
    payload); a done job is queued again; a failed one only if its stamp
    changed or ``force``.
    """
    body = json.dumps(payload or {}, sort_keys=True)
    requeue = "state = 'done' OR (state = 'failed' AND (stamp IS NOT excluded.stamp OR :force))"
    sql = (
        "INSERT INTO job(kind, target, stamp, payload, created_at, updated_at) "
        "VALUES (:kind, :target, :stamp, :payload, :now, :now) "
        "ON CONFLICT(kind, target) DO UPDATE SET "
        f"  state = CASE WHEN {requeue} THEN 'pending' ELSE state END, "
        f"  attempts = CASE WHEN {requeue} THEN 0 ELSE attempts END, "
        f"  next_attempt_at = CASE WHEN {requeue} THEN :now ELSE next_attempt_at END, "
        f"  last_error = CASE WHEN {requeue} THEN NULL ELSE last_error END, "
        "  stamp = excluded.stamp, "
        "  payload = CASE WHEN :force OR state != 'running' THEN excluded.payload ELSE payload END, "
        "  updated_at = :now "
        f"WHERE {requeue} OR (:force AND state = 'pending')"
    )
    before = db.conn.total_changes
    db.conn.executemany(sql, ({"kind": kind, "target": t, "stamp": s, "payload": body, "now": now,
                               "force": int(force)} for t, s in targets))
    return db.conn.total_changes - before


def claim(db: Database, kind: str, owner: str, lease_s: float, now: float,
          backoff: Backoff = Backoff()) -> Job | None:
    """Lease the next ready job (pending and due, or running with an expired lease)."""
    while True:
        row = db.conn.execute(
            "SELECT id, target, attempts, payload, stamp, state FROM job WHERE kind = ? AND ("
            " (state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?)"
            ") ORDER BY state = 'running' DESC, next_attempt_at, id LIMIT 1",
            (kind, now, now),
        ).fetchone()
        if row is None:
            return None
        job_id, target, attempts, payload, stamp, state = row
        if state == "running" and attempts >= backoff.max_attempts:
            db.conn.execute(
                "UPDATE job SET state = 'failed', lease_owner = NULL, lease_until = NULL, updated_at = ?, "
                "last_error = coalesce(last_error, '') || ? WHERE id = ?",
                (now, f"{'; ' if attempts else ''}lease expired {attempts} times (worker died?)", job_id),
            )
            continue
        db.conn.execute(
            "UPDATE job SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?, "
            "updated_at = ? WHERE id = ?",
            (owner, now + lease_s, now, job_id),
        )
        return Job(job_id, kind, target, attempts + 1, json.loads(payload), stamp)


def renew(db: Database, job_id: int, owner: str, lease_s: float, now: float) -> bool:
    """Extend a lease still held by ``owner``; False when it was lost."""
    cur = db.conn.execute(
        "UPDATE job SET lease_until = ?, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
        (now + lease_s, now, job_id, owner),
    )
    return cur.rowcount == 1


def complete(db: Database, job_id: int, owner: str, now: float) -> bool:
    cur = db.conn.execute(
        "UPDATE job SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, "
        "updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
        (now, job_id, owner),
    )
    return cur.rowcount == 1


def fail(db: Database, job_id: int, owner: str, error: str, now: float,
         backoff: Backoff = Backoff(), permanent: bool = False) -> str | None:
    """Record a failed attempt; returns the new state ('pending' or 'failed'), None if the lease was lost."""
    row = db.conn.execute(
        "SELECT attempts FROM job WHERE id = ? AND state = 'running' AND lease_owner = ?", (job_id, owner)
    ).fetchone()
    if row is None:
        return None
    attempts = row[0]
    state = "failed" if permanent or attempts >= backoff.max_attempts else "pending"
    db.conn.execute(
        "UPDATE job SET state = ?, lease_owner = NULL, lease_until = NULL, last_error = ?, "
        "next_attempt_at = ?, updated_at = ? WHERE id = ?",
        (state, error[:2000], now + backoff.delay(attempts), now, job_id),
    )
    return state


def release(db: Database, job_id: int, owner: str, now: float) -> None:
    """Give a leased job back untouched (shutdown): it is pending again, the attempt not counted."""
    db.conn.execute(
        "UPDATE job SET state = 'pending', attempts = max(0, attempts - 1), lease_owner = NULL, "
        "lease_until = NULL, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
        (now, job_id, owner),
    )


def drop(db: Database, kind: str, targets: Iterable[str]) -> None:
    db.conn.executemany("DELETE FROM job WHERE kind = ? AND target = ?", ((kind, t) for t in targets))


def counts(db: Database, kind: str) -> dict[str, int]:
    """Jobs per state, plus ``total``."""
    out = dict.fromkeys(STATES, 0)
    for state, n in db.conn.execute("SELECT state, count(*) FROM job WHERE kind = ? GROUP BY state", (kind,)):
        out[state] = n
    out["total"] = sum(out[s] for s in STATES)
    return out


def ready(db: Database, kind: str, now: float) -> int:
    """Jobs that a worker could claim right now, plus those running (foreground `analyze` waits on these)."""
    return db.conn.execute(
        "SELECT count(*) FROM job WHERE kind = ? AND (state = 'running' OR (state = 'pending' AND next_attempt_at <= ?))",
        (kind, now),
    ).fetchone()[0]


def done_since(db: Database, kind: str, since: float) -> int:
    return db.conn.execute(
        "SELECT count(*) FROM job WHERE kind = ? AND state = 'done' AND updated_at >= ?", (kind, since)
    ).fetchone()[0]


def failures(db: Database, kind: str, limit: int = 50) -> list[dict]:
    """Failed jobs and retrying ones (pending with an error), newest first."""
    return [
        dict(r) for r in db.query(
            "SELECT target, state, attempts, last_error, next_attempt_at, updated_at FROM job "
            "WHERE kind = ? AND last_error IS NOT NULL AND state IN ('failed', 'pending') "
            "ORDER BY state = 'failed' DESC, updated_at DESC LIMIT ?", [kind, limit])
    ]


def get(db: Database, kind: str, target: str) -> dict | None:
    rows = list(db.query("SELECT * FROM job WHERE kind = ? AND target = ?", [kind, target]))
    return rows[0] if rows else None
