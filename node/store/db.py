"""The node's one SQLite database: a single writer, many readers, off the event loop.

Every query runs in a worker thread, never on the trio loop. Writes are
serialised through one connection (``await store.write(fn)``) inside
``BEGIN IMMEDIATE`` so that another process writing the same file (``sonantica
scan`` while ``serve`` runs) waits on SQLite's lock rather than failing. Reads
use a small pool of connections (``await store.read(fn)``); WAL mode lets them
run while a write is in progress. The domain modules in this package take a
:class:`Database` and are plain synchronous functions, so the CLI and tests
can also call them through :meth:`Store.write_sync` / ``read_sync`` (which need
no trio: a command that only reads starts without loading it).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from . import migrations

T = TypeVar("T")
P = ParamSpec("P")

READERS = 4


class Database:
    """One connection as the domain modules use it: ``db.conn`` (sqlite3) and ``db.query`` (rows as dicts).

    These two are all the node used of sqlite-utils' ``Database``, whose import (numpy and a scan of
    installed packages for plugins) cost every command a quarter of a second of CPU.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def query(self, sql: str, params: Any = None) -> Iterator[dict]:
        cursor = self.conn.execute(sql, params if params is not None else ())
        keys = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row))


def connect(path: Path | str) -> Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-16000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return Database(conn)


class Store:
    """The database of one node. Open with :meth:`open`; close when done."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._writer = connect(self.path)
        self._write_lock = threading.Lock()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._limiters: tuple | None = None  # trio's (write, read), made on the first async call

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        store = cls(Path(path))
        store.write_sync(migrations.apply)
        return store

    # -- synchronous: for the CLI, worker threads and tests ---------------
    def write_sync(self, fn: Callable[..., T], *args: object) -> T:
        with self._write_lock:
            db = self._writer
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db, *args)
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")
            return result

    def read_sync(self, fn: Callable[..., T], *args: object) -> T:
        db = self._take_reader()
        try:
            db.conn.execute("BEGIN")
            try:
                return fn(db, *args)
            finally:
                db.conn.execute("COMMIT")
        finally:
            self._give_reader(db)

    # -- async: for the daemon --------------------------------------------
    async def write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        import trio

        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await trio.to_thread.run_sync(self.write_sync, fn, *args, limiter=self._trio_limiters()[0])

    async def read(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        import trio

        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await trio.to_thread.run_sync(self.read_sync, fn, *args, limiter=self._trio_limiters()[1])

    def _trio_limiters(self) -> tuple:
        if self._limiters is None:
            import trio

            self._limiters = (trio.CapacityLimiter(1), trio.CapacityLimiter(READERS))
        return self._limiters

    def _take_reader(self) -> Database:
        with self._readers_lock:
            if self._readers:
                return self._readers.pop()
        return connect(self.path)

    def _give_reader(self, db: Database) -> None:
        with self._readers_lock:
            if len(self._readers) < READERS:
                self._readers.append(db)
                return
        db.conn.close()

    def backup_to(self, dest: Path) -> None:
        """A consistent copy of the live database (SQLite online backup)."""
        target = sqlite3.connect(str(dest))
        try:
            with self._write_lock:
                self._writer.conn.backup(target)
        finally:
            target.close()

    def close(self) -> None:
        with self._readers_lock:
            for db in self._readers:
                db.conn.close()
            self._readers.clear()
        with self._write_lock:
            try:
                self._writer.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._writer.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
