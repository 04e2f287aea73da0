"""A member whose address changed is found again through gossip (no LAN discovery involved)."""

import json

import pytest

from sonantica.node.config import DataDir, parse_config
from sonantica.node.errors import ConfigError
from sonantica.node.federation.invites import advertised_addresses
from tests.support.audio import make_track
from tests.support.federation import cli, free_port, make_node, search_titles, stop_all, wait_for


def _peer(node, node_id: str) -> dict:
    return next(p for p in json.loads(cli(node.data, "peers", "--json").stdout) if p["id"] == node_id)


def test_member_that_moved_to_a_new_port_is_found_again_by_gossip(tmp_path):
    a = make_node(tmp_path, "A", discovery=False)
    b = make_node(tmp_path, "B", discovery=False)
    song = b.music / "B/Moving/01 - Only on B.flac"
    make_track(song, "flac", {"title": "Only on B", "artist": "Mover", "album": "Moving"}, seed=3, seconds=3)
    try:
        a.start()
        b.start()
        b.join(a.invite())
        wait_for(lambda: search_titles(a, "only") == ["Only on B"], what="B's music on A")
        b_id = b.node_id()
        old = f"https://127.0.0.1:{b.peer_port}"
        assert _peer(a, b_id)["addresses"] == [old]

        b.stop()
        b.peer_port = free_port()  # B comes back elsewhere (a new port, as after a router change)
        b.start()
        new = f"https://127.0.0.1:{b.peer_port}"
        wait_for(lambda: _peer(a, b_id)["addresses"] == [new], timeout=30, what="A learns B's new address")

        # A reaches B at the new address: B's track streams through A, byte-exact
        with a.client() as client:
            track = client.get("/api/v1/search", params={"q": "only on b"}).json()["tracks"][0]
            r = client.get(track["stream_url"], params={"format": "raw"})
            assert r.status_code == 200 and r.content == song.read_bytes()
        wait_for(lambda: _peer(a, b_id)["online"], what="B online again as seen by A")

        # the move survives A's restart (the announce is stored, not only in memory)
        a.stop()
        a.start()
        assert _peer(a, b_id)["addresses"] == [new]
    finally:
        stop_all([a, b])


def test_peer_advertise_comes_first_and_is_checked(tmp_path):
    config = parse_config('peer_advertise = ["music.example.org:4534", "https://[2001:db8::1]:4534"]')
    assert config.peer_advertise == ("https://music.example.org:4534", "https://[2001:db8::1]:4534")
    addresses = advertised_addresses("127.0.0.1:4534", False, 4534, config.peer_advertise)
    assert addresses == ["https://music.example.org:4534", "https://[2001:db8::1]:4534", "https://127.0.0.1:4534"]
    too_long = "https://" + "a" * 250 + ".example:1"
    for bad in ('["music.example.org"]', '["ftp://x:1"]', '["https://x:99999"]', '["https://x:1/path"]',
                '["http://x:1"]', f'["{too_long}"]', str([f"h{i}.example:1" for i in range(5)]).replace("'", '"')):
        with pytest.raises(ConfigError, match="peer_advertise"):
            parse_config(f"peer_advertise = {bad}")


def test_invites_carry_the_advertised_address(tmp_path):
    a = make_node(tmp_path, "A", discovery=False, peer_advertise=("https://music.example.org:4534",))
    code = a.invite()
    from sonantica.protocol.invites import Invite

    assert Invite.from_code(code).addresses[0] == "https://music.example.org:4534"
    assert DataDir(a.data).load_config().peer_advertise == ("https://music.example.org:4534",)
