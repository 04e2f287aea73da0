"""Providers that answer garbage, too much, the wrong type, a redirect elsewhere, slowly or not at all:
the worker stores nothing from them, the library is unchanged, the reason shows in status, and the items
are asked about again later (in an hour, not in a month); once the providers answer well, they fill in."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import trio

from sonantica.node import cli
from sonantica.node.config import DataDir
from sonantica.node.metadata.worker import Worker
from sonantica.node.store import metadata as meta_store
from sonantica.node.store.db import Store

from .standin import Answer
from .world import build_library

HOSTILE = {
    "garbage": Answer(200, b"\x00\xffnot json{{{", "application/json"),
    "html": Answer(200, b"<html><body>Service moved</body></html>", "text/html"),
    "huge": Answer(200, b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}', "application/json"),
    "elsewhere": Answer(307, b"", "text/plain", headers=(("location", "http://localhost:1/ws/2/"),)),
    "slow": Answer(200, b"{}", "application/json", delay=3),
    "down": Answer(503, b"maintenance", "text/plain", headers=(("retry-after", "0"),)),
}


@pytest.fixture(scope="module")
def lib(tmp_path_factory, standin):
    root = tmp_path_factory.mktemp("hostile")
    build_library(root / "music")
    assert cli.main(["--data", str(root / "node"), "init", "--music", str(root / "music")]) == 0
    data = DataDir(root / "node")
    config = replace(data.load_config(), metadata=True, **standin.settings())
    data.save_config(config)
    assert cli.main(["--data", str(root / "node"), "scan"]) == 0
    store = Store.open(data.db_path)
    yield data, config, store
    store.close()


def _pass(store, config, folder):
    async def go():
        w = Worker(store, config, folder)
        try:
            return await w.run_pass()
        finally:
            await w.http.aclose()

    return trio.run(go)


def _forget(db):
    for table in ("meta_answer", "meta_album", "meta_artist", "meta_track", "meta_provider"):
        db.conn.execute(f"DELETE FROM {table}")
    db.conn.execute("UPDATE album SET cover = NULL WHERE cover LIKE 'mx-%'")


def _library(db):
    return (list(db.query("SELECT id, name, cover, mbid FROM album ORDER BY id")),
            list(db.query("SELECT id, lyrics, mb_recording_id FROM track ORDER BY id")))


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_provider_changes_nothing_and_is_reported(lib, standin, kind):
    data, config, store = lib
    store.write_sync(_forget)
    before = store.read_sync(_library)
    # the slow one only where the pass starts (each slow answer costs the whole-exchange bound)
    paths = ["/mb/ws/2/release/"] if kind == "slow" else [p for p in standin.routes]
    for path in paths:
        standin.override[path] = HOSTILE[kind]
    try:
        result = _pass(store, config, data.cache_dir / "metadata")
    finally:
        standin.override.clear()
    assert result.failures
    assert store.read_sync(_library) == before
    progress = store.read_sync(meta_store.progress)
    if kind == "slow":  # only the search was slow: Debut, matched by its MBID, and the artist still fill in
        assert progress["albums"]["found"] == 1
    else:
        assert progress["albums"]["found"] == 0 and progress["artists"]["found"] == 0
    failing = [p for p in progress["providers"] if p["last_error"]]
    assert any(p["name"] == "musicbrainz" for p in failing), progress["providers"]
    due = store.read_sync(lambda db: db.conn.execute("SELECT min(retry_at) FROM meta_album").fetchone()[0])
    assert due < time.time() + 2 * 3600  # asked again within the hour, not in a month
    # the providers recover: looking again fills everything in
    store.write_sync(lambda db: db.conn.execute("UPDATE meta_album SET retry_at = 0"))
    store.write_sync(lambda db: db.conn.execute("UPDATE meta_artist SET retry_at = 0"))
    store.write_sync(lambda db: db.conn.execute("UPDATE meta_track SET retry_at = 0"))
    store.write_sync(lambda db: db.conn.execute("DELETE FROM meta_answer WHERE status = 'failed'"))
    _pass(store, config, data.cache_dir / "metadata")
    progress = store.read_sync(meta_store.progress)
    assert progress["albums"]["found"] == 2 and progress["artists"]["found"] == 1
