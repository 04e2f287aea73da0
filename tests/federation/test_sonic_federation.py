"""Sonic similarity across a federation (three real nodes): members' vectors travel in their signed
catalogue records, and a sonic path from A's music runs through B's and plays byte-exact through A.

One federation for the whole module (each costs 20–30 s): A holds the start and the end of the path
(two distant families), B holds music in between (a second piece of each), C holds a copy of one of
B's files (two holders of one recording).
"""

from __future__ import annotations

import httpx
import pytest

from tests.analysis.encode import write_flac
from tests.analysis.families import FAMILIES
from tests.analysis.families import render_piece
from tests.subsonic.oracle import check_json
from tests.support.audio import write_tags
from tests.support.federation import make_node, stop_all, wait_for

START, END = FAMILIES[0], FAMILIES[2]  # plain-90-C and bright-100-F#: far apart in every respect


def _piece(music, family, seed: int, title: str):
    path = music / family.name / f"{title}.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_flac(path, render_piece(family, 4, seed=seed), 44100)
    write_tags(path, "flac", {"title": title, "artist": family.name, "album": family.name})
    return path


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    root = tmp_path_factory.mktemp("sonicfed")
    a, b, c = (make_node(root, n) for n in "ABC")
    _piece(a.music, START, 1, "A start")
    _piece(a.music, END, 2, "A end")
    near_start = _piece(b.music, START, 3, "B near start")
    _piece(b.music, END, 4, "B near end")
    (c.music / "copy").mkdir(parents=True)
    (c.music / "copy" / "B near start.flac").write_bytes(near_start.read_bytes())
    try:
        for n in (a, b, c):
            n.start()
        b.join(a.invite("--uses", "2"))
        c.join(a.invite())
        with a.client() as client:
            pw = client.post("/api/v1/me/subsonic-password").json()["password"]
        yield {"a": a, "b": b, "c": c, "pw": pw, "near_start": near_start.read_bytes()}
    finally:
        stop_all([a, b, c])


def rest(fed, method: str, **params):
    body = httpx.get(f"{fed['a'].url}/rest/{method}", params={
        "u": "owner", "p": fed["pw"], "c": "tests", "v": "1.16.1", "f": "json", **params}, timeout=30).json()
    check_json(method, body)
    return body["subsonic-response"]


def _when(found, size: int):
    return found if len(found) == size else None


def _songs(fed) -> dict[str, str]:
    found = rest(fed, "search3", query="", songCount=50)["searchResult3"]["song"]
    return {s["title"]: s["id"] for s in found}


def _similar_titles(fed, ident: str) -> list[str]:
    body = rest(fed, "getSonicSimilarTracks", id=ident, count=10)
    return [m["entry"]["title"] for m in body.get("sonicMatch", [])] if body["status"] == "ok" else []


def test_members_vectors_reach_the_first_node_and_a_path_through_them_plays_byte_exact(federation):
    songs = wait_for(lambda: _when(_songs(federation), 4), timeout=60, what="every member's song on A")
    # B's vectors arrive with its catalogue once B has analysed its music
    similar = wait_for(lambda: _when(_similar_titles(federation, songs["A start"]), 3), timeout=120,
                       what="B's songs in A's sonic neighbourhood")
    assert similar[0] == "B near start"  # the same family, held by a member: nearest
    assert similar[-1] in ("A end", "B near end")
    path = rest(federation, "findSonicPath", startSongId=songs["A start"], endSongId=songs["A end"], count=4)
    titles = [m["entry"]["title"] for m in path["sonicMatch"]]
    assert titles == ["A start", "B near start", "B near end", "A end"]
    # the member's song on the path plays through A, verified, from either holder (B or C)
    r = httpx.get(f"{federation['a'].url}/rest/stream", params={
        "u": "owner", "p": federation["pw"], "c": "tests", "v": "1.16.1", "id": songs["B near start"],
        "format": "raw"}, timeout=60)
    assert r.status_code == 200 and r.content == federation["near_start"]
    with federation["a"].client() as client:  # the native API's sonic routes see members' music too
        native = client.get(f"/api/v1/tracks/{songs['A start']}/sonic/path",
                            params={"to": songs["A end"], "count": 4}).json()
        assert [step["track"]["title"] for step in native["items"]] == titles


def test_song_sources_name_every_holder_and_the_one_serving_now(federation):
    a, b, c = federation["a"], federation["b"], federation["c"]
    ids = {n: node.node_id() for n, node in (("a", a), ("b", b), ("c", c))}
    songs = wait_for(lambda: _when(_songs(federation), 4), timeout=60, what="every member's song on A")
    ask = [songs["A start"], songs["B near start"], songs["B near end"]]

    def sources():
        body = httpx.get(f"{a.url}/rest/getSongSources", params=[
            ("u", "owner"), ("p", federation["pw"]), ("c", "tests"), ("v", "1.16.1"), ("f", "json"),
            *[("id", i) for i in ask]], timeout=30).json()
        check_json("getSongSources", body)
        return {s["id"]: s for s in body["subsonic-response"]["songSources"]}

    def members_of(entry: dict) -> set[str]:
        return {s["id"] for s in entry["source"] if not s["self"]}

    both = wait_for(lambda: len(members_of((found := sources())[songs["B near start"]])) == 2 and found,
                    timeout=30, what="B and C both listed for B's song")
    mine = both[songs["A start"]]
    assert (mine["reason"], mine["serving"], [s["id"] for s in mine["source"]]) == ("local", ids["a"], [ids["a"]])
    shared = both[songs["B near start"]]
    assert members_of(shared) == {ids["b"], ids["c"]}  # and A itself when its cache holds a played copy
    assert {s["name"] for s in shared["source"] if not s["self"]} == {"Node B", "Node C"}
    assert shared["serving"] in (ids["a"], ids["b"], ids["c"]) and shared["reason"] in ("preferred", "cache")
    only_b = both[songs["B near end"]]
    assert (only_b["reason"], only_b["serving"]) == ("preferred", ids["b"])
    assert [s["serving"] for s in only_b["source"]] == [True] and only_b["source"][0]["state"] in ("alive", "unknown")
    # played once through A: the verified copy in A's chunk cache serves it now, no transfer is left running
    r = httpx.get(f"{a.url}/rest/stream", params={"u": "owner", "p": federation["pw"], "c": "tests", "v": "1.16.1",
                                                  "id": songs["B near end"], "format": "raw"}, timeout=60)
    assert r.status_code == 200
    after = wait_for(lambda: (s := sources()[songs["B near end"]])["reason"] == "cache" and s, timeout=10,
                     what="the cached copy serving")
    assert after["serving"] == ids["a"] and after["source"][0]["self"] is True
