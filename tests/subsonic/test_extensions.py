"""The 2025–26 OpenSubsonic extensions on a real node: indexBasedQueue, playbackReport, topSongsByArtistId.

Each is driven as apps do: one "app" (a plain Subsonic caller naming itself with ``c``) saves or reports,
another (py-opensonic, an independent client library) or the web app's native API reads it back.
Every JSON answer is checked against the OpenSubsonic OpenAPI and every XML one against the XSD (harness).
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.aio import run_asyncio
from tests.support.node import PASSWORD

libopensonic = pytest.importorskip("libopensonic")


def opensonic(node, user: str, password: str):
    url = urlsplit(node.url)
    return libopensonic.AsyncConnection(f"{url.scheme}://{url.hostname}", port=url.port, username=user,
                                        password=password, app_name="py-opensonic")


def run(node, user, password, fn):
    """Run ``fn(conn)`` with a fresh py-opensonic connection (its own event loop, like a separate app)."""
    async def main():
        conn = opensonic(node, user, password)
        try:
            return await fn(conn)
        finally:
            await conn.cleanup()

    return run_asyncio(main)


@contextlib.contextmanager
def native(node):
    """The web app's side: the native API, signed in as the owner."""
    with httpx.Client(base_url=node.url + "/api/v1", timeout=30) as c:
        assert c.post("/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
        yield c


def extensions(sub) -> dict[str, list[int]]:
    return {e["name"]: e["versions"] for e in sub.json("getOpenSubsonicExtensions")["openSubsonicExtensions"]}


# -- indexBasedQueue ------------------------------------------------------------------------------------------
def test_queue_saved_by_index_reads_back_everywhere(node, owner, ids):
    """A queue holding a song twice, saved by index in one app: the other app, getPlayQueue and the web app's
    queue all know which copy is playing, and where in it."""
    assert extensions(owner)["indexBasedQueue"] == [1]
    queue = [ids["army"], ids["hyper"], ids["army"], ids["love"]]
    owner.json("savePlayQueueByIndex", [("c", "phone-app")] + [("id", i) for i in queue]
               + [("currentIndex", "2"), ("position", "1500")], post=True)

    got = run(node, "owner", owner.password, lambda c: c.get_play_queue_by_index())
    assert [e.id for e in got.entry] == queue
    assert got.current_index == 2 and got.position == 1500 and got.changed_by == "phone-app"
    old = owner.json("getPlayQueue")["playQueue"]
    assert old["current"] == ids["army"] and old["position"] == 1500 and [e["id"] for e in old["entry"]] == queue
    with native(node) as web:
        q = web.get("/queue").json()
        assert q["track_ids"] == queue and q["current_index"] == 2 and q["current"] == ids["army"]
        assert q["position_ms"] == 1500
    doc = owner.xml("getPlayQueueByIndex")
    pq = doc.find("{http://subsonic.org/restapi}playQueueByIndex")
    assert pq.get("currentIndex") == "2" and len(pq) == 4


def test_queue_saved_by_id_or_by_the_web_app_reads_back_by_index(node, owner, ids):
    """The other way round: the old savePlayQueue (another app) and the web app's queue, read by index."""
    queue = [ids["love"], ids["lovely"], ids["hyper"]]
    assert run(node, "owner", owner.password,
               lambda c: c.save_play_queue(queue, current=ids["hyper"], position=700))
    q = owner.json("getPlayQueueByIndex")["playQueueByIndex"]
    assert q["currentIndex"] == 2 and q["position"] == 700 and q["changedBy"] == "py-opensonic"
    assert [e["id"] for e in q["entry"]] == queue
    with native(node) as web:  # the web app keeps the place of the copy it plays (the second Army of Me)
        r = web.put("/queue", json={"track_ids": [ids["army"], ids["love"], ids["army"]], "current_index": 2,
                                    "position_ms": 42_000, "client": "web"})
        assert r.status_code == 204, r.text
        assert web.put("/queue", json={"track_ids": [ids["army"]], "current_index": 1}).status_code == 400
    got = run(node, "owner", owner.password, lambda c: c.get_play_queue_by_index())
    assert got.current_index == 2 and got.position == 42_000 and got.changed_by == "web"
    assert owner.json("getPlayQueue")["playQueue"]["current"] == ids["army"]


def test_queue_by_index_refuses_bad_input_and_clears(node, owner, ids):
    owner.json("savePlayQueueByIndex", [("id", ids["army"]), ("id", ids["hyper"]), ("currentIndex", "1")])
    before = owner.json("getPlayQueueByIndex")["playQueueByIndex"]
    for params, code in (([("id", ids["army"]), ("currentIndex", "1")], 10),  # past the end: 10, as the spec says
                         ([("id", ids["army"]), ("currentIndex", "-1")], 10),
                         ([("id", ids["army"])], 10),  # required with ids
                         ([("currentIndex", "0")], 10),  # must not be set without ids
                         ([("id", ids["army"]), ("currentIndex", "one")], 0),  # present but not a number
                         ([("id", ids["army"]), ("currentIndex", "0"), ("position", "-5")], 0),
                         ([("id", ids["army"]), ("currentIndex", "0"), ("position", "nan")], 0),
                         ([("id", "x" * 300), ("currentIndex", "0")], 0)):
        error = owner.error("savePlayQueueByIndex", params)
        assert error["code"] == code, (params, error)
        assert "unexpected" not in error["message"]
    assert owner.json("getPlayQueueByIndex")["playQueueByIndex"] == before  # nothing written
    owner.json("savePlayQueueByIndex")  # no ids: the queue is cleared
    q = owner.json("getPlayQueueByIndex")["playQueueByIndex"]
    assert q.get("entry", []) == [] and "currentIndex" not in q
    owner.xml("getPlayQueueByIndex")


# -- topSongsByArtistId ---------------------------------------------------------------------------------------
def test_top_songs_by_artist_id_rank_by_plays_then_stars_then_ratings(node, owner, listener, ids):
    """Nothing known: album order. A rating lifts a song, a star outweighs it, and plays outweigh both;
    every user's signals count (the household's top songs), and ``id`` wins over ``artist``."""
    assert extensions(owner)["topSongsByArtistId"] == [1]

    def top(**extra):
        songs = owner.json("getTopSongs", {"id": ids["ana"], "artist": "Björk", **extra})["topSongs"]["song"]
        return [s["id"] for s in songs]

    assert top() == [ids["love"], ids["lovely"]]
    listener.json("setRating", {"id": ids["lovely"], "rating": 5})
    assert top() == [ids["lovely"], ids["love"]]
    owner.json("star", {"id": ids["love"]})
    assert top() == [ids["love"], ids["lovely"]]
    listener.json("scrobble", {"id": ids["lovely"]})
    assert top() == [ids["lovely"], ids["love"]]
    assert top(count=1) == [ids["lovely"]]
    owner.xml("getTopSongs", {"id": ids["ana"]})
    by_name = owner.json("getTopSongs", {"artist": "Björk"})["topSongs"]["song"]  # the name alone still works
    assert {s["id"] for s in by_name} == {ids["army"], ids["hyper"]}
    for bad in ("ar-nope", ids["lunch"], ids["love"], "x" * 300):
        error = owner.error("getTopSongs", {"id": bad})
        assert error["code"] in (0, 70) and "unexpected" not in error["message"], (bad, error)
    assert owner.error("getTopSongs", {})["code"] == 10


# -- playbackReport -------------------------------------------------------------------------------------------
def report(sub, song: str, state: str, position: int, client: str = "phone-app", **extra):
    sub.json("reportPlayback", {"c": client, "mediaId": song, "mediaType": "song", "state": state,
                                "positionMs": position, **extra})


def plays_of(sub, song: str) -> int:
    return sub.json("getSong", {"id": song})["song"].get("playCount", 0)


def total_plays(node) -> int:
    with native(node) as web:
        return web.get("/stats", params={"period": "all"}).json()["totals"]["plays"]


def now_playing(sub) -> list[dict]:
    return sub.json("getNowPlaying")["nowPlaying"].get("entry", [])


def test_report_past_the_half_counts_one_play_and_shows_in_now_playing(node, owner, ids):
    """starting → playing → progress → paused → stopped past half the song (3 s: 1.5 s): exactly one play,
    in the song's count and the stats; now playing names the reporting client while it plays, not after."""
    assert extensions(owner)["playbackReport"] == [1]
    song, before, total = ids["hyper"], plays_of(owner, ids["hyper"]), total_plays(node)
    report(owner, song, "starting", 0)
    [entry] = now_playing(owner)
    assert entry["id"] == song and entry["playerName"] == "phone-app" and entry["state"] == "starting"
    report(owner, song, "playing", 0, playbackRate="1.0")
    report(owner, song, "playing", 1000)
    assert plays_of(owner, song) == before  # 1 s of 3: not yet
    [entry] = now_playing(owner)
    assert entry["state"] == "playing" and entry["username"] == "owner" and entry["playbackRate"] == 1.0
    assert 1000 <= entry["positionMs"] <= 3000
    playing = owner.xml("getNowPlaying").find("{http://subsonic.org/restapi}nowPlaying")[0]
    assert playing.get("state") == "playing" and playing.get("playerName") == "phone-app"
    report(owner, song, "paused", 1600)
    [entry] = now_playing(owner)
    assert entry["state"] == "paused" and entry["positionMs"] == 1600
    report(owner, song, "stopped", 1600)
    assert now_playing(owner) == []
    assert plays_of(owner, song) == before + 1 and total_plays(node) == total + 1
    # the same client scrobbling the listen it reported does not count it twice; a late stop changes nothing
    owner.json("scrobble", {"c": "phone-app", "id": song})
    report(owner, song, "stopped", 3000)
    assert plays_of(owner, song) == before + 1 and total_plays(node) == total + 1
    owner.xml("getNowPlaying")


def test_report_stopped_before_the_half_counts_nothing(node, owner, ids):
    song, before, total = ids["hyper"], plays_of(owner, ids["hyper"]), total_plays(node)

    async def listen(conn):  # py-opensonic's reportPlayback, as an app would send it
        await conn.report_playback(song, "song", 0, "starting")
        await conn.report_playback(song, "song", 0, "playing")
        await conn.report_playback(song, "song", 1000, "playing")
        playing = await conn.get_now_playing()
        await conn.report_playback(song, "song", 1400, "stopped")
        return playing, await conn.get_now_playing()

    playing, after = run(node, "owner", owner.password, listen)
    assert [(e.id, e.player_name, e.state) for e in playing] == [(song, "py-opensonic", "playing")]
    assert after == []
    assert plays_of(owner, song) == before and total_plays(node) == total


def test_report_ignore_scrobble_shows_now_playing_only(node, owner, ids):
    song, before = ids["army"], plays_of(owner, ids["army"])
    for state, position in (("starting", 0), ("playing", 0), ("playing", 900), ("paused", 1000)):
        report(owner, song, state, position, client="car", ignoreScrobble="true", playbackRate="1.5")
    [entry] = now_playing(owner)
    assert entry["playerName"] == "car" and entry["state"] == "paused" and entry["playbackRate"] == 1.5
    report(owner, song, "stopped", 1000, client="car", ignoreScrobble="true")
    assert now_playing(owner) == [] and plays_of(owner, song) == before


def test_report_refuses_bad_input_with_clear_errors(owner, ids):
    good = {"mediaId": ids["army"], "mediaType": "song", "positionMs": "0", "state": "playing"}
    for change, code in (({"state": "flying"}, 0), ({"mediaType": "video"}, 0), ({"positionMs": "-1"}, 0),
                         ({"positionMs": "1e400"}, 0), ({"playbackRate": "nan"}, 0), ({"playbackRate": "0"}, 0),
                         ({"ignoreScrobble": "perhaps"}, 0), ({"positionMs": ""}, 10), ({"state": ""}, 10),
                         ({"mediaId": "tr-nope"}, 70), ({"mediaId": ids["lunch"]}, 70),
                         ({"mediaType": "podcast"}, 70)):
        error = owner.error("reportPlayback", {**good, **change})
        assert error["code"] == code, (change, error)
        assert "unexpected" not in error["message"]
    assert now_playing(owner) == []  # nothing was written
