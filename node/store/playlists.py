"""Playlists (ordered items), and each user's saved play queue."""

from __future__ import annotations

import json
import secrets
import time

from ..errors import InvalidInput, NotFound
from . import scope
from .db import Database

MIGRATIONS = [
    (
        "0001_playlists",
        """
        CREATE TABLE playlist (
            id TEXT PRIMARY KEY,
            owner_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            public INTEGER NOT NULL DEFAULT 0,
            generated TEXT,
            rules TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX playlist_owner ON playlist(owner_id);
        CREATE TABLE playlist_item (
            playlist_id TEXT NOT NULL REFERENCES playlist(id) ON DELETE CASCADE,
            pos INTEGER NOT NULL,
            track_id TEXT NOT NULL,
            PRIMARY KEY (playlist_id, pos)
        ) WITHOUT ROWID;
        CREATE TABLE play_queue (
            user_id TEXT PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
            track_ids TEXT NOT NULL,
            current TEXT,
            position_ms INTEGER NOT NULL DEFAULT 0,
            changed_at REAL NOT NULL,
            changed_by TEXT NOT NULL DEFAULT ''
        );
        """,
    ),
    # the current entry by its place, so a queue holding a song twice knows which copy is playing
    ("0002_queue_index", "ALTER TABLE play_queue ADD COLUMN current_index INTEGER;"),
]

MAX_ITEMS = 20_000
MAX_NAME = 200


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a playlist needs a name of 1–{MAX_NAME} characters")
    return name


def create(db: Database, owner_id: str, name: str, track_ids: list[str] | None = None,
           comment: str = "", public: bool = False) -> str:
    pid = "pl-" + secrets.token_hex(8)
    now = time.time()
    db.conn.execute(
        "INSERT INTO playlist(id, owner_id, name, comment, public, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (pid, owner_id, _check_name(name), comment or "", int(public), now, now),
    )
    if track_ids:
        set_items(db, pid, track_ids)
    return pid


def get(db: Database, playlist_id: str) -> dict:
    shown = "" if not scope.limited() else (  # a listener limited to some folders counts what they see
        f" AND EXISTS (SELECT 1 FROM lib_track v WHERE v.id = i.track_id AND {scope.sql('v.folder_id')})")
    rows = list(db.query(
        "SELECT p.*, u.name AS owner, (SELECT count(*) FROM playlist_item i WHERE i.playlist_id = p.id"
        f"{shown}) AS song_count, (SELECT coalesce(sum(t.duration), 0) FROM playlist_item i JOIN track t "
        f"ON t.id = i.track_id WHERE i.playlist_id = p.id AND {scope.sql('t.folder_id')}) AS duration "
        "FROM playlist p JOIN user u ON u.id = p.owner_id WHERE p.id = ?",
        [playlist_id]))
    if not rows:
        raise NotFound(f"no playlist {playlist_id}")
    row = rows[0]
    row["public"] = bool(row["public"])
    row["rules"] = json.loads(row["rules"]) if row["rules"] else None
    return row


def visible(db: Database, user_id: str) -> list[dict]:
    ids = [r[0] for r in db.conn.execute(
        "SELECT id FROM playlist WHERE owner_id = ? OR public = 1 ORDER BY lower(name)", (user_id,))]
    return [get(db, i) for i in ids]


def can_read(playlist: dict, user: dict) -> bool:
    return playlist["owner_id"] == user["id"] or playlist["public"] or user["role"] in ("owner", "admin")


def can_write(playlist: dict, user: dict) -> bool:
    return playlist["owner_id"] == user["id"] and not playlist["generated"]


