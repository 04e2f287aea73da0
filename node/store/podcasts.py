"""Podcast channels, their episodes, and who has played which (the podcasts domain's tables).

A channel is a subscribed feed URL; its episodes come from the feed (one row per guid, never
duplicated by a refresh). An episode's ``status`` is the Subsonic one: ``new`` (known, not
downloaded), ``downloading`` (queued or being fetched: the downloader takes the oldest such row,
and a restarted node resumes every one of them), ``completed`` (its file is whole and may be
served), ``error``, ``deleted`` (removed by a person or by the keep policy: never fetched again
automatically) and ``skipped`` (its enclosure is not audio, or not http(s)). Only a ``completed``
episode has a file that is served. Ids shown to clients are ``pc-N`` (channel) and ``pe-N`` (episode).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from .db import Database

MIGRATIONS = [
    ("channels", """
        CREATE TABLE podcast_channel (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            image_url TEXT,
            has_cover INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'new',
            error TEXT,
            keep_count INTEGER NOT NULL DEFAULT 10,
            keep_days INTEGER NOT NULL DEFAULT 0,
            download_count INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            refreshed_at REAL
        );
        CREATE TABLE podcast_episode (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES podcast_channel(id) ON DELETE CASCADE,
            guid TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            url TEXT,
            mime TEXT,
            length INTEGER,
            duration REAL,
            published_at REAL,
            status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'downloading', 'completed', 'error', 'deleted', 'skipped')),
            error TEXT,
            file TEXT,
            size INTEGER,
            format TEXT,
            bitrate INTEGER,
            queued_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            downloaded_at REAL,
            created_at REAL NOT NULL,
            UNIQUE (channel_id, guid)
        );
        CREATE INDEX podcast_episode_published ON podcast_episode (published_at DESC);
        CREATE INDEX podcast_episode_queue ON podcast_episode (status, queued_at);
        CREATE TABLE podcast_played (
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            episode_id INTEGER NOT NULL REFERENCES podcast_episode(id) ON DELETE CASCADE,
            played_at REAL NOT NULL,
            PRIMARY KEY (user_id, episode_id)
        );
    """),
]

STATUSES = ("new", "downloading", "completed", "error", "deleted", "skipped")
KEEP_COUNT_MAX = 10_000
KEEP_DAYS_MAX = 36_500
DOWNLOAD_COUNT_MAX = 100


# -- ids ---------------------------------------------------------------------------------------------
def channel_key(ident: str) -> int:
    """``pc-12`` → 12; anything else is not found (ids are opaque to clients, never trusted)."""
    return _key(ident, "pc-", "podcast channel")


def episode_key(ident: str) -> int:
    return _key(ident, "pe-", "podcast episode")


def _key(ident: str, prefix: str, what: str) -> int:
    if not isinstance(ident, str) or not ident.startswith(prefix) or not ident[3:].isdigit() or len(ident) > 20:
        raise NotFound(f"no {what} {ident!r}")
    return int(ident[3:])


# -- channels ----------------------------------------------------------------------------------------
def _channel(row: dict) -> dict:
    row["id"] = f"pc-{row['id']}"
    return row


def channels(db: Database) -> list[dict]:
    return [_channel(r) for r in db.query("SELECT * FROM podcast_channel ORDER BY title COLLATE NOCASE, id")]


def channel(db: Database, ident: str) -> dict:
    rows = list(db.query("SELECT * FROM podcast_channel WHERE id = ?", [channel_key(ident)]))
    if not rows:
        raise NotFound(f"no podcast channel {ident}")
    return _channel(rows[0])


def channel_by_url(db: Database, url: str) -> dict | None:
    rows = list(db.query("SELECT * FROM podcast_channel WHERE url = ?", [url]))
    return _channel(rows[0]) if rows else None


def create_channel(db: Database, url: str, keep_count: int | None = None, keep_days: int | None = None,
                   download_count: int | None = None) -> str:
    """A new subscription (or the existing one of the same URL: subscribing twice is harmless)."""
    found = channel_by_url(db, url)
    if found:
        return found["id"]
    cur = db.conn.execute("INSERT INTO podcast_channel (url, created_at) VALUES (?, ?)", (url, time.time()))
    ident = f"pc-{cur.lastrowid}"
    set_policy(db, ident, keep_count, keep_days, download_count)
    return ident


def set_policy(db: Database, ident: str, keep_count: int | None = None, keep_days: int | None = None,
               download_count: int | None = None) -> None:
    """The keep policy (newest ``keep_count`` downloads kept, 0 = all; none older than ``keep_days``, 0 = no
    age limit) and how many of the newest episodes are downloaded without being asked."""
    key = channel_key(ident)
    for name, value, hi in (("keep_count", keep_count, KEEP_COUNT_MAX), ("keep_days", keep_days, KEEP_DAYS_MAX),
                            ("download_count", download_count, DOWNLOAD_COUNT_MAX)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
            raise InvalidInput(f"{name} must be an integer from 0 to {hi}")
        db.conn.execute(f"UPDATE podcast_channel SET {name} = ? WHERE id = ?", (value, key))


def delete_channel(db: Database, ident: str) -> list[dict]:
    """Remove the subscription and its episodes; returns the episodes whose files the caller deletes."""
    key = channel_key(ident)
    channel(db, ident)
    from . import bookmarks

    files = list(db.query("SELECT id, channel_id, file FROM podcast_episode WHERE channel_id = ? "
                          "AND file IS NOT NULL", [key]))
    for (ep_key,) in db.conn.execute("SELECT id FROM podcast_episode WHERE channel_id = ?", (key,)).fetchall():
        bookmarks.delete_item(db, f"pe-{ep_key}")  # the episodes are gone for good
    db.conn.execute("DELETE FROM podcast_channel WHERE id = ?", (key,))
    return files


def update_channel(db: Database, ident: str, feed, now: float) -> None:
    """Record a refreshed feed: the channel's fields, and every episode not seen before."""
    key = channel_key(ident)
    db.conn.execute(
        "UPDATE podcast_channel SET title = ?, description = ?, author = ?, image_url = ?, status = 'completed', "
        "error = NULL, refreshed_at = ? WHERE id = ?",
        (feed.title, feed.description, feed.author, feed.image_url, now, key))
    for e in feed.episodes:
        status = "new" if e.playable else "skipped"
        db.conn.execute(
            "INSERT INTO podcast_episode (channel_id, guid, title, description, url, mime, length, duration, "
            "published_at, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (channel_id, guid) DO UPDATE SET title = excluded.title, "
            "description = excluded.description, published_at = excluded.published_at, "
            "duration = COALESCE(podcast_episode.duration, excluded.duration), "
            "url = CASE WHEN podcast_episode.status IN ('new', 'error', 'skipped') THEN excluded.url "
            "ELSE podcast_episode.url END, "
            "mime = CASE WHEN podcast_episode.status IN ('new', 'error', 'skipped') THEN excluded.mime "
            "ELSE podcast_episode.mime END, "
            "status = CASE WHEN podcast_episode.status = 'skipped' AND excluded.status = 'new' THEN 'new' "
            "ELSE podcast_episode.status END",
            (key, e.guid, e.title, e.description, e.url, e.mime, e.length, e.duration, e.published_at, status,
             e.skip_reason, now))


