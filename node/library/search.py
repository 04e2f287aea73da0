"""Search as you type over tracks, albums and artists (FTS5).

The FTS tables use the ``unicode61`` tokenizer with ``remove_diacritics 2``,
so "cafe" finds "Café" and "bjork" finds "Björk", case-insensitively. Every
word of the query is a prefix (``"beat"*``), so results appear from the first
letters. Ranking is bm25 weighted by column (title over artist over album),
then re-ordered so that an exact title or name match comes first.

A query's cost is bounded, whatever the library's size: at most ``MAX_RANKED``
matches of each table are ranked (the first ones in index order). A specific
query has fewer matches and is ranked whole; one or two letters over a million
tracks match most of them, and ranking every one took seconds per keystroke.
Members' matches are filtered by correlated lookups, never by joining the
``lib_track`` view (which SQLite materialised whole for every query).
"""

from __future__ import annotations

import re

from ..store import browse, scope
from ..store.db import Database
from .tagmap import normalise

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 16
CANDIDATES = 200
MAX_RANKED = 2000
#: a member's recording is listed unless a local track holds the same audio (see store.peers lib_track)
_NOT_HELD_HERE = ("NOT EXISTS (SELECT 1 FROM remote_track r JOIN track l ON l.audio_id = r.audio_id "
                  "WHERE r.id = f.id AND r.primary_holder = 1)")


def fts_query(text: str) -> str | None:
    """A safe FTS5 MATCH expression: each word a quoted prefix; None for an empty query."""
    words = _WORD.findall(text)[:MAX_QUERY_WORDS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def search_tracks(db: Database, text: str, limit: int = 20, offset: int = 0) -> list[str]:
    """Track ids best first."""
    q = fts_query(text)
    if q is None:
        return []
    n = max(CANDIDATES, offset + limit)
    ranked = max(MAX_RANKED, n)
    rows = db.conn.execute(
        "SELECT t.id, t.title, t.artist FROM (SELECT rowid, bm25(track_fts, 10.0, 6.0, 3.0, 1.0, 1.0) AS score "
        f"FROM track_fts WHERE track_fts MATCH ? LIMIT ?) f JOIN track t ON t.rid = f.rowid WHERE {scope.sql('t.folder_id')} "
        "ORDER BY f.score LIMIT ?",
        (q, ranked, n),
    ).fetchall()
    rows += _remote(db, "SELECT f.id, f.title, f.artists FROM (SELECT id, title, artists, "
                        "bm25(remote_fts, 0, 10.0, 6.0, 3.0, 1.0) AS score FROM remote_fts WHERE remote_fts MATCH ? "
                        f"LIMIT ?) f WHERE {_NOT_HELD_HERE}{_member_visible('f.id')} ORDER BY f.score LIMIT ?",
                    (q, ranked, n))
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], r[2]))][offset : offset + limit]


def _member_visible(column: str) -> str:
    """For a caller limited to some folders: the member's recording is in one of them (by index)."""
    if not scope.limited():
        return ""
    return (f" AND EXISTS (SELECT 1 FROM remote_track v WHERE v.id = {column} AND v.primary_holder = 1 "
            f"AND {scope.sql('v.folder_id')})")


def _remote(db: Database, sql: str, params: tuple) -> list:
    """Matches among members' catalogues (the federation tables may be empty or absent)."""
    try:
        return db.conn.execute(sql, params).fetchall()
    except Exception as exc:  # sqlite3.OperationalError before the federation migration
        if "no such table" in str(exc):
            return []
        raise


def search_albums(db: Database, text: str, limit: int = 20, offset: int = 0) -> list[str]:
    q = fts_query(text)
    if q is None:
        return []
    n = max(CANDIDATES, offset + limit)
    rows = db.conn.execute(
        "SELECT a.id, a.name, a.artist FROM (SELECT rowid, bm25(album_fts, 5.0, 2.0) AS score FROM album_fts "
        f"WHERE album_fts MATCH ? LIMIT ?) f JOIN album a ON a.rowid = f.rowid WHERE {scope.sql('a.folder_id')} "
        "ORDER BY f.score LIMIT ?",
        (q, max(MAX_RANKED, n), n),
    ).fetchall()
    rows += _remote(db, "SELECT DISTINCT a.id, a.name, a.artist FROM (SELECT id FROM remote_fts WHERE remote_fts "
                        "MATCH ? LIMIT ?) f JOIN remote_track r ON r.id = f.id JOIN remote_album a ON a.id = r.album_id "
                        f"WHERE NOT EXISTS (SELECT 1 FROM album l WHERE l.id = a.id) AND {scope.sql('a.folder_id')} LIMIT ?",
                    (q, max(MAX_RANKED, n), n))
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], r[2]))][offset : offset + limit]


def search_artists(db: Database, text: str, limit: int = 20, offset: int = 0) -> list[str]:
    q = fts_query(text)
    if q is None:
        return []
    n = max(CANDIDATES, offset + limit)
    rows = db.conn.execute(
        "SELECT a.id, a.name FROM (SELECT rowid, bm25(artist_fts) AS score FROM artist_fts WHERE artist_fts MATCH ? "
        "LIMIT ?) f JOIN artist a ON a.rowid = f.rowid WHERE (EXISTS (SELECT 1 FROM track_artist ta "
        "WHERE ta.artist_id = a.id AND ta.role != 'composer') OR EXISTS (SELECT 1 FROM album al "
        f"WHERE al.artist_id = a.id)) AND {browse.artist_visible('a.id')} ORDER BY f.score LIMIT ?",
        (q, max(MAX_RANKED, n), n),
    ).fetchall()
    # members' artists: through their recordings whose artists match (at most MAX_RANKED of them), keeping
    # the artists whose own name matches (a recording also names its other artists)
    remote = _remote(db, "SELECT DISTINCT a.id, a.name FROM (SELECT id FROM remote_fts WHERE remote_fts MATCH ? "
                         "LIMIT ?) f JOIN remote_track_artist ta ON ta.track_id = f.id JOIN remote_artist a "
                         f"ON a.id = ta.artist_id WHERE NOT EXISTS (SELECT 1 FROM artist l WHERE l.id = a.id) "
                         f"AND {browse.artist_visible('a.id')}",
                     (f"artists : ({q})", max(MAX_RANKED, n)))
    rows += [r for r in remote if _name_matches(r[1], text)][:n]
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], ""))][offset : offset + limit]


def _name_matches(name: str, text: str) -> bool:
    """Every word of ``text`` begins a word of ``name`` (as the FTS prefix query does)."""
    words = _WORD.findall(normalise(name))
    return all(any(w.startswith(t) for w in words) for t in _WORD.findall(normalise(text))[:MAX_QUERY_WORDS])


def _rerank(rows: list, text: str, fields) -> list:
    """Stable re-order: exact match of the main field, then of the second, then prefix, then bm25."""
    wanted = normalise(text)

    def key(item: tuple[int, tuple]) -> tuple:
        index, row = item
        main, second = (normalise(f or "") for f in fields(row))
        return (main != wanted, second != wanted, not main.startswith(wanted), index)

    return [row for _, row in sorted(enumerate(rows), key=key)]
