"""OpenSubsonic reportPlayback timelines with an injected clock: what counts as listening.

The end-to-end cases (one play past the half, none before it, now playing) run on a real node in
tests/subsonic/test_extensions.py; these pin the clock rules that need minutes of wall time there:
buffering, seeks, pauses and the playback rate.
"""

from __future__ import annotations

import pytest

from sonantica.node.analytics import plays
from sonantica.node.store import plays as ps
from sonantica.node.store.db import Store

from . import synth

T0 = 1_700_000_000.0


@pytest.fixture
def world(tmp_path):
    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 4, 2)
    uid = store.write_sync(synth.add_user, "ana")
    yield store, cat[0]["id"], uid
    store.close()


def reporter(store, uid, track):
    def rep(state: str, position: int, at: float, **kw) -> dict:
        return store.write_sync(lambda db: plays.apply_report(db, uid, track, state, position, client="app",
                                                              at=at, **kw))
    return rep


def counted(store, uid, track) -> int:
    return store.read_sync(ps.plays_of, uid, [track]).get(track, (0, 0))[0]


def needed_ms(store, track) -> int:
    duration = store.read_sync(lambda db: db.conn.execute("SELECT duration FROM track WHERE id = ?",
                                                          (track,)).fetchone()[0])
    need = ps.threshold_ms(int(duration * 1000))
    assert need > 10_000  # long enough for the wall-clock bound to matter
    return need


def test_buffering_seeks_and_pauses_are_not_listening(world):
    store, track, uid = world
    rep, need = reporter(store, uid, track), needed_ms(store, track)
    rep("starting", 0, T0)
    rep("playing", 0, T0 + 60)  # a minute of buffering: the clock starts now
    r = rep("playing", need - 1000, T0 + 61)  # a seek forward, one second later
    assert not r["counted"] and r["played_ms"] <= 1000 + plays.WALL_SLACK_MS
    rep("paused", need - 1000, T0 + 62)
    r = rep("playing", need - 1000, T0 + 3600)  # an hour paused counts for nothing
    assert not r["counted"]
    r = rep("stopped", need - 500, T0 + 3600.5)
    assert not r["counted"] and counted(store, uid, track) == 0


def test_the_rate_bounds_listening_and_a_play_counts_once(world):
    store, track, uid = world
    rep, need = reporter(store, uid, track), needed_ms(store, track)
    wall = need / 2000  # seconds: half the position needed
    rep("starting", 0, T0)
    rep("playing", 0, T0)
    assert not rep("playing", need, T0 + wall)["counted"]  # at 1x the clock allows only half of it
    rep("stopped", need, T0 + wall)
    rep("starting", 0, T0 + 100, rate=2.0)
    rep("playing", 0, T0 + 100, rate=2.0)
    assert rep("playing", need, T0 + 100 + wall, rate=2.0)["counted"]  # at 2x it is all listening
    rep("paused", need + 1000, T0 + 101 + wall, rate=2.0)
    rep("stopped", need + 1000, T0 + 102 + wall, rate=2.0)
    rep("stopped", need + 1000, T0 + 103 + wall, rate=2.0)  # a retried stop
    assert counted(store, uid, track) == 1
    # the same client scrobbling that listen afterwards is not a second play
    store.write_sync(plays.apply_scrobble, uid, track, True, "app", T0 + 100, None, None, T0 + 200)
    assert counted(store, uid, track) == 1


def test_reports_long_after_the_planned_end_do_not_feed_the_old_listen(world):
    """A client offline for hours that comes back reporting the end of the song: the extension says to stop
    listening 30 minutes after the planned end (the client scrobbles what it played offline)."""
    store, track, uid = world
    rep, need = reporter(store, uid, track), needed_ms(store, track)
    rep("starting", 0, T0)
    rep("playing", 0, T0)
    r = rep("playing", 2 * need, T0 + 4 * 3600)
    assert not r["counted"] and r["played_ms"] == 0  # a new listen from here, the old one closed unheard
    assert counted(store, uid, track) == 0
    history = store.read_sync(ps.history, uid, 0, 1e12, 10)
    assert [p["ended_at"] is None for p in history] == [True, False]
