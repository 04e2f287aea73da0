"""Users, their password hashes, sessions and API keys.

Passwords are hashed with argon2id (libsodium via pynacl, moderate limits);
session tokens and API keys are random and stored only as BLAKE2b hashes, so
a copy of the database gives no way in. Comparisons of secrets go through
libsodium's constant-time verify or ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

import nacl.exceptions
import nacl.pwhash

from ..errors import Conflict, InvalidInput, NotFound
from . import scope
from .db import Database

MIGRATIONS = [
    (
        "0001_users",
        """
        CREATE TABLE user (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'listener')),
            password_hash TEXT NOT NULL,
            subsonic_secret BLOB,
            settings TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        );
        CREATE TABLE session (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            last_used REAL
        );
        CREATE INDEX session_user ON session(user_id);
        CREATE TABLE api_key (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            last_used REAL
        );
        """,
    ),
    (
        # Per-user music folders (see store/scope.py): NULL sees every folder, present and future;
        # a JSON list of folder ids sees those only. New accounts take the owner's default.
        "0002_user_folders",
        """
        ALTER TABLE user ADD COLUMN folders TEXT;
        CREATE TABLE access_default (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            folders TEXT
        );
        INSERT INTO access_default(id, folders) VALUES (1, NULL);
        """,
    ),
]

ROLES = ("owner", "admin", "listener")
_NAME = re.compile(r"^[\w.@+-]{1,64}$", re.UNICODE)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
OPS = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEM = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE * 2  # 128 MiB: fine on a Pi 4, hard on GPUs


def hash_password(password: str) -> str:
    check_password_rules(password)
    return nacl.pwhash.argon2id.str(password.encode(), opslimit=OPS, memlimit=MEM).decode()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password too long: at most {MAX_PASSWORD} characters")


def verify_password(stored: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return nacl.pwhash.verify(stored.encode(), password.encode())
    except nacl.exceptions.InvalidkeyError:
        return False


def secret_hash(token: str) -> str:
    return hashlib.blake2b(token.encode(), digest_size=32).hexdigest()


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidInput(f"invalid user name {name!r}: use 1–64 letters, digits or . _ @ + -")
    return name


def count(db: Database) -> int:
    return db.conn.execute("SELECT count(*) FROM user").fetchone()[0]


def create(db: Database, name: str, password_hash: str, role: str) -> dict:
    check_name(name)
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if db.conn.execute("SELECT 1 FROM user WHERE name = ?", (name,)).fetchone():
        raise Conflict(f"user {name!r} already exists")
    uid = "us-" + secrets.token_hex(6)
    default = db.conn.execute("SELECT folders FROM access_default WHERE id = 1").fetchone()[0]
    db.conn.execute(
        "INSERT INTO user(id, name, role, password_hash, created_at, folders) VALUES (?, ?, ?, ?, ?, ?)",
        (uid, name, role, password_hash, time.time(), default),
    )
    return get(db, uid)


_USER_COLUMNS = "id, name, role, created_at, folders"


def _user(row: tuple) -> dict:
    return {"id": row[0], "name": row[1], "role": row[2], "created_at": row[3], "folders": scope.parse(row[4])}


def get(db: Database, user_id: str) -> dict:
    row = db.conn.execute(f"SELECT {_USER_COLUMNS} FROM user WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return _user(row)


def by_name(db: Database, name: str) -> dict | None:
    row = db.conn.execute("SELECT id FROM user WHERE name = ?", (name,)).fetchone()
    return get(db, row[0]) if row else None


def require_by_name(db: Database, name: str) -> dict:
    user = by_name(db, name)
    if user is None:
        raise NotFound(f"no user named {name!r} (see `sonantica user list`)")
    return user


def password_hash_of(db: Database, name: str) -> tuple[str, str] | None:
    row = db.conn.execute("SELECT id, password_hash FROM user WHERE name = ?", (name,)).fetchone()
    return (row[0], row[1]) if row else None


def list_users(db: Database) -> list[dict]:
    return [_user(r) for r in db.conn.execute(f"SELECT {_USER_COLUMNS} FROM user ORDER BY created_at")]


# -- music folders each user sees (store/scope.py) ------------------------------------------
def all_folder_ids(db: Database) -> list[int]:
    """Every music folder a user could be given: the node's own, then one per federation member."""
    ids = [r[0] for r in db.conn.execute("SELECT id FROM folder ORDER BY id")]
    try:
        ids += [r[0] for r in db.conn.execute("SELECT folder_id FROM member_folder ORDER BY folder_id")]
    except Exception as exc:  # sqlite3.OperationalError before the federation migration
        if "no such table" not in str(exc):
            raise
    return ids


