"""Read queries over the library tables, shared by the native and Subsonic APIs.

Lists are paged by an opaque cursor (keyset pagination: the sort value and id
of the last row), so that paging through 100k albums costs the same on the
last page as on the first, and a library change between pages skips or
repeats nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import InvalidInput, NotFound
from . import scope
from .db import Database
from .tracks import _track_dict

ALBUM_COLUMNS = (
    "id, name, sort_name, artist, artist_id, mbid, year, compilation, cover, song_count, duration, size, "
    "disc_count, genres, folder_id, created_at, updated_at"
)
TRACK_SORTS = {
    "title": "lower(coalesce(t.title, ''))",
    "artist": "lower(t.artist)",
    "album": "lower(t.album)",
    "year": "coalesce(t.year, 0)",
    "added": "t.created_at",
    "duration": "t.duration",
    "track": "printf('%s|%04d|%04d', t.album_id, coalesce(t.disc_no, 0), coalesce(t.track_no, 0))",
}
ALBUM_SORTS = {
    "name": "lower(coalesce(a.sort_name, a.name))",
    "artist": "lower(a.artist)",
    "year": "coalesce(a.year, 0)",
    "added": "a.created_at",
}
MAX_PAGE = 500
#: Tracks (local and members') and albums of one genre, by name, case-insensitively.
GENRE_TRACKS = "SELECT track_id FROM lib_track_genre WHERE genre = ? COLLATE NOCASE"
GENRE_ALBUMS = f"SELECT t.album_id FROM lib_track t WHERE t.id IN ({GENRE_TRACKS})"


def encode_cursor(value: Any, ident: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        value, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid cursor: pass back the next_cursor of the previous page") from exc
    if not isinstance(ident, str) or isinstance(value, (dict, list)):
        raise InvalidInput("invalid cursor: pass back the next_cursor of the previous page")
    return value, ident


def _page(db, base_sql: str, params: list, sort_expr: str, id_col: str, order: str, limit: int, cursor: str | None):
    """One keyset page: (rows, next_cursor, total). ``total`` (the whole list's length) is counted
    on the first page only, so that a client can size its scroll bar once, at the cost of one count."""
    if order not in ("asc", "desc"):
        raise InvalidInput("order must be asc or desc")
    limit = max(1, min(int(limit), MAX_PAGE))
    where = ""
    if cursor:
        value, ident = decode_cursor(cursor)
        cmp = ">" if order == "asc" else "<"
        where = f" AND ({sort_expr}, {id_col}) {cmp} (?, ?)"
        params = [*params, value, ident]
    sql = f"{base_sql}{where} ORDER BY {sort_expr} {order}, {id_col} {order} LIMIT ?"
    rows = list(db.query(sql.replace("SELECT ", f"SELECT {sort_expr} AS _sort, ", 1), [*params, limit + 1]))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["_sort"], rows[-1]["id"]) if more and rows else None
    for r in rows:
        r.pop("_sort", None)
    total = None
    if not cursor:
        total = len(rows) if not more else db.conn.execute(f"SELECT count(*) FROM ({base_sql})", params).fetchone()[0]
    return rows, next_cursor, total


# -- tracks -------------------------------------------------------------------
def list_tracks(
    db: Database,
    *,
    sort: str = "title",
    order: str = "asc",
    limit: int = 50,
    cursor: str | None = None,
    album_id: str | None = None,
    artist_id: str | None = None,
    genre: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    folder_id: int | None = None,
    lossless: bool | None = None,
    format: str | None = None,
) -> tuple[list[dict], str | None, int | None]:
    if sort not in TRACK_SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: one of {', '.join(TRACK_SORTS)}")
    clauses, params = ["1 = 1"], []
    if album_id:
        clauses.append("t.album_id = ?"), params.append(album_id)
    if artist_id:
        clauses.append("t.id IN (SELECT track_id FROM lib_track_artist WHERE artist_id = ?)"), params.append(artist_id)
    if genre:
        clauses.append(f"t.id IN ({GENRE_TRACKS})")
        params.append(genre)
    if year_from is not None:
        clauses.append("t.year >= ?"), params.append(year_from)
    if year_to is not None:
        clauses.append("t.year <= ?"), params.append(year_to)
    if folder_id is not None:
        clauses.append("t.folder_id = ?"), params.append(folder_id)
    clauses.append(scope.sql("t.folder_id"))
    if lossless is not None:
        clauses.append("t.lossless = ?"), params.append(int(lossless))
    if format:
        clauses.append("t.format = ?"), params.append(format)
    rows, nxt, total = _page(db, "SELECT t.* FROM lib_track t WHERE " + " AND ".join(clauses), params,
                             TRACK_SORTS[sort], "t.id", order, limit, cursor)
    return [_track_dict(r) for r in rows], nxt, total


def tracks_by_ids(db: Database, ids: list[str]) -> list[dict]:
    """Tracks in the order of ``ids``; unknown ids are left out."""
    found: dict[str, dict] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for r in db.query(f"SELECT * FROM lib_track WHERE id IN ({','.join('?' * len(chunk))}) "
                          f"AND {scope.sql()}", chunk):
            found[r["id"]] = _track_dict(r)
    return [found[i] for i in ids if i in found]


def require_track(db: Database, track_id: str) -> dict:
    rows = tracks_by_ids(db, [track_id])
    if not rows:
        raise NotFound(f"no track {track_id}")
    return rows[0]


def album_tracks(db: Database, album_id: str) -> list[dict]:
    return [_track_dict(r) for r in db.query(
        f"SELECT * FROM lib_track WHERE album_id = ? AND {scope.sql()} ORDER BY coalesce(disc_no, 1), coalesce(track_no, 0), path", [album_id])]


def random_tracks(db: Database, size: int, genre: str | None = None, year_from: int | None = None,
                  year_to: int | None = None, folder_id: int | None = None) -> list[dict]:
    clauses, params = ["1 = 1"], []
    if genre:
        clauses.append(f"id IN ({GENRE_TRACKS})")
        params.append(genre)
    if year_from is not None:
        clauses.append("year >= ?"), params.append(year_from)
    if year_to is not None:
        clauses.append("year <= ?"), params.append(year_to)
    if folder_id is not None:
        clauses.append("folder_id = ?"), params.append(folder_id)
    clauses.append(scope.sql())
    sql = f"SELECT * FROM lib_track WHERE {' AND '.join(clauses)} ORDER BY random() LIMIT ?"
    return [_track_dict(r) for r in db.query(sql, [*params, max(0, min(size, MAX_PAGE))])]


# -- albums -------------------------------------------------------------------
def _album(row: dict) -> dict:
    row = dict(row)
    row["genres"] = json.loads(row["genres"])
    row["compilation"] = bool(row["compilation"])
    return row


def list_albums(
    db: Database,
    *,
    sort: str = "name",
    order: str = "asc",
    limit: int = 50,
    cursor: str | None = None,
    artist_id: str | None = None,
    genre: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    folder_id: int | None = None,
) -> tuple[list[dict], str | None, int | None]:
    if sort not in ALBUM_SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: one of {', '.join(ALBUM_SORTS)}")
    clauses, params = ["1 = 1"], []
    if artist_id:
        clauses.append("(a.artist_id = ? OR a.id IN (SELECT album_id FROM lib_track WHERE id IN "
                       "(SELECT track_id FROM lib_track_artist WHERE artist_id = ? AND role = 'albumartist')))")
        params += [artist_id, artist_id]
    if genre:
        clauses.append(f"a.id IN ({GENRE_ALBUMS})")
        params.append(genre)
    if year_from is not None:
        clauses.append("a.year >= ?"), params.append(year_from)
    if year_to is not None:
        clauses.append("a.year <= ?"), params.append(year_to)
    if folder_id is not None:
        clauses.append("a.folder_id = ?"), params.append(folder_id)
    clauses.append(scope.sql("a.folder_id"))
    cols = ", ".join(f"a.{c.strip()}" for c in ALBUM_COLUMNS.split(","))
    rows, nxt, total = _page(db, f"SELECT {cols} FROM lib_album a WHERE " + " AND ".join(clauses), params,
                             ALBUM_SORTS[sort], "a.id", order, limit, cursor)
    return [_album(r) for r in rows], nxt, total


def albums_page(db: Database, order_sql: str, offset: int, limit: int, where: str = "1 = 1",
                params: list | None = None) -> list[dict]:
    """Offset paging for the Subsonic album lists (their clients page by offset)."""
    cols = ", ".join(f"a.{c.strip()}" for c in ALBUM_COLUMNS.split(","))
    return [_album(r) for r in db.query(
        f"SELECT {cols} FROM lib_album a WHERE ({where}) AND {scope.sql('a.folder_id')} ORDER BY {order_sql} LIMIT ? OFFSET ?",
        [*(params or []), max(0, min(limit, MAX_PAGE)), max(0, offset)])]


def get_album(db: Database, album_id: str) -> dict:
    rows = list(db.query(f"SELECT {ALBUM_COLUMNS} FROM lib_album WHERE id = ? AND {scope.sql()}", [album_id]))
    if not rows:
        raise NotFound(f"no album {album_id}")
    return _album(rows[0])


def albums_by_ids(db: Database, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    rows = {r["id"]: _album(r) for r in db.query(
        f"SELECT {ALBUM_COLUMNS} FROM lib_album WHERE id IN ({','.join('?' * len(ids))}) AND {scope.sql()}", ids)}
    return [rows[i] for i in ids if i in rows]


# -- artists ------------------------------------------------------------------
#: A member's album is listed unless a local album has its id (as lib_album says).
_MEMBERS_ALBUM = "NOT EXISTS (SELECT 1 FROM album l WHERE l.id = ra.id)"


def artist_sql() -> str:
    """An artist's counts and cover, read by index from the tables under lib_album and lib_track_artist,
    counting only what the caller may see (store/scope.py). Correlated subqueries over those views made
    SQLite index the whole views for each statement, so that showing 20 artists (every search3) cost as
    much as reading every track's artists."""
    al, ra, t, r = (scope.sql(f"{a}.folder_id") for a in ("al", "ra", "t", "r"))
    return (
        "SELECT ar.id, ar.name, ar.sort_name, ar.mbid, "
        f"(SELECT count(*) FROM album al WHERE al.artist_id = ar.id AND {al}) + (SELECT count(*) FROM remote_album ra "
        f"WHERE ra.artist_id = ar.id AND {_MEMBERS_ALBUM} AND {ra}) AS album_count, "
        "(SELECT count(*) FROM track_artist ta WHERE ta.artist_id = ar.id AND ta.role = 'artist'"
        + ("" if not scope.limited() else f" AND EXISTS (SELECT 1 FROM track t WHERE t.id = ta.track_id AND {t})")
        + ") + (SELECT count(*) FROM remote_track_artist ta WHERE ta.artist_id = ar.id AND ta.role = 'artist' AND EXISTS "
        f"(SELECT 1 FROM remote_track r WHERE r.id = ta.track_id AND r.primary_holder = 1 AND {r})) AS track_count, "
        "coalesce((SELECT p.cover FROM artist_picture p WHERE p.artist_id = ar.id), "
        "(SELECT m.image FROM meta_artist m WHERE m.artist_id = ar.id), "
        f"(SELECT al.cover FROM album al WHERE al.artist_id = ar.id AND al.cover IS NOT NULL AND {al} LIMIT 1), "
        f"(SELECT ra.cover FROM remote_album ra WHERE ra.artist_id = ar.id AND ra.cover IS NOT NULL AND {_MEMBERS_ALBUM} "
        f"AND {ra} LIMIT 1)) AS cover "
        "FROM lib_artist ar"
    )


def artist_visible(column: str = "ar.id") -> str:
    """An artist the caller may see: one with an album or a (non-composer) credit in a visible folder.
    Every lookup is by index (album_artist, track_artist_by_artist and their members' twins)."""
    if not scope.limited():
        return "1"
    al, t, r = scope.sql("al.folder_id"), scope.sql("t.folder_id"), scope.sql("r.folder_id")
    return (f"(EXISTS (SELECT 1 FROM album al WHERE al.artist_id = {column} AND {al}) "
            f"OR EXISTS (SELECT 1 FROM remote_album al WHERE al.artist_id = {column} AND {al}) "
            f"OR EXISTS (SELECT 1 FROM track_artist ta JOIN track t ON t.id = ta.track_id "
            f"WHERE ta.artist_id = {column} AND ta.role != 'composer' AND {t}) "
            f"OR EXISTS (SELECT 1 FROM remote_track_artist ta JOIN remote_track r ON r.id = ta.track_id "
            f"AND r.primary_holder = 1 WHERE ta.artist_id = {column} AND ta.role != 'composer' AND {r}))")


def list_artists(db: Database, *, album_artists_only: bool = False, limit: int = 50,
                 cursor: str | None = None, order: str = "asc") -> tuple[list[dict], str | None, int | None]:
    where = f" WHERE ar.id IN (SELECT artist_id FROM lib_album WHERE {scope.sql()})" if album_artists_only else \
        " WHERE ar.id IN (SELECT artist_id FROM lib_track_artist WHERE role != 'composer' UNION SELECT artist_id FROM lib_album)"
    if not album_artists_only and scope.limited():
        where += f" AND {artist_visible()}"
    return _page(db, artist_sql() + where, [], "lower(coalesce(ar.sort_name, ar.name))", "ar.id", order, limit, cursor)


def all_album_artists(db: Database, folder_id: int | None = None) -> list[dict]:
    where = (f" WHERE ar.id IN (SELECT artist_id FROM lib_album WHERE {scope.sql()}"
             + (" AND folder_id = ?)" if folder_id is not None else ")"))
    params = [folder_id] if folder_id is not None else []
    return list(db.query(artist_sql() + where + " ORDER BY lower(coalesce(ar.sort_name, ar.name))", params))


def get_artist(db: Database, artist_id: str) -> dict:
    rows = list(db.query(artist_sql() + f" WHERE ar.id = ? AND {artist_visible()}", [artist_id]))
    if not rows:
        raise NotFound(f"no artist {artist_id}")
    return rows[0]


def artists_by_ids(db: Database, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    rows = {r["id"]: r for r in db.query(
        artist_sql() + f" WHERE ar.id IN ({','.join('?' * len(ids))}) AND {artist_visible()}", ids)}
    return [rows[i] for i in ids if i in rows]


def artist_albums(db: Database, artist_id: str) -> list[dict]:
    return [_album(r) for r in db.query(
        f"SELECT {ALBUM_COLUMNS} FROM lib_album WHERE artist_id = ? AND {scope.sql()} ORDER BY coalesce(year, 0), lower(name)", [artist_id])]


def top_tracks_of_artist(db: Database, artist_id: str, count: int) -> list[dict]:
    return [_track_dict(r) for r in db.query(
        "SELECT t.* FROM lib_track t JOIN lib_track_artist ta ON ta.track_id = t.id AND ta.role = 'artist' "
        f"WHERE ta.artist_id = ? AND {scope.sql('t.folder_id')} ORDER BY coalesce(t.year, 0) DESC, t.title LIMIT ?", [artist_id, count])]


# -- genres -------------------------------------------------------------------
def list_genres(db: Database) -> list[dict]:
    """Every genre of the library and the members' music; a recording counts once (by its lib_track row)."""
    return list(db.query(
        "SELECT min(g.genre) AS name, count(DISTINCT g.track_id) AS track_count, "
        "count(DISTINCT t.album_id) AS album_count "
        f"FROM lib_track_genre g JOIN lib_track t ON t.id = g.track_id WHERE {scope.sql('t.folder_id')} "
        "GROUP BY g.genre COLLATE NOCASE ORDER BY lower(min(g.genre))"))


def folder_of(db: Database, folder_id: int) -> dict:
    rows = list(db.query("SELECT id, path, name FROM folder WHERE id = ?", [folder_id]))
    if not rows:
        raise NotFound(f"no music folder {folder_id}")
    return rows[0]


def cover_row(db: Database, cover_id: str) -> dict | None:
    rows = list(db.query("SELECT id, source, folder_id, path, mime FROM cover WHERE id = ?", [cover_id]))
    return rows[0] if rows else None


ITEM_KINDS = {"tr-": "track", "al-": "album", "ar-": "artist"}


def _item_sql(kind: str) -> str:
    if kind == "artist":
        return f"SELECT 1 FROM lib_artist ar WHERE ar.id = ? AND {artist_visible()}"
    return f"SELECT 1 FROM {'lib_track' if kind == 'track' else 'lib_album'} WHERE id = ? AND {scope.sql()}"


def item_kind(db: Database, ident: str) -> str | None:
    """"track", "album" or "artist" if ``ident`` is one of the library's or the members' items, else None.

    The one test of "does this id exist" for stars, ratings and covers: a client's stale or made-up
    id is refused there, not written or answered as if it were real."""
    kind = ITEM_KINDS.get(ident[:3])
    if kind is None or db.conn.execute(_item_sql(kind), (ident,)).fetchone() is None:
        return None
    return kind


def cover_exists(db: Database, cover_id: str) -> bool:
    """Whether ``cover_id`` (``em-…``/``fi-…``) is a cover of this library or of a member's record
    (for a caller limited to some folders: of a track or album in one of them)."""
    if scope.limited():
        return _cover_visible(db, cover_id)
    if db.conn.execute("SELECT 1 FROM cover WHERE id = ?", (cover_id,)).fetchone():
        return True
    return bool(cover_id.startswith("em-") and db.conn.execute(
        "SELECT 1 FROM remote_track WHERE cover = ? LIMIT 1", (cover_id,)).fetchone())


def _cover_visible(db: Database, cover_id: str) -> bool:
    """By the partial cover indexes of track, album, remote_track and remote_album; an artist's picture
    (artist.jpg, or one fetched for it) when the artist is one the caller sees."""
    checks = (("track", "t"), ("album", "t"), ("remote_track", "t"), ("remote_album", "t"))
    if any(db.conn.execute(f"SELECT 1 FROM {table} t WHERE t.cover = ? AND {scope.sql('t.folder_id')} LIMIT 1",
                           (cover_id,)).fetchone() for table, _ in checks):
        return True
    for sql in ("SELECT artist_id FROM artist_picture WHERE cover = ?", "SELECT artist_id FROM meta_artist WHERE image = ?"):
        for (artist,) in db.conn.execute(sql, (cover_id,)).fetchall():
            if db.conn.execute(f"SELECT 1 FROM lib_artist ar WHERE ar.id = ? AND {artist_visible()}",
                               (artist,)).fetchone():
                return True
    return False


def first_cover_of(db: Database, track_ids: list[str]) -> str | None:
    """The cover of the first of ``track_ids`` that has one (a playlist's cover), looking at 100 at most."""
    for t in tracks_by_ids(db, track_ids[:100]):
        if t.get("cover"):
            return t["cover"]
    return None


def cover_for(db: Database, ident: str) -> str | None:
    """The cover id for a cover, track, album or artist id."""
    if ident.startswith(("em-", "fi-", "mx-")):
        return ident
    for sql in ("SELECT cover FROM lib_track WHERE id = ?", "SELECT cover FROM lib_album WHERE id = ?",
                "SELECT cover FROM artist_picture WHERE artist_id = ?",  # an artist's own picture first:
                "SELECT image FROM meta_artist WHERE artist_id = ?",  # its artist.jpg, else a fetched one
                "SELECT cover FROM lib_album WHERE artist_id = ? AND cover IS NOT NULL LIMIT 1"):
        row = db.conn.execute(sql, (ident,)).fetchone()
        if row and row[0]:
            return row[0]
    row = db.conn.execute(
        "SELECT a.cover FROM lib_track t JOIN album a ON a.id = t.album_id WHERE t.id = ?", (ident,)).fetchone()
    return row[0] if row and row[0] else None
