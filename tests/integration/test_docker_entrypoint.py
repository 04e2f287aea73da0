"""docker/entrypoint.sh, run as docker/compose.yaml runs it, but as plain processes.

No Docker engine is needed (none is on the CI machine): the three services'
environments are reproduced with loopback ports and temporary folders, so the
script's own logic is what is tested: init with the owner, serve, the leader's
invite in the shared folder, the followers' join, and a follower's restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.audio import make_track
from tests.support.federation import free_port, wait_for

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"
PASSWORD = "change me please"


def _start(tmp: Path, name: str, role: str, port: int, leader_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SONANTICA_ROLE": role, "SONANTICA_NAME": name,
        "SONANTICA_DATA": str(tmp / name / "data"), "SONANTICA_MUSIC": str(tmp / name / "music"),
        "SONANTICA_SHARE": str(tmp / "share"), "SONANTICA_LEADER_URL": leader_url,
        "SONANTICA_OWNER_PASSWORD": PASSWORD,
        "SONANTICA_BIND": f"127.0.0.1:{port}", "SONANTICA_PEER_BIND": f"127.0.0.1:{free_port()}",
        "SONANTICA_JOIN_TIMEOUT_S": "60",
    }
    log = open(tmp / f"{name}.log", "ab")
    return subprocess.Popen(["bash", str(ENTRYPOINT)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    """As `docker stop`: SIGTERM to the script (PID 1 in the container) only. When it exits, the
    container's other processes are killed; so the script must have waited for its server."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    leftover = _group_alive(proc.pid)
    if leftover:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not leftover, "the entrypoint exited before its server had shut down"


@pytest.mark.skipif(shutil.which("bash") is None, reason="the entrypoint is a bash script")
def test_compose_services_form_a_three_node_federation(tmp_path):
    names = ["Node 1", "Node 2", "Node 3"]
    for i, name in enumerate(names):
        make_track(tmp_path / name / "music" / f"{name}/01 - Song of {name}.flac", "flac",
                   {"title": f"Song of {name}", "artist": name, "album": f"Album of {name}"}, seed=i, seconds=2)
    ports = [free_port() for _ in names]
    leader = f"http://127.0.0.1:{ports[0]}"
    procs = [_start(tmp_path, names[0], "leader", ports[0], leader)]
    try:
        procs += [_start(tmp_path, n, "follower", p, leader) for n, p in zip(names[1:], ports[1:])]
        with httpx.Client(base_url=leader, timeout=30) as c:
            wait_for(logged_in_as(c), timeout=60, interval=0.3, what="node 1 up with its owner")

            def everyone():
                r = c.get("/api/v1/search", params={"q": "song", "limit": 50})
                return sorted(t["title"] for t in r.json()["tracks"]) == [f"Song of {n}" for n in names]

            wait_for(everyone, timeout=90, interval=0.5, what="node 1 sees the music of all three")
            assert (tmp_path / "share" / "invite").read_text().strip()
        # a follower restarted (`docker compose restart node2`) keeps its membership and does not join
        # again; the script waits for its server to shut down before it exits (else the new one cannot start)
        _stop(procs[1])
        procs[1] = _start(tmp_path, names[1], "follower", ports[1], leader)
        wait_for(lambda: "already a member" in (tmp_path / "Node 2.log").read_text(), timeout=60,
                 what="node 2 knows it is a member")
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as c:
            wait_for(logged_in_as(c), timeout=60, interval=0.3, what="node 2 up again")
            members = c.get("/api/v1/federation/members").json()["items"]
            assert len(members) == 3
    finally:
        for p in procs:
            _stop(p)
    assert all(p.returncode is not None for p in procs)


def logged_in_as(c: httpx.Client):
    def check():
        try:
            return c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
        except httpx.HTTPError:
            return False
    return check
