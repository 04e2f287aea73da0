"""`make run` as a new user meets it: `sonantica quickstart` with no music folder.

One command gives a node with a demo library and two more local demo nodes,
federated with it, so the web app shows federated music at once. The test
runs the real command (three real processes on 127.0.0.1), creates the owner
the way the web app's first run does, and plays a member's song through the
first node.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.support.federation import wait_for

PASSWORD = "a long demo password"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _base_port() -> int:
    """A port P with P, P+1, P+10, P+11, P+20, P+21 free (the quickstart's layout).

    Below Linux's ephemeral range (32768+), where other tests' servers take ports with bind(0).
    """
    for _ in range(200):
        p = random.randrange(20_000, 32_000)
        if all(_free(p + d) for d in (0, 1, 10, 11, 20, 21)):
            return p
    raise AssertionError("no free port range on 127.0.0.1")


def _healthy(url: str, name: str = "") -> bool:
    try:
        r = httpx.get(url + "/api/v1/health", timeout=1)
        return r.status_code == 200 and (not name or r.json().get("name") == name)
    except (httpx.HTTPError, ValueError):
        return False


def test_quickstart_serves_a_federated_demo_library(tmp_path):
    port = _base_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "quickstart.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "sonantica.node.cli", "--data", str(tmp_path / "node"),
                             "quickstart", "--bind", f"127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is not None or _healthy(url, "Demo node"), timeout=150, interval=0.2, what="the node up")
        assert proc.poll() is None, (tmp_path / "quickstart.log").read_text()[-2000:]
        with httpx.Client(base_url=url, timeout=30) as c:
            # the web app's first run: the owner is created from this machine
            assert c.get("/api/v1/setup").json()["needed"] is True
            assert c.post("/api/v1/setup", json={"username": "owner", "password": PASSWORD}).status_code in (200, 201)
            assert c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200

            def members():
                items = c.get("/api/v1/federation/members").json()["items"]
                return items if len(items) == 3 and all(m["online"] and m["tracks"] > 0 and m["name"]
                                                        for m in items) else None

            items = wait_for(members, timeout=90, interval=0.5,
                             what="three demo nodes federated, online, named, with music")
            assert {m["name"] for m in items if not m["self"]} == {"Ana's node", "Ben's node"}
            folders = c.get("/api/v1/folders").json()["items"]
            assert len([f for f in folders if f["node"]]) == 2  # each member is its own music folder

            # a song only a member holds plays through this node, whole
            member_folder = next(f for f in folders if f["node"])
            tracks = c.get("/api/v1/tracks", params={"folder": member_folder["id"], "limit": 500}).json()["items"]
            local = {t["title"] for f in folders if not f["node"]
                     for t in c.get("/api/v1/tracks", params={"folder": f["id"], "limit": 500}).json()["items"]}
            theirs = next(t for t in tracks if t["title"] not in local)
            r = c.get(theirs["stream_url"], params={"format": "raw"})
            assert r.status_code == 200 and len(r.content) == theirs["size"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    # stopping the quickstart stops the demo nodes it started
    time.sleep(0.5)
    assert not any(_healthy(f"http://127.0.0.1:{port + d}") for d in (10, 20))
