"""One node's external metadata serves its federation: A fetches a cover and MBIDs for its album (from
loopback stand-ins of MusicBrainz and the Cover Art Archive); member B, which fetches nothing
(metadata off), shows that cover and those MBIDs for A's album, the cover verified by its content id."""

from __future__ import annotations

import pytest

from tests.metadata.standin import Running
from tests.metadata.world import COVER, HOMOGENIC, HUNTER_REC, build_library, wire
from tests.support.federation import make_node, stop_all, wait_for


@pytest.fixture
def pair(tmp_path):
    running = Running()
    standin = wire(running.start())
    a = make_node(tmp_path, "A", metadata=True, metadata_lrclib=False, metadata_wikimedia=False,
                  **standin.settings())
    build_library(a.music)
    b = make_node(tmp_path, "B")
    nodes = [a, b]
    try:
        for n in nodes:
            n.start()
        b.join(a.invite())
        yield a, b
    finally:
        stop_all(nodes)
        running.stop()


def test_member_shows_the_cover_and_mbids_another_member_fetched(pair):
    a, b = pair
    with b.client() as c:
        def homogenic():
            albums = {al["name"]: al for al in c.get("/api/v1/albums").json()["items"]}
            album = albums.get("Homogenic")
            return album if album and album["cover_url"] else None

        album = wait_for(homogenic, timeout=60, what="A's Homogenic on B, with the cover A fetched")
        assert c.get(album["cover_url"]).content == COVER  # fetched from A, checked against its content id
        detail = c.get(f"/api/v1/albums/{album['id']}").json()
        hunter = next(t for t in detail["tracks"] if t["title"] == "Hunter")
        assert hunter["mb_recording_id"] == HUNTER_REC and hunter["mb_album_id"] == HOMOGENIC
    assert b.data.joinpath("cache", "metadata").exists() is False  # B asked no outside service
