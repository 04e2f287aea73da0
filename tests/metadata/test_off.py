"""Off by default, and off means no outside request at all: a stand-in listening at every provider
address sees nothing while a node starts, scans its library (before it answers) and is asked to refresh."""

from __future__ import annotations

import httpx

from sonantica.node.config import Config
from tests.subsonic.harness import node_in_thread
from tests.support.node import PASSWORD, init_node

from .world import build_library


def test_default_is_off():
    assert Config().metadata is False


def test_off_node_sends_nothing(tmp_path, standin):
    build_library(tmp_path / "music")
    data = init_node(tmp_path / "node", tmp_path / "music", **standin.settings())  # metadata left at its default
    before = standin.count()
    with node_in_thread(data) as node:
        with httpx.Client(base_url=node.url, timeout=10) as c:
            c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
            r = c.post("/api/v1/metadata/refresh")
            assert r.status_code == 202 and r.json()["enabled"] is False
            status = c.get("/api/v1/metadata").json()
            assert status["enabled"] is False and status["providers"] == []
            songs = c.get("/api/v1/tracks").json()["items"]
            hunter = next(t for t in songs if t["title"] == "Hunter")
            assert c.get(f"/api/v1/tracks/{hunter['id']}/lyrics").json()["lines"] == []
    assert standin.count() == before
