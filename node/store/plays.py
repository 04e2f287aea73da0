"""Listening history: one row per listen, now playing, and the aggregates that make stats instant.

Theory of operation
-------------------
A **play** row is one listen of one track by one user on one client, from
``start`` to ``end``/``skip`` (or until another track starts on that client).
Events update it: ``played_ms`` grows by the position advanced, never by more
than the wall clock allows, so a seek forward does not count as listening.
A play is **counted** once ``played_ms`` reaches half the track or 4 minutes,
whichever is lower (ListenBrainz / Last.fm rules); counting is a one-way flag,
so a retrying client cannot count a listen twice. Subsonic ``scrobble``
submissions arrive already counted and are deduplicated on (user, track,
started second).

When a play is counted, :func:`book` adds it to the **aggregates**:

- ``stat_bucket`` (user, granularity, bucket, kind, item) → plays, ms, for
  day (``YYYYMMDD``), month (``YYYYMM``), year (``YYYY``) and all time (``0``)
  buckets in the user's time zone, for kinds track, album, artist, genre,
  hour, weekday and total. Any period is a handful of buckets, so a read
  never scans the history (see :mod:`sonantica.node.analytics.stats`).
- ``listen_item`` (user, kind, item) → plays, skips, first and last play:
  discoveries, freshness and the recommender's view of a user.
- ``play_name``: display names of every item ever counted, so stats keep
  naming tracks that left the library (or live on a friend's node).

Listening time that accrues after the count (the rest of the song) is booked
as a delta when the play closes (``ms_booked``). Deleting history deletes the
rows and rebuilds the user's aggregates from what is left.
"""

from __future__ import annotations

import json
import time

from . import scope
from .db import Database


