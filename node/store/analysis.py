"""Analysis results: one row per (track, feature) with its version, fingerprint keys, album gain.

Theory of operation
-------------------
``analysis`` holds, per track and feature, the feature's ``version``, a
small JSON ``result`` (what the API shows) and an optional ``blob``: the big
part (waveform levels, raw fingerprint) as zlib-compressed JSON. ``source``
says what the result was computed from: the track's ``audio_id`` for audio
features (re-tagging keeps them), its ``size:mtime_ns`` for ``file_id``
(whose bytes include the tags). A feature is *stale* for a track when its row
is missing, has another version, or another source: :func:`stale_tracks`
finds them in one query, so a changed algorithm re-runs only that feature.

``sonic`` rows keep the similarity vector as raw little-endian float32 in
``blob`` (:func:`pack_vector`, bounded); :func:`vectors` loads them all for the
in-memory index of :mod:`..analysis.similarity`, and :func:`vectors_stamp`
(a generation that triggers move on every change) tells it cheaply when to reload.

``fingerprint_key`` is an index of LSH keys (16-bit slices of the
Chromaprint subfingerprints, every ``KEY_STRIDE``-th position): a query votes
per (track, offset) in SQL and only the few best candidates are compared in
full, so matching scales to a federation's catalogue.

What reaches the ``track`` columns (read by the native and Subsonic APIs):

- ``file_id``: always, when the file still has the size and mtime it was hashed at;
- ``bpm`` (rounded), ``rg_track_gain``/``rg_track_peak``: filled from the
  analysis only when the column is empty or still holds the analysis' previous
  value. A value from the file's tags is kept (a person or a tagger chose it);
- ``rg_album_gain``/``rg_album_peak``: once every track of the album has a
  current loudness, ReplayGain 2.0 album gain over all of their gating blocks,
  on the tracks without an album gain tag (same rule).

A rescan rewrites tag columns (empty when the file has no such tag), so
:func:`refill_tracks` runs after each scan and fills them again.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable

from . import scope
from .db import Database


MIGRATIONS = [
    (
        "0001_analysis",
        """
        CREATE TABLE analysis (
            track_id TEXT NOT NULL,
            feature TEXT NOT NULL,
            version INTEGER NOT NULL,
            source TEXT NOT NULL,
            result TEXT NOT NULL,
            blob BLOB,
            computed_at REAL NOT NULL,
            PRIMARY KEY (track_id, feature)
        ) WITHOUT ROWID;
        CREATE TABLE fingerprint_key (
            key INTEGER NOT NULL,
            track_id TEXT NOT NULL,
            pos INTEGER NOT NULL,
            PRIMARY KEY (key, track_id, pos)
        ) WITHOUT ROWID;
        CREATE INDEX fingerprint_key_track ON fingerprint_key(track_id);
        CREATE TABLE analysis_album (
            album_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            gain REAL,
            peak REAL,
            lufs REAL,
            computed_at REAL NOT NULL
        );
        """,
    ),
    (
        "0002_analysis_feature_index",
        # the sonic index asks "how many vectors, computed when" on every query: an index answers it
        "CREATE INDEX analysis_feature_time ON analysis(feature, version, computed_at);",
    ),
    (
        "0003_sonic_generation",
        # counting 100k vectors took 27 ms a query on a busy machine: a counter the triggers move is O(1)
        """
        CREATE TABLE analysis_generation (feature TEXT PRIMARY KEY, generation INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO analysis_generation VALUES ('sonic', 0);
        CREATE TRIGGER analysis_sonic_insert AFTER INSERT ON analysis WHEN new.feature = 'sonic' BEGIN
            UPDATE analysis_generation SET generation = generation + 1 WHERE feature = 'sonic';
        END;
        CREATE TRIGGER analysis_sonic_update AFTER UPDATE ON analysis WHEN new.feature = 'sonic' OR old.feature = 'sonic'
        BEGIN
            UPDATE analysis_generation SET generation = generation + 1 WHERE feature = 'sonic';
        END;
        CREATE TRIGGER analysis_sonic_delete AFTER DELETE ON analysis WHEN old.feature = 'sonic' BEGIN
            UPDATE analysis_generation SET generation = generation + 1 WHERE feature = 'sonic';
        END;
        CREATE TRIGGER track_delete_sonic AFTER DELETE ON track BEGIN
            UPDATE analysis_generation SET generation = generation + 1 WHERE feature = 'sonic';
        END;
        """,
    ),
]

FILE_ID = "file_id"  # the identity "feature": Merkle root of the file's chunks
KEY_STRIDE = 4  # fingerprint positions indexed: every 4th (~2 per second of audio)

_CONTENT = "coalesce(t.audio_id, t.size || ':' || t.mtime_ns)"
_FILE = "t.size || ':' || t.mtime_ns"


def file_stamp(track: dict) -> str:
    return f"{track['size']}:{track['mtime_ns']}"


def content_stamp(track: dict) -> str:
    return track.get("audio_id") or file_stamp(track)


def _versions_cte(versions: dict[str, int]) -> tuple[str, list]:
    values = ", ".join("(?, ?)" for _ in versions)
    return f"WITH f(name, version) AS (VALUES {values})", [x for kv in sorted(versions.items()) for x in kv]


def stale_tracks(db: Database, versions: dict[str, int]) -> list[tuple[str, str]]:
    """(track id, file stamp) of every track with a missing, outdated or stale feature."""
    cte, params = _versions_cte(versions)
    sql = (
        f"{cte} SELECT DISTINCT t.id, {_FILE} FROM track t CROSS JOIN f "
        "LEFT JOIN analysis a ON a.track_id = t.id AND a.feature = f.name "
        "WHERE a.track_id IS NULL OR a.version != f.version OR a.source != "
        f"CASE WHEN f.name = '{FILE_ID}' THEN {_FILE} ELSE {_CONTENT} END"
    )
    return [(r[0], r[1]) for r in db.conn.execute(sql, params)]


def all_tracks(db: Database) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in db.conn.execute(f"SELECT t.id, {_FILE} FROM track t")]


def plan(db: Database, track_id: str, versions: dict[str, int], force: bool = False) -> dict | None:
    """What to compute for one track: its folder, path, stamps and stale features; None if gone."""
    row = db.conn.execute(
        "SELECT t.id, t.folder_id, t.path, t.size, t.mtime_ns, t.audio_id, f.path FROM track t "
        "JOIN folder f ON f.id = t.folder_id WHERE t.id = ?", (track_id,)
    ).fetchone()
    if row is None:
        return None
    track = dict(zip(("id", "folder_id", "path", "size", "mtime_ns", "audio_id", "root"), row))
    have = {
        name: (version, source)
        for name, version, source in db.conn.execute(
            "SELECT feature, version, source FROM analysis WHERE track_id = ?", (track_id,))
    }
    todo = []
    for name, version in sorted(versions.items()):
        want = file_stamp(track) if name == FILE_ID else content_stamp(track)
        if force or have.get(name) != (version, want):
            todo.append(name)
    track["features"] = todo
    track["content_stamp"] = content_stamp(track)
    track["file_stamp"] = file_stamp(track)
    return track


# -- saving ---------------------------------------------------------------------
def save(db: Database, track_id: str, results: dict[str, dict], stamps: dict[str, str],
         now: float | None = None) -> str | None:
    """Store packed results ``{feature: {"version", "result", "blob"?, "keys"?}}`` of one track.

    ``stamps`` gives ``content`` and ``file`` (what the job was planned
    from). Returns the album id when the album's gain should be recomputed.
    """
    now = time.time() if now is None else now
    conn = db.conn
    if conn.execute("SELECT 1 FROM track WHERE id = ?", (track_id,)).fetchone() is None:
        return None  # removed while it was analysed
    previous = {name: _result(conn, track_id, name) for name in results}
    for name, packed in results.items():
        source = stamps["file"] if name == FILE_ID else stamps["content"]
        conn.execute(
            "INSERT OR REPLACE INTO analysis(track_id, feature, version, source, result, blob, computed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (track_id, name, packed["version"], source, json.dumps(packed["result"]), packed.get("blob"), now),
        )
        if name == "fingerprint":
            conn.execute("DELETE FROM fingerprint_key WHERE track_id = ?", (track_id,))
            conn.executemany("INSERT OR IGNORE INTO fingerprint_key(key, track_id, pos) VALUES (?, ?, ?)",
                             ((k, track_id, p) for k, p in packed.get("keys", ())))
    _to_track(conn, track_id, results, previous, stamps)
    if "loudness" in results:
        row = conn.execute("SELECT album_id FROM track WHERE id = ?", (track_id,)).fetchone()
        return row[0] if row else None
    return None


def _result(conn, track_id: str, name: str) -> dict | None:
    row = conn.execute("SELECT result FROM analysis WHERE track_id = ? AND feature = ?", (track_id, name)).fetchone()
    return json.loads(row[0]) if row else None


def _to_track(conn, track_id: str, results: dict, previous: dict, stamps: dict) -> None:
    if FILE_ID in results:
        size, mtime = stamps["file"].split(":")
        conn.execute("UPDATE track SET file_id = ? WHERE id = ? AND size = ? AND mtime_ns = ?",
                     (results[FILE_ID]["result"]["file_id"], track_id, int(size), int(mtime)))
    if "bpm" in results:
        new = results["bpm"]["result"].get("bpm")
        old = (previous.get("bpm") or {}).get("bpm")
        _fill(conn, track_id, {"bpm": _round(new)}, {"bpm": _round(old)})
    if "loudness" in results:
        new, old = results["loudness"]["result"], previous.get("loudness") or {}
        _fill(conn, track_id,
              {"rg_track_gain": new.get("replaygain_track_gain_db"), "rg_track_peak": new.get("replaygain_track_peak")},
              {"rg_track_gain": old.get("replaygain_track_gain_db"), "rg_track_peak": old.get("replaygain_track_peak")},
              key="rg_track_gain")


def _round(bpm: float | None) -> int | None:
    return None if bpm is None else int(round(bpm))


def _fill(conn, track_id: str, new: dict, old: dict, key: str | None = None, where: str = "id = ?",
          arg: object = None) -> None:
    """Set ``new`` columns where the deciding column (``key``) is empty or still holds ``old``."""
    key = key or next(iter(new))
    if new[key] is None:
        return
    sets = ", ".join(f"{c} = ?" for c in new)
    conn.execute(
        f"UPDATE track SET {sets} WHERE {where} AND ({key} IS NULL OR {key} = ?)",
        (*new.values(), arg if arg is not None else track_id, old.get(key)),
    )


def update_album_gain(db: Database, album_id: str, loudness_version: int,
                      now: float | None = None) -> dict | None:
    """Album gain once every track of ``album_id`` has a current loudness; None until then."""
    from ..analysis.features.loudness import album_gain

    conn = db.conn
    rows = conn.execute(
        "SELECT t.id, a.result FROM track t LEFT JOIN analysis a ON a.track_id = t.id "
        f"AND a.feature = 'loudness' AND a.version = ? AND a.source = {_CONTENT} WHERE t.album_id = ?",
        (loudness_version, album_id),
    ).fetchall()
    if not rows or any(r[1] is None for r in rows):
        return None
    gain = album_gain([json.loads(r[1]) for r in rows])
    old = conn.execute("SELECT gain, peak FROM analysis_album WHERE album_id = ?", (album_id,)).fetchone()
    conn.execute(
        "INSERT OR REPLACE INTO analysis_album(album_id, version, gain, peak, lufs, computed_at) VALUES (?, ?, ?, ?, ?, ?)",
        (album_id, loudness_version, gain["replaygain_album_gain_db"], gain["replaygain_album_peak"],
         gain["album_lufs"], time.time() if now is None else now),
    )
    _fill(conn, album_id,
          {"rg_album_gain": gain["replaygain_album_gain_db"], "rg_album_peak": gain["replaygain_album_peak"]},
          {"rg_album_gain": old[0] if old else None}, where="album_id = ?", arg=album_id)
    return gain


def refill_tracks(db: Database) -> int:
    """After a scan: put analysis values back into track columns the rescan left empty."""
    conn = db.conn
    before = conn.total_changes
    conn.execute(
        "UPDATE track SET bpm = (SELECT round(json_extract(a.result, '$.bpm')) FROM analysis a "
        "WHERE a.track_id = track.id AND a.feature = 'bpm') WHERE bpm IS NULL AND EXISTS "
        "(SELECT 1 FROM analysis a WHERE a.track_id = track.id AND a.feature = 'bpm' "
        "AND json_extract(a.result, '$.bpm') IS NOT NULL)")
    conn.execute(
        "UPDATE track SET (rg_track_gain, rg_track_peak) = (SELECT json_extract(a.result, '$.replaygain_track_gain_db'), "
        "json_extract(a.result, '$.replaygain_track_peak') FROM analysis a WHERE a.track_id = track.id "
        "AND a.feature = 'loudness') WHERE rg_track_gain IS NULL AND EXISTS "
        "(SELECT 1 FROM analysis a WHERE a.track_id = track.id AND a.feature = 'loudness')")
    conn.execute(
        "UPDATE track SET (rg_album_gain, rg_album_peak) = (SELECT gain, peak FROM analysis_album b "
        "WHERE b.album_id = track.album_id) WHERE rg_album_gain IS NULL AND EXISTS "
        "(SELECT 1 FROM analysis_album b WHERE b.album_id = track.album_id AND b.gain IS NOT NULL)")
    conn.execute(
        f"UPDATE track SET file_id = (SELECT json_extract(a.result, '$.file_id') FROM analysis a "
        f"WHERE a.track_id = track.id AND a.feature = '{FILE_ID}') WHERE file_id IS NULL AND EXISTS "
        f"(SELECT 1 FROM analysis a WHERE a.track_id = track.id AND a.feature = '{FILE_ID}' "
        "AND a.source = track.size || ':' || track.mtime_ns)")
    return conn.total_changes - before


def prune(db: Database) -> None:
    """Forget the results of tracks that are gone."""
    conn = db.conn
    conn.execute("DELETE FROM analysis WHERE track_id NOT IN (SELECT id FROM track)")
    conn.execute("DELETE FROM fingerprint_key WHERE track_id NOT IN (SELECT id FROM track)")
    conn.execute("DELETE FROM analysis_album WHERE album_id NOT IN (SELECT album_id FROM track)")
    conn.execute("DELETE FROM job WHERE kind = 'analysis' AND target NOT IN (SELECT id FROM track)")


# -- reading ----------------------------------------------------------------------
_HIDDEN = {"loudness": ("block_histogram",)}


def summary(db: Database, track_id: str) -> dict | None:
    """Every result of a track for the API, without the big blobs; None when nothing is analysed yet."""
    rows = db.conn.execute(
        "SELECT feature, version, result, computed_at FROM analysis WHERE track_id = ?", (track_id,)
    ).fetchall()
    if not rows:
        return None
    out: dict = {"versions": {}, "analysed_at": max(r[3] for r in rows)}
    for feature, version, result, _ in rows:
        data = json.loads(result)
        for hidden in _HIDDEN.get(feature, ()):
            data.pop(hidden, None)
        data["version"] = version
        out[feature] = data
        out["versions"][feature] = version
    album = db.conn.execute(
        "SELECT b.gain, b.peak, b.lufs FROM analysis_album b JOIN track t ON t.album_id = b.album_id WHERE t.id = ?",
        (track_id,)).fetchone()
    if album:
        out["album_loudness"] = {"replaygain_album_gain_db": album[0], "replaygain_album_peak": album[1],
                                 "album_lufs": album[2]}
    out["waveform_url"] = f"/api/v1/tracks/{track_id}/waveform" if "waveform" in out else None
    return out


def blob(db: Database, track_id: str, feature: str) -> dict | None:
    row = db.conn.execute(
        "SELECT blob FROM analysis WHERE track_id = ? AND feature = ?", (track_id, feature)).fetchone()
    if row is None or row[0] is None:
        return None
    return json.loads(zlib.decompress(row[0]))


def candidates(db: Database, keys: Iterable[tuple[int, int]], limit: int = 10) -> list[tuple[str, int]]:
    """Tracks ranked by LSH votes at their best single offset (keys: (key, position) of the query)."""
    conn = db.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS fp_query (key INTEGER, pos INTEGER)")
    conn.execute("DELETE FROM fp_query")
    conn.executemany("INSERT INTO fp_query VALUES (?, ?)", keys)
    rows = conn.execute(
        "SELECT track_id, max(n) FROM (SELECT k.track_id, k.pos - q.pos AS off, count(*) AS n "
        "FROM fp_query q JOIN fingerprint_key k ON k.key = q.key GROUP BY k.track_id, off) "
        "GROUP BY track_id ORDER BY max(n) DESC LIMIT ?", (limit,)).fetchall()
    conn.execute("DELETE FROM fp_query")
    return [(r[0], r[1]) for r in rows]


def matches(db: Database, raw: list[int], threshold: float = 0.5, limit: int = 10) -> list[tuple[str, float]]:
    """Tracks holding the same recording as fingerprint ``raw``: verified by similarity, best first."""
    from ..analysis.features.fingerprint import lsh_keys, similarity

    out = []
    for track_id, _ in candidates(db, lsh_keys(raw), limit):
        stored = blob(db, track_id, "fingerprint")
        if stored:
            score = similarity(stored["raw"], raw)
            if score >= threshold:
                out.append((track_id, round(float(score), 4)))
    return sorted(out, key=lambda kv: -kv[1])


# -- sonic vectors ----------------------------------------------------------------
SONIC = "sonic"
MAX_VECTOR_DIMS = 256  # a stored vector is at most 1 KiB


def pack_vector(vector: list[float]) -> bytes:
    """A sonic vector as little-endian float32 bytes (bounded: at most MAX_VECTOR_DIMS)."""
    import numpy as np

    if not 0 < len(vector) <= MAX_VECTOR_DIMS:
        raise ValueError(f"a sonic vector has 1..{MAX_VECTOR_DIMS} dimensions, not {len(vector)}")
    return np.asarray(vector, dtype="<f4").tobytes()


def vectors_stamp(db: Database, version: int) -> tuple[int, int]:
    """What the in-memory sonic index depends on: (generation, version); one row read.

    The generation moves (triggers of migration 0003) whenever a sonic row is
    written or deleted, or a track is deleted.
    """
    row = db.conn.execute("SELECT generation FROM analysis_generation WHERE feature = ?", (SONIC,)).fetchone()
    return (int(row[0]) if row else 0), version


def folders_of(db: Database, track_ids: list[str]) -> list[int]:
    """The music folder of each of ``track_ids`` (local tracks), in order; -1 for one gone."""
    found = dict(db.conn.execute("SELECT id, folder_id FROM track"))
    return [found.get(t, -1) for t in track_ids]


def vectors(db: Database, version: int, dims: int) -> tuple[list[str], bytes]:
    """Every existing track's current sonic vector: (ids, their float32 rows concatenated).

    A vector of another size (a corrupt row) is left out rather than breaking the whole index.
    """
    ids, rows = [], []
    for track_id, data in db.conn.execute(
            "SELECT a.track_id, a.blob FROM analysis a JOIN track t ON t.id = a.track_id "
            "WHERE a.feature = ? AND a.version = ? AND a.blob IS NOT NULL ORDER BY a.track_id", (SONIC, version)):
        if len(data) == 4 * dims:
            ids.append(track_id)
            rows.append(data)
    return ids, b"".join(rows)


def progress(db: Database, versions: dict[str, int]) -> dict[str, int]:
    """Tracks, and tracks with every feature current (of the folders the caller may see)."""
    tracks = db.conn.execute(f"SELECT count(*) FROM track WHERE {scope.sql()}").fetchone()[0]
    shown = None if not scope.limited() else {r[0] for r in db.conn.execute(f"SELECT id FROM track WHERE {scope.sql()}")}
    stale = len({t for t, _ in stale_tracks(db, versions) if shown is None or t in shown}) if tracks else 0
    return {"tracks": tracks, "analysed": tracks - stale}
