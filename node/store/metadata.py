"""External metadata's tables: every provider answer (cached), what was learnt per album, artist
and track, and each provider's health.

The library's own tables are never rewritten from outside answers, with one exception kept
narrow: an album without any art of its own gets the fetched cover as ``album.cover`` (so that
every listing shows it), and ``tracks.refresh_albums`` keeps it there after a rescan. MBIDs found
by matching live here, beside the tag MBIDs, not in their place: album ids derive from the tags.

Times are seconds since the epoch. An item row's ``retry_at`` says when the worker may look at
it again; ``refresh`` = 1 asks for a fresh look that skips the answer cache.
"""

from __future__ import annotations

import time

from .db import Database

MIGRATIONS = [
    (
        "0001_metadata",
        """
        CREATE TABLE meta_answer (
            provider TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL,
            body BLOB,
            fetched_at REAL NOT NULL,
            retry_at REAL NOT NULL,
            PRIMARY KEY (provider, key)
        ) WITHOUT ROWID;
        CREATE TABLE meta_album (
            album_id TEXT PRIMARY KEY,
            release_mbid TEXT,
            release_group_mbid TEXT,
            artist_mbid TEXT,
            cover TEXT,
            cover_source TEXT,
            checked_at REAL,
            retry_at REAL NOT NULL DEFAULT 0,
            refresh INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE meta_artist (
            artist_id TEXT PRIMARY KEY,
            mbid TEXT,
            image TEXT,
            image_source TEXT,
            image_attribution TEXT,
            biography TEXT,
            biography_source TEXT,
            biography_attribution TEXT,
            checked_at REAL,
            retry_at REAL NOT NULL DEFAULT 0,
            refresh INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE meta_track (
            track_id TEXT PRIMARY KEY,
            recording_mbid TEXT,
            lyrics_synced TEXT,
            lyrics_plain TEXT,
            lyrics_source TEXT,
            checked_at REAL,
            retry_at REAL NOT NULL DEFAULT 0,
            refresh INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE meta_provider (
            name TEXT PRIMARY KEY,
            requests INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            last_ok_at REAL,
            last_error TEXT,
            last_error_at REAL
        );
        """,
    ),
    (
        # MusicBrainz's short comment telling same-named artists apart (OpenSubsonic ArtistID3.disambiguation)
        "0002_artist_disambiguation",
        "ALTER TABLE meta_artist ADD COLUMN disambiguation TEXT",
    ),
]

KINDS = {"album": ("meta_album", "album_id"), "artist": ("meta_artist", "artist_id"),
         "track": ("meta_track", "track_id")}
#: What the worker walks, per kind: the library's own items (never members').
_SUBJECTS = {
    "album": "SELECT id FROM album",
    "artist": "SELECT DISTINCT artist_id AS id FROM track_artist WHERE role != 'composer' "
              "UNION SELECT artist_id FROM album WHERE artist_id IS NOT NULL",
    "track": "SELECT id FROM track",
}


# -- answers ------------------------------------------------------------------
def answer(db: Database, provider: str, key: str) -> dict | None:
    rows = list(db.query("SELECT status, body, fetched_at, retry_at FROM meta_answer WHERE provider = ? AND key = ?",
                         [provider, key]))
    return rows[0] if rows else None


def put_answer(db: Database, provider: str, key: str, status: str, body: bytes | None, retry_at: float) -> None:
    db.conn.execute("INSERT OR REPLACE INTO meta_answer VALUES (?, ?, ?, ?, ?, ?)",
                    (provider, key, status, body, time.time(), retry_at))


def note_request(db: Database, provider: str, error: str | None, counted: bool = True) -> None:
    """Count one outside request (``counted``) and keep the last failure's reason (shown in status)."""
    now = time.time()
    n = 1 if counted else 0
    db.conn.execute("INSERT OR IGNORE INTO meta_provider(name) VALUES (?)", (provider,))
    if error is None:
        db.conn.execute("UPDATE meta_provider SET requests = requests + ?, last_ok_at = ? WHERE name = ?",
                        (n, now, provider))
    else:
        db.conn.execute("UPDATE meta_provider SET requests = requests + ?, failures = failures + 1, "
                        "last_error = ?, last_error_at = ? WHERE name = ?", (n, error[:300], now, provider))


