"""getIndexes' lastModified and ifModifiedSince (issue 18, 9b), over real scans of a real node.

A client syncs the artist index and keeps ``lastModified``; asked again with
``ifModifiedSince=<lastModified>`` the node answers an indexes element without an index as long as
the listed artists did not change. A rescan that changes nothing must not move it; one that adds an
artist must.
"""

import sqlite3
import time

import pytest

from tests.support.audio import make_track
from tests.support.node import init_node

from .conftest import app_password
from .harness import Sub, node_in_thread


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    music = tmp_path_factory.mktemp("indexes") / "music"
    for n, artist in enumerate(("Ana", "The Bo", "Cy")):
        make_track(music / artist / "01.flac", "flac", {"title": f"Song {n}", "artist": artist,
                                                        "albumartist": artist, "album": f"Album {n}"}, seed=n)
    return music


@pytest.fixture(scope="module")
def node(music):
    data = init_node(music.parent / "node", music, users={"owner": "owner"})
    with node_in_thread(data) as running:
        yield running


@pytest.fixture(scope="module")
def owner(node):
    return Sub(node.url, "owner", app_password(node, "owner"))


def _finished_at(node) -> float:
    with sqlite3.connect(node.data.db_path) as db:
        return db.execute("SELECT coalesce(finished_at, 0) FROM scan_state WHERE id = 1").fetchone()[0]


def _rescan(node, owner: Sub) -> None:
    before = _finished_at(node)
    owner.json("startScan", {"fullScan": "true"})
    deadline = time.monotonic() + 30
    while _finished_at(node) <= before or owner.json("getScanStatus")["scanStatus"]["scanning"]:
        assert time.monotonic() < deadline, "the scan did not finish"
        time.sleep(0.05)


def _names(indexes: dict) -> list[str]:
    return [a["name"] for i in indexes.get("index", []) for a in i["artist"]]


def test_last_modified_moves_only_when_the_artists_change(node, owner, music):
    first = owner.json("getIndexes")["indexes"]
    assert _names(first) == ["Ana", "The Bo", "Cy"]
    since = first["lastModified"]

    time.sleep(0.01)
    _rescan(node, owner)  # nothing changed on disk
    again = owner.json("getIndexes")["indexes"]
    assert again["lastModified"] == since and _names(again) == _names(first)
    unchanged = owner.json("getIndexes", {"ifModifiedSince": since})["indexes"]
    assert unchanged == {"ignoredArticles": first["ignoredArticles"], "lastModified": since}
    assert b"<index " not in owner.raw("getIndexes", {"ifModifiedSince": since}, fmt="").content
    owner.xml("getIndexes", {"ifModifiedSince": since})  # valid against the XSD
    # an older time than lastModified gets the whole index
    assert _names(owner.json("getIndexes", {"ifModifiedSince": since - 1})["indexes"]) == _names(first)

    make_track(music / "Di" / "01.flac", "flac", {"title": "New", "artist": "Di", "albumartist": "Di",
                                                  "album": "Fresh"}, seed=9)
    _rescan(node, owner)
    changed = owner.json("getIndexes", {"ifModifiedSince": since})["indexes"]
    assert changed["lastModified"] > since and _names(changed) == ["Ana", "The Bo", "Cy", "Di"]
    assert "index" not in owner.json("getIndexes", {"ifModifiedSince": changed["lastModified"]})["indexes"]

    (music / "Di" / "01.flac").unlink()  # an artist removed moves it too
    _rescan(node, owner)
    gone = owner.json("getIndexes", {"ifModifiedSince": changed["lastModified"]})["indexes"]
    assert gone["lastModified"] > changed["lastModified"] and _names(gone) == _names(first)
