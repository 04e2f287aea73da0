"""Real play flows through the native API of a real node on loopback."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from sonantica.node import cli
from tests.support.audio import make_track
from tests.support.node import init_node, running_node

SECONDS = 8.0  # threshold: half the track, 4 s


@pytest.fixture
def node_data(tmp_path):
    music = tmp_path / "music"
    for i, (artist, genre) in enumerate([("Ana", "Jazz"), ("Ana", "Jazz"), ("Bo", "Techno"), ("Cy", "Folk")]):
        make_track(music / f"{i}.flac", "flac", {"title": [f"Song {i}"], "artist": [artist], "album": [f"LP {artist}"],
                                                  "genre": [genre], "date": ["2001"]}, seconds=SECONDS, seed=i)
    return init_node(tmp_path / "node", music, {"owner": "owner", "ana": "listener", "bo": "listener"})


async def _ids(client) -> list[str]:
    r = await client.get("/api/v1/tracks", params={"sort": "title"})
    return [t["id"] for t in r.json()["items"]]


@contextlib.asynccontextmanager
async def logged_in(node, *names):
    clients = [await node.login(n) for n in names]
    try:
        yield clients
    finally:
        for c in clients:
            await c.aclose()


def _ms(t: float) -> int:
    return int(t * 1000)


async def _listen(c, track_id: str, seconds: float, t0: float, end: str = "end", client="web") -> dict:
    r = await c.post("/api/v1/plays/events", json={"event": "start", "track_id": track_id, "client": client,
                                                   "device": "laptop", "at": _ms(t0)})
    assert r.status_code == 201, r.text
    pid = r.json()["play_id"]
    pos = 0.0
    while pos < seconds:
        pos = min(seconds, pos + 2)
        r = await c.post("/api/v1/plays/events", json={"event": "progress", "play_id": pid,
                                                       "position_ms": _ms(pos), "at": _ms(t0 + pos)})
        assert r.status_code == 201, r.text
    r = await c.post("/api/v1/plays/events", json={"event": end, "play_id": pid, "position_ms": _ms(seconds),
                                                   "at": _ms(t0 + seconds)})
    return r.json()


async def test_play_flow_counts_once_and_feeds_stats(node_data):
    async with running_node(node_data) as node:
        async with logged_in(node, "ana") as (c,):
            ids = await _ids(c)
            t0 = time.time() - 60
            r = await c.post("/api/v1/plays/events", json={"event": "start", "track_id": ids[0], "client": "web",
                                                           "device": "phone", "at": _ms(t0)})
            pid = r.json()["play_id"]
            r = await c.post("/api/v1/plays/events", json={"event": "progress", "play_id": pid,
                                                           "position_ms": 3000, "at": _ms(t0 + 3)})
            assert r.json()["counted"] is False
            now = (await c.get("/api/v1/plays/now")).json()["items"]
            assert [e["track_id"] for e in now] == [ids[0]] and now[0]["track"]["title"] == "Song 0"
            r = await c.post("/api/v1/plays/events", json={"event": "pause", "play_id": pid,
                                                           "position_ms": 4500, "at": _ms(t0 + 4.5)})
            assert r.json()["counted"] is True and r.json()["state"] == "paused"
            end = {"event": "end", "play_id": pid, "position_ms": 8000, "at": _ms(t0 + 20)}
            first = await c.post("/api/v1/plays/events", json=end)
            again = await c.post("/api/v1/plays/events", json=end)  # a retrying client
            assert first.status_code == 201 and again.status_code == 200 and again.json()["duplicate"]
            assert (await c.get("/api/v1/plays/now")).json()["items"] == []

            # a seek to the end is not listening; skipping early is a skip
            r = await c.post("/api/v1/plays/events", json={"event": "start", "track_id": ids[1], "at": _ms(t0 + 30)})
            pid = r.json()["play_id"]
            await c.post("/api/v1/plays/events", json={"event": "seek", "play_id": pid, "position_ms": 7500,
                                                       "at": _ms(t0 + 31)})
            r = await c.post("/api/v1/plays/events", json={"event": "end", "play_id": pid, "position_ms": 8000,
                                                           "at": _ms(t0 + 31.5)})
            assert r.json()["counted"] is False
            r = await _listen(c, ids[2], 2, t0 + 40, end="skip")
            assert r["skipped"] is True and r["counted"] is False

            s = (await c.get("/api/v1/stats", params={"period": "today"})).json()
            assert s["totals"]["plays"] == 1 and s["top"]["tracks"][0]["id"] == ids[0]
            assert s["top"]["artists"][0]["name"] == "Ana" and s["top"]["genres"][0]["name"] == "Jazz"
            assert len(s["by_hour"]) == 24 and len(s["by_weekday"]) == 7 and s["streaks"]["current"] == 1
            assert s["discoveries"]["tracks"] == 1
            hist = (await c.get("/api/v1/plays/history")).json()["items"]
            assert [(h["track_id"], h["counted"], h["skipped"]) for h in hist] == [
                (ids[2], False, True), (ids[1], False, False), (ids[0], True, False)]

            bad = await c.post("/api/v1/plays/events", json={"event": "dance", "track_id": ids[0]})
            assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
            gone = await c.post("/api/v1/plays/events", json={"event": "start", "track_id": "tr-nope"})
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_privacy_export_and_delete(node_data):
    async with running_node(node_data) as node:
        async with logged_in(node, "ana", "bo", "owner") as (ana, bo, owner):
            ids = await _ids(ana)
            await _listen(ana, ids[0], SECONDS, time.time() - 100)
            for path in ("/api/v1/stats", "/api/v1/plays/history", "/api/v1/plays/export", "/api/v1/recommendations"):
                r = await bo.get(path, params={"user": "ana"})
                assert r.status_code == 403, path
            assert (await bo.delete("/api/v1/plays/history", params={"user": "ana"})).status_code == 403
            assert (await bo.get("/api/v1/plays/history")).json()["items"] == []
            assert (await bo.get("/api/v1/plays/now")).json()["items"] == []
            r = await owner.get("/api/v1/stats", params={"user": "ana", "period": "all"})
            assert r.status_code == 200 and r.json()["totals"]["plays"] == 1

            r = await ana.get("/api/v1/plays/export")
            assert r.headers["content-disposition"].startswith("attachment")
            doc = json.loads(r.content)
            assert doc["user"] == "ana" and [p["track_id"] for p in doc["plays"]] == [ids[0]]
            assert (await ana.delete("/api/v1/plays/history")).json() == {"deleted": 1}
            s = (await ana.get("/api/v1/stats", params={"period": "all"})).json()
            assert s["totals"]["plays"] == 0 and s["top"]["tracks"] == []
            assert json.loads((await ana.get("/api/v1/plays/export")).content)["plays"] == []


async def test_smart_generated_radio_and_recommendations(node_data):
    async with running_node(node_data) as node:
        async with logged_in(node, "ana") as (c,):
            ids = await _ids(c)
            t0 = time.time() - 3600
            await _listen(c, ids[0], SECONDS, t0)
            r = await c.post("/api/v1/smart-playlists", json={"name": "Played jazz", "rules": {
                "all": [{"gt": {"playcount": 0}}, {"is": {"genre": "jazz"}}], "sort": "-playcount", "limit": 10}})
            assert r.status_code == 201, r.text
            smart = r.json()
            assert [t["id"] for t in smart["tracks"]] == [ids[0]] and smart["generated"] == "smart"
            await _listen(c, ids[1], SECONDS, t0 + 60)
            live = (await c.get(f"/api/v1/smart-playlists/{smart['id']}")).json()
            assert sorted(t["id"] for t in live["tracks"]) == sorted(ids[:2])
            refused = await c.patch(f"/api/v1/playlists/{smart['id']}", json={"name": "mine now"})
            assert refused.status_code == 403
            bad = await c.post("/api/v1/smart-playlists", json={"name": "x", "rules": {"all": [{"is": {"mood": 1}}]}})
            assert bad.status_code == 400 and "unknown smart playlist field" in bad.json()["error"]["message"]
            # an editor checks half-typed rules as they come: 200 with the message and each rule's verdict
            check = await c.post("/api/v1/smart-playlists/check", json={"rules": {"all": [
                {"is": {"genre": "Jazz"}}, {"gt": {"year": "nineteen"}}], "limit": 5}})
            assert check.status_code == 200
            verdict = check.json()
            assert verdict["valid"] is False and "is not a number" in verdict["message"]
            assert verdict["rules"][0] is None and "is not a number" in verdict["rules"][1]
            ok = await c.post("/api/v1/smart-playlists/check", json={"rules": {"all": [{"is": {"genre": "Jazz"}}]}})
            assert ok.json() == {"valid": True, "message": None, "rules": []}

            gen = (await c.post("/api/v1/generated-playlists/refresh")).json()["items"]
            kinds = {p["generated"]: p for p in gen}
            assert "discoveries" in kinds and "daily-mix-1" in kinds
            disc = (await c.get(f"/api/v1/playlists/{kinds['discoveries']['id']}")).json()
            assert disc["tracks"] and not {t["id"] for t in disc["tracks"]} & set(ids[:2])

            recs = (await c.get("/api/v1/recommendations", params={"count": 5})).json()["items"]
            assert recs and all(x["reasons"] for x in recs)

            r = await c.post("/api/v1/radio", json={"track_id": ids[0], "count": 2})
            assert r.status_code == 201
            radio = r.json()
            first = [t["id"] for t in radio["tracks"]]
            more = (await c.get(f"/api/v1/radio/{radio['id']}", params={"count": 5})).json()["tracks"]
            served = first + [t["id"] for t in more]
            assert ids[0] not in served and len(served) == len(set(served)) == 3
            async with logged_in(node, "bo") as (bo,):
                assert (await bo.get(f"/api/v1/radio/{radio['id']}")).status_code == 404

    assert cli.main(["--data", str(node_data.root), "stats", "--user", "ana", "--period", "all", "--json"]) == 0