# -- items --------------------------------------------------------------------
def pending(db: Database, kind: str, now: float, limit: int) -> list[tuple[str, bool]]:
    """(id, refresh) of items of ``kind`` never looked at, due again, or asked to be refreshed."""
    table, col = KINDS[kind]
    return [(r[0], bool(r[1])) for r in db.conn.execute(
        f"SELECT s.id, coalesce(m.refresh, 0) FROM ({_SUBJECTS[kind]}) AS s "
        f"LEFT JOIN {table} m ON m.{col} = s.id "
        "WHERE m.retry_at IS NULL OR m.retry_at <= ? OR m.refresh = 1 LIMIT ?", (now, limit))]


def mark_checked(db: Database, kind: str, ident: str, retry_at: float) -> None:
    table, col = KINDS[kind]
    db.conn.execute(f"INSERT OR IGNORE INTO {table}({col}) VALUES (?)", (ident,))
    db.conn.execute(f"UPDATE {table} SET checked_at = ?, retry_at = ?, refresh = 0 WHERE {col} = ?",
                    (time.time(), retry_at, ident))


def save(db: Database, kind: str, ident: str, fields: dict) -> None:
    """Store what was found about one item (only the columns given; None clears)."""
    if not fields:
        return
    table, col = KINDS[kind]
    db.conn.execute(f"INSERT OR IGNORE INTO {table}({col}) VALUES (?)", (ident,))
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.conn.execute(f"UPDATE {table} SET {sets} WHERE {col} = ?", (*fields.values(), ident))


def request_refresh(db: Database, kind: str | None = None, ident: str | None = None) -> int:
    """Ask the worker to look again (all items, a kind, or one item), skipping cached answers."""
    count = 0
    for k, (table, col) in KINDS.items():
        if kind is not None and k != kind:
            continue
        if ident is not None:
            db.conn.execute(f"INSERT OR IGNORE INTO {table}({col}) VALUES (?)", (ident,))
            count += db.conn.execute(f"UPDATE {table} SET refresh = 1 WHERE {col} = ?", (ident,)).rowcount
        else:
            db.conn.execute(f"INSERT OR IGNORE INTO {table}({col}) SELECT id FROM ({_SUBJECTS[k]}) AS s")
            count += db.conn.execute(f"UPDATE {table} SET refresh = 1").rowcount
    return count


