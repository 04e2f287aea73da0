"""Queries only the Subsonic API needs: offset paging, album lists, app passwords.

Most reads reuse :mod:`.browse`; what is here is specific to how Subsonic
clients ask (by offset, by list ``type``, by genre name) or to tables that no
other domain owns yet:

* ``user.subsonic_secret``: the user's Subsonic app password, encrypted by
  the API layer (this module only stores the opaque blob).

Plays, now playing and play counts belong to :mod:`sonantica.node.analytics`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from . import browse, scope
from .db import Database
from .tracks import _track_dict

# -- app passwords -----------------------------------------------------------
def secret_of(db: Database, name: str) -> tuple[str, bytes | None] | None:
    """(user id, encrypted app password or None) for a user name; None for no such user."""
    row = db.conn.execute("SELECT id, subsonic_secret FROM user WHERE name = ?", (name,)).fetchone()
    return (row[0], row[1]) if row else None


def set_secret(db: Database, user_id: str, blob: bytes | None) -> None:
    db.conn.execute("UPDATE user SET subsonic_secret = ? WHERE id = ?", (blob, user_id))


def user_settings(db: Database, user_id: str) -> str:
    row = db.conn.execute("SELECT settings FROM user WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else "{}"


# -- people and genres of tracks ----------------------------------------------
def album_versions(db: Database, album_ids: list[str]) -> dict[str, str]:
    """{album id: its version (Remastered, Deluxe…)}: the ``albumversion`` tag of its first song that has one."""
    out: dict[str, str] = {}
    for i in range(0, len(album_ids), 500):
        chunk = album_ids[i : i + 500]
        for aid, version in db.conn.execute(
                f"SELECT album_id, json_extract(tags, '$.album_version') AS v FROM track "
                f"WHERE album_id IN ({','.join('?' * len(chunk))}) AND v IS NOT NULL "
                "ORDER BY disc_no, track_no", chunk):
            if isinstance(version, str) and version:
                out.setdefault(aid, version)
    return out


def people_of(db: Database, track_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
    """{track id: {"artist": [{id, name}], "albumartist": [...], "composer": [...]}} in tag order."""
    out: dict[str, dict[str, list[dict]]] = {}
    for i in range(0, len(track_ids), 500):
        chunk = track_ids[i : i + 500]
        for tid, role, aid, name in db.conn.execute(
            "SELECT ta.track_id, ta.role, ar.id, ar.name FROM track_artist ta JOIN artist ar ON ar.id = ta.artist_id "
            f"WHERE ta.track_id IN ({','.join('?' * len(chunk))}) ORDER BY ta.track_id, ta.role, ta.pos", chunk):
            out.setdefault(tid, {}).setdefault(role, []).append({"id": aid, "name": name})
    return out


def artists_page(db: Database, offset: int, limit: int) -> list[dict]:
    """Every artist with music (not only composers), by name, by offset."""
    return list(db.query(
        browse.artist_sql() + " WHERE ar.id IN (SELECT artist_id FROM track_artist WHERE role != 'composer' "
        f"UNION SELECT artist_id FROM album) AND {browse.artist_visible()} ORDER BY lower(coalesce(ar.sort_name, ar.name)), ar.id LIMIT ? OFFSET ?",
        [max(0, min(limit, browse.MAX_PAGE)), max(0, offset)]))


# -- every song, by offset (search3 query "": how Symfonium and others sync) -------------------------
# Local tracks by rid, then each member's recordings (those lib_track shows) by (member, key): both
# orders follow an index, so a page starts by a seek. Paging by OFFSET over lib_track sorted the whole
# view for every page (a million-track sync read 2,000 pages of a million rows). Where a page ends is
# remembered, keyed by the offset the next page will ask for: a client paging in order (as they do) gets
# each page by a seek; any other offset walks the index keys to find its position.
_Position = tuple[str, object]  # ("", rid) for a local track, (member node id, key) for a member's
_ENDS: OrderedDict[tuple, _Position] = OrderedDict()
_ENDS_LOCK = threading.Lock()
MAX_REMEMBERED = 512
_MEMBER_SHOWN = ("r.primary_holder = 1 AND NOT EXISTS (SELECT 1 FROM track l WHERE l.audio_id = r.audio_id)")


def tracks_page(db: Database, offset: int, limit: int, folder_id: int | None = None) -> list[dict]:
    """Songs ``offset`` to ``offset + limit`` of the whole library (local, then members')."""
    offset, limit = max(0, offset), max(0, min(limit, browse.MAX_PAGE))
    if not limit:
        return []
    state = _library_state(db, folder_id)
    with _ENDS_LOCK:
        start = _ENDS.get((*state, offset)) if offset else ("", -1)
    if start is None:
        start = _position_at(db, offset, folder_id)
    keys = _ids_after(db, start, limit, folder_id)
    if keys:
        with _ENDS_LOCK:
            _ENDS[(*state, offset + len(keys))] = keys[-1][0]
            while len(_ENDS) > MAX_REMEMBERED:
                _ENDS.popitem(last=False)
    ids = [tid for _, tid in keys]
    rows = {r["id"]: r for r in db.query(
        f"SELECT * FROM lib_track WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else {}
    return [_track_dict(rows[i]) for i in ids if i in rows]


def _library_state(db: Database, folder_id: int | None) -> tuple:
    """Which database, which folder, and a mark that moves when tracks are added (max rowids)."""
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    marks = db.conn.execute("SELECT (SELECT max(rid) FROM track), (SELECT max(rowid) FROM remote_track)").fetchone()
    return (path, folder_id, scope.visible(), *marks)


def _members(db: Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT node FROM member_folder ORDER BY node")]


def _ids_after(db: Database, start: _Position, limit: int, folder_id: int | None) -> list[tuple[_Position, str]]:
    """Up to ``limit`` (position, track id) after ``start``, in paging order."""
    folder = (" AND folder_id = ?" if folder_id is not None else "") + f" AND {scope.sql()}"
    extra = [folder_id] if folder_id is not None else []
    out: list[tuple[_Position, str]] = []
    source, after = start
    if source == "":
        out += [(("", rid), tid) for rid, tid in db.conn.execute(
            f"SELECT rid, id FROM track WHERE rid > ?{folder} ORDER BY rid LIMIT ?", [after, *extra, limit])]
        source, after = "", None
    for member in _members(db):
        if len(out) >= limit:
            break
        if source and member < source:
            continue
        key_after = after if member == source and after is not None else ""
        out += [((member, key), tid) for key, tid in db.conn.execute(
            f"SELECT r.key, r.id FROM remote_track r WHERE r.log = ? AND r.key > ? AND {_MEMBER_SHOWN}"
            f"{folder.replace('folder_id', 'r.folder_id')} ORDER BY r.key LIMIT ?",
            [member, key_after, *extra, limit - len(out)])]
    return out[:limit]


def _position_at(db: Database, offset: int, folder_id: int | None) -> _Position:
    """The position of song ``offset - 1`` (a page asked out of order: walk the keys to it)."""
    folder = (" AND folder_id = ?" if folder_id is not None else "") + f" AND {scope.sql()}"
    extra = [folder_id] if folder_id is not None else []
    row = db.conn.execute(f"SELECT rid FROM track WHERE 1 = 1{folder} ORDER BY rid LIMIT 1 OFFSET ?",
                          [*extra, offset - 1]).fetchone()
    if row:
        return ("", row[0])
    skip = offset - db.conn.execute(f"SELECT count(*) FROM track WHERE 1 = 1{folder}", extra).fetchone()[0]
    for member in _members(db):
        rows = db.conn.execute(
            f"SELECT r.key FROM remote_track r WHERE r.log = ? AND {_MEMBER_SHOWN}"
            f"{folder.replace('folder_id', 'r.folder_id')} ORDER BY r.key LIMIT 1 OFFSET ?",
            [member, *extra, skip - 1]).fetchone()
        if rows:
            return (member, rows[0])
        skip -= db.conn.execute(f"SELECT count(*) FROM remote_track r WHERE r.log = ? AND {_MEMBER_SHOWN}"
                                f"{folder.replace('folder_id', 'r.folder_id')}", [member, *extra]).fetchone()[0]
    return ("\uffff", None)  # past the end


def tracks_by_genre(db: Database, genre: str, offset: int, limit: int,
                    folder_id: int | None = None) -> list[dict]:
    params: list = [genre]
    where = f" AND {scope.sql('t.folder_id')}"
    if folder_id is not None:
        where, params = where + " AND t.folder_id = ?", [genre, folder_id]
    return [_track_dict(r) for r in db.query(
        f"SELECT t.* FROM lib_track t WHERE t.id IN ({browse.GENRE_TRACKS}){where} ORDER BY lower(t.album), "
        "coalesce(t.disc_no, 1), coalesce(t.track_no, 0), t.id LIMIT ? OFFSET ?",
        [*params, max(0, min(limit, browse.MAX_PAGE)), max(0, offset)])]


def similar_tracks(db: Database, seed_ids: list[str], count: int) -> list[dict]:
    """Local stand-in for recommendations: tracks sharing an artist or a genre with the seeds, shuffled."""
    if not seed_ids:
        return []
    marks = ",".join("?" * len(seed_ids))
    rows = db.query(
        "SELECT t.* FROM track t WHERE t.id NOT IN ({m}) AND (t.id IN (SELECT track_id FROM track_artist "
        "WHERE role != 'composer' AND artist_id IN (SELECT artist_id FROM track_artist WHERE track_id IN ({m}) "
        "AND role != 'composer')) OR t.id IN (SELECT track_id FROM track_genre WHERE genre_id IN "
        "(SELECT genre_id FROM track_genre WHERE track_id IN ({m})))) AND {s} ORDER BY random() LIMIT ?".format(
            m=marks, s=scope.sql("t.folder_id")),
        [*seed_ids, *seed_ids, *seed_ids, max(0, min(count, browse.MAX_PAGE))])
    return [_track_dict(r) for r in rows]


def artist_track_ids(db: Database, artist_id: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT DISTINCT ta.track_id FROM track_artist ta JOIN track t ON t.id = ta.track_id "
        f"WHERE ta.artist_id = ? AND ta.role != 'composer' AND {scope.sql('t.folder_id')} LIMIT 50", (artist_id,))]


def top_tracks_by_name(db: Database, name: str, user_id: str, count: int) -> list[dict]:
    """The artist's tracks, most played (by this user) first."""
    rows = db.query(
        "SELECT t.* FROM track t JOIN track_artist ta ON ta.track_id = t.id AND ta.role = 'artist' "
        "JOIN artist ar ON ar.id = ta.artist_id LEFT JOIN listen_item p ON p.item = t.id AND p.kind = 'track' "
        "AND p.user_id = ? "
        f"WHERE ar.name = ? COLLATE NOCASE AND {scope.sql('t.folder_id')} ORDER BY coalesce(p.plays, 0) DESC, coalesce(t.year, 0) DESC, t.title "
        "LIMIT ?", [user_id, name, max(0, min(count, browse.MAX_PAGE))])
    return [_track_dict(r) for r in rows]


def top_tracks_by_artist_id(db: Database, artist_id: str, count: int) -> list[dict]:
    """getTopSongs by artist id (``topSongsByArtistId``): the artist's recordings, members' included,
    ordered by the node's play history (every user's counted plays), then by how many users starred
    them, then by their average rating (an unrated song sits between 2 and 3 stars: below what people
    liked, above what they disliked), then in album order (year, album, disc, track).

    Plays are summed per recording here rather than read per user: "top songs" is the household's
    view, like Last.fm's charts, and a song one person played a hundred times still ranks by it.
    """
    rows = db.query(
        "SELECT t.* FROM lib_track t "
        "JOIN (SELECT DISTINCT track_id FROM lib_track_artist WHERE artist_id = ? "
        "      AND role IN ('artist', 'albumartist')) a ON a.track_id = t.id "
        "LEFT JOIN (SELECT item, sum(plays) AS n FROM listen_item WHERE kind = 'track' GROUP BY item) p "
        "  ON p.item = t.id "
        "LEFT JOIN (SELECT item_id, count(starred_at) AS stars, avg(nullif(rating, 0)) AS rating "
        "           FROM annotation WHERE kind = 'track' GROUP BY item_id) n ON n.item_id = t.id "
        f"WHERE {scope.sql('t.folder_id')} "
        "ORDER BY coalesce(p.n, 0) DESC, coalesce(n.stars, 0) DESC, coalesce(n.rating, 2.5) DESC, "
        "coalesce(t.year, 0), t.album COLLATE NOCASE, t.album_id, coalesce(t.disc_no, 1), coalesce(t.track_no, 0), "
        "t.title, t.id LIMIT ?", [artist_id, max(0, min(count, browse.MAX_PAGE))])
    return [_track_dict(r) for r in rows]


# -- album lists ---------------------------------------------------------------
def album_list(db: Database, kind: str, user_id: str, offset: int, limit: int, *,
               genre: str | None = None, year_from: int | None = None, year_to: int | None = None,
               folder_id: int | None = None) -> list[dict]:
    """getAlbumList(2) for every ``type``; raises ValueError for an unknown one."""
    where, params, order, order_params = ["1 = 1"], [], "", []
    if folder_id is not None:
        where.append("a.folder_id = ?"), params.append(folder_id)
    plays = "(SELECT {agg} FROM listen_item p WHERE p.user_id = ? AND p.kind = 'album' AND p.item = a.id)"
    if kind == "random":
        order = "random()"
    elif kind == "newest":
        order = "a.created_at DESC, a.id"
    elif kind == "alphabeticalByName":
        order = "lower(coalesce(a.sort_name, a.name)), a.id"
    elif kind == "alphabeticalByArtist":
        order = "lower(a.artist), coalesce(a.year, 0), lower(a.name), a.id"
    elif kind == "highest":
        where.append("a.id IN (SELECT item_id FROM annotation WHERE user_id = ? AND kind = 'album' AND rating > 0)")
        params.append(user_id)
        order = "(SELECT rating FROM annotation WHERE user_id = ? AND kind = 'album' AND item_id = a.id) DESC, a.id"
        order_params.append(user_id)
    elif kind == "starred":
        where.append("a.id IN (SELECT item_id FROM annotation WHERE user_id = ? AND kind = 'album' "
                     "AND starred_at IS NOT NULL)")
        params.append(user_id)
        order = "lower(coalesce(a.sort_name, a.name)), a.id"
    elif kind in ("frequent", "recent"):
        where.append("a.id IN (SELECT item FROM listen_item WHERE user_id = ? AND kind = 'album' AND plays > 0)")
        params.append(user_id)
        order = plays.format(agg="p.plays" if kind == "frequent" else "p.last_at") + " DESC, a.id"
        order_params.append(user_id)
    elif kind == "byYear":
        if year_from is None or year_to is None:
            raise ValueError("byYear needs fromYear and toYear")
        lo, hi = sorted((year_from, year_to))
        where.append("a.year BETWEEN ? AND ?"), params.extend([lo, hi])
        order = "a.year" + (" DESC" if year_from > year_to else "") + ", lower(a.name), a.id"
    elif kind == "byGenre":
        if not genre:
            raise ValueError("byGenre needs genre")
        where.append(f"a.id IN ({browse.GENRE_ALBUMS})")
        params.append(genre)
        order = "lower(coalesce(a.sort_name, a.name)), a.id"
    else:
        raise ValueError(f"unknown album list type {kind!r}")
    return browse.albums_page(db, order, offset, limit, " AND ".join(where), [*params, *order_params])