def channel_failed(db: Database, ident: str, reason: str, now: float) -> None:
    db.conn.execute("UPDATE podcast_channel SET status = 'error', error = ?, refreshed_at = ? WHERE id = ?",
                    (reason[:500], now, channel_key(ident)))


def set_cover(db: Database, ident: str, present: bool) -> None:
    db.conn.execute("UPDATE podcast_channel SET has_cover = ? WHERE id = ?", (int(present), channel_key(ident)))


def due_channels(db: Database, now: float, every_s: float) -> list[str]:
    return [f"pc-{r['id']}" for r in db.query(
        "SELECT id FROM podcast_channel WHERE refreshed_at IS NULL OR refreshed_at <= ? ORDER BY refreshed_at",
        [now - every_s])]


# -- episodes ----------------------------------------------------------------------------------------
_EPISODE = ("SELECT e.*, c.url AS channel_url, c.title AS channel_title, c.author AS channel_author, c.has_cover AS channel_has_cover, "
            "p.played_at FROM podcast_episode e JOIN podcast_channel c ON c.id = e.channel_id "
            "LEFT JOIN podcast_played p ON p.episode_id = e.id AND p.user_id = ? ")


def _episode(row: dict) -> dict:
    row["id"] = f"pe-{row['id']}"
    row["channel_id"] = f"pc-{row['channel_id']}"
    return row


def episodes(db: Database, channel_ident: str, user_id: str | None = None, limit: int = 500) -> list[dict]:
    return [_episode(r) for r in db.query(
        _EPISODE + "WHERE e.channel_id = ? ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
        [user_id, channel_key(channel_ident), limit])]


def newest(db: Database, count: int, user_id: str | None = None) -> list[dict]:
    """The most recently published episodes across channels (Subsonic ``getNewestPodcasts``: downloaded
    or not, as Subsonic and gonic answer; removed and non-audio ones left out)."""
    return [_episode(r) for r in db.query(
        _EPISODE + "WHERE e.status NOT IN ('deleted', 'skipped') ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
        [user_id, count])]


def episode(db: Database, ident: str, user_id: str | None = None) -> dict:
    rows = list(db.query(_EPISODE + "WHERE e.id = ?", [user_id, episode_key(ident)]))
    if not rows:
        raise NotFound(f"no podcast episode {ident}")
    return _episode(rows[0])


def playable(db: Database, ids: list[str]) -> dict[str, dict]:
    """{id: episode} of the ``ids`` that name an episode (what may carry a bookmark, see store.bookmarks)."""
    out = {}
    for ident in ids:
        try:
            out[ident] = episode(db, ident)
        except NotFound:
            continue
    return out