MIGRATIONS = [
    (
        "0001_plays",
        """
        CREATE TABLE play (
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            track_id TEXT NOT NULL,
            source TEXT,
            client TEXT NOT NULL DEFAULT '',
            device TEXT NOT NULL DEFAULT '',
            started_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            ended_at REAL,
            position_ms INTEGER NOT NULL DEFAULT 0,
            played_ms INTEGER NOT NULL DEFAULT 0,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'playing',
            counted INTEGER NOT NULL DEFAULT 0,
            counted_at REAL,
            ms_booked INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            completed INTEGER NOT NULL DEFAULT 0,
            via TEXT NOT NULL DEFAULT 'native',
            title TEXT, artist TEXT, album TEXT
        );
        CREATE INDEX play_user_time ON play(user_id, started_at);
        CREATE INDEX play_open ON play(user_id, client, device) WHERE ended_at IS NULL;
        CREATE UNIQUE INDEX play_scrobble ON play(user_id, track_id, CAST(started_at AS INTEGER)) WHERE via = 'scrobble';
        CREATE TABLE now_playing (
            user_id TEXT NOT NULL,
            client TEXT NOT NULL,
            device TEXT NOT NULL DEFAULT '',
            track_id TEXT NOT NULL,
            source TEXT,
            play_id INTEGER,
            state TEXT NOT NULL,
            position_ms INTEGER NOT NULL DEFAULT 0,
            since REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (user_id, client, device)
        ) WITHOUT ROWID;
        CREATE TABLE stat_bucket (
            user_id TEXT NOT NULL,
            gran TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            kind TEXT NOT NULL,
            item TEXT NOT NULL,
            plays INTEGER NOT NULL DEFAULT 0,
            ms INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, gran, bucket, kind, item)
        ) WITHOUT ROWID;
        CREATE INDEX stat_bucket_top ON stat_bucket(user_id, gran, bucket, kind, plays DESC);
        CREATE TABLE listen_item (
            user_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            item TEXT NOT NULL,
            plays INTEGER NOT NULL DEFAULT 0,
            skips INTEGER NOT NULL DEFAULT 0,
            first_at REAL,
            last_at REAL,
            PRIMARY KEY (user_id, kind, item)
        ) WITHOUT ROWID;
        CREATE INDEX listen_item_first ON listen_item(user_id, kind, first_at);
        CREATE TABLE play_name (
            kind TEXT NOT NULL,
            item TEXT NOT NULL,
            name TEXT NOT NULL,
            extra TEXT,
            PRIMARY KEY (kind, item)
        ) WITHOUT ROWID;
        CREATE TABLE analytics_user (
            user_id TEXT PRIMARY KEY,
            tz TEXT,
            share_aggregates INTEGER NOT NULL DEFAULT 0,
            settings TEXT NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        "0002_forwarding",
        """
        CREATE TABLE forward_account (
            user_id TEXT NOT NULL,
            service TEXT NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 0,
            url TEXT,
            token TEXT,
            api_key TEXT,
            api_secret TEXT,
            last_error TEXT,
            held_until REAL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (user_id, service)
        ) WITHOUT ROWID;
        CREATE TABLE forward_queue (
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            service TEXT NOT NULL,
            play_id INTEGER,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL,
            last_error TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX forward_queue_due ON forward_queue(state, next_at);
        CREATE UNIQUE INDEX forward_queue_once ON forward_queue(service, play_id) WHERE play_id IS NOT NULL;
        """,
    ),
    ("0003_play_meta", "ALTER TABLE play ADD COLUMN meta TEXT;"),
    # one row per user and bucket: streaks and timelines without walking every day's items
    ("0004_totals_index", "CREATE INDEX stat_bucket_totals ON stat_bucket(user_id, gran, bucket) WHERE kind = 'total';"),
    # the same rows with plays and ms in the index: streaks, timelines and totals read the index alone
    # (stat_bucket_totals needed a table lookup per day: ~3,000 random reads for years of history)
    (
        "0005_totals_covering",
        """
        CREATE INDEX stat_bucket_total_sums ON stat_bucket(user_id, gran, bucket, plays, ms) WHERE kind = 'total';
        DROP INDEX stat_bucket_totals;
        """,
    ),
    # the playback speed a client reports (OpenSubsonic playbackReport), so now playing can tell where it is
    ("0006_now_playing_rate", "ALTER TABLE now_playing ADD COLUMN rate REAL NOT NULL DEFAULT 1;"),
]

KINDS = ("track", "album", "artist", "genre", "hour", "weekday", "total")
GRANS = ("d", "m", "y", "a")
OPEN_PLAY_TTL_S = 6 * 3600  # an open play untouched this long is closed by the next sweep


# -- the counting rule ---------------------------------------------------------
def threshold_ms(duration_ms: int) -> int:
    """Half the track or 4 minutes, whichever is lower (unknown length: 4 minutes)."""
    if duration_ms <= 0:
        return 240_000
    return min(duration_ms // 2, 240_000)


# -- settings ----------------------------------------------------------------------
def user_settings(db: Database, user_id: str) -> dict:
    row = db.conn.execute(
        "SELECT tz, share_aggregates, settings FROM analytics_user WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return {"tz": None, "share_aggregates": False}
    return {"tz": row[0], "share_aggregates": bool(row[1]), **json.loads(row[2])}


def set_user_settings(db: Database, user_id: str, tz: str | None, share_aggregates: bool) -> None:
    db.conn.execute(
        "INSERT INTO analytics_user(user_id, tz, share_aggregates) VALUES (?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET tz = excluded.tz, share_aggregates = excluded.share_aggregates",
        (user_id, tz, int(share_aggregates)))


# -- plays -------------------------------------------------------------------------------
PLAY_COLUMNS = ("id", "user_id", "track_id", "source", "client", "device", "started_at", "updated_at", "ended_at",
                "position_ms", "played_ms", "duration_ms", "state", "counted", "counted_at", "ms_booked", "skipped",
                "completed", "via", "title", "artist", "album", "meta")


def _play(row) -> dict:
    return dict(zip(PLAY_COLUMNS, row))


def get_play(db: Database, play_id: int) -> dict | None:
    row = db.conn.execute(f"SELECT {', '.join(PLAY_COLUMNS)} FROM play WHERE id = ?", (play_id,)).fetchone()
    return _play(row) if row else None


def open_play(db: Database, user_id: str, client: str, device: str) -> dict | None:
    row = db.conn.execute(
        f"SELECT {', '.join(PLAY_COLUMNS)} FROM play WHERE user_id = ? AND client = ? AND device = ? "
        "AND ended_at IS NULL ORDER BY id DESC LIMIT 1", (user_id, client, device)).fetchone()
    return _play(row) if row else None


def insert_play(db: Database, p: dict) -> int:
    cols = [c for c in PLAY_COLUMNS if c != "id" and c in p]
    cur = db.conn.execute(f"INSERT INTO play({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [p[c] for c in cols])
    return cur.lastrowid


def scrobbled(db: Database, user_id: str, track_id: str, at: float, window_s: float) -> bool:
    """A counted play of this track by this user started within ``window_s`` of ``at``."""
    row = db.conn.execute(
        "SELECT 1 FROM play WHERE user_id = ? AND started_at BETWEEN ? AND ? AND track_id = ? AND counted = 1 LIMIT 1",
        (user_id, at - window_s, at + window_s, track_id)).fetchone()
    return row is not None


def reported(db: Database, user_id: str, client: str, track_id: str, start: float, end: float) -> bool:
    """A counted listen of this track that this client reported (reportPlayback) started in [start, end]."""
    return db.conn.execute(
        "SELECT 1 FROM play WHERE user_id = ? AND started_at BETWEEN ? AND ? AND track_id = ? AND client = ? "
        "AND via = 'report' AND counted = 1 LIMIT 1", (user_id, start, end, track_id, client)).fetchone() is not None


def update_play(db: Database, play_id: int, **values) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    db.conn.execute(f"UPDATE play SET {sets} WHERE id = ?", (*values.values(), play_id))


def stale_open_plays(db: Database, before: float) -> list[dict]:
    rows = db.conn.execute(
        f"SELECT {', '.join(PLAY_COLUMNS)} FROM play WHERE ended_at IS NULL AND updated_at < ?", (before,))
    return [_play(r) for r in rows]


# -- now playing ---------------------------------------------------------------------
def set_now_playing(db: Database, user_id: str, client: str, device: str, track_id: str,
                    source: str | None, play_id: int | None, state: str, position_ms: int, at: float,
                    rate: float = 1.0) -> None:
    db.conn.execute(
        "INSERT INTO now_playing(user_id, client, device, track_id, source, play_id, state, position_ms, since, "
        "updated_at, rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, client, device) DO UPDATE SET "
        "since = CASE WHEN now_playing.track_id = excluded.track_id AND coalesce(now_playing.play_id, -1) = "
        "coalesce(excluded.play_id, -1) THEN now_playing.since ELSE excluded.since END, track_id = excluded.track_id, "
        "source = excluded.source, play_id = excluded.play_id, state = excluded.state, "
        "position_ms = excluded.position_ms, updated_at = excluded.updated_at, rate = excluded.rate",
        (user_id, client, device, track_id, source, play_id, state, position_ms, at, at, rate))


def clear_now_playing(db: Database, user_id: str, client: str, device: str,
                      track_id: str | None = None) -> None:
    if track_id is None:
        db.conn.execute("DELETE FROM now_playing WHERE user_id = ? AND client = ? AND device = ?",
                        (user_id, client, device))
    else:
        db.conn.execute("DELETE FROM now_playing WHERE user_id = ? AND client = ? AND device = ? AND track_id = ?",
                        (user_id, client, device, track_id))


def now_playing(db: Database, since: float) -> list[dict]:
    rows = db.conn.execute(
        "SELECT n.user_id, u.name, n.client, n.device, n.track_id, n.source, n.play_id, n.state, n.position_ms, "
        "n.since, n.updated_at, n.rate FROM now_playing n JOIN user u ON u.id = n.user_id WHERE n.updated_at >= ? "
        "ORDER BY n.since DESC", (since,))
    keys = ("user_id", "user_name", "client", "device", "track_id", "source", "play_id", "state", "position_ms",
            "since", "updated_at", "rate")
    return [dict(zip(keys, r)) for r in rows]


# -- aggregates --------------------------------------------------------------------------
def book(db: Database, user_id: str, keys: list[tuple[str, str]], buckets: list[tuple[str, int]],
         plays: int, ms: int) -> None:
    """Add ``plays`` and ``ms`` to every (gran, bucket) × (kind, item) of one play."""
    db.conn.executemany(
        "INSERT INTO stat_bucket(user_id, gran, bucket, kind, item, plays, ms) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id, gran, bucket, kind, item) DO UPDATE SET plays = plays + excluded.plays, "
        "ms = ms + excluded.ms",
        [(user_id, g, b, k, i, plays, ms) for g, b in buckets for k, i in keys])


def note_listen(db: Database, user_id: str, items: list[tuple[str, str]], at: float,
                plays: int, skips: int) -> None:
    db.conn.executemany(
        "INSERT INTO listen_item(user_id, kind, item, plays, skips, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id, kind, item) DO UPDATE SET plays = plays + excluded.plays, skips = skips + excluded.skips, "
        "first_at = CASE WHEN excluded.plays > 0 THEN min(coalesce(first_at, excluded.first_at), excluded.first_at) "
        "ELSE first_at END, "
        "last_at = CASE WHEN excluded.plays > 0 THEN max(coalesce(last_at, excluded.last_at), excluded.last_at) "
        "ELSE last_at END",
        [(user_id, k, i, plays, skips, at if plays else None, at if plays else None) for k, i in items])


def name_items(db: Database, names: list[tuple[str, str, str, str | None]]) -> None:
    db.conn.executemany("INSERT OR IGNORE INTO play_name(kind, item, name, extra) VALUES (?, ?, ?, ?)", names)


def names(db: Database, kind: str, items: list[str]) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for i in range(0, len(items), 500):
        chunk = items[i:i + 500]
        for item, name, extra in db.conn.execute(
                f"SELECT item, name, extra FROM play_name WHERE kind = ? AND item IN ({','.join('?' * len(chunk))})",
                (kind, *chunk)):
            out[item] = (name, extra)
    return out


def top(db: Database, user_id: str, kind: str, buckets: list[tuple[str, int]], limit: int,
        order: str = "plays") -> list[tuple[str, int, int]]:
    """(item, plays, ms) of the most played items over the given buckets."""
    if not buckets:
        return []
    if len(buckets) == 1:
        g, b = buckets[0]
        rows = db.conn.execute(
            "SELECT item, plays, ms FROM stat_bucket INDEXED BY stat_bucket_top WHERE user_id = ? AND gran = ? "
            "AND bucket = ? AND kind = ? ORDER BY plays DESC, item LIMIT ?", (user_id, g, b, kind, limit))
        return [tuple(r) for r in rows]
    union, params = _bucket_union(user_id, kind, buckets, "item, plays, ms")
    rows = db.conn.execute(
        f"SELECT item, sum(plays) AS p, sum(ms) FROM ({union}) GROUP BY item ORDER BY p DESC, item LIMIT ?",
        (*params, limit))
    return [tuple(r) for r in rows]


def series(db: Database, user_id: str, kind: str, buckets: list[tuple[str, int]]) -> list[tuple]:
    """(gran, bucket, item, plays, ms) rows of one kind, bucket by bucket (for timelines and histograms)."""
    if not buckets:
        return []
    union, params = _bucket_union(user_id, kind, buckets, "gran, bucket, item, plays, ms")
    return [tuple(r) for r in db.conn.execute(union, params)]


def _bucket_union(user_id: str, kind: str, buckets: list[tuple[str, int]], columns: str) -> tuple[str, list]:
    """One primary-key range read per granularity, glued with UNION ALL.

    Not ``(gran = 'm' AND bucket IN …) OR (gran = 'd' AND bucket IN …)``: without ``sqlite_stat1``
    (a node that has not run ``PRAGMA optimize`` yet) SQLite planned that OR as a scan of every
    bucket the user has (~350k rows for years of history, 30–50 ms per query, ~250 ms per "year"
    read). Each arm here has equality on (user_id, gran, kind) and IN on bucket, so the only
    sensible plan is a seek per bucket, whatever the statistics say.
    """
    by_gran: dict[str, list[int]] = {}
    for g, b in buckets:
        by_gran.setdefault(g, []).append(b)
    parts, params = [], []
    for g, bs in by_gran.items():
        parts.append(f"SELECT {columns} FROM stat_bucket WHERE user_id = ? AND gran = ? AND kind = ? "
                     f"AND bucket IN ({','.join('?' * len(bs))})")
        params += [user_id, g, kind, *bs]
    return " UNION ALL ".join(parts), params


def totals_by_gran(db: Database, user_id: str, gran: str) -> list[tuple[int, int, int]]:
    """(bucket, plays, ms) of every non-empty bucket of one granularity, ascending."""
    return [tuple(r) for r in db.conn.execute(
        "SELECT bucket, plays, ms FROM stat_bucket INDEXED BY stat_bucket_total_sums WHERE user_id = ? AND gran = ? "
        "AND kind = 'total' AND item = '' "
        "AND plays > 0 ORDER BY bucket", (user_id, gran))]


def day_totals(db: Database, user_id: str) -> list[int]:
    """Every day (``YYYYMMDD``) the user has a counted play, ascending: for streaks."""
    return [r[0] for r in db.conn.execute(
        "SELECT bucket FROM stat_bucket INDEXED BY stat_bucket_total_sums WHERE user_id = ? AND gran = 'd' "
        "AND kind = 'total' AND item = '' "
        "AND plays > 0 ORDER BY bucket", (user_id,))]


def first_in(db: Database, user_id: str, kind: str, start: float, end: float, limit: int
             ) -> tuple[int, list[str]]:
    """How many items of ``kind`` the user first played in [start, end), and the first few of them."""
    n = db.conn.execute("SELECT count(*) FROM listen_item WHERE user_id = ? AND kind = ? AND first_at >= ? "
                        "AND first_at < ?", (user_id, kind, start, end)).fetchone()[0]
    items = [r[0] for r in db.conn.execute(
        "SELECT item FROM listen_item WHERE user_id = ? AND kind = ? AND first_at >= ? AND first_at < ? "
        "ORDER BY first_at DESC LIMIT ?", (user_id, kind, start, end, limit))]
    return n, items


def listen_items(db: Database, user_id: str, kind: str = "track") -> list[tuple[str, int, int, float]]:
    """(item, plays, skips, last_at) of everything the user ever played or skipped."""
    return [tuple(r) for r in db.conn.execute(
        "SELECT item, plays, skips, coalesce(last_at, 0) FROM listen_item WHERE user_id = ? AND kind = ?",
        (user_id, kind))]


def plays_of(db: Database, user_id: str, ids: list[str]) -> dict[str, tuple[int, float]]:
    """{track, album or artist id: (play count, last played)} for this user (Subsonic playCount/played)."""
    out: dict[str, tuple[int, float]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for item, plays, last in db.conn.execute(
                f"SELECT item, plays, last_at FROM listen_item WHERE user_id = ? AND item IN "
                f"({','.join('?' * len(chunk))}) AND plays > 0", (user_id, *chunk)):
            out[item] = (plays, last)
    return out


def top_tracks_of_artist(db: Database, artist_id: str, count: int) -> list[str]:
    """The artist's tracks most played on this node (all users), then the rest by title (getTopSongs)."""
    return [r[0] for r in db.conn.execute(
        "SELECT ta.track_id FROM track_artist ta JOIN track t ON t.id = ta.track_id "
        "LEFT JOIN (SELECT item, sum(plays) AS n FROM listen_item WHERE kind = 'track' GROUP BY item) p "
        f"ON p.item = ta.track_id WHERE ta.artist_id = ? AND ta.role IN ('artist', 'albumartist') AND {scope.sql('t.folder_id')} "
        "GROUP BY ta.track_id ORDER BY coalesce(max(p.n), 0) DESC, t.title LIMIT ?", (artist_id, count))]


def item_popularity(db: Database, kind: str = "track") -> list[tuple[str, int]]:
    """All users' all-time plays per item: the node's popularity."""
    return [tuple(r) for r in db.conn.execute(
        "SELECT item, sum(plays) FROM listen_item WHERE kind = ? GROUP BY item", (kind,))]


# -- history -----------------------------------------------------------------------------------
def history(db: Database, user_id: str, start: float, end: float, limit: int,
            before_id: int | None = None, counted_only: bool = False) -> list[dict]:
    sql = (f"SELECT {', '.join(PLAY_COLUMNS)} FROM play WHERE user_id = ? AND started_at >= ? AND started_at < ?"
           + (" AND id < ?" if before_id else "") + (" AND counted = 1" if counted_only else "")
           + ("" if not scope.limited() else  # listens of music in folders the caller no longer sees: not shown
              f" AND EXISTS (SELECT 1 FROM lib_track v WHERE v.id = play.track_id AND {scope.sql('v.folder_id')})")
           + " ORDER BY started_at DESC, id DESC LIMIT ?")
    params = [user_id, start, end] + ([before_id] if before_id else []) + [limit]
    return [_play(r) for r in db.conn.execute(sql, params)]


def recent_counted(db: Database, limit: int) -> list[tuple[str, str, float]]:
    """(user, track, started_at) of the node's most recent counted plays, oldest first: co-listening input."""
    rows = db.conn.execute(
        "SELECT user_id, track_id, started_at FROM play WHERE counted = 1 ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    rows.reverse()
    return rows


def delete_history(db: Database, user_id: str, start: float | None, end: float | None) -> int:
    if start is None and end is None:
        n = db.conn.execute("DELETE FROM play WHERE user_id = ?", (user_id,)).rowcount
    else:
        n = db.conn.execute("DELETE FROM play WHERE user_id = ? AND started_at >= ? AND started_at < ?",
                            (user_id, start if start is not None else 0, end if end is not None else 1e12)).rowcount
    db.conn.execute("DELETE FROM now_playing WHERE user_id = ?", (user_id,))
    return n


def clear_aggregates(db: Database, user_id: str) -> None:
    db.conn.execute("DELETE FROM stat_bucket WHERE user_id = ?", (user_id,))
    db.conn.execute("DELETE FROM listen_item WHERE user_id = ?", (user_id,))


def plays_for_rebuild(db: Database, user_id: str) -> list[dict]:
    rows = db.conn.execute(
        f"SELECT {', '.join(PLAY_COLUMNS)} FROM play WHERE user_id = ? ORDER BY started_at", (user_id,))
    return [_play(r) for r in rows]


# -- forwarding (ListenBrainz, Last.fm) ------------------------------------------------------------
ACCOUNT_COLUMNS = ("user_id", "service", "enabled", "url", "token", "api_key", "api_secret", "last_error",
                   "held_until", "updated_at")


def accounts(db: Database, user_id: str) -> list[dict]:
    return [dict(zip(ACCOUNT_COLUMNS, r)) for r in db.conn.execute(
        f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM forward_account WHERE user_id = ? ORDER BY service", (user_id,))]


def account(db: Database, user_id: str, service: str) -> dict | None:
    row = db.conn.execute(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM forward_account WHERE user_id = ? "
                          "AND service = ?", (user_id, service)).fetchone()
    return dict(zip(ACCOUNT_COLUMNS, row)) if row else None


def save_account(db: Database, user_id: str, service: str, **values) -> None:
    current = account(db, user_id, service) or {"user_id": user_id, "service": service, "enabled": 0}
    current.update(values, updated_at=time.time())
    cols = [c for c in ACCOUNT_COLUMNS if c in current]
    db.conn.execute(f"INSERT OR REPLACE INTO forward_account({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})", [current[c] for c in cols])


def enabled_services(db: Database, user_id: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT service FROM forward_account WHERE user_id = ? AND enabled = 1", (user_id,))]


def queue_put(db: Database, user_id: str, service: str, play_id: int | None, payload: str,
              at: float) -> None:
    db.conn.execute("INSERT OR IGNORE INTO forward_queue(user_id, service, play_id, payload, next_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (user_id, service, play_id, payload, at, at))


QUEUE_COLUMNS = ("id", "user_id", "service", "play_id", "payload", "state", "attempts", "next_at", "last_error",
                 "created_at")


def queue_due(db: Database, now: float, limit: int) -> list[dict]:
    return [dict(zip(QUEUE_COLUMNS, r)) for r in db.conn.execute(
        f"SELECT {', '.join(QUEUE_COLUMNS)} FROM forward_queue WHERE state = 'pending' AND next_at <= ? "
        "ORDER BY next_at, id LIMIT ?", (now, limit))]


def queue_next_at(db: Database) -> float | None:
    return db.conn.execute("SELECT min(next_at) FROM forward_queue WHERE state = 'pending'").fetchone()[0]


def queue_done(db: Database, ids: list[int]) -> None:
    db.conn.executemany("DELETE FROM forward_queue WHERE id = ?", [(i,) for i in ids])


def queue_retry(db: Database, ids: list[int], next_at: float, error: str, give_up_after: int) -> None:
    db.conn.executemany(
        "UPDATE forward_queue SET attempts = attempts + 1, next_at = ?, last_error = ?, state = CASE WHEN "
        "attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
        [(next_at, error[:500], give_up_after, i) for i in ids])


def queue_fail(db: Database, ids: list[int], error: str) -> None:
    db.conn.executemany("UPDATE forward_queue SET state = 'failed', last_error = ?, attempts = attempts + 1 "
                        "WHERE id = ?", [(error[:500], i) for i in ids])


def queue_release(db: Database, user_id: str, service: str, at: float) -> None:
    """New credentials: everything held for this account is due again."""
    db.conn.execute("UPDATE forward_queue SET next_at = ?, state = 'pending', attempts = 0 WHERE user_id = ? "
                    "AND service = ?", (at, user_id, service))


def queue_counts(db: Database, user_id: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for service, state, n in db.conn.execute(
            "SELECT service, state, count(*) FROM forward_queue WHERE user_id = ? GROUP BY service, state",
            (user_id,)):
        out.setdefault(service, {})[state] = n
    return out


def now() -> float:
    return time.time()
