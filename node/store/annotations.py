"""Per-user stars and ratings on tracks, albums and artists."""

from __future__ import annotations

import time

from ..errors import InvalidInput, NotFound
from . import browse
from .db import Database

MIGRATIONS = [
    (
        "0001_annotations",
        """
        CREATE TABLE annotation (
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('track', 'album', 'artist')),
            item_id TEXT NOT NULL,
            starred_at REAL,
            rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
            PRIMARY KEY (user_id, kind, item_id)
        ) WITHOUT ROWID;
        CREATE INDEX annotation_starred ON annotation(user_id, kind, starred_at) WHERE starred_at IS NOT NULL;
        """,
    ),
]

KINDS = ("track", "album", "artist")


def kind_of(item_id: str) -> str:
    prefix = item_id[:3]
    kind = {"tr-": "track", "al-": "album", "ar-": "artist"}.get(prefix)
    if kind is None:
        raise InvalidInput(f"{item_id!r} is not a track, album or artist id")
    return kind


def _existing(db: Database, item_id: str) -> str:
    """The kind of ``item_id``; NotFound if no track, album or artist (local or a member's) has it,
    so that a stale or made-up id is refused instead of stored as an annotation nobody can see."""
    kind = kind_of(item_id)
    if browse.item_kind(db, item_id) != kind:
        raise NotFound(f"no {kind} {item_id}")
    return kind


def star(db: Database, user_id: str, item_id: str, on: bool = True) -> None:
    kind = _existing(db, item_id)
    db.conn.execute(
        "INSERT INTO annotation(user_id, kind, item_id, starred_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(user_id, kind, item_id) DO UPDATE SET starred_at = excluded.starred_at",
        (user_id, kind, item_id, time.time() if on else None),
    )


def rate(db: Database, user_id: str, item_id: str, rating: int) -> None:
    if not isinstance(rating, int) or not 0 <= rating <= 5:
        raise InvalidInput("rating must be an integer from 0 (none) to 5")
    kind = _existing(db, item_id)
    db.conn.execute(
        "INSERT INTO annotation(user_id, kind, item_id, rating) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(user_id, kind, item_id) DO UPDATE SET rating = excluded.rating",
        (user_id, kind, item_id, rating),
    )


def of(db: Database, user_id: str, item_ids: list[str]) -> dict[str, dict]:
    """{item_id: {"starred_at": …, "rating": …}} for those of ``item_ids`` the user annotated."""
    out: dict[str, dict] = {}
    for i in range(0, len(item_ids), 500):
        chunk = item_ids[i : i + 500]
        for item, starred, rating in db.conn.execute(
            f"SELECT item_id, starred_at, rating FROM annotation WHERE user_id = ? AND item_id IN "
            f"({','.join('?' * len(chunk))})", (user_id, *chunk)):
            out[item] = {"starred_at": starred, "rating": rating}
    return out


def starred(db: Database, user_id: str, kind: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT item_id FROM annotation WHERE user_id = ? AND kind = ? AND starred_at IS NOT NULL "
        "ORDER BY starred_at DESC", (user_id, kind))]


def rated(db: Database, user_id: str, kind: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT item_id FROM annotation WHERE user_id = ? AND kind = ? AND rating > 0 ORDER BY rating DESC",
        (user_id, kind))]