def queue_download(db: Database, ident: str, now: float) -> dict:
    """Ask for an episode's file: ``downloading`` until the downloader has it; a completed one stays."""
    ep = episode(db, ident)
    if ep["status"] == "skipped":
        raise InvalidInput(f"episode {ident} cannot be downloaded: {ep['error'] or 'its enclosure is not audio'}")
    if ep["status"] not in ("completed", "downloading"):
        db.conn.execute("UPDATE podcast_episode SET status = 'downloading', error = NULL, queued_at = ?, "
                        "attempts = 0 WHERE id = ?", (now, episode_key(ident)))
    return episode(db, ident)


def queue_newest(db: Database, channel_ident: str, now: float) -> int:
    """Queue the channel's newest ``download_count`` episodes that were never fetched nor removed."""
    key = channel_key(channel_ident)
    count = db.conn.execute("SELECT download_count FROM podcast_channel WHERE id = ?", (key,)).fetchone()[0]
    rows = list(db.query("SELECT id, status FROM podcast_episode WHERE channel_id = ? AND status != 'skipped' "
                         "ORDER BY published_at DESC, id DESC LIMIT ?", [key, count]))
    queued = 0
    for r in rows:
        if r["status"] == "new":
            db.conn.execute("UPDATE podcast_episode SET status = 'downloading', queued_at = ? WHERE id = ?",
                            (now, r["id"]))
            queued += 1
    return queued


def next_download(db: Database, now: float) -> dict | None:
    """The queued episode to fetch now (the longest waiting whose retry time has come), if any."""
    rows = list(db.query("SELECT id FROM podcast_episode WHERE status = 'downloading' AND queued_at <= ? "
                         "ORDER BY queued_at, id LIMIT 1", [now]))
    return episode(db, f"pe-{rows[0]['id']}") if rows else None


def next_download_at(db: Database) -> float | None:
    return db.conn.execute("SELECT MIN(queued_at) FROM podcast_episode WHERE status = 'downloading'").fetchone()[0]


def download_done(db: Database, ident: str, file: str, size: int, fmt: str | None, bitrate: int | None,
                  duration: float | None, now: float) -> bool:
    """Mark a fetched file complete; False when the episode was deleted meanwhile (the caller removes it)."""
    cur = db.conn.execute(
        "UPDATE podcast_episode SET status = 'completed', error = NULL, file = ?, size = ?, format = ?, "
        "bitrate = ?, duration = COALESCE(?, duration), downloaded_at = ? WHERE id = ? AND status = 'downloading'",
        (file, size, fmt, bitrate, duration, now, episode_key(ident)))
    return cur.rowcount == 1


def download_failed(db: Database, ident: str, reason: str, retry_at: float | None = None) -> None:
    """A failed attempt: queued again for ``retry_at`` (the reason kept for people to see), or ``error``."""
    if retry_at is not None:
        db.conn.execute("UPDATE podcast_episode SET error = ?, queued_at = ?, attempts = attempts + 1 "
                        "WHERE id = ? AND status = 'downloading'", (reason[:500], retry_at, episode_key(ident)))
        return
    db.conn.execute("UPDATE podcast_episode SET status = 'error', error = ? WHERE id = ? AND status = 'downloading'",
                    (reason[:500], episode_key(ident)))


def delete_episode(db: Database, ident: str) -> dict:
    """Remove an episode's file (the row stays ``deleted`` so that a refresh does not fetch it again)."""
    ep = episode(db, ident)
    db.conn.execute("UPDATE podcast_episode SET status = 'deleted', file = NULL, size = NULL WHERE id = ?",
                    (episode_key(ident),))
    return ep


def expired(db: Database, channel_ident: str, now: float) -> list[dict]:
    """Completed episodes the channel's keep policy no longer keeps (beyond the newest ``keep_count``,
    or published more than ``keep_days`` ago)."""
    ch = channel(db, channel_ident)
    rows = list(db.query("SELECT id, published_at, created_at FROM podcast_episode WHERE channel_id = ? "
                         "AND status = 'completed' ORDER BY published_at DESC, id DESC", [channel_key(channel_ident)]))
    out = []
    for pos, r in enumerate(rows):
        too_many = ch["keep_count"] and pos >= ch["keep_count"]
        when = r["published_at"] or r["created_at"]
        too_old = ch["keep_days"] and when < now - ch["keep_days"] * 86400
        if too_many or too_old:
            out.append(episode(db, f"pe-{r['id']}"))
    return out


def set_played(db: Database, user_id: str, ident: str, played: bool, now: float) -> None:
    key = episode_key(ident)
    episode(db, ident)
    if played:
        db.conn.execute("INSERT INTO podcast_played VALUES (?, ?, ?) ON CONFLICT (user_id, episode_id) DO UPDATE SET played_at = "
                        "excluded.played_at", (user_id, key, now))
    else:
        db.conn.execute("DELETE FROM podcast_played WHERE user_id = ? AND episode_id = ?", (user_id, key))


def counts(db: Database) -> dict:
    rows = db.query("SELECT channel_id, COUNT(*) AS n, SUM(status = 'completed') AS done FROM podcast_episode "
                    "GROUP BY channel_id")
    return {f"pc-{r['channel_id']}": {"episodes": r["n"], "downloaded": r["done"] or 0} for r in rows}
