"""Share links: a user's song, album or playlist, opened by anyone holding the link, until it expires or
is revoked (deleted).

A share keeps what was shared (item ids, in order), who shared it, a description, an expiry, whether
visitors may download, and the link's random part (``nonce``, 16 bytes). The link's token is that
nonce and an HMAC over it made with a key derived from the node's private key (:mod:`...sharing`),
so a copy of this table alone does not give working links. What a share plays is resolved when it is
opened (:func:`tracks_of`): an album or a playlist shows its songs as they are now.
"""

from __future__ import annotations

import json
import secrets
import time

from ..errors import Forbidden, InvalidInput, NotFound
from . import browse
from . import playlists as pl
from .db import Database

MIGRATIONS = [
    (
        "0001_shares",
        """
        CREATE TABLE share (
            id TEXT PRIMARY KEY,
            nonce TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            items TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            downloadable INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            expires_at REAL,
            last_visited_at REAL,
            visit_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX share_user ON share(user_id, created_at);
        """,
    ),
]

MAX_ITEMS = 500
MAX_DESCRIPTION = 1000
MAX_PER_USER = 1000
PREFIXES = ("tr-", "al-", "pl-")
NONCE_BYTES = 16  # 128 bits


def _columns() -> str:
    return ("s.id, s.nonce, s.user_id, u.name AS username, s.items, s.description, s.downloadable, s.created_at, "
            "s.expires_at, s.last_visited_at, s.visit_count")


def _row(r: dict) -> dict:
    r = dict(r)
    r["items"] = json.loads(r["items"])
    r["downloadable"] = bool(r["downloadable"])
    return r


def check_items(db: Database, item_ids: list[str], user: dict) -> list[str]:
    """The ids, each a song, album or playlist the user may read; NotFound names the first that is not."""
    if not isinstance(item_ids, list) or not item_ids:
        raise InvalidInput("share at least one song, album or playlist")
    if len(item_ids) > MAX_ITEMS:
        raise InvalidInput(f"a share holds at most {MAX_ITEMS} items")
    for ident in item_ids:
        if not isinstance(ident, str) or not ident.startswith(PREFIXES):
            raise NotFound(f"{ident!r} is not a song, album or playlist")
        if ident.startswith("pl-"):
            playlist = pl.get(db, ident)
            if not shareable_playlist(playlist, user):
                raise NotFound(f"no playlist {ident} you may share (your own or a public one)")
        elif browse.item_kind(db, ident) != ("track" if ident.startswith("tr-") else "album"):
            raise NotFound(f"no {'song' if ident.startswith('tr-') else 'album'} {ident}")
    return list(dict.fromkeys(item_ids))


def shareable_playlist(playlist: dict, user: dict) -> bool:
    """A user's own playlists and public ones: an admin reads everyone's, but shares only what anyone may see."""
    return playlist["owner_id"] == user["id"] or bool(playlist["public"])


def _check_text(description: str | None) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be text of at most {MAX_DESCRIPTION} characters")
    return description.strip()


def _check_expiry(expires_at: float | None, now: float) -> float | None:
    if expires_at is not None and (not isinstance(expires_at, (int, float)) or expires_at <= now):
        raise InvalidInput("the expiry must be in the future")
    return expires_at


def create(db: Database, user: dict, item_ids: list[str], description: str | None, expires_at: float | None,
           downloadable: bool = False, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    items = check_items(db, item_ids, user)
    text = _check_text(description)
    expires = _check_expiry(expires_at, now)
    if db.conn.execute("SELECT COUNT(*) FROM share WHERE user_id = ?", (user["id"],)).fetchone()[0] >= MAX_PER_USER:
        raise InvalidInput(f"at most {MAX_PER_USER} shares per user: revoke some first")
    share_id = "sh-" + secrets.token_hex(6)
    db.conn.execute(
        "INSERT INTO share(id, nonce, user_id, items, description, downloadable, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (share_id, secrets.token_hex(NONCE_BYTES), user["id"], json.dumps(items), text, int(bool(downloadable)),
         now, expires))
    return get(db, share_id)


def get(db: Database, share_id: str) -> dict:
    rows = list(db.query(f"SELECT {_columns()} FROM share s JOIN user u ON u.id = s.user_id WHERE s.id = ?",
                         (share_id,)))
    if not rows:
        raise NotFound(f"no share {share_id}")
    return _row(rows[0])


