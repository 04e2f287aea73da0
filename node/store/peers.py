"""The federation's tables: membership, catalogue logs, remote catalogues, peers, invites, pins.

Remote catalogue entries live in ``remote_track`` (and its album/artist/genre
companions), never in the local ``track`` table. The ``lib_*`` views join the
two for browsing: a recording held locally shows the local track; one held only
by members shows once (by ``audio_id``), from its first holder, and lists all
holders. Every write here runs in the node's single writer (store.write).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from typing import Any

from ..library.tagmap import normalise
from .db import Database
from .tracks import album_key, artist_id

LIB_TRACK_COLUMNS = (
    "id", "folder_id", "path", "size", "mtime_ns", "format", "codec", "lossless", "sample_rate", "bit_depth",
    "channels", "duration", "bitrate", "title", "artist", "album", "album_artist", "album_id", "artist_id",
    "track_no", "track_total", "disc_no", "disc_total", "disc_subtitle", "year", "date", "original_date",
    "composer", "label", "compilation", "comment", "bpm", "mb_recording_id", "mb_release_track_id", "mb_album_id",
    "mb_artist_id", "mb_album_artist_id", "rg_track_gain", "rg_track_peak", "rg_album_gain", "rg_album_peak",
    "lyrics", "has_cover", "cover", "audio_id", "file_id", "tags", "created_at", "updated_at",
)
REMOTE_COLUMNS = (
    "id", "folder_id", "size", "format", "codec", "lossless", "sample_rate", "bit_depth", "channels", "duration",
    "bitrate", "title", "artist", "album", "album_artist", "album_id", "artist_id", "track_no", "track_total",
    "disc_no", "disc_total", "year", "composer", "compilation", "bpm", "mb_recording_id", "mb_album_id",
    "rg_track_gain", "rg_track_peak", "audio_id", "file_id", "tags", "created_at", "updated_at",
)
MEMBER_FOLDER_BASE = 1_000_000
#: A cover content id (specs/protocol.md §5): "em-" and 24 hex digits of BLAKE2b-96 over the image bytes.
COVER_ID_GLOB = "em-" + "[0-9a-f]" * 24


def _view_columns(available: tuple[str, ...], prefix: str, special: dict[str, str] | None = None) -> str:
    def col(c: str) -> str:
        if special and c in special:
            return f"{special[c]} AS {c}"
        if c in available:
            return f"{prefix}.{c}"
        if c == "path":  # a readable path for clients that show one: Artist/Album/Title.ext
            return f"{prefix}.album_artist || '/' || {prefix}.album || '/' || {prefix}.title || '.' || {prefix}.format AS path"
        return f"NULL AS {c}"

    return ", ".join(col(c) for c in LIB_TRACK_COLUMNS)


MIGRATIONS = [
    (
        "0001_federation",
        f"""
        CREATE TABLE fed_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            genesis TEXT,
            generation INTEGER NOT NULL DEFAULT 0,
            own_seq INTEGER NOT NULL DEFAULT 0,
            own_hash TEXT NOT NULL DEFAULT '',
            joined_at REAL,
            addresses TEXT NOT NULL DEFAULT '[]'
        );
        INSERT INTO fed_state(id) VALUES (1);
        CREATE TABLE member_record (
            id TEXT PRIMARY KEY,
            obj TEXT NOT NULL,
            added_at REAL NOT NULL
        );
        CREATE TABLE log_entry (
            log TEXT NOT NULL,
            seq INTEGER NOT NULL,
            obj TEXT NOT NULL,
            PRIMARY KEY (log, seq)
        ) WITHOUT ROWID;
        CREATE TABLE log_state (
            log TEXT PRIMARY KEY,
            seq INTEGER NOT NULL DEFAULT 0,
            hash TEXT NOT NULL DEFAULT '',
            head TEXT,
            floor INTEGER NOT NULL DEFAULT 0,
            manifest TEXT
        );
        CREATE TABLE published (
            key TEXT PRIMARY KEY,
            digest TEXT NOT NULL
        );
        CREATE TABLE member_folder (
            node TEXT PRIMARY KEY,
            folder_id INTEGER NOT NULL UNIQUE
        );
        CREATE TABLE remote_track (
            log TEXT NOT NULL,
            key TEXT NOT NULL,
            record TEXT NOT NULL,
            primary_holder INTEGER NOT NULL DEFAULT 0,
            {", ".join(f"{c} {'TEXT' if c in ('id', 'format', 'codec', 'title', 'artist', 'album', 'album_artist', 'album_id', 'artist_id', 'composer', 'mb_recording_id', 'mb_album_id', 'audio_id', 'file_id', 'tags') else 'REAL'}" for c in REMOTE_COLUMNS)},
            PRIMARY KEY (log, key)
        );
        CREATE INDEX remote_track_id ON remote_track(id);
        CREATE INDEX remote_track_audio ON remote_track(audio_id);
        CREATE INDEX remote_track_file ON remote_track(file_id);
        CREATE INDEX remote_track_album ON remote_track(album_id);
        CREATE TABLE remote_track_artist (
            track_id TEXT NOT NULL, artist_id TEXT NOT NULL, role TEXT NOT NULL, pos INTEGER NOT NULL,
            PRIMARY KEY (track_id, role, pos)
        ) WITHOUT ROWID;
        CREATE INDEX remote_track_artist_by_artist ON remote_track_artist(artist_id, role);
        CREATE TABLE remote_artist (id TEXT PRIMARY KEY, name TEXT NOT NULL, norm TEXT NOT NULL);
        CREATE TABLE remote_album (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, sort_name TEXT, artist TEXT NOT NULL, artist_id TEXT,
            mbid TEXT, year INTEGER, compilation INTEGER NOT NULL DEFAULT 0, cover TEXT,
            song_count INTEGER NOT NULL DEFAULT 0, duration REAL NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,
            disc_count INTEGER NOT NULL DEFAULT 1, genres TEXT NOT NULL DEFAULT '[]', folder_id INTEGER,
            created_at REAL NOT NULL, updated_at REAL NOT NULL
        );
        CREATE VIRTUAL TABLE remote_fts USING fts5(
            id UNINDEXED, title, artists, album, genres,
            tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
        );
        CREATE TABLE peer (
            node TEXT PRIMARY KEY,
            name TEXT,
            state TEXT NOT NULL DEFAULT 'unknown',
            addresses TEXT NOT NULL DEFAULT '[]',
            last_seen REAL,
            rtt_ms REAL,
            throughput REAL,
            failures REAL NOT NULL DEFAULT 0,
            load REAL NOT NULL DEFAULT 0,
            tracks INTEGER NOT NULL DEFAULT 0,
            bytes_served INTEGER NOT NULL DEFAULT 0,
            bytes_fetched INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE invite (
            nonce TEXT PRIMARY KEY,
            obj TEXT NOT NULL,
            remaining INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE invite_redeemed (
            nonce TEXT NOT NULL,
            node TEXT NOT NULL,
            admission TEXT NOT NULL,
            PRIMARY KEY (nonce, node)
        );
        CREATE TABLE pin (album_id TEXT PRIMARY KEY, pinned_at REAL NOT NULL);
        CREATE VIEW lib_track AS
            SELECT {_view_columns(LIB_TRACK_COLUMNS, "t")}, '' AS source FROM track t
            UNION ALL
            SELECT {_view_columns(REMOTE_COLUMNS, "r")}, r.log AS source FROM remote_track r
            WHERE r.primary_holder = 1 AND NOT EXISTS (SELECT 1 FROM track l WHERE l.audio_id = r.audio_id);
        CREATE VIEW lib_album AS
            SELECT id, name, sort_name, artist, artist_id, mbid, year, compilation, cover, song_count, duration,
                   size, disc_count, genres, folder_id, created_at, updated_at FROM album
            UNION ALL
            SELECT id, name, sort_name, artist, artist_id, mbid, year, compilation, cover, song_count, duration,
                   size, disc_count, genres, folder_id, created_at, updated_at FROM remote_album
            WHERE id NOT IN (SELECT id FROM album);
        CREATE VIEW lib_track_artist AS
            SELECT track_id, artist_id, role, pos FROM track_artist
            UNION ALL
            SELECT track_id, artist_id, role, pos FROM remote_track_artist
            WHERE track_id IN (SELECT id FROM remote_track WHERE primary_holder = 1);
        CREATE VIEW lib_artist AS
            SELECT id, name, norm, sort_name, mbid FROM artist
            UNION ALL
            SELECT id, name, norm, NULL, NULL FROM remote_artist WHERE id NOT IN (SELECT id FROM artist);
        """,
    ),
    (
        # Genres of members' recordings, one row set per recording (its primary holder's tags), and
        # one view over local and remote genres; joined with lib_track, each recording counts once.
        "0002_remote_genres",
        """
        CREATE TABLE remote_track_genre (
            track_id TEXT NOT NULL, pos INTEGER NOT NULL, genre TEXT NOT NULL COLLATE NOCASE,
            PRIMARY KEY (track_id, pos)
        ) WITHOUT ROWID;
        CREATE INDEX remote_track_genre_by_genre ON remote_track_genre(genre);
        INSERT OR IGNORE INTO remote_track_genre(track_id, pos, genre)
            SELECT r.id, CAST(j.key AS INTEGER), j.value FROM remote_track r, json_each(r.tags, '$.genres') j
            WHERE r.primary_holder = 1 AND j.type = 'text';
        CREATE VIEW lib_track_genre AS
            SELECT g.track_id, n.name AS genre, g.pos FROM track_genre g JOIN genre n ON n.id = g.genre_id
            UNION ALL
            SELECT track_id, genre, pos FROM remote_track_genre;
        """,
    ),
    (
        # remote_fts rows were found by their `id` column, which FTS5 can only scan: a new member
        # storing a 10k-track catalogue spent O(n²) there. Rows are now addressed by rowid,
        # mapped from the recording id by remote_fts_row.
        "0003_remote_fts_rowid",
        """
        CREATE TABLE remote_fts_row (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
        DELETE FROM remote_fts;
        INSERT INTO remote_fts_row(id) SELECT DISTINCT id FROM remote_track WHERE primary_holder = 1;
        INSERT INTO remote_fts(rowid, id, title, artists, album, genres)
            SELECT m.rowid, r.id, r.title, r.artist, r.album,
                   coalesce((SELECT group_concat(j.value, ' ') FROM json_each(r.tags, '$.genres') j), '')
            FROM remote_fts_row m JOIN remote_track r ON r.id = m.id AND r.primary_holder = 1
            GROUP BY m.rowid;
        """,
    ),
    (
        # Members' covers: the cover content id of each remote record (optional member `cover`),
        # shown through lib_track and remote_album like local covers.
        "0004_remote_covers",
        f"""
        ALTER TABLE remote_track ADD COLUMN cover TEXT;
        UPDATE remote_track SET cover = json_extract(record, '$.cover')
            WHERE json_extract(record, '$.cover') GLOB '{COVER_ID_GLOB}';
        CREATE INDEX remote_track_cover ON remote_track(cover) WHERE cover IS NOT NULL;
        DROP VIEW lib_track;
        CREATE VIEW lib_track AS
            SELECT {_view_columns(LIB_TRACK_COLUMNS, "t")}, '' AS source FROM track t
            UNION ALL
            SELECT {_view_columns(REMOTE_COLUMNS + ("cover",), "r", {"has_cover": "(r.cover IS NOT NULL)"})},
                   r.log AS source FROM remote_track r
            WHERE r.primary_holder = 1 AND NOT EXISTS (SELECT 1 FROM track l WHERE l.audio_id = r.audio_id);
        UPDATE remote_album SET cover = (SELECT r.cover FROM remote_track r WHERE r.album_id = remote_album.id
            AND r.primary_holder = 1 AND r.cover IS NOT NULL ORDER BY r.disc_no, r.track_no LIMIT 1);
        """,
    ),
    (
        # A local track without its own picture shows its album's cover (a folder image, or another
        # track's picture), so clients get a cover URL that exists, or none, never one that 404s.
        "0005_track_album_cover",
        f"""
        DROP VIEW lib_track;
        CREATE VIEW lib_track AS
            SELECT {_view_columns(LIB_TRACK_COLUMNS, "t",
                                  {"cover": "coalesce(t.cover, (SELECT a.cover FROM album a WHERE a.id = t.album_id))"})},
                   '' AS source FROM track t
            UNION ALL
            SELECT {_view_columns(REMOTE_COLUMNS + ("cover",), "r", {"has_cover": "(r.cover IS NOT NULL)"})},
                   r.log AS source FROM remote_track r
            WHERE r.primary_holder = 1 AND NOT EXISTS (SELECT 1 FROM track l WHERE l.audio_id = r.audio_id);
        """,
    ),
    (
        # An artist's albums among members' (getArtists counts them for every artist): by index.
        "0006_remote_album_artist",
        "CREATE INDEX remote_album_artist ON remote_album(artist_id)",
    ),
    (
        # Members' sonic vectors (optional record member `sonic`), decoded once on arrival, and a
        # generation the in-memory sonic index compares (one row read per query) to know it is current.
        "0007_remote_sonic",
        """
        ALTER TABLE remote_track ADD COLUMN sonic_version INTEGER;
        ALTER TABLE remote_track ADD COLUMN sonic BLOB;
        CREATE TABLE remote_sonic_generation (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL);
        INSERT INTO remote_sonic_generation VALUES (1, 0);
        CREATE TRIGGER remote_sonic_insert AFTER INSERT ON remote_track BEGIN
            UPDATE remote_sonic_generation SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER remote_sonic_delete AFTER DELETE ON remote_track BEGIN
            UPDATE remote_sonic_generation SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER remote_sonic_update AFTER UPDATE OF primary_holder, sonic ON remote_track
            WHEN OLD.primary_holder IS NOT NEW.primary_holder OR OLD.sonic IS NOT NEW.sonic BEGIN
            UPDATE remote_sonic_generation SET generation = generation + 1 WHERE id = 1;
        END;
        """,
    ),
    (
        # Covers a listener limited to some folders may see (store/scope.py), by index.
        "0008_remote_album_cover",
        "CREATE INDEX remote_album_cover ON remote_album(cover) WHERE cover IS NOT NULL",
    ),
]


# -- federation state -----------------------------------------------------------
def state(db: Database) -> dict:
    row = db.conn.execute("SELECT genesis, generation, own_seq, own_hash, joined_at FROM fed_state WHERE id = 1").fetchone()
    return {"genesis": json.loads(row[0]) if row[0] else None, "generation": row[1], "own_seq": row[2],
            "own_hash": row[3], "joined_at": row[4]}


def set_genesis(db: Database, genesis_obj: dict | None) -> None:
    db.conn.execute("UPDATE fed_state SET genesis = ?, joined_at = ?, generation = generation + 1 WHERE id = 1",
                    (json.dumps(genesis_obj) if genesis_obj else None, time.time() if genesis_obj else None))


def set_addresses(db: Database, addresses: list[str]) -> None:
    """The peer addresses the serving node is reachable at (for invites made by the CLI)."""
    db.conn.execute("UPDATE fed_state SET addresses = ? WHERE id = 1", (json.dumps(addresses),))


def addresses(db: Database) -> list[str]:
    return json.loads(db.conn.execute("SELECT addresses FROM fed_state WHERE id = 1").fetchone()[0])


def bump_generation(db: Database) -> None:
    db.conn.execute("UPDATE fed_state SET generation = generation + 1 WHERE id = 1")


def generation(db: Database) -> int:
    return db.conn.execute("SELECT generation FROM fed_state WHERE id = 1").fetchone()[0]


def records(db: Database) -> list[dict]:
    return [json.loads(r[0]) for r in db.conn.execute("SELECT obj FROM member_record ORDER BY added_at, id")]


def add_records(db: Database, recs: Iterable[tuple[str, dict]]) -> int:
    now = time.time()
    n = 0
    for rid, obj in recs:
        n += db.conn.execute("INSERT OR IGNORE INTO member_record VALUES (?, ?, ?)", (rid, json.dumps(obj), now)).rowcount
        if obj.get("type") == "announce":  # only a node's latest announce counts: drop those it replaced
            db.conn.execute("DELETE FROM member_record WHERE id != ? AND json_extract(obj, '$.type') = 'announce'"
                            " AND json_extract(obj, '$.node') = ?", (rid, obj["node"]))
    return n


def leave_federation(db: Database) -> None:
    """Forget the federation and everything learned from it (our own library stays)."""
    for table in ("member_record", "log_entry", "log_state", "published", "remote_track", "remote_track_artist",
                  "remote_track_genre", "remote_artist", "remote_album", "remote_fts", "remote_fts_row", "peer", "invite",
                  "invite_redeemed", "member_folder"):
        db.conn.execute(f"DELETE FROM {table}")
    db.conn.execute("UPDATE fed_state SET genesis = NULL, own_seq = 0, own_hash = '', joined_at = NULL, "
                    "generation = generation + 1 WHERE id = 1")


# -- logs ---------------------------------------------------------------------
def set_own(db: Database, seq: int, hash_hex: str) -> None:
    db.conn.execute("UPDATE fed_state SET own_seq = ?, own_hash = ? WHERE id = 1", (seq, hash_hex))


def log_states(db: Database) -> list[dict]:
    return [dict(r) for r in db.query("SELECT log, seq, hash, head, floor, manifest FROM log_state")]


def put_entries(db: Database, log: str, entries: list[tuple[int, dict]]) -> None:
    db.conn.executemany("INSERT OR REPLACE INTO log_entry VALUES (?, ?, ?)",
                        [(log, seq, json.dumps(obj)) for seq, obj in entries])


def set_log_state(db: Database, log: str, seq: int, hash_hex: str, head: dict | None,
                  floor: int | None = None, manifest: dict | None = None) -> None:
    db.conn.execute(
        "INSERT INTO log_state(log, seq, hash, head, floor, manifest) VALUES (?, ?, ?, ?, coalesce(?, 0), ?) "
        "ON CONFLICT(log) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
        "head = coalesce(excluded.head, log_state.head), floor = coalesce(?, log_state.floor), "
        "manifest = coalesce(excluded.manifest, log_state.manifest)",
        (log, seq, hash_hex, json.dumps(head) if head else None, floor, json.dumps(manifest) if manifest else None,
         floor),
    )


def entries_from(db: Database, log: str, from_seq: int, limit: int) -> list[dict]:
    return [json.loads(r[0]) for r in db.conn.execute(
        "SELECT obj FROM log_entry WHERE log = ? AND seq >= ? ORDER BY seq LIMIT ?", (log, from_seq, limit))]


def drop_log(db: Database, log: str) -> set[str]:
    db.conn.execute("DELETE FROM log_entry WHERE log = ?", (log,))
    db.conn.execute("DELETE FROM log_state WHERE log = ?", (log,))
    return remove_remote(db, log, None)


# -- published (our own log's view of the local library) --------------------------------
def published(db: Database) -> dict[str, str]:
    return dict(db.conn.execute("SELECT key, digest FROM published").fetchall())


def published_count(db: Database) -> int:
    """How many tracks our own catalogue holds now (what members see of this node)."""
    return db.conn.execute("SELECT count(*) FROM published").fetchone()[0]


def set_published(db: Database, changes: dict[str, str | None]) -> None:
    for key, digest in changes.items():
        if digest is None:
            db.conn.execute("DELETE FROM published WHERE key = ?", (key,))
        else:
            db.conn.execute("INSERT OR REPLACE INTO published VALUES (?, ?)", (key, digest))


# -- remote catalogue ----------------------------------------------------------------------
def member_folder(db: Database, node: str) -> int:
    row = db.conn.execute("SELECT folder_id FROM member_folder WHERE node = ?", (node,)).fetchone()
    if row:
        return row[0]
    nxt = db.conn.execute("SELECT coalesce(max(folder_id), ?) + 1 FROM member_folder", (MEMBER_FOLDER_BASE,)).fetchone()[0]
    db.conn.execute("INSERT INTO member_folder VALUES (?, ?)", (node, nxt))
    return nxt


def member_folder_list(db: Database) -> list[dict]:
    """One music folder per member whose catalogue we hold, named after the member."""
    return [{"id": r[0], "name": r[1] or f"Member {r[2][:7]}", "node": r[2]} for r in db.conn.execute(
        "SELECT f.folder_id, p.name, f.node FROM member_folder f LEFT JOIN peer p ON p.node = f.node "
        "WHERE f.node IN (SELECT DISTINCT log FROM remote_track) ORDER BY f.folder_id")]


def member_folders(db: Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT node, folder_id FROM member_folder").fetchall())


def remote_track_id(audio_id: str | None, log: str, key: str) -> str:
    basis = f"audio:{audio_id}" if audio_id else f"key:{log}:{key}"
    return "tr-" + hashlib.blake2b(basis.encode(), digest_size=8).hexdigest()


def upsert_remote(db: Database, log: str, records: list[dict]) -> set[str]:
    """Apply add/update records of ``log``; returns the album ids touched."""
    conn = db.conn
    folder = member_folder(db, log)
    now = time.time()
    albums: set[str] = set()
    touched_audio: set[str] = set()
    touched_ids: set[str] = set()
    for rec in records:
        key = rec["track_key"]
        old = conn.execute("SELECT id, album_id, audio_id FROM remote_track WHERE log = ? AND key = ?", (log, key)).fetchone()
        if old:
            albums.add(old[1])
            touched_audio.add(old[2] or "")
            touched_ids.add(old[0])
            _unlink_remote(conn, old[0], log, key)
        artists = list(rec.get("artists") or []) or ["Unknown Artist"]
        album_artists = list(rec.get("album_artists") or []) or artists[:1]
        album = rec.get("album") or "Unknown Album"
        compilation = bool(rec.get("compilation"))
        aa_display = ", ".join(album_artists)
        aid = album_key(album_artists[0] if compilation else aa_display, album, None)
        tid = remote_track_id(rec.get("audio_id"), log, key)
        analysis = rec.get("analysis") or {}
        tags = {"artists": artists, "album_artists": album_artists, "genres": list(rec.get("genres") or []),
                "composers": [rec["composer"]] if rec.get("composer") else []}
        values = {
            "log": log, "key": key, "record": json.dumps(rec, ensure_ascii=False), "id": tid, "folder_id": folder,
            "size": rec["size"], "format": rec.get("format") or "", "codec": rec.get("codec") or "",
            "lossless": int(bool(rec.get("lossless"))), "sample_rate": rec.get("sample_rate"),
            "bit_depth": rec.get("bit_depth"), "channels": rec.get("channels"),
            "duration": (rec.get("duration_ms") or 0) / 1000, "bitrate": rec.get("bitrate"),
            "title": rec.get("title") or key, "artist": ", ".join(artists), "album": album,
            "album_artist": aa_display, "album_id": aid, "artist_id": artist_id(artists[0]),
            "track_no": rec.get("track_no"), "track_total": rec.get("track_total"), "disc_no": rec.get("disc_no"),
            "disc_total": rec.get("disc_total"), "year": rec.get("year"), "composer": rec.get("composer"),
            "compilation": int(compilation), "bpm": (analysis.get("bpm_milli") or 0) / 1000 or None,
            "mb_recording_id": rec.get("mb_recording_id"), "mb_album_id": rec.get("mb_release_id"),
            "rg_track_gain": (analysis["replaygain_track_gain_mdb"] / 1000) if "replaygain_track_gain_mdb" in analysis else None,
            "rg_track_peak": None, "audio_id": rec.get("audio_id"), "file_id": rec["file_id"],
            "tags": json.dumps(tags, ensure_ascii=False), "created_at": now, "updated_at": now,
            "cover": rec["cover"] if is_cover_id(rec.get("cover")) else None,
            **_sonic_columns(rec.get("sonic")),
        }
        cols = ", ".join(values)
        conn.execute(f"INSERT OR REPLACE INTO remote_track ({cols}) VALUES ({', '.join('?' * len(values))})",
                     tuple(values.values()))
        for role, names in (("artist", artists), ("albumartist", album_artists)):
            for pos, name in enumerate(names):
                arid = artist_id(name)
                conn.execute("INSERT OR IGNORE INTO remote_artist VALUES (?, ?, ?)", (arid, name, normalise(name)))
                conn.execute("INSERT OR IGNORE INTO remote_track_artist VALUES (?, ?, ?, ?)", (tid, arid, role, pos))
        albums.add(aid)
        touched_audio.add(rec.get("audio_id") or "")
        touched_ids.add(tid)
    _refresh_primary(conn, touched_audio)
    _refresh_genres(conn, touched_ids)
    return albums


def _sonic_columns(value: Any) -> dict:
    """A record's sonic vector as stored: its version and float32 bytes, both None when absent or unreadable."""
    from sonantica.protocol.records import decode_sonic

    found = decode_sonic(value)
    return {"sonic_version": found[0] if found else None, "sonic": found[1] if found else None}


def sonic_stamp(db: Database) -> int:
    """Moves whenever a member's track (and so possibly its vector, or which row is shown) changes."""
    return db.conn.execute("SELECT generation FROM remote_sonic_generation WHERE id = 1").fetchone()[0]


def sonic_vectors(db: Database, version: int, dims: int) -> tuple[list[str], bytes]:
    """Members' recordings as browsing shows them (primary holder, not held here) with a vector of
    this version and size: (ids, float32 rows concatenated)."""
    ids, rows = [], []
    for track_id, data in db.conn.execute(
            "SELECT r.id, r.sonic FROM remote_track r WHERE r.primary_holder = 1 AND r.sonic_version = ? "
            "AND length(r.sonic) = ? AND NOT EXISTS (SELECT 1 FROM track l WHERE l.audio_id = r.audio_id) "
            "ORDER BY r.id", (version, 4 * dims)):
        ids.append(track_id)
        rows.append(data)
    return ids, b"".join(rows)


def recording_folders(db: Database, ids: list[str]) -> list[int]:
    """The music folder (its primary holder's) of each of members' recordings ``ids``; -1 for one gone."""
    found = dict(db.conn.execute("SELECT id, CAST(folder_id AS INTEGER) FROM remote_track WHERE primary_holder = 1"))
    return [found.get(i, -1) for i in ids]


def _unlink_remote(conn, tid: str, log: str, key: str) -> None:
    others = conn.execute("SELECT count(*) FROM remote_track WHERE id = ? AND NOT (log = ? AND key = ?)",
                          (tid, log, key)).fetchone()[0]
    if not others:
        conn.execute("DELETE FROM remote_track_artist WHERE track_id = ?", (tid,))
        _fts_delete(conn, tid)
        conn.execute("DELETE FROM remote_fts_row WHERE id = ?", (tid,))


def remove_remote(db: Database, log: str, keys: list[str] | None) -> set[str]:
    conn = db.conn
    if keys is None:
        rows = conn.execute("SELECT key, id, album_id, audio_id FROM remote_track WHERE log = ?", (log,)).fetchall()
    else:
        rows = []
        for key in keys:
            row = conn.execute("SELECT key, id, album_id, audio_id FROM remote_track WHERE log = ? AND key = ?",
                               (log, key)).fetchone()
            if row:
                rows.append(row)
    albums, audio, ids = set(), set(), set()
    for key, tid, aid, audio_id in rows:
        _unlink_remote(conn, tid, log, key)
        conn.execute("DELETE FROM remote_track WHERE log = ? AND key = ?", (log, key))
        albums.add(aid)
        audio.add(audio_id or "")
        ids.add(tid)
    _refresh_primary(conn, audio)
    _refresh_genres(conn, ids)
    return albums


def _refresh_genres(conn, track_ids: set[str]) -> None:
    """A remote recording's genres are those of the row shown for it (its primary holder's)."""
    for tid in track_ids:
        conn.execute("DELETE FROM remote_track_genre WHERE track_id = ?", (tid,))
        row = conn.execute("SELECT tags FROM remote_track WHERE id = ? ORDER BY primary_holder DESC, log LIMIT 1",
                           (tid,)).fetchone()
        if row:
            genres = [g for g in json.loads(row[0]).get("genres", []) if isinstance(g, str) and g]
            conn.executemany("INSERT OR IGNORE INTO remote_track_genre VALUES (?, ?, ?)",
                             [(tid, pos, g) for pos, g in enumerate(genres)])


def _refresh_primary(conn, audio_ids: set[str]) -> None:
    """One row per recording is shown: the first holder's (by node id)."""
    for audio in audio_ids:
        if not audio:
            conn.execute("UPDATE remote_track SET primary_holder = 1 WHERE audio_id IS NULL")
            continue
        conn.execute("UPDATE remote_track SET primary_holder = 0 WHERE audio_id = ?", (audio,))
        conn.execute("UPDATE remote_track SET primary_holder = 1 WHERE audio_id = ? AND log = "
                     "(SELECT min(log) FROM remote_track WHERE audio_id = ?)", (audio, audio))
        row = conn.execute("SELECT id, title, artist, album, tags FROM remote_track WHERE audio_id = ? "
                           "AND primary_holder = 1", (audio,)).fetchone()
        if row:
            genres = " ".join(json.loads(row[4]).get("genres", []))
            _fts_put(conn, row[0], row[1], row[2], row[3], genres)


def _fts_delete(conn, tid: str) -> None:
    row = conn.execute("SELECT rowid FROM remote_fts_row WHERE id = ?", (tid,)).fetchone()
    if row:
        conn.execute("DELETE FROM remote_fts WHERE rowid = ?", (row[0],))


def _fts_put(conn, tid: str, title: str, artists: str, album: str, genres: str) -> None:
    """(Re)index one recording for search, by rowid (see migration 0003)."""
    conn.execute("INSERT OR IGNORE INTO remote_fts_row(id) VALUES (?)", (tid,))
    rowid = conn.execute("SELECT rowid FROM remote_fts_row WHERE id = ?", (tid,)).fetchone()[0]
    conn.execute("DELETE FROM remote_fts WHERE rowid = ?", (rowid,))
    conn.execute("INSERT INTO remote_fts(rowid, id, title, artists, album, genres) VALUES (?, ?, ?, ?, ?, ?)",
                 (rowid, tid, title, artists, album, genres))


def refresh_remote_albums(db: Database, album_ids: Iterable[str]) -> None:
    conn = db.conn
    now = time.time()
    for aid in album_ids:
        rows = conn.execute(
            "SELECT album, album_artist, year, compilation, duration, size, disc_no, folder_id, tags, cover "
            "FROM remote_track WHERE album_id = ? AND primary_holder = 1 ORDER BY disc_no, track_no", (aid,)).fetchall()
        conn.execute("DELETE FROM remote_album WHERE id = ?", (aid,))
        if not rows:
            continue
        first_tags = json.loads(rows[0][8])
        album_artists = first_tags.get("album_artists") or [rows[0][1]]
        genres: list[str] = []
        for r in rows:
            for g in json.loads(r[8]).get("genres", []):
                if g not in genres:
                    genres.append(g)
        years = [r[2] for r in rows if r[2]]
        conn.execute(
            "INSERT INTO remote_album(id, name, artist, artist_id, year, compilation, song_count, duration, size, "
            "disc_count, genres, folder_id, created_at, updated_at, cover) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (aid, rows[0][0], ", ".join(album_artists), artist_id(album_artists[0]), int(min(years)) if years else None,
             int(any(r[3] for r in rows)), len(rows), sum(r[4] for r in rows), sum(r[5] for r in rows),
             len({r[6] or 1 for r in rows}), json.dumps(genres, ensure_ascii=False), rows[0][7], now, now,
             next((r[9] for r in rows if r[9]), None)))
        conn.execute("INSERT OR IGNORE INTO remote_artist VALUES (?, ?, ?)",
                     (artist_id(album_artists[0]), album_artists[0], normalise(album_artists[0])))


def holders(db: Database, track_id: str) -> list[dict]:
    """Every member holding the recording of ``track_id`` (local or remote id): log, file_id, size."""
    row = db.conn.execute("SELECT audio_id, file_id, size FROM track WHERE id = ?", (track_id,)).fetchone()
    if row is None:
        row = db.conn.execute("SELECT audio_id, file_id, size FROM remote_track WHERE id = ? LIMIT 1", (track_id,)).fetchone()
    if row is None:
        return []
    audio_id, file_id, _ = row
    rows = db.conn.execute(
        "SELECT log, key, file_id, size FROM remote_track WHERE (audio_id = ? AND ? IS NOT NULL) OR file_id = ? OR id = ?",
        (audio_id, audio_id, file_id, track_id)).fetchall()
    return [{"node": r[0], "key": r[1], "file_id": r[2], "size": int(r[3])} for r in rows]


def is_cover_id(value: Any) -> bool:
    """A cover content id as records carry it (anything else is ignored, never used as a file name)."""
    return isinstance(value, str) and len(value) == 27 and value.startswith("em-") and \
        all(c in "0123456789abcdef" for c in value[3:])


def cover_holders(db: Database, cover_id: str) -> list[dict]:
    """The members that published a track with this cover: node and one file_id each."""
    rows = db.conn.execute("SELECT log, min(file_id) FROM remote_track WHERE cover = ? GROUP BY log",
                           (cover_id,)).fetchall()
    return [{"node": r[0], "file_id": r[1]} for r in rows]


def remote_record(db: Database, track_id: str) -> dict | None:
    row = db.conn.execute("SELECT record FROM remote_track WHERE id = ? ORDER BY primary_holder DESC LIMIT 1",
                          (track_id,)).fetchone()
    return json.loads(row[0]) if row else None


def remote_counts(db: Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT log, count(*) FROM remote_track GROUP BY log").fetchall())


# -- peers -------------------------------------------------------------------------------
def upsert_peer(db: Database, node: str, **fields: Any) -> None:
    db.conn.execute("INSERT OR IGNORE INTO peer(node) VALUES (?)", (node,))
    for key, value in fields.items():
        if key == "addresses":
            value = json.dumps(list(value))
        db.conn.execute(f"UPDATE peer SET {key} = ? WHERE node = ?", (value, node))


def add_peer_bytes(db: Database, node: str, served: int = 0, fetched: int = 0) -> None:
    db.conn.execute("INSERT OR IGNORE INTO peer(node) VALUES (?)", (node,))
    db.conn.execute("UPDATE peer SET bytes_served = bytes_served + ?, bytes_fetched = bytes_fetched + ? WHERE node = ?",
                    (served, fetched, node))


def peers(db: Database) -> list[dict]:
    rows = [dict(r) for r in db.query("SELECT * FROM peer ORDER BY name, node")]
    for r in rows:
        r["addresses"] = json.loads(r["addresses"])
    return rows


# -- invites -------------------------------------------------------------------------------
def save_invite(db: Database, nonce_hex: str, obj: dict, uses: int) -> None:
    db.conn.execute("INSERT INTO invite VALUES (?, ?, ?, ?)", (nonce_hex, json.dumps(obj), uses, time.time()))


def invite_state(db: Database, nonce_hex: str) -> tuple[dict, int, dict[str, dict]] | None:
    row = db.conn.execute("SELECT obj, remaining FROM invite WHERE nonce = ?", (nonce_hex,)).fetchone()
    if row is None:
        return None
    redeemed = {r[0]: json.loads(r[1]) for r in db.conn.execute(
        "SELECT node, admission FROM invite_redeemed WHERE nonce = ?", (nonce_hex,))}
    return json.loads(row[0]), row[1], redeemed


def record_redemption(db: Database, nonce_hex: str, node: str, admission: dict, remaining: int) -> None:
    db.conn.execute("INSERT OR IGNORE INTO invite_redeemed VALUES (?, ?, ?)", (nonce_hex, node, json.dumps(admission)))
    db.conn.execute("UPDATE invite SET remaining = ? WHERE nonce = ?", (remaining, nonce_hex))


# -- pins ----------------------------------------------------------------------------------
def pin(db: Database, album_id: str, on: bool) -> None:
    if on:
        db.conn.execute("INSERT OR IGNORE INTO pin VALUES (?, ?)", (album_id, time.time()))
    else:
        db.conn.execute("DELETE FROM pin WHERE album_id = ?", (album_id,))


def pins(db: Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT album_id FROM pin ORDER BY pinned_at")]
