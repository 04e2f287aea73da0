"""Internet radio stations: added by admins, listened to by everyone.

A station is a name, a stream URL, an optional home page and an optional cover picture (uploaded by
an admin, kept here: at most :data:`MAX_COVER` bytes of JPEG, PNG or WebP). URLs are http(s) only,
with a host, without credentials, at most :data:`MAX_URL` characters: they end up in the web app's
Content-Security-Policy (``media-src``, see :func:`stream_origins`) and in players' hands.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from ..errors import InvalidInput, NotFound
from .db import Database

MIGRATIONS = [
    (
        "0001_radio",
        """
        CREATE TABLE radio_station (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            stream_url TEXT NOT NULL,
            homepage_url TEXT NOT NULL DEFAULT '',
            cover BLOB,
            cover_mime TEXT,
            created_at REAL NOT NULL,
            changed_at REAL NOT NULL
        );
        """,
    ),
]

MAX_URL = 2000
MAX_NAME = 200
MAX_STATIONS = 1000
MAX_COVER = 2 * 1024 * 1024
COLUMNS = "id, name, stream_url, homepage_url, cover IS NOT NULL AS has_cover, created_at, changed_at"
_IMAGE_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def check_url(url: str | None, what: str, *, required: bool) -> str:
    """An http(s) URL with a host and no credentials, or '' when not ``required`` and not given."""
    if url is None or (isinstance(url, str) and not url.strip()):
        if required:
            raise InvalidInput(f"{what} is required".capitalize())
        return ""
    if not isinstance(url, str) or len(url) > MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise InvalidInput(f"{what} must be a URL of at most {MAX_URL} characters, without spaces")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{what} must be an http:// or https:// address")
    if parts.username or parts.password:
        raise InvalidInput(f"{what} must not carry a user name or password")
    if not all(c.isalnum() or c in ".-:[]" for c in parts.hostname) or port == 0:
        raise InvalidInput(f"{what} has an invalid host")
    return url.strip()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a checked URL (a CSP source expression)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _name(name: str | None) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(f"a station needs a name of 1 to {MAX_NAME} printable characters")
    return name.strip()


def create(db: Database, name: str, stream_url: str, homepage_url: str | None = None,
           now: float | None = None) -> dict:
    now = time.time() if now is None else now
    row = (_name(name), check_url(stream_url, "the stream URL", required=True),
           check_url(homepage_url, "the home page URL", required=False))
    if db.conn.execute("SELECT COUNT(*) FROM radio_station").fetchone()[0] >= MAX_STATIONS:
        raise InvalidInput(f"at most {MAX_STATIONS} stations: delete some first")
    station_id = "ir-" + secrets.token_hex(5)
    db.conn.execute("INSERT INTO radio_station(id, name, stream_url, homepage_url, created_at, changed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (station_id, *row, now, now))
    return get(db, station_id)


def update(db: Database, station_id: str, *, name=None, stream_url=None, homepage_url=None,
           now: float | None = None) -> dict:
    """Change what is given (``homepage_url=''`` clears it)."""
    get(db, station_id)
    sets, args = [], []
    if name is not None:
        sets.append("name = ?")
        args.append(_name(name))
    if stream_url is not None:
        sets.append("stream_url = ?")
        args.append(check_url(stream_url, "the stream URL", required=True))
    if homepage_url is not None:
        sets.append("homepage_url = ?")
        args.append(check_url(homepage_url, "the home page URL", required=False))
    sets.append("changed_at = ?")
    args.append(time.time() if now is None else now)
    db.conn.execute(f"UPDATE radio_station SET {', '.join(sets)} WHERE id = ?", (*args, station_id))
    return get(db, station_id)


def get(db: Database, station_id: str) -> dict:
    rows = list(db.query(f"SELECT {COLUMNS} FROM radio_station WHERE id = ?", (station_id,)))
    if not rows:
        raise NotFound(f"no radio station {station_id}")
    return _row(rows[0])


def listing(db: Database) -> list[dict]:
    return [_row(r) for r in db.query(f"SELECT {COLUMNS} FROM radio_station ORDER BY name COLLATE NOCASE, id")]


def _row(r: dict) -> dict:
    r = dict(r)
    r["has_cover"] = bool(r["has_cover"])
    return r


def delete(db: Database, station_id: str) -> None:
    if db.conn.execute("DELETE FROM radio_station WHERE id = ?", (station_id,)).rowcount == 0:
        raise NotFound(f"no radio station {station_id}")


def image_type(data: bytes) -> str | None:
    """The MIME type of a JPEG, PNG or WebP picture, by its first bytes; None for anything else."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_cover(db: Database, station_id: str, data: bytes | None) -> dict:
    """Give the station a picture (``None`` removes it)."""
    get(db, station_id)
    mime = None
    if data is not None:
        if len(data) > MAX_COVER:
            raise InvalidInput(f"a station's picture may be at most {MAX_COVER // 1024 // 1024} MB")
        mime = image_type(data)
        if mime is None:
            raise InvalidInput("a station's picture must be a JPEG, PNG or WebP image")
    db.conn.execute("UPDATE radio_station SET cover = ?, cover_mime = ?, changed_at = ? WHERE id = ?",
                    (data, mime, time.time(), station_id))
    return get(db, station_id)


def cover(db: Database, station_id: str) -> tuple[bytes, str] | None:
    """(picture, MIME type), or None when the station has none; NotFound when there is no such station."""
    row = db.conn.execute("SELECT cover, cover_mime FROM radio_station WHERE id = ?", (station_id,)).fetchone()
    if row is None:
        raise NotFound(f"no radio station {station_id}")
    return (bytes(row[0]), row[1]) if row[0] is not None else None


def stream_origins(db: Database) -> list[str]:
    """The origins the stations stream from, for the web app's ``media-src``."""
    return sorted({origin_of(r[0]) for r in db.conn.execute("SELECT stream_url FROM radio_station")})
