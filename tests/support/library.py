"""Scanning a real folder into a real SQLite store, for tests."""

from __future__ import annotations

from pathlib import Path

import trio

from sonantica.node.library.scanner import Scanner, ScanSummary
from sonantica.node.store import tracks as tracks_store
from sonantica.node.store.db import Store


class Library:
    """A store plus a scanner over ``music``, in ``tmp``."""

    def __init__(self, tmp: Path, music: Path | list[Path], workers: int = 2) -> None:
        self.tmp = Path(tmp)
        self.music = [Path(m) for m in (music if isinstance(music, list) else [music])]
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.store = Store.open(self.tmp / "test.db")
        self.scanner = Scanner(self.store, [str(m) for m in self.music], self.tmp / "covers", self.tmp / "scan.lock", workers)

    def scan(self, full: bool = False) -> ScanSummary:
        return trio.run(self.scanner.scan, full)

    async def ascan(self, full: bool = False) -> ScanSummary:
        return await self.scanner.scan(full)

    def tracks(self) -> list[dict]:
        ids = [r[0] for r in self.store.read_sync(lambda db: db.conn.execute("SELECT id FROM track ORDER BY path").fetchall())]
        return [self.store.read_sync(tracks_store.get_track, i) for i in ids]

    def by_title(self) -> dict[str, dict]:
        return {t["title"]: t for t in self.tracks()}

    def albums(self) -> list[dict]:
        return self.store.read_sync(lambda db: [dict(r) for r in db.query("SELECT * FROM album ORDER BY name")])

    def errors(self) -> dict[str, str]:
        return {e["path"]: e["reason"] for e in self.store.read_sync(tracks_store.scan_errors)}

    def close(self) -> None:
        self.store.close()
