"""The analysis service on a real node: queue after scan, workers, API, crashes, restarts, CLI."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import trio

from sonantica.node import cli
from sonantica.node.analysis import service
from sonantica.node.analysis.runner import KIND, Settings, current_versions
from sonantica.node.store import jobs
from sonantica.node.store.db import Store
from sonantica.protocol.chunks import FileIdBuilder
from tests.analysis.music import render
from tests.support.audio import make_track, write_audio, write_tags
from tests.support.node import init_node, running_node

FAST = Settings(lease_s=1.5, backoff=jobs.Backoff(base_s=0.2, max_s=1.0, max_attempts=2), poll_s=0.1,
                sweep_s=60, idle_exit_s=60, busy_pause_s=0.05)


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(service, "SETTINGS", FAST)


def song(path: Path, title: str, tonic: int, mode: str, bpm: float, seconds: float = 10, fmt: str = "flac") -> Path:
    write_audio(path, fmt, render(tonic, mode, bpm, seconds, seed=tonic), 44100)
    write_tags(path, fmt, {"title": title, "artist": "Band", "album": "Record", "tracknumber": str(tonic)})
    return path


async def wait_idle(client, timeout: float = 90, at_least: int = 1) -> dict:
    """Until analysis has nothing left; the bound is for liveness, not speed (bench/ measures that)."""
    with trio.fail_after(timeout):
        while True:
            p = (await client.get("/api/v1/analysis")).json()
            if p["total"] >= at_least and p["pending"] == 0 and p["running"] == 0:
                return p
            await trio.sleep(0.1)


def job_row(data, target: str) -> dict:
    with Store.open(data.db_path) as store:
        return store.read_sync(jobs.get, KIND, target)


def file_id_of(path: Path) -> str:
    b = FileIdBuilder()
    b.update(path.read_bytes())
    return b.finish()[0]


async def test_scan_queues_jobs_results_reach_the_api_and_a_bumped_version_reruns_one_feature(tmp_path, capsys):
    music = tmp_path / "music"
    song(music / "1.flac", "One", 9, "minor", 124)
    song(music / "2.mp3", "Two", 0, "major", 100, fmt="mp3")
    data = init_node(tmp_path / "node", music)
    async with running_node(data) as node:
        c = await node.login()
        p = await wait_idle(c, at_least=2)
        assert (p["done"], p["failed"], p["analysed"], p["tracks"]) == (2, 0, 2, 2)
        items = {t["title"]: t for t in (await c.get("/api/v1/tracks")).json()["items"]}
        one = (await c.get(f"/api/v1/tracks/{items['One']['id']}")).json()
        a = one["analysis"]
        assert a["versions"] == current_versions()
        assert a["key"]["key"] == "A minor" and a["key"]["camelot"] == "8A"
        assert abs(a["bpm"]["bpm"] - 124) <= 2.5 and 0 <= a["bpm"]["confidence"] <= 1
        assert a["loudness"]["integrated_lufs"] < 0 and a["loudness"]["loudness_range_lu"] >= 0
        assert a["fingerprint"]["present"] and a["album_loudness"]["replaygain_album_gain_db"] is not None
        assert "raw" not in a["fingerprint"] and "block_histogram" not in a["loudness"]
        assert "data" not in json.dumps(a["waveform"])
        # the track columns the Subsonic API reads
        assert one["bpm"] == round(a["bpm"]["bpm"])
        assert one["rg_track_gain"] == a["loudness"]["replaygain_track_gain_db"]
        assert one["rg_album_gain"] == a["album_loudness"]["replaygain_album_gain_db"]
        assert one["file_id"] == file_id_of(music / "1.flac")
        # waveform levels, peaks.js JSON
        wf = (await c.get(f"/api/v1/tracks/{one['id']}/waveform", params={"spp": 2048})).json()
        assert wf["samples_per_pixel"] == 2048 and wf["bits"] == 8 and len(wf["data"]) == 2 * wf["length"]
        assert (await c.get(f"/api/v1/tracks/{one['id']}/waveform")).json()["samples_per_pixel"] == 512
        assert (await c.get("/api/v1/tracks/tr-nope/waveform")).status_code == 404

        # an older algorithm's bpm: only that feature runs again
        with Store.open(data.db_path) as store:
            store.write_sync(lambda db: db.conn.execute(
                "UPDATE analysis SET version = 0 WHERE feature = 'bpm' AND track_id = ?", (one["id"],)))
            before = dict(store.read_sync(lambda db: db.conn.execute(
                "SELECT feature, computed_at FROM analysis WHERE track_id = ?", (one["id"],)).fetchall()))
        r = await c.post("/api/v1/analysis", json={})
        assert r.status_code == 202 and r.json()["queued"] == 1
        await wait_idle(c)
        with Store.open(data.db_path) as store:
            after = dict(store.read_sync(lambda db: db.conn.execute(
                "SELECT feature, computed_at FROM analysis WHERE track_id = ?", (one["id"],)).fetchall()))
        assert {f for f in after if after[f] != before[f]} == {"bpm"}

        # `sonantica analyze --force --json` while serving: the node's workers do it, one JSON line
        capsys.readouterr()
        code = await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "analyze", "--force", "--json"])
        out = capsys.readouterr().out.splitlines()
        assert code == 0 and len(out) == 1
        summary = json.loads(out[0])
        assert summary["ran"] == "node" and summary["done_now"] == 2 and summary["analysed"] == 2


async def test_worker_killed_mid_job_is_replaced_and_the_job_completes(tmp_path):
    music = tmp_path / "music"
    make_track(music / "long.flac", tags={"title": "Long"}, seconds=400, channels=1)
    data = init_node(tmp_path / "node", music)
    async with running_node(data) as node:
        c = await node.login()
        with trio.fail_after(20):
            while not (active := (await c.get("/api/v1/analysis")).json()["active"]) or "pid" not in active[0]:
                await trio.sleep(0.05)
        first = active[0]["pid"]
        os.kill(first, signal.SIGKILL)
        p = await wait_idle(c, timeout=40)
        assert p["done"] == 1 and p["failed"] == 0
        row = job_row(data, active[0]["track_id"])
        assert row["state"] == "done" and row["attempts"] == 2
        track = (await c.get(f"/api/v1/tracks/{active[0]['track_id']}")).json()
        assert track["analysis"]["waveform"]["version"] >= 1
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


async def test_corrupt_file_fails_with_its_reason_after_retries_and_shows_in_status(tmp_path, capsys):
    music = tmp_path / "music"
    bad = make_track(music / "bad.flac", tags={"title": "Bad"}, seconds=4)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])  # truncated: tags fine, audio cut
    make_track(music / "good.flac", tags={"title": "Good"}, seconds=2, seed=3)
    data = init_node(tmp_path / "node", music)
    async with running_node(data) as node:
        c = await node.login()
        with trio.fail_after(20):
            while (p := await wait_idle(c, at_least=2))["failed"] != 1:
                await trio.sleep(0.1)
        assert p["done"] == 1
        [failure] = p["failures"]
        assert failure["state"] == "failed" and failure["attempts"] == FAST.backoff.max_attempts
        assert "trunc" in failure["last_error"].lower() or "decod" in failure["last_error"].lower()
    capsys.readouterr()
    assert await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "status"]) == 0
    out = capsys.readouterr().out
    assert "analysis: 1 of 2 tracks analysed" in out and "1 failed" in out and failure["target"] in out


async def test_restart_resumes_and_takes_over_a_dead_nodes_lease(tmp_path):
    music = tmp_path / "music"
    for i in range(3):
        make_track(music / f"{i}.flac", tags={"title": f"T{i}"}, seconds=2, seed=i)
    data = init_node(tmp_path / "node", music)
    assert await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "scan", "--json"]) == 0
    with Store.open(data.db_path) as store:
        from sonantica.node.store import analysis as an

        stale = store.read_sync(an.stale_tracks, current_versions())
        store.write_sync(jobs.enqueue, KIND, stale, time.time())
        # a node that died holding a job: its lease runs out, nobody renews it
        held = store.write_sync(jobs.claim, KIND, "dead-node", FAST.lease_s, time.time())
    async with running_node(data) as node:
        c = await node.login()
        p = await wait_idle(c, at_least=3)
        assert (p["done"], p["analysed"]) == (3, 3)
    row = job_row(data, held.target)
    assert row["state"] == "done" and row["attempts"] == 2


async def test_analyze_in_the_foreground_prints_one_json_line(tmp_path, capsys):
    music = tmp_path / "music"
    for i in range(2):
        make_track(music / f"{i}.flac", tags={"title": f"T{i}"}, seconds=2, seed=i)
    data = init_node(tmp_path / "node", music)
    assert await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "scan", "--json"]) == 0
    capsys.readouterr()
    assert await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "analyze", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert summary["ran"] == "here" and summary["analysed"] == summary["tracks"] == 2 and summary["failed"] == 0
    assert await trio.to_thread.run_sync(cli.main, ["--data", str(data.root), "analyze", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] == "nothing to do"
