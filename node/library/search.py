"""Search as you type over tracks, albums and artists (FTS5).

The FTS tables use the ``unicode61`` tokenizer with ``remove_diacritics 2``,
so "cafe" finds "Café" and "bjork" finds "Björk", case-insensitively. Every
word of the query is a prefix (``"beat"*``), so results appear from the first
letters. Ranking is bm25 weighted by column (title over artist over album),
then re-ordered so that an exact title or name match comes first.
"""

from __future__ import annotations

import re

from ..store.db import Database
from .tagmap import normalise

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 16
CANDIDATES = 200


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
    rows = db.conn.execute(
        "SELECT t.id, t.title, t.artist FROM track_fts f JOIN track t ON t.rid = f.rowid "
        "WHERE track_fts MATCH ? ORDER BY bm25(track_fts, 10.0, 6.0, 3.0, 1.0, 1.0) LIMIT ?", (q, n),
    ).fetchall()
    rows += _remote(db, "SELECT f.id, f.title, f.artists FROM remote_fts f JOIN lib_track t ON t.id = f.id "
                        "WHERE remote_fts MATCH ? ORDER BY bm25(remote_fts, 0, 10.0, 6.0, 3.0, 1.0) LIMIT ?", (q, n))
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], r[2]))][offset : offset + limit]


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
        "SELECT a.id, a.name, a.artist FROM album_fts f JOIN album a ON a.rowid = f.rowid "
        "WHERE album_fts MATCH ? ORDER BY bm25(album_fts, 5.0, 2.0) LIMIT ?", (q, n),
    ).fetchall()
    rows += _remote(db, "SELECT DISTINCT a.id, a.name, a.artist FROM remote_fts f JOIN remote_track r ON r.id = f.id "
                        "JOIN remote_album a ON a.id = r.album_id WHERE remote_fts MATCH ? AND "
                        "a.id NOT IN (SELECT id FROM album) LIMIT ?", (q.replace('"*', '"*'), n))
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], r[2]))][offset : offset + limit]


def search_artists(db: Database, text: str, limit: int = 20, offset: int = 0) -> list[str]:
    q = fts_query(text)
    if q is None:
        return []
    rows = db.conn.execute(
        "SELECT a.id, a.name FROM artist_fts f JOIN artist a ON a.rowid = f.rowid "
        "WHERE artist_fts MATCH ? AND a.id IN (SELECT artist_id FROM track_artist WHERE role != 'composer' "
        "UNION SELECT artist_id FROM album) ORDER BY bm25(artist_fts) LIMIT ?",
        (q, max(CANDIDATES, offset + limit)),
    ).fetchall()
    rows += _remote(db, "SELECT DISTINCT a.id, a.name FROM remote_fts f JOIN remote_track_artist ta ON ta.track_id = f.id "
                        "JOIN remote_artist a ON a.id = ta.artist_id WHERE remote_fts MATCH ? AND "
                        "a.id NOT IN (SELECT id FROM artist) LIMIT ?", (q, max(CANDIDATES, offset + limit)))
    return [r[0] for r in _rerank(rows, text, lambda r: (r[1], ""))][offset : offset + limit]


def _rerank(rows: list, text: str, fields) -> list:
    """Stable re-order: exact match of the main field, then of the second, then prefix, then bm25."""
    wanted = normalise(text)

    def key(item: tuple[int, tuple]) -> tuple:
        index, row = item
        main, second = (normalise(f or "") for f in fields(row))
        return (main != wanted, second != wanted, not main.startswith(wanted), index)

    return [row for _, row in sorted(enumerate(rows), key=key)]
