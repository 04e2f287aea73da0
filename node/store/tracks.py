"""The library's tables: folders, tracks, albums, artists, genres, covers, scan errors, search.

Ids are stable strings shared by the native and Subsonic APIs: a track's id
(``tr-…``) is drawn at random when the file is first seen and kept across
moves and re-tagging (matched by ``audio_id``); album (``al-…``) and artist
(``ar-…``) ids are derived from their grouping key, so they survive a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..library.tagmap import normalise
from .db import Database

MIGRATIONS = [
    (
        "0001_library",
        """
        CREATE TABLE folder (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL
        );
        CREATE TABLE artist (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            norm TEXT NOT NULL,
            sort_name TEXT,
            mbid TEXT
        );
        CREATE INDEX artist_norm ON artist(norm);
        CREATE TABLE album (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            sort_name TEXT,
            artist TEXT NOT NULL,
            artist_id TEXT,
            mbid TEXT,
            year INTEGER,
            compilation INTEGER NOT NULL DEFAULT 0,
            cover TEXT,
            song_count INTEGER NOT NULL DEFAULT 0,
            duration REAL NOT NULL DEFAULT 0,
            size INTEGER NOT NULL DEFAULT 0,
            disc_count INTEGER NOT NULL DEFAULT 1,
            genres TEXT NOT NULL DEFAULT '[]',
            folder_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX album_artist ON album(artist_id);
        CREATE INDEX album_created ON album(created_at);
        CREATE TABLE track (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            folder_id INTEGER NOT NULL REFERENCES folder(id),
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            format TEXT NOT NULL,
            codec TEXT NOT NULL,
            lossless INTEGER NOT NULL,
            sample_rate INTEGER,
            bit_depth INTEGER,
            channels INTEGER,
            duration REAL NOT NULL,
            bitrate INTEGER,
            title TEXT NOT NULL,
            artist TEXT NOT NULL,
            album TEXT NOT NULL,
            album_artist TEXT NOT NULL,
            album_id TEXT NOT NULL,
            artist_id TEXT,
            track_no INTEGER,
            track_total INTEGER,
            disc_no INTEGER,
            disc_total INTEGER,
            disc_subtitle TEXT,
            year INTEGER,
            date TEXT,
            original_date TEXT,
            composer TEXT,
            label TEXT,
            compilation INTEGER NOT NULL DEFAULT 0,
            comment TEXT,
            bpm REAL,
            mb_recording_id TEXT,
            mb_release_track_id TEXT,
            mb_album_id TEXT,
            mb_artist_id TEXT,
            mb_album_artist_id TEXT,
            rg_track_gain REAL,
            rg_track_peak REAL,
            rg_album_gain REAL,
            rg_album_peak REAL,
            lyrics TEXT,
            has_cover INTEGER NOT NULL DEFAULT 0,
            cover TEXT,
            audio_id TEXT,
            file_id TEXT,
            tags TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE(folder_id, path)
        );
        CREATE INDEX track_album ON track(album_id, disc_no, track_no);
        CREATE INDEX track_audio ON track(audio_id);
        CREATE INDEX track_artist_id ON track(artist_id);
        CREATE INDEX track_created ON track(created_at);
        CREATE TABLE track_artist (
            track_id TEXT NOT NULL,
            artist_id TEXT NOT NULL,
            role TEXT NOT NULL,
            pos INTEGER NOT NULL,
            PRIMARY KEY (track_id, role, pos)
        ) WITHOUT ROWID;
        CREATE INDEX track_artist_by_artist ON track_artist(artist_id, role);
        CREATE TABLE genre (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        );
        CREATE TABLE track_genre (
            track_id TEXT NOT NULL,
            genre_id INTEGER NOT NULL,
            pos INTEGER NOT NULL,
            PRIMARY KEY (track_id, pos)
        ) WITHOUT ROWID;
        CREATE INDEX track_genre_by_genre ON track_genre(genre_id);
        CREATE TABLE cover (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            folder_id INTEGER,
            path TEXT,
            mime TEXT
        );
        CREATE TABLE folder_image (
            folder_id INTEGER NOT NULL,
            dir TEXT NOT NULL,
            path TEXT NOT NULL,
            PRIMARY KEY (folder_id, dir)
        ) WITHOUT ROWID;
        CREATE TABLE scan_error (
            folder_id INTEGER NOT NULL,
            path TEXT NOT NULL,
            reason TEXT NOT NULL,
            size INTEGER,
            mtime_ns INTEGER,
            seen_at REAL NOT NULL,
            PRIMARY KEY (folder_id, path)
        );
        CREATE TABLE scan_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            started_at REAL,
            finished_at REAL,
            summary TEXT
        );
        CREATE VIRTUAL TABLE track_fts USING fts5(
            title, artists, album, genres, composer,
            tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
        );
        CREATE VIRTUAL TABLE album_fts USING fts5(
            name, artist, tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
        );
        CREATE VIRTUAL TABLE artist_fts USING fts5(
            name, tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
        );
        """,
    ),
    (
        # A fingerprint of each artist index clients sync (Subsonic getIndexes) and when it last
        # changed: its lastModified, which a scan that changes nothing must not move.
        "0002_index_mark",
        """
        CREATE TABLE index_mark (
            key TEXT PRIMARY KEY,
            digest TEXT NOT NULL,
            changed_at REAL NOT NULL
        );
        """,
    ),
    (
        # Files indexed although their header was wrong (duration counted by decoding): what was wrong.
        "0003_scan_note",
        """
        ALTER TABLE track ADD COLUMN scan_note TEXT;
        CREATE INDEX track_scan_note ON track(rid) WHERE scan_note IS NOT NULL;
        """,
    ),
    (
        # Artist pictures from the library: artist.* files (folder, dir, path) and the picture each
        # album artist gets from them (set after every scan: see link_artist_images).
        "0004_artist_images",
        """
        CREATE TABLE artist_folder_image (
            folder_id INTEGER NOT NULL,
            dir TEXT NOT NULL,
            path TEXT NOT NULL,
            PRIMARY KEY (folder_id, dir)
        ) WITHOUT ROWID;
        CREATE TABLE artist_picture (
            artist_id TEXT PRIMARY KEY,
            cover TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        # A listener limited to some folders (store/scope.py) asks for a cover: is it a cover of a
        # track or album they may see? By index, not by reading every track.
        "0005_cover_indexes",
        """
        CREATE INDEX track_cover ON track(cover) WHERE cover IS NOT NULL;
        CREATE INDEX album_cover ON album(cover) WHERE cover IS NOT NULL;
        """,
    ),
]


