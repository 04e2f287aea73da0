"""Recorded, idempotent schema migrations.

Each domain module owns its tables and lists its migrations as
``MIGRATIONS = [(name, sql), ...]``; this module applies, in the order of the
domains in :func:`all_migrations` and then of each list, every migration not yet recorded in
``_migrations``. A migration runs inside the caller's write transaction, so
a crash leaves it either applied and recorded or neither. Never edit a
released migration: append a new one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .db import Database


def all_migrations() -> list[tuple[str, str]]:
    """Every domain's migrations, named ``domain:name``, in the order they apply."""
    from . import (analysis, annotations, bookmarks, jobs, metadata, peers, playlists, plays, podcasts, radio,
                   shares, tracks, users)

    domains = {"tracks": tracks, "users": users, "annotations": annotations, "playlists": playlists,
               "jobs": jobs, "plays": plays, "peers": peers, "analysis": analysis,
               "bookmarks": bookmarks, "podcasts": podcasts, "shares": shares, "metadata": metadata,
               "radio": radio}
    return [(f"{domain}:{name}", sql) for domain, module in domains.items() for name, sql in module.MIGRATIONS]


def apply(db: Database) -> list[str]:
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in db.conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, sql in all_migrations():
        if name in done:
            continue
        for statement in _statements(sql):
            db.conn.execute(statement)
        db.conn.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration script; triggers hold ';' inside BEGIN…END, so use sqlite3.complete_statement."""
    import sqlite3

    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
