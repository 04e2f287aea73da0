"""AcoustID: a track nothing else matched gets its recording MBID from its fingerprint, once the analysis
has computed it (until then it is looked at again soon, and nothing is sent); only with a key."""

from __future__ import annotations

import time
from dataclasses import replace

import trio

from sonantica.node import cli
from sonantica.node.config import DataDir
from sonantica.node.metadata.worker import Worker
from sonantica.node.store import metadata as meta_store
from sonantica.node.store.db import Store
from tests.support.audio import make_track

from .standin import Answer, body_json

RECORDING = "eeeeeeee-5555-4555-8555-000000000001"


def _lookup(seen) -> Answer:
    if seen.query.get("client") != "testkey1" or not seen.query.get("fingerprint", "").startswith("AQ"):
        return Answer(400, body_json({"status": "error", "error": {"code": 4, "message": "invalid API key"}}))
    return Answer(200, body_json({"status": "ok", "results": [
        {"id": "0b2ce9b0-9c3a-4a3b-8bde-5d5f9a1c0001", "score": 0.42, "recordings": [{"id": "ffffffff-0000-4000-8000-000000000000"}]},
        {"id": "0b2ce9b0-9c3a-4a3b-8bde-5d5f9a1c0002", "score": 0.95, "recordings": [{"id": RECORDING}]},
    ]}))


def _pass(store, config, folder):
    async def go():
        w = Worker(store, config, folder)
        try:
            return await w.run_pass()
        finally:
            await w.http.aclose()

    return trio.run(go)


def test_fingerprint_match_after_analysis(tmp_path, standin):
    standin.routes["/acoustid/v2/lookup"] = _lookup
    music = tmp_path / "music"
    make_track(music / "x" / "01.flac", "flac", {"title": "Mystery", "artist": "Nobody", "album": "Void"},
               seconds=3, seed=5)
    assert cli.main(["--data", str(tmp_path / "node"), "init", "--music", str(music)]) == 0
    data = DataDir(tmp_path / "node")
    config = replace(data.load_config(), metadata=True, metadata_acoustid_key="testkey1", **standin.settings())
    data.save_config(config)
    assert cli.main(["--data", str(data.root), "scan"]) == 0
    store = Store.open(data.db_path)
    try:
        track = store.read_sync(lambda db: db.conn.execute("SELECT id FROM track").fetchone()[0])
        before = standin.count("acoustid")
        _pass(store, config, data.cache_dir / "metadata")
        assert standin.count("acoustid") == before  # no fingerprint yet: nothing to send
        row = store.read_sync(meta_store.track_row, track)
        assert row["recording_mbid"] is None and row["retry_at"] < time.time() + 2 * 3600  # looked at again soon

        assert cli.main(["--data", str(data.root), "analyze"]) == 0
        store.write_sync(lambda db: db.conn.execute("UPDATE meta_track SET retry_at = 0"))
        _pass(store, config, data.cache_dir / "metadata")
        assert store.read_sync(meta_store.track_row, track)["recording_mbid"] == RECORDING
        [asked] = [s for s in standin.seen if s.path == "/acoustid/v2/lookup"]
        assert set(asked.query) == {"client", "meta", "format", "duration", "fingerprint"}
        assert asked.query["duration"] == "3"

        # without a key, AcoustID is never asked
        store.write_sync(lambda db: db.conn.execute("UPDATE meta_track SET retry_at = 0, recording_mbid = NULL"))
        _pass(store, replace(config, metadata_acoustid_key=""), data.cache_dir / "metadata")
        assert standin.count("acoustid") == before + 1
    finally:
        store.close()