def items(db: Database, playlist_id: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT track_id FROM playlist_item WHERE playlist_id = ? ORDER BY pos", (playlist_id,))]


def set_items(db: Database, playlist_id: str, track_ids: list[str]) -> None:
    if len(track_ids) > MAX_ITEMS:
        raise InvalidInput(f"a playlist holds at most {MAX_ITEMS} tracks")
    db.conn.execute("DELETE FROM playlist_item WHERE playlist_id = ?", (playlist_id,))
    db.conn.executemany("INSERT INTO playlist_item VALUES (?, ?, ?)",
                        [(playlist_id, i, t) for i, t in enumerate(track_ids)])
    db.conn.execute("UPDATE playlist SET updated_at = ? WHERE id = ?", (time.time(), playlist_id))


def update(db: Database, playlist_id: str, *, name: str | None = None, comment: str | None = None,
           public: bool | None = None) -> None:
    if name is not None:
        db.conn.execute("UPDATE playlist SET name = ? WHERE id = ?", (_check_name(name), playlist_id))
    if comment is not None:
        db.conn.execute("UPDATE playlist SET comment = ? WHERE id = ?", (comment[:2000], playlist_id))
    if public is not None:
        db.conn.execute("UPDATE playlist SET public = ? WHERE id = ?", (int(public), playlist_id))
    db.conn.execute("UPDATE playlist SET updated_at = ? WHERE id = ?", (time.time(), playlist_id))


def edit(db: Database, playlist_id: str, add: list[str], remove_positions: list[int]) -> None:
    """Subsonic's updatePlaylist: remove by index (of the current order), then append."""
    current = items(db, playlist_id)
    drop = set(remove_positions)
    if any(p < 0 or p >= len(current) for p in drop):
        raise InvalidInput("songIndexToRemove out of range")
    kept = [t for i, t in enumerate(current) if i not in drop]
    set_items(db, playlist_id, kept + list(add))


def move(db: Database, playlist_id: str, from_pos: int, to_pos: int) -> None:
    current = items(db, playlist_id)
    if not (0 <= from_pos < len(current) and 0 <= to_pos < len(current)):
        raise InvalidInput(f"positions must be within 0–{len(current) - 1}")
    current.insert(to_pos, current.pop(from_pos))
    set_items(db, playlist_id, current)


def delete(db: Database, playlist_id: str) -> None:
    db.conn.execute("DELETE FROM playlist WHERE id = ?", (playlist_id,))


def drop_generated(db: Database, user_id: str) -> None:
    """Forget a user's generated playlists (daily mixes, discoveries…): their names and picks came from
    music the user may no longer see. The analytics service makes new ones on its next round."""
    db.conn.execute("DELETE FROM playlist WHERE owner_id = ? AND generated IS NOT NULL AND generated != 'smart'",
                    (user_id,))


# -- play queue ------------------------------------------------------------------
def save_queue(db: Database, user_id: str, track_ids: list[str], current: str | None,
               position_ms: int, client: str, current_index: int | None = None) -> None:
    """Save the user's queue; the current entry is given by id (the first copy) or by index.

    Both are stored, so ``getPlayQueue`` (by id), ``getPlayQueueByIndex`` and the
    web app read back the same place whichever of them saved it.
    """
    if len(track_ids) > MAX_ITEMS:
        raise InvalidInput(f"a play queue holds at most {MAX_ITEMS} tracks")
    if current_index is not None:
        if not 0 <= current_index < len(track_ids):
            raise InvalidInput(f"current index {current_index} is not in the queue (0 to {len(track_ids) - 1})")
        current = track_ids[current_index]
    elif current is not None:
        if current not in track_ids:
            raise InvalidInput("the current track must be in the queue")
        current_index = track_ids.index(current)
    db.conn.execute(
        "INSERT OR REPLACE INTO play_queue(user_id, track_ids, current, current_index, position_ms, changed_at, "
        "changed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, json.dumps(track_ids), current, current_index, max(0, int(position_ms)), time.time(),
         client[:100]),
    )


def get_queue(db: Database, user_id: str) -> dict | None:
    """The saved queue: ``track_ids``, ``current`` (an id), ``current_index`` (its place), position, who saved it."""
    row = db.conn.execute(
        "SELECT track_ids, current, position_ms, changed_at, changed_by, current_index FROM play_queue "
        "WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        return None
    ids = json.loads(row[0])
    index = row[5]
    if row[1] is None:
        index = None
    elif index is None or not 0 <= index < len(ids) or ids[index] != row[1]:  # saved before indexes were kept
        index = ids.index(row[1]) if row[1] in ids else None
    return {"track_ids": ids, "current": row[1], "current_index": index, "position_ms": row[2],
            "changed_at": row[3], "changed_by": row[4]}