def short_hash(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


def artist_id(name: str) -> str:
    return "ar-" + short_hash(normalise(name))


def album_key(album_artist: str, album: str, mbid: str | None) -> str:
    return "al-" + short_hash(normalise(album_artist), normalise(album), mbid or "")


def new_track_id() -> str:
    return "tr-" + secrets.token_hex(8)


# -- folders -----------------------------------------------------------------
def sync_folders(db: Database, paths: Iterable[str]) -> list[tuple[int, str]]:
    """Make the folder table match the configured music folders; ids of kept folders stay."""
    import os

    wanted = [os.path.abspath(os.path.expanduser(p)) for p in paths]
    existing = {row[1]: row[0] for row in db.conn.execute("SELECT id, path FROM folder")}
    for path in wanted:
        if path not in existing:
            cur = db.conn.execute(
                "INSERT INTO folder(path, name) VALUES (?, ?)", (path, os.path.basename(path) or path)
            )
            existing[path] = cur.lastrowid
    return [(existing[p], p) for p in wanted]


def folders(db: Database) -> list[dict]:
    return [dict(r) for r in db.query("SELECT id, path, name FROM folder ORDER BY id")]


# -- scanner support -----------------------------------------------------------
def known_files(db: Database) -> dict[tuple[int, str], tuple[int, int, str]]:
    """(folder, path) → (size, mtime_ns, id) for every indexed file: the rescan's diff base."""
    return {
        (f, p): (s, m, i)
        for f, p, s, m, i in db.conn.execute("SELECT folder_id, path, size, mtime_ns, id FROM track")
    }


def known_errors(db: Database) -> dict[tuple[int, str], tuple[int, int]]:
    return {
        (f, p): (s or 0, m or 0)
        for f, p, s, m in db.conn.execute("SELECT folder_id, path, size, mtime_ns FROM scan_error")
    }


@dataclass
class TrackRecord:
    """What the scanner hands the store for one file."""

    folder_id: int
    path: str
    size: int
    mtime_ns: int
    props: dict[str, Any]
    tags: dict[str, Any]
    cover: str | None
    audio_id: str | None


TRACK_TAG_COLUMNS = (
    "title", "track_no", "track_total", "disc_no", "disc_total", "disc_subtitle", "year", "date",
    "original_date", "label", "compilation", "comment", "bpm", "mb_recording_id",
    "mb_release_track_id", "mb_album_id", "rg_track_gain", "rg_track_peak", "rg_album_gain",
    "rg_album_peak", "lyrics",
)


def upsert_tracks(
    db: Database, records: list[TrackRecord], moved_from: dict[str, str]
) -> tuple[int, int, set[str]]:
    """Insert or update tracks; ``moved_from`` maps audio_id → track id of a file that vanished.

    Returns (added, updated, album ids touched).
    """
    conn = db.conn
    now = time.time()
    added = updated = 0
    albums: set[str] = set()
    for rec in records:
        t = rec.tags
        row = conn.execute(
            "SELECT id, album_id, rid FROM track WHERE folder_id = ? AND path = ?", (rec.folder_id, rec.path)
        ).fetchone()
        old_file = conn.execute("SELECT size, mtime_ns FROM track WHERE folder_id = ? AND path = ?",
                                (rec.folder_id, rec.path)).fetchone()
        track_id = None
        if row is None and rec.audio_id and rec.audio_id in moved_from:
            track_id = moved_from.pop(rec.audio_id)
            row = conn.execute("SELECT id, album_id, rid FROM track WHERE id = ?", (track_id,)).fetchone()
        album_artist = ", ".join(t["album_artists"])
        album_id = album_key(t["album_artists"][0] if t["compilation"] else album_artist, t["album"], t["mb_album_id"])
        values = {
            "folder_id": rec.folder_id,
            "path": rec.path,
            "size": rec.size,
            "mtime_ns": rec.mtime_ns,
            **rec.props,
            **{c: t.get(c) for c in TRACK_TAG_COLUMNS},
            "compilation": int(bool(t["compilation"])),
            "artist": ", ".join(t["artists"]),
            "album": t["album"],
            "album_artist": album_artist,
            "album_id": album_id,
            "artist_id": artist_id(t["artists"][0]),
            "composer": ", ".join(t["composers"]) or None,
            "mb_artist_id": (t["mb_artist_ids"] or [None])[0],
            "mb_album_artist_id": (t["mb_album_artist_ids"] or [None])[0],
            "has_cover": int(rec.cover is not None),
            "cover": rec.cover,
            "audio_id": rec.audio_id,
            "tags": json.dumps(
                {k: t[k] for k in ("artists", "album_artists", "genres", "composers", "sort_title",
                                   "sort_artist", "sort_album", "sort_album_artist", "mb_artist_ids",
                                   "mb_album_artist_ids", "isrc", "groupings", "work", "mb_work_id",
                                   "movement_name", "movement_no", "movement_total", "album_version") if t.get(k)},
                ensure_ascii=False,
            ),
            "updated_at": now,
        }
        if row is None:
            track_id = new_track_id()
            values.update(id=track_id, created_at=now)
            cols = ", ".join(values)
            conn.execute(
                f"INSERT INTO track ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values())
            )
            rid = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            added += 1
        else:
            track_id, old_album, rid = row
            if old_file is None or tuple(old_file) != (rec.size, rec.mtime_ns):
                values["file_id"] = None  # the bytes changed (even a re-tag does): file_id is recomputed
            sets = ", ".join(f"{c} = ?" for c in values)
            conn.execute(f"UPDATE track SET {sets} WHERE id = ?", (*values.values(), track_id))
            albums.add(old_album)
            updated += 1
            conn.execute("DELETE FROM track_fts WHERE rowid = ?", (rid,))
        albums.add(album_id)
        _link_people(conn, track_id, t)
        conn.execute(
            "INSERT INTO track_fts(rowid, title, artists, album, genres, composer) VALUES (?, ?, ?, ?, ?, ?)",
            (rid, t["title"], " ".join(t["artists"]), t["album"], " ".join(t["genres"]), " ".join(t["composers"])),
        )
        conn.execute("DELETE FROM scan_error WHERE folder_id = ? AND path = ?", (rec.folder_id, rec.path))
    return added, updated, albums


def _link_people(conn, track_id: str, t: dict[str, Any]) -> None:
    conn.execute("DELETE FROM track_artist WHERE track_id = ?", (track_id,))
    conn.execute("DELETE FROM track_genre WHERE track_id = ?", (track_id,))
    links = []
    for role, names, mbids in (
        ("artist", t["artists"], t["mb_artist_ids"]),
        ("albumartist", t["album_artists"], t["mb_album_artist_ids"]),
        ("composer", t["composers"], ()),
    ):
        for pos, name in enumerate(names):
            aid = artist_id(name)
            mb = mbids[pos] if pos < len(mbids) else None
            _ensure_artist(conn, aid, name, mb, t.get("sort_artist") if role == "artist" and pos == 0 else None)
            links.append((track_id, aid, role, pos))
    conn.executemany("INSERT OR IGNORE INTO track_artist VALUES (?, ?, ?, ?)", links)
    for pos, genre in enumerate(t["genres"]):
        conn.execute("INSERT OR IGNORE INTO genre(name) VALUES (?)", (genre,))
        gid = conn.execute("SELECT id FROM genre WHERE name = ?", (genre,)).fetchone()[0]
        conn.execute("INSERT OR IGNORE INTO track_genre VALUES (?, ?, ?)", (track_id, gid, pos))


def _ensure_artist(conn, aid: str, name: str, mbid: str | None, sort_name: str | None) -> None:
    cur = conn.execute(
        "INSERT OR IGNORE INTO artist(id, name, norm, sort_name, mbid) VALUES (?, ?, ?, ?, ?)",
        (aid, name, normalise(name), sort_name, mbid),
    )
    if cur.rowcount:
        conn.execute("INSERT INTO artist_fts(rowid, name) VALUES ((SELECT rowid FROM artist WHERE id = ?), ?)", (aid, name))
    elif mbid:
        conn.execute("UPDATE artist SET mbid = ? WHERE id = ? AND mbid IS NULL", (mbid, aid))


def remove_tracks(db: Database, ids: list[str]) -> set[str]:
    conn = db.conn
    albums: set[str] = set()
    for tid in ids:
        row = conn.execute("SELECT rid, album_id FROM track WHERE id = ?", (tid,)).fetchone()
        if row is None:
            continue
        conn.execute("DELETE FROM track_fts WHERE rowid = ?", (row[0],))
        conn.execute("DELETE FROM track_artist WHERE track_id = ?", (tid,))
        conn.execute("DELETE FROM track_genre WHERE track_id = ?", (tid,))
        conn.execute("DELETE FROM track WHERE id = ?", (tid,))
        albums.add(row[1])
    return albums


def record_errors(db: Database, errors: list[tuple[int, str, str, int, int]]) -> None:
    now = time.time()
    db.conn.executemany(
        "INSERT OR REPLACE INTO scan_error(folder_id, path, reason, size, mtime_ns, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(f, p, r, s, m, now) for f, p, r, s, m in errors],
    )


def forget_errors(db: Database, keys: list[tuple[int, str]]) -> None:
    db.conn.executemany("DELETE FROM scan_error WHERE folder_id = ? AND path = ?", keys)


def set_folder_images(db: Database, images: dict[tuple[int, str], str]) -> None:
    db.conn.execute("DELETE FROM folder_image")
    db.conn.executemany(
        "INSERT INTO folder_image VALUES (?, ?, ?)", [(f, d, p) for (f, d), p in images.items()]
    )


def set_artist_images(db: Database, images: dict[tuple[int, str], str]) -> None:
    db.conn.execute("DELETE FROM artist_folder_image")
    db.conn.executemany("INSERT INTO artist_folder_image VALUES (?, ?, ?)",
                        [(f, d, p) for (f, d), p in images.items()])


def link_artist_images(db: Database) -> int:
    """Give each album artist the ``artist.*`` picture of its folder: the folder above one of its
    albums (Artist/Album/…), else the album's own folder. Returns how many artists have one."""
    import posixpath

    conn = db.conn
    conn.execute("DELETE FROM artist_picture")
    if not conn.execute("SELECT 1 FROM artist_folder_image LIMIT 1").fetchone():
        return 0
    images = {(f, d): p for f, d, p in conn.execute("SELECT folder_id, dir, path FROM artist_folder_image")}
    rows = conn.execute(
        "SELECT a.artist_id, t.folder_id, t.path FROM album a JOIN track t ON t.album_id = a.id "
        "WHERE a.artist_id IS NOT NULL GROUP BY a.id")
    linked: dict[str, str] = {}
    for artist, folder_id, path in rows:
        if artist in linked:
            continue
        album_dir = posixpath.dirname(path)
        for d in (posixpath.dirname(album_dir), album_dir) if album_dir else ("",):
            found = images.get((folder_id, d))
            if found:
                cover_id = "fi-" + short_hash(str(folder_id), found)
                conn.execute("INSERT OR IGNORE INTO cover(id, source, folder_id, path, mime) "
                             "VALUES (?, 'folder', ?, ?, NULL)", (cover_id, folder_id, found))
                linked[artist] = cover_id
                break
    conn.executemany("INSERT INTO artist_picture VALUES (?, ?)", list(linked.items()))
    return len(linked)


def add_cover(db: Database, cover_id: str, source: str, folder_id: int | None, path: str | None, mime: str | None) -> None:
    db.conn.execute(
        "INSERT OR IGNORE INTO cover(id, source, folder_id, path, mime) VALUES (?, ?, ?, ?, ?)",
        (cover_id, source, folder_id, path, mime),
    )


def refresh_albums(db: Database, album_ids: Iterable[str]) -> None:
    """Recompute each album's row from its tracks; drop albums left empty."""
    conn = db.conn
    now = time.time()
    for aid in album_ids:
        tracks = conn.execute(
            "SELECT album, album_artist, mb_album_id, year, compilation, cover, duration, size, disc_no, "
            "folder_id, path, tags FROM track WHERE album_id = ? ORDER BY disc_no, track_no", (aid,)
        ).fetchall()
        old = conn.execute("SELECT rowid, created_at FROM album WHERE id = ?", (aid,)).fetchone()
        if old:
            conn.execute("DELETE FROM album_fts WHERE rowid = ?", (old[0],))
        if not tracks:
            conn.execute("DELETE FROM album WHERE id = ?", (aid,))
            continue
        first = tracks[0]
        first_tags = json.loads(first[11])
        album_artists = first_tags.get("album_artists") or [first[1]]
        years = [t[3] for t in tracks if t[3]]
        cover = next((t[5] for t in tracks if t[5]), None) or _folder_cover(conn, tracks) or _fetched_cover(conn, aid)
        genres: list[str] = []
        for t in tracks:
            for g in json.loads(t[11]).get("genres", []):
                if g not in genres:
                    genres.append(g)
        discs = {t[8] or 1 for t in tracks}
        values = (
            aid, first[0], first_tags.get("sort_album"), ", ".join(album_artists),
            artist_id(album_artists[0]), first[2], min(years) if years else None,
            int(any(t[4] for t in tracks)), cover, len(tracks), sum(t[6] for t in tracks),
            sum(t[7] for t in tracks), len(discs), json.dumps(genres, ensure_ascii=False), first[9],
            old[1] if old else now, now,
        )
        conn.execute(
            "INSERT OR REPLACE INTO album(id, name, sort_name, artist, artist_id, mbid, year, compilation, cover, "
            "song_count, duration, size, disc_count, genres, folder_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values,
        )
        rowid = conn.execute("SELECT rowid FROM album WHERE id = ?", (aid,)).fetchone()[0]
        conn.execute("INSERT INTO album_fts(rowid, name, artist) VALUES (?, ?, ?)", (rowid, first[0], values[3]))
        _ensure_artist(conn, values[4], album_artists[0], None, first_tags.get("sort_album_artist"))


def _folder_cover(conn, tracks: list) -> str | None:
    """An album without embedded art takes the folder image of its first track's folder."""
    import posixpath

    for t in tracks[:1]:
        folder_id, path = t[9], t[10]
        reldir = posixpath.dirname(path)
        for d in (reldir, posixpath.dirname(reldir)):
            row = conn.execute(
                "SELECT path FROM folder_image WHERE folder_id = ? AND dir = ?", (folder_id, d)
            ).fetchone()
            if row:
                cover_id = "fi-" + short_hash(str(folder_id), row[0])
                conn.execute(
                    "INSERT OR IGNORE INTO cover(id, source, folder_id, path, mime) VALUES (?, 'folder', ?, ?, NULL)",
                    (cover_id, folder_id, row[0]),
                )
                return cover_id
    return None


def _fetched_cover(conn, album_id: str) -> str | None:
    """An album with no art of its own keeps the cover external metadata found (store/metadata.py)."""
    row = conn.execute("SELECT cover FROM meta_album WHERE album_id = ?", (album_id,)).fetchone()
    return row[0] if row else None


def prune_artists(db: Database) -> int:
    conn = db.conn
    orphans = [
        r[0] for r in conn.execute(
            "SELECT rowid FROM artist WHERE id NOT IN (SELECT artist_id FROM track_artist) "
            "AND id NOT IN (SELECT artist_id FROM album WHERE artist_id IS NOT NULL)"
        )
    ]
    for rowid in orphans:
        conn.execute("DELETE FROM artist_fts WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM artist WHERE rowid = ?", (rowid,))
    conn.execute("DELETE FROM genre WHERE id NOT IN (SELECT genre_id FROM track_genre)")
    return len(orphans)


def save_scan_state(db: Database, started: float, finished: float | None, summary: dict | None) -> None:
    db.conn.execute(
        "INSERT OR REPLACE INTO scan_state(id, started_at, finished_at, summary) VALUES (1, ?, ?, ?)",
        (started, finished, json.dumps(summary) if summary is not None else None),
    )


def scan_state(db: Database) -> dict | None:
    row = db.conn.execute("SELECT started_at, finished_at, summary FROM scan_state WHERE id = 1").fetchone()
    if row is None:
        return None
    return {"started_at": row[0], "finished_at": row[1], "summary": json.loads(row[2]) if row[2] else None}


def index_mark(db: Database, key: str) -> tuple[str, float] | None:
    """(fingerprint, time it last changed) of the index ``key``, if it was ever marked."""
    row = db.conn.execute("SELECT digest, changed_at FROM index_mark WHERE key = ?", (key,)).fetchone()
    return (row[0], row[1]) if row else None


def set_index_mark(db: Database, key: str, digest: str, now: float) -> float:
    """Record the index ``key``'s fingerprint; its change time moves only if the fingerprint did."""
    db.conn.execute(
        "INSERT INTO index_mark(key, digest, changed_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
        "digest = excluded.digest, changed_at = excluded.changed_at WHERE index_mark.digest != excluded.digest",
        (key, digest, now))
    return db.conn.execute("SELECT changed_at FROM index_mark WHERE key = ?", (key,)).fetchone()[0]


def counts(db: Database) -> dict[str, int]:
    """The local library's size, as far as the caller may see it (store/scope.py)."""
    from . import scope

    c, t = db.conn, scope.sql("t.folder_id")
    if not scope.limited():
        artists = "SELECT count(DISTINCT artist_id) FROM track_artist WHERE role != 'composer'"
        genres = "SELECT count(*) FROM genre"
    else:
        artists = (f"SELECT count(DISTINCT ta.artist_id) FROM track_artist ta JOIN track t ON t.id = ta.track_id "
                   f"WHERE ta.role != 'composer' AND {t}")
        genres = f"SELECT count(DISTINCT tg.genre_id) FROM track_genre tg JOIN track t ON t.id = tg.track_id WHERE {t}"
    return {
        "tracks": c.execute(f"SELECT count(*) FROM track t WHERE {t}").fetchone()[0],
        "albums": c.execute(f"SELECT count(*) FROM album t WHERE {t}").fetchone()[0],
        "artists": c.execute(artists).fetchone()[0],
        "genres": c.execute(genres).fetchone()[0],
        "errors": c.execute("SELECT count(*) FROM scan_error").fetchone()[0] if not scope.limited() else 0,
        "unsupported": c.execute("SELECT count(*) FROM scan_error WHERE reason LIKE 'unsupported format%'"
                                 ).fetchone()[0] if not scope.limited() else 0,
        "header_wrong": c.execute(f"SELECT count(*) FROM track t WHERE scan_note IS NOT NULL AND {t}").fetchone()[0],
        "duration": int(c.execute(f"SELECT coalesce(sum(duration), 0) FROM track t WHERE {t}").fetchone()[0]),
        "size": c.execute(f"SELECT coalesce(sum(size), 0) FROM track t WHERE {t}").fetchone()[0],
    }


def scan_errors(db: Database, limit: int = 1000) -> list[dict]:
    return [
        dict(r) for r in db.query(
            "SELECT f.path AS folder, e.path, e.reason, e.seen_at FROM scan_error e "
            "JOIN folder f ON f.id = e.folder_id ORDER BY e.path LIMIT ?", [limit]
        )
    ]


def unsupported_formats(db: Database) -> dict[str, int]:
    """Files not indexed because of their format, counted by extension (``{".mid": 3}``)."""
    out: dict[str, int] = {}
    for (path,) in db.conn.execute("SELECT path FROM scan_error WHERE reason LIKE 'unsupported format%'"):
        ext = os.path.splitext(path)[1].lower() or "(none)"
        out[ext] = out.get(ext, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def codec_counts(db: Database) -> dict[str, int]:
    """Tracks per codec (``{"flac": 812, "dsd": 12}``)."""
    return dict(db.conn.execute("SELECT codec, count(*) FROM track GROUP BY codec ORDER BY count(*) DESC"))


def scan_notes(db: Database, limit: int = 1000) -> list[dict]:
    """Tracks indexed although their header was wrong, with what was wrong."""
    return [
        dict(r) for r in db.query(
            "SELECT f.path AS folder, t.path, t.scan_note AS note FROM track t JOIN folder f ON f.id = t.folder_id "
            "WHERE t.scan_note IS NOT NULL ORDER BY t.path LIMIT ?", [limit]
        )
    ]


def get_track(db: Database, track_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM track WHERE id = ?", [track_id]))
    return _track_dict(rows[0]) if rows else None


def _track_dict(row: dict) -> dict:
    row = dict(row)
    row.pop("rid", None)
    row["tags"] = json.loads(row["tags"])
    for key in ("artists", "album_artists", "genres", "composers"):
        row[key] = row["tags"].pop(key, [])
    row["compilation"] = bool(row["compilation"])
    row["lossless"] = bool(row["lossless"])
    row["has_cover"] = bool(row["has_cover"])
    return row