def album_row(db: Database, album_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM meta_album WHERE album_id = ?", [album_id]))
    return rows[0] if rows else None


def artist_row(db: Database, artist_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM meta_artist WHERE artist_id = ?", [artist_id]))
    return rows[0] if rows else None


def track_row(db: Database, track_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM meta_track WHERE track_id = ?", [track_id]))
    return rows[0] if rows else None


def fetched_lyrics(db: Database, track_id: str) -> str | None:
    """The fetched lyrics of a track as LRC text (synced if there are, else plain), or None."""
    row = db.conn.execute("SELECT lyrics_synced, lyrics_plain FROM meta_track WHERE track_id = ?",
                          (track_id,)).fetchone()
    return (row[0] or row[1]) if row else None


def set_album_cover(db: Database, album_id: str, cover_id: str, source: str) -> None:
    """Keep a fetched cover and show it as the album's cover if the album has no art of its own."""
    db.conn.execute("INSERT OR IGNORE INTO cover(id, source, folder_id, path, mime) VALUES (?, 'metadata', NULL, ?, NULL)",
                    (cover_id, cover_id))
    save(db, "album", album_id, {"cover": cover_id, "cover_source": source})
    db.conn.execute("UPDATE album SET cover = ? WHERE id = ? AND cover IS NULL", (cover_id, album_id))


def set_artist_image(db: Database, artist_id: str, cover_id: str, source: str, attribution: str) -> None:
    db.conn.execute("INSERT OR IGNORE INTO cover(id, source, folder_id, path, mime) VALUES (?, 'metadata', NULL, ?, NULL)",
                    (cover_id, cover_id))
    save(db, "artist", artist_id, {"image": cover_id, "image_source": source, "image_attribution": attribution})


def forget_images(db: Database, cover_ids: list[str]) -> None:
    """Images evicted from the disk cache: drop their references; their items are looked at again."""
    for cid in cover_ids:
        db.conn.execute("UPDATE album SET cover = NULL WHERE cover = ?", (cid,))
        db.conn.execute("UPDATE meta_album SET cover = NULL, retry_at = 0 WHERE cover = ?", (cid,))
        db.conn.execute("UPDATE meta_artist SET image = NULL, retry_at = 0 WHERE image = ?", (cid,))
        db.conn.execute("DELETE FROM cover WHERE id = ?", (cid,))
        db.conn.execute("DELETE FROM meta_answer WHERE status = 'image' AND body = ?", (cid.encode(),))


def image_in_use(db: Database) -> set[str]:
    rows = db.conn.execute("SELECT cover FROM meta_album WHERE cover IS NOT NULL "
                           "UNION SELECT image FROM meta_artist WHERE image IS NOT NULL")
    return {r[0] for r in rows}


def progress(db: Database) -> dict:
    """Per kind: items, items looked at, items found something for; per provider: requests and failures."""
    out: dict = {}
    found = {"album": "release_mbid IS NOT NULL OR cover IS NOT NULL",
             "artist": "mbid IS NOT NULL OR image IS NOT NULL OR biography IS NOT NULL",
             "track": "recording_mbid IS NOT NULL OR lyrics_synced IS NOT NULL OR lyrics_plain IS NOT NULL"}
    for kind, (table, col) in KINDS.items():
        total = db.conn.execute(f"SELECT count(*) FROM ({_SUBJECTS[kind]})").fetchone()[0]
        checked = db.conn.execute(
            f"SELECT count(*) FROM {table} WHERE checked_at IS NOT NULL AND {col} IN ({_SUBJECTS[kind]})").fetchone()[0]
        hits = db.conn.execute(
            f"SELECT count(*) FROM {table} WHERE ({found[kind]}) AND {col} IN ({_SUBJECTS[kind]})").fetchone()[0]
        out[kind + "s"] = {"total": total, "checked": checked, "found": hits}
    out["providers"] = list(db.query(
        "SELECT name, requests, failures, last_ok_at, last_error, last_error_at FROM meta_provider ORDER BY name"))
    return out


# -- what the APIs show ----------------------------------------------------------
def artist_info(db: Database, artist_id: str) -> dict:
    """An artist's outside data as the native API shows it (MBID from tags first)."""
    row = artist_row(db, artist_id) or {}
    tag = db.conn.execute("SELECT mbid FROM artist WHERE id = ?", (artist_id,)).fetchone()
    return {"mbid": (tag[0] if tag and tag[0] else None) or row.get("mbid"),
            "biography": row.get("biography"), "biography_source": row.get("biography_source"),
            "biography_attribution": row.get("biography_attribution"),
            "image_source": row.get("image_source") if row.get("image") else None,
            "image_attribution": row.get("image_attribution") if row.get("image") else None}


def album_info(db: Database, album_id: str) -> dict:
    row = album_row(db, album_id) or {}
    tag = db.conn.execute("SELECT mbid FROM album WHERE id = ?", (album_id,)).fetchone()
    return {"mbid": (tag[0] if tag and tag[0] else None) or row.get("release_mbid"),
            "release_group_mbid": row.get("release_group_mbid"),
            "cover_source": row.get("cover_source") if row.get("cover") else None}


def known(db: Database, ids: list[str]) -> dict[str, dict]:
    """{id: {"mbid", "picture", "disambiguation"}} for the tracks, albums and artists among ``ids`` that have
    outside data."""
    out: dict[str, dict] = {}
    for prefix, sql in (("tr-", "SELECT track_id, recording_mbid, NULL, NULL FROM meta_track WHERE track_id IN ({})"),
                        ("al-", "SELECT album_id, release_mbid, NULL, NULL FROM meta_album WHERE album_id IN ({})"),
                        ("ar-", "SELECT artist_id, mbid, image, disambiguation FROM meta_artist "
                                "WHERE artist_id IN ({})")):
        some = [i for i in ids if i.startswith(prefix)][:1000]
        if some:
            for ident, mbid, picture, disambiguation in db.conn.execute(sql.format(",".join("?" * len(some))), some):
                if mbid or picture or disambiguation:
                    out[ident] = {"mbid": mbid, "picture": picture, "disambiguation": disambiguation}
    return out
