"""Bookmarks: one resume position per user and playable item (a track, a podcast episode).

A bookmark is personal (Subsonic ``createBookmark`` / ``getBookmarks`` / ``deleteBookmark``, and the
native ``/api/v1/bookmarks``). The store keeps them by item id whatever the kind of item, so that any
domain with playable items (the library, podcasts) can use them; whether an id names something the
user may play is the caller's check, made before :func:`save` (a bookmark on nothing is refused
there) and again when listing (an item that has left the library is left out, its bookmark kept in
case it comes back).
"""

from __future__ import annotations

import time

from ..errors import InvalidInput, NotFound
from . import browse
from .db import Database

MIGRATIONS = [
    (
        "0001_bookmarks",
        """
        CREATE TABLE bookmark (
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            position_ms INTEGER NOT NULL CHECK (position_ms >= 0),
            comment TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            changed_at REAL NOT NULL,
            PRIMARY KEY (user_id, item_id)
        ) WITHOUT ROWID;
        CREATE INDEX bookmark_changed ON bookmark(user_id, changed_at);
        """,
    ),
]

MAX_POSITION_MS = 7 * 86_400_000  # longer than any recording
MAX_COMMENT = 1000
MAX_PER_USER = 10_000  # a bound on what one account can store


def playable(db: Database, ids: list[str]) -> dict[str, dict]:
    """{id: track row} of the ``ids`` that name a track of the library or of a member: what may carry a
    bookmark. (A domain with other playable items, such as podcast episodes, adds its own lookup here.)"""
    from . import podcasts

    found = {t["id"]: t for t in browse.tracks_by_ids(db, [i for i in ids if i.startswith("tr-")])}
    found.update(podcasts.playable(db, [i for i in ids if i.startswith("pe-")]))
    return found


def save(db: Database, user_id: str, item_id: str, position_ms: int, comment: str | None = None,
         now: float | None = None) -> dict:
    """Create or move the user's bookmark on ``item_id``; ``comment=None`` keeps the one it had."""
    if not isinstance(position_ms, int) or isinstance(position_ms, bool) or not 0 <= position_ms <= MAX_POSITION_MS:
        raise InvalidInput(f"position must be a whole number of milliseconds from 0 to {MAX_POSITION_MS}")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidInput(f"comment must be text of at most {MAX_COMMENT} characters")
    if not isinstance(item_id, str) or not 0 < len(item_id) <= 200:
        raise InvalidInput("bookmark an item by its id")
    now = time.time() if now is None else now
    if get(db, user_id, item_id) is None and count(db, user_id) >= MAX_PER_USER:
        raise InvalidInput(f"at most {MAX_PER_USER} bookmarks per user: delete some first")
    db.conn.execute(
        "INSERT INTO bookmark(user_id, item_id, position_ms, comment, created_at, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id, item_id) DO UPDATE SET "
        "position_ms = excluded.position_ms, changed_at = excluded.changed_at, "
        "comment = CASE WHEN ? THEN excluded.comment ELSE bookmark.comment END",
        (user_id, item_id, position_ms, comment or "", now, now, comment is not None))
    return get(db, user_id, item_id)  # type: ignore[return-value]


def get(db: Database, user_id: str, item_id: str) -> dict | None:
    rows = list(db.query("SELECT item_id, position_ms, comment, created_at, changed_at FROM bookmark "
                         "WHERE user_id = ? AND item_id = ?", (user_id, item_id)))
    return rows[0] if rows else None


def of_user(db: Database, user_id: str) -> list[dict]:
    """The user's bookmarks, the most recently moved first."""
    return list(db.query("SELECT item_id, position_ms, comment, created_at, changed_at FROM bookmark "
                         "WHERE user_id = ? ORDER BY changed_at DESC, item_id", (user_id,)))


def count(db: Database, user_id: str) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM bookmark WHERE user_id = ?", (user_id,)).fetchone()[0]


def delete(db: Database, user_id: str, item_id: str) -> None:
    """Remove the user's bookmark on ``item_id``; NotFound when there was none."""
    if db.conn.execute("DELETE FROM bookmark WHERE user_id = ? AND item_id = ?", (user_id, item_id)).rowcount == 0:
        raise NotFound(f"no bookmark on {item_id}")


def delete_item(db: Database, item_id: str) -> int:
    """Every user's bookmark on ``item_id`` (the item is gone for good, e.g. a deleted episode)."""
    return db.conn.execute("DELETE FROM bookmark WHERE item_id = ?", (item_id,)).rowcount