def _checked_folders(db: Database, folders: list[int] | None) -> str | None:
    if folders is None:
        return None
    known = set(all_folder_ids(db))
    unknown = sorted({int(f) for f in folders} - known)
    if unknown:
        raise InvalidInput(f"no music folder {', '.join(map(str, unknown))}: see GET /api/v1/folders")
    return scope.dump(folders)


def set_folders(db: Database, user_id: str, folders: list[int] | None) -> None:
    """Limit ``user_id`` to ``folders`` (None: every folder, including ones that appear later)."""
    get(db, user_id)
    db.conn.execute("UPDATE user SET folders = ? WHERE id = ?", (_checked_folders(db, folders), user_id))


def scope_of(db: Database, user_id: str) -> frozenset[int] | None:
    """What ``user_id`` may see, for work done for them outside a request (generated playlists)."""
    try:
        return scope.folders_of(get(db, user_id))
    except NotFound:
        return frozenset()


def default_folders(db: Database) -> list[int] | None:
    return scope.parse(db.conn.execute("SELECT folders FROM access_default WHERE id = 1").fetchone()[0])


def set_default_folders(db: Database, folders: list[int] | None) -> None:
    db.conn.execute("UPDATE access_default SET folders = ? WHERE id = 1", (_checked_folders(db, folders),))


def set_password(db: Database, user_id: str, password_hash: str) -> None:
    db.conn.execute("UPDATE user SET password_hash = ? WHERE id = ?", (password_hash, user_id))
    db.conn.execute("DELETE FROM session WHERE user_id = ?", (user_id,))


def set_role(db: Database, user_id: str, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    db.conn.execute("UPDATE user SET role = ? WHERE id = ?", (role, user_id))


def remove(db: Database, user_id: str) -> None:
    user = get(db, user_id)
    if user["role"] == "owner":
        owners = db.conn.execute("SELECT count(*) FROM user WHERE role = 'owner'").fetchone()[0]
        if owners <= 1:
            raise InvalidInput(f"{user['name']} is the only owner: make another user owner first")
    db.conn.execute("DELETE FROM user WHERE id = ?", (user_id,))


# -- sessions ---------------------------------------------------------------
SESSION_TTL = 30 * 24 * 3600


def new_session(db: Database, user_id: str, kind: str, ttl: float = SESSION_TTL) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    db.conn.execute(
        "INSERT INTO session(token_hash, user_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (secret_hash(token), user_id, kind, now, now + ttl),
    )
    return token


def user_for_session(db: Database, token: str) -> dict | None:
    row = db.conn.execute(
        "SELECT user_id, expires_at FROM session WHERE token_hash = ?", (secret_hash(token),)
    ).fetchone()
    if row is None or row[1] < time.time():
        return None
    return get(db, row[0])


def end_session(db: Database, token: str) -> None:
    db.conn.execute("DELETE FROM session WHERE token_hash = ?", (secret_hash(token),))


# -- API keys ---------------------------------------------------------------
def new_api_key(db: Database, user_id: str, name: str) -> tuple[dict, str]:
    if not name or len(name) > 100:
        raise InvalidInput("an API key needs a name of 1–100 characters (e.g. the device)")
    key = "son_" + secrets.token_urlsafe(32)
    kid = "ak-" + secrets.token_hex(6)
    now = time.time()
    db.conn.execute(
        "INSERT INTO api_key(id, user_id, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (kid, user_id, name, secret_hash(key), now),
    )
    return {"id": kid, "name": name, "created_at": now, "last_used": None}, key


def user_for_api_key(db: Database, key: str) -> dict | None:
    row = db.conn.execute("SELECT user_id, id FROM api_key WHERE key_hash = ?", (secret_hash(key),)).fetchone()
    if row is None:
        return None
    db.conn.execute("UPDATE api_key SET last_used = ? WHERE id = ?", (time.time(), row[1]))
    return get(db, row[0])


def list_api_keys(db: Database, user_id: str) -> list[dict]:
    return [
        {"id": r[0], "name": r[1], "created_at": r[2], "last_used": r[3]}
        for r in db.conn.execute(
            "SELECT id, name, created_at, last_used FROM api_key WHERE user_id = ? ORDER BY created_at", (user_id,)
        )
    ]


def revoke_api_key(db: Database, user_id: str, key_id: str) -> None:
    cur = db.conn.execute("DELETE FROM api_key WHERE id = ? AND user_id = ?", (key_id, user_id))
    if cur.rowcount == 0:
        raise NotFound(f"no API key {key_id}")
