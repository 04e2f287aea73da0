"""Whatever the order of scan, serve, invite and join, every member's shared tracks reach every member.

People set up, scan, then invite (issue 18, defect 2); the older federation tests started empty
nodes that scanned while serving. These run the real CLI and real `serve` processes, with the
watcher off so that only the CLI's `scan` can tell a serving node about new files.
"""

import json

import httpx
import pytest

from tests.support.audio import make_track
from tests.support.federation import cli, make_node, stop_all, wait_for
from tests.support.node import PASSWORD

TRACKS = 13
BOUND_S = 15  # a few gossip rounds, far below the 30 s periodic publish


def _add_tracks(node, seed: int, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        make_track(node.music / f"{node.name}/Live {node.name}/{n + 1:02d} - {node.name} take {n + 1}.flac", "flac",
                   {"title": f"{node.name} take {n + 1}", "artist": f"Band {node.name}",
                    "album": f"Live {node.name}", "tracknumber": str(n + 1)}, seed=seed * 100 + n, seconds=1)


def _songs(node) -> int:
    """What a Subsonic app syncs: `search3 ""` paged to the end."""
    params = {"u": "owner", "p": PASSWORD, "c": "test", "v": "1.16.1", "f": "json", "query": "",
              "songCount": 20, "artistCount": 0, "albumCount": 0}
    total, offset = 0, 0
    while True:
        r = httpx.get(node.url + "/rest/search3", params={**params, "songOffset": offset}, timeout=10)
        page = r.json()["subsonic-response"]["searchResult3"].get("song", [])
        total += len(page)
        offset += 20
        if len(page) < 20:
            return total


def _tracks_by_name(node) -> dict[str, int]:
    return {p["name"]: p["tracks"] for p in json.loads(cli(node.data, "peers", "--json").stdout)}


def _converged(nodes, each: int) -> None:
    for node in nodes:
        wait_for(lambda: _songs(node) == len(nodes) * each, timeout=BOUND_S,
                 what=f"{node.name} lists every member's songs")
    want = {f"Node {n.name}": each for n in nodes}
    for node in nodes:
        wait_for(lambda: _tracks_by_name(node) == want, timeout=BOUND_S,
                 what=f"`sonantica peers` on {node.name} counts every member's tracks, its own included")


@pytest.fixture
def scanned_nodes(tmp_path):
    """A, B and C, each with its own 13 tracks, scanned by `sonantica scan` before anything else."""
    nodes = []
    for i, name in enumerate("ABC"):
        node = make_node(tmp_path, name)
        _add_tracks(node, i, TRACKS)
        assert "13 added" in cli(node.data, "scan").stdout
        nodes.append(node)
    try:
        yield nodes
    finally:
        stop_all(nodes)


def test_scan_serve_then_invite_in_a_chain(scanned_nodes):
    """The order of the report: init + scan, serve, A invites B, B invites C; then restarts and a rescan."""
    a, b, c = scanned_nodes
    for n in scanned_nodes:
        n.start()
    b.join(a.invite())
    c.join(b.invite())
    _converged(scanned_nodes, TRACKS)

    for n in scanned_nodes:  # everyone restarts: nothing is lost, nothing waits for a periodic publish
        n.stop()
    for n in scanned_nodes:
        n.start()
    _converged(scanned_nodes, TRACKS)

    _add_tracks(c, 2, 2, start=TRACKS)  # C's owner adds an album side and scans from the CLI while serving
    assert "2 added" in cli(c.data, "scan").stdout
    for node in scanned_nodes:
        wait_for(lambda: _songs(node) == 3 * TRACKS + 2, timeout=BOUND_S, what=f"{node.name} sees C's new songs")


def test_join_before_serving_and_scan_while_stopped(scanned_nodes):
    """B and C join while they do not serve; later B is stopped, gets new music, scans, and serves again."""
    a, b, c = scanned_nodes
    a.start()
    b.join(a.invite())
    c.join(a.invite())
    b.start()
    c.start()
    _converged(scanned_nodes, TRACKS)

    b.stop()
    _add_tracks(b, 1, 1, start=TRACKS)
    assert "1 added" in cli(b.data, "scan").stdout
    b.start()
    for node in scanned_nodes:
        wait_for(lambda: _songs(node) == 3 * TRACKS + 1, timeout=BOUND_S, what=f"{node.name} sees B's new song")


def test_nodes_sharing_one_machine_pick_their_own_peer_ports(tmp_path):
    """Several nodes on one machine without a peer port each: the first takes 4534, the others another.

    Before, every node but the first died when it joined (its peer API could not bind 4534), and
    invites carried port 4534, which is the first node's, so joins ended in a certificate mismatch.
    ``peer_bind = "127.0.0.1"`` keeps the test on loopback; the port logic is the default's.
    """
    nodes = []
    for i, name in enumerate("ABC"):
        node = make_node(tmp_path, name, peer_bind="127.0.0.1")
        node.peer_flag = False
        _add_tracks(node, i, 3)
        cli(node.data, "scan")
        nodes.append(node)
    a, b, c = nodes
    try:
        for n in nodes:
            n.start()
        b.join(a.invite())
        c.join(b.invite())
        _converged(nodes, 3)
        ports = {next(p for p in json.loads(cli(n.data, "peers", "--json").stdout) if p["self"])["addresses"][0]
                 for n in nodes}
        assert len(ports) == 3, "each node is known at its own address"
        for n in nodes:
            assert n.proc.poll() is None, f"{n.name} is still serving"
    finally:
        stop_all(nodes)