def by_nonce(db: Database, nonce_hex: str) -> dict | None:
    rows = list(db.query(f"SELECT {_columns()} FROM share s JOIN user u ON u.id = s.user_id WHERE s.nonce = ?",
                         (nonce_hex,)))
    return _row(rows[0]) if rows else None


def listing(db: Database, user_id: str | None = None) -> list[dict]:
    """One user's shares, or (``None``) everyone's: the newest first."""
    where, args = ("WHERE s.user_id = ?", (user_id,)) if user_id else ("", ())
    return [_row(r) for r in db.query(
        f"SELECT {_columns()} FROM share s JOIN user u ON u.id = s.user_id {where} ORDER BY s.created_at DESC, s.id",
        args)]


def may_change(share: dict, user: dict) -> bool:
    """Its author, and the node's admins (who see and revoke every share)."""
    return share["user_id"] == user["id"] or user["role"] in ("owner", "admin")


def _changeable(db: Database, share_id: str, user: dict) -> dict:
    share = get(db, share_id)
    if not may_change(share, user):
        raise NotFound(f"no share {share_id}")  # another user's share is not even there
    return share


UNSET = object()


def update(db: Database, share_id: str, user: dict, *, description=UNSET, expires_at=UNSET, downloadable=UNSET,
           now: float | None = None) -> dict:
    """Change what is given; ``expires_at=None`` removes the expiry."""
    now = time.time() if now is None else now
    _changeable(db, share_id, user)
    sets, args = [], []
    if description is not UNSET:
        sets.append("description = ?")
        args.append(_check_text(description))
    if expires_at is not UNSET:
        sets.append("expires_at = ?")
        args.append(_check_expiry(expires_at, now))
    if downloadable is not UNSET:
        sets.append("downloadable = ?")
        args.append(int(bool(downloadable)))
    if sets:
        db.conn.execute(f"UPDATE share SET {', '.join(sets)} WHERE id = ?", (*args, share_id))
    return get(db, share_id)


def delete(db: Database, share_id: str, user: dict) -> None:
    """Revoke: the link answers 404 from now on."""
    _changeable(db, share_id, user)
    db.conn.execute("DELETE FROM share WHERE id = ?", (share_id,))


def visited(db: Database, share_id: str, now: float | None = None) -> None:
    db.conn.execute("UPDATE share SET visit_count = visit_count + 1, last_visited_at = ? WHERE id = ?",
                    (time.time() if now is None else now, share_id))


def is_live(share: dict, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return share["expires_at"] is None or share["expires_at"] > now


def tracks_of(db: Database, share: dict) -> list[dict]:
    """The songs a share plays now, in order: its songs, its albums' songs, its playlists' songs (a
    private playlist only while its author may still read it); what has left the library is left out."""
    author = {"id": share["user_id"], "role": _role(db, share["user_id"])}
    ids: list[str] = []
    for ident in share["items"]:
        if ident.startswith("tr-"):
            ids.append(ident)
        elif ident.startswith("al-"):
            ids.extend(t["id"] for t in browse.album_tracks(db, ident))
        elif ident.startswith("pl-"):
            try:
                playlist = pl.get(db, ident)
            except NotFound:
                continue
            if shareable_playlist(playlist, author):  # made private since: no longer shown
                ids.extend(pl.items(db, ident))
    return browse.tracks_by_ids(db, ids[:5000])


def visible_items(db: Database, items: list[str]) -> list[str]:
    """The share's items the caller may see (store/scope.py): its playlists, and its songs and albums
    in the caller's music folders."""
    return [i for i in items if i.startswith("pl-") or browse.item_kind(db, i) is not None]


def _role(db: Database, user_id: str) -> str:
    row = db.conn.execute("SELECT role FROM user WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise Forbidden("the share's author is gone")
    return row[0]


def title_of(db: Database, share: dict) -> str:
    """What the page calls the share: its one album's or playlist's name, its one song's title, else a count."""
    items = share["items"]
    if len(items) == 1:
        ident = items[0]
        try:
            if ident.startswith("al-"):
                return browse.get_album(db, ident)["name"]
            if ident.startswith("pl-"):
                return pl.get(db, ident)["name"]
            found = browse.tracks_by_ids(db, [ident])
            if found:
                return found[0]["title"]
        except NotFound:
            pass
    return f"{len(items)} shared items"


def cover_of(share: dict, tracks: list[dict]) -> str | None:
    """The id whose art stands for the share: its one album or playlist, else its first song."""
    first = share["items"][0] if share["items"] else None
    if first and first.startswith(("al-", "pl-")):
        return first
    return tracks[0]["id"] if tracks else None
