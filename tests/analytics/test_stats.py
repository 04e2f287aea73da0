"""Stats over periods with an injected clock, scrobble semantics, rebuilds, time zones."""

from __future__ import annotations

from datetime import datetime, timezone as dt_tz

import pytest

from sonantica.node.analytics import plays, stats
from sonantica.node.errors import InvalidInput
from sonantica.node.store import plays as ps
from sonantica.node.store.db import Store

from . import synth


def ts(*args) -> float:
    return datetime(*args, tzinfo=dt_tz.utc).timestamp()


@pytest.fixture
def world(tmp_path):
    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 40, 4)
    uid = store.write_sync(synth.add_user, "ana")
    store.write_sync(stats.set_timezone, uid, "UTC", False)
    yield store, cat, uid
    store.close()


def scrobble(store, uid, track, at):
    return store.write_sync(plays.apply_scrobble, uid, track, True, "dsub", at, None, None, at + 300)


def test_periods_buckets_and_plot_ready_shapes(world):
    store, cat, uid = world
    history = [ts(2022, 12, 31, 23, 30), ts(2023, 6, 1, 8), ts(2024, 5, 1, 9), ts(2024, 5, 27, 10),
               ts(2024, 5, 28, 10), ts(2024, 5, 29, 10), ts(2024, 5, 29, 22), ts(2024, 5, 30, 7)]
    for n, at in enumerate(history):
        scrobble(store, uid, cat[n % 3]["id"], at)
    now = ts(2024, 5, 30, 12)  # a Thursday
    get = lambda period, **kw: store.read_sync(lambda db: stats.stats(db, uid, period, now=now, **kw))
    assert get("today")["totals"]["plays"] == 1
    assert get("yesterday")["totals"]["plays"] == 2
    week = get("week")
    assert week["from"] == "2024-05-27" and week["totals"]["plays"] == 5
    assert [p["plays"] for p in week["timeline"]["points"]] == [1, 1, 2, 1]
    assert get("month")["totals"]["plays"] == 6 and get("year")["totals"]["plays"] == 6
    everything = get("all")
    assert everything["totals"]["plays"] == 8 and everything["timeline"]["unit"] == "month"
    assert everything["timeline"]["points"][0] == {"t": "2022-12", "plays": 1, "ms": everything["timeline"]["points"][0]["ms"]}
    span = get("range", start="2022-12-31", end="2023-06-01")
    assert span["totals"]["plays"] == 2
    assert stats.decompose(datetime(2019, 3, 15).date(), datetime(2023, 6, 11).date()).count(("y", 2020)) == 1
    by_hour = everything["by_hour"]
    assert len(by_hour) == 24 and by_hour[10]["plays"] == 3 and by_hour[23]["plays"] == 1
    assert sum(d["plays"] for d in everything["by_weekday"]) == 8
    assert week["streaks"] == {"current": 4, "longest": 4, "longest_from": "2024-05-27", "longest_to": "2024-05-30"}
    top = everything["top"]["tracks"]
    assert top[0]["plays"] == 3 and top[0]["name"].startswith("Song")
    assert get("month")["discoveries"]["tracks"] == 1  # track 2 was first played on 1 May
    with pytest.raises(InvalidInput):
        get("fortnight")


def test_time_zone_moves_a_late_play_to_the_next_day(world):
    store, cat, uid = world
    scrobble(store, uid, cat[0]["id"], ts(2024, 5, 29, 23, 30))
    now = ts(2024, 5, 30, 12)
    day = lambda: store.read_sync(lambda db: stats.stats(db, uid, "today", now=now))["totals"]["plays"]
    assert day() == 0
    store.write_sync(stats.set_timezone, uid, "Europe/Madrid", False)  # 01:30 on the 30th there
    assert day() == 1


def test_scrobble_semantics(world):
    store, cat, uid = world
    t = cat[0]["id"]
    at = ts(2024, 1, 1, 12)
    assert store.write_sync(plays.apply_scrobble, uid, t, False, "dsub", None, None, None, at)["now_playing"]
    assert [e["track_id"] for e in store.read_sync(ps.now_playing, at - 10)] == [t]
    assert scrobble(store, uid, t, at)["counted"]
    assert scrobble(store, uid, t, at)["duplicate"]  # the client retried
    assert store.read_sync(ps.now_playing, at - 10) == []
    # no time given: a retry within the window counts once, a later listen counts again
    first = store.write_sync(plays.apply_scrobble, uid, t, True, "dsub", None, None, None, at + 1000)
    retry = store.write_sync(plays.apply_scrobble, uid, t, True, "dsub", None, None, None, at + 1005)
    later = store.write_sync(plays.apply_scrobble, uid, t, True, "dsub", None, None, None, at + 2000)
    assert (first["counted"], retry["duplicate"], later["counted"]) == (True, True, True)
    assert store.read_sync(lambda db: stats.stats(db, uid, "all", now=at + 3000))["totals"]["plays"] == 3


def test_threshold_is_half_or_four_minutes():
    assert ps.threshold_ms(200_000) == 100_000
    assert ps.threshold_ms(3_600_000) == 240_000
    assert ps.threshold_ms(0) == 240_000


def test_remote_tracks_record_their_source_node(world):
    store, _, uid = world
    meta = {"title": "Far away", "artist": "Dee", "album": "Elsewhere", "duration_ms": 10_000, "genres": ["Dub"]}
    r = store.write_sync(lambda db: plays.apply_event(db, uid, "start", track_id="rt-1", source_node="ana-node",
                                                      meta=meta, at=1000.0))
    store.write_sync(lambda db: plays.apply_event(db, uid, "end", play_id=r["play_id"], position_ms=10_000,
                                                  at=1010.0))
    [p] = store.read_sync(ps.history, uid, 0, 1e12, 10)
    assert p["source"] == "ana-node" and p["counted"] == 1
    s = store.read_sync(lambda db: stats.stats(db, uid, "all", now=2000.0))
    assert s["top"]["artists"][0]["name"] == "Dee" and s["top"]["genres"][0]["name"] == "Dub"


def test_stale_listens_are_closed_and_keep_their_time(world):
    store, cat, uid = world
    r = store.write_sync(lambda db: plays.apply_event(db, uid, "start", track_id=cat[0]["id"], at=1000.0))
    store.write_sync(lambda db: plays.apply_event(db, uid, "progress", play_id=r["play_id"],
                                                  position_ms=150_000, at=1150.0))
    assert store.write_sync(plays.close_stale, 1150.0 + ps.OPEN_PLAY_TTL_S + 1) == 1
    assert store.read_sync(ps.get_play, r["play_id"])["ended_at"] == 1150.0


def test_subsonic_helpers_play_counts_and_top_songs(world):
    store, cat, uid = world
    for n in range(3):
        scrobble(store, uid, cat[4]["id"], 1000.0 + n * 100)
    counts = store.read_sync(ps.plays_of, uid, [cat[4]["id"], cat[4]["album_id"], cat[5]["id"]])
    assert counts[cat[4]["id"]][0] == 3 and counts[cat[4]["album_id"]][0] == 3 and cat[5]["id"] not in counts
    top = store.read_sync(ps.top_tracks_of_artist, cat[4]["artist_id"], 5)
    assert top[0] == cat[4]["id"]
