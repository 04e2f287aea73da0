"""The persistent job queue and the analysis store, on a real SQLite database."""

from __future__ import annotations

import json
import zlib

import pytest

from sonantica.node.store import analysis as an
from sonantica.node.store import jobs
from sonantica.node.store.db import Store

B = jobs.Backoff(base_s=10, max_s=100, max_attempts=3)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "db.sqlite") as s:
        yield s


def w(store, fn, *a):
    return store.write_sync(fn, *a)


def test_enqueue_is_idempotent_and_claim_leases(store):
    assert w(store, jobs.enqueue, "analysis", [("t1", "s1"), ("t2", "s1")], 0.0) == 2
    assert w(store, jobs.enqueue, "analysis", [("t1", "s1")], 1.0) == 0
    a = w(store, jobs.claim, "analysis", "me", 60, 1.0, B)
    b = w(store, jobs.claim, "analysis", "other", 60, 1.0, B)
    assert {a.target, b.target} == {"t1", "t2"} and a.attempts == 1
    assert w(store, jobs.claim, "analysis", "me", 60, 1.0, B) is None
    assert not w(store, jobs.complete, a.id, "other", 2.0)  # not the holder
    assert w(store, jobs.complete, a.id, "me", 2.0)
    assert store.read_sync(jobs.counts, "analysis") == {"pending": 0, "running": 1, "done": 1, "failed": 0, "total": 2}


def test_fail_backs_off_exponentially_then_fails_with_reason(store):
    w(store, jobs.enqueue, "analysis", [("t", "s")], 0.0)
    now = 0.0
    for attempt, delay in ((1, 10), (2, 20)):
        job = w(store, jobs.claim, "analysis", "me", 60, now, B)
        assert job.attempts == attempt
        assert w(store, jobs.fail, job.id, "me", "corrupt", now, B) == "pending"
        assert w(store, jobs.claim, "analysis", "me", 60, now + delay - 0.1, B) is None
        now += delay
    job = w(store, jobs.claim, "analysis", "me", 60, now, B)
    assert w(store, jobs.fail, job.id, "me", "still corrupt", now, B) == "failed"
    row = store.read_sync(jobs.get, "analysis", "t")
    assert row["state"] == "failed" and row["attempts"] == 3 and row["last_error"] == "still corrupt"
    assert store.read_sync(jobs.failures, "analysis")[0]["last_error"] == "still corrupt"


def test_failed_job_requeued_only_when_target_changed_or_forced(store):
    w(store, jobs.enqueue, "analysis", [("t", "s1")], 0.0)
    job = w(store, jobs.claim, "analysis", "me", 60, 0.0, B)
    w(store, jobs.fail, job.id, "me", "bad", 0.0, B, True)
    assert w(store, jobs.enqueue, "analysis", [("t", "s1")], 1.0) == 0
    assert w(store, jobs.enqueue, "analysis", [("t", "s2")], 1.0) == 1
    assert store.read_sync(jobs.get, "analysis", "t")["attempts"] == 0
    job = w(store, jobs.claim, "analysis", "me", 60, 1.0, B)
    w(store, jobs.complete, job.id, "me", 1.0)
    assert w(store, jobs.enqueue, "analysis", [("t", "s2")], 2.0) == 1  # done and stale again: re-run
    assert w(store, jobs.enqueue, "analysis", [("t", "s2")], 2.0, {"force": True}, True) == 1
    assert store.read_sync(jobs.get, "analysis", "t")["payload"] == '{"force": true}'


def test_expired_lease_is_taken_over_and_counts_as_an_attempt(store):
    w(store, jobs.enqueue, "analysis", [("t", "s")], 0.0)
    dead = w(store, jobs.claim, "analysis", "dead", 5, 0.0, B)
    assert w(store, jobs.claim, "analysis", "me", 5, 4.0, B) is None
    mine = w(store, jobs.claim, "analysis", "me", 5, 6.0, B)
    assert mine.id == dead.id and mine.attempts == 2
    assert not w(store, jobs.renew, dead.id, "dead", 5, 6.0)  # the old holder lost it
    assert not w(store, jobs.complete, dead.id, "dead", 6.0)
    assert w(store, jobs.renew, mine.id, "me", 5, 6.0)
    # dies again, and again: after max_attempts the job fails instead of looping forever
    w(store, jobs.claim, "analysis", "x", 5, 20.0, B)
    assert w(store, jobs.claim, "analysis", "y", 5, 40.0, B) is None
    row = store.read_sync(jobs.get, "analysis", "t")
    assert row["state"] == "failed" and "lease expired 3 times" in row["last_error"]


def test_release_gives_the_job_back_uncounted(store):
    w(store, jobs.enqueue, "analysis", [("t", "s")], 0.0)
    job = w(store, jobs.claim, "analysis", "me", 60, 0.0, B)
    w(store, jobs.release, job.id, "me", 0.0)
    again = w(store, jobs.claim, "analysis", "me", 60, 0.0, B)
    assert again.attempts == 1


# -- analysis store ---------------------------------------------------------------------
def _track(db, tid="tr-1", album="al-1", **cols):
    db.conn.execute("INSERT OR IGNORE INTO folder(id, path, name) VALUES (1, '/m', 'm')")
    values = dict(id=tid, folder_id=1, path=f"{tid}.flac", size=10, mtime_ns=5, format="flac", codec="flac",
                  lossless=1, duration=1.0, title=tid, artist="a", album="b", album_artist="a", album_id=album,
                  audio_id=f"aud-{tid}", created_at=0, updated_at=0, **cols)
    db.conn.execute(f"INSERT INTO track ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    tuple(values.values()))


def _packed(bpm=120.4, gain=-3.0, hist=(1, 2, 3)):
    return {
        "bpm": {"version": 1, "result": {"bpm": bpm, "confidence": 0.8}},
        "loudness": {"version": 1, "result": {"integrated_lufs": -15.0, "replaygain_track_gain_db": gain,
                                               "replaygain_track_peak": 0.9,
                                               "block_histogram": {"start": -20.0, "step": 0.1, "counts": list(hist)}}},
        "waveform": {"version": 1, "result": {"levels": []},
                     "blob": zlib.compress(json.dumps({"levels": [{"samples_per_pixel": 512, "data": [0, 1]}]}).encode())},
        "file_id": {"version": 1, "result": {"file_id": "f1abc", "size": 10, "chunks": 1}},
    }


VERSIONS = {"bpm": 1, "loudness": 1, "waveform": 1, "file_id": 1}
STAMPS = {"content": "aud-tr-1", "file": "10:5"}


def test_stale_features_and_a_bumped_version_replans_only_that_feature(store):
    w(store, _track)
    assert store.read_sync(an.stale_tracks, VERSIONS) == [("tr-1", "10:5")]
    assert store.read_sync(an.plan, "tr-1", VERSIONS)["features"] == sorted(VERSIONS)
    w(store, an.save, "tr-1", _packed(), STAMPS)
    assert store.read_sync(an.stale_tracks, VERSIONS) == []
    assert store.read_sync(an.plan, "tr-1", {**VERSIONS, "bpm": 2})["features"] == ["bpm"]
    assert store.read_sync(an.plan, "tr-1", VERSIONS, True)["features"] == sorted(VERSIONS)
    # re-tagging changes the file (file_id) but not the audio (the rest)
    store.write_sync(lambda db: db.conn.execute("UPDATE track SET size = 11 WHERE id = 'tr-1'"))
    assert store.read_sync(an.plan, "tr-1", VERSIONS)["features"] == ["file_id"]


def test_track_columns_filled_but_tags_win(store):
    w(store, _track, "tr-1")
    store.write_sync(lambda db: _track(db, "tr-2", "al-1", bpm=99.0, rg_track_gain=-7.5, rg_track_peak=1.0))
    w(store, an.save, "tr-1", _packed(), STAMPS)
    w(store, an.save, "tr-2", _packed(bpm=140.0), {"content": "aud-tr-2", "file": "10:5"})
    rows = {r["id"]: r for r in store.read_sync(lambda db: [dict(r) for r in db.query("SELECT * FROM track")])}
    assert rows["tr-1"]["bpm"] == 120 and rows["tr-1"]["rg_track_gain"] == -3.0 and rows["tr-1"]["file_id"] == "f1abc"
    assert rows["tr-2"]["bpm"] == 99.0 and rows["tr-2"]["rg_track_gain"] == -7.5  # from tags: kept
    # a new analysis version replaces its own earlier value, never a tag's
    w(store, an.save, "tr-1", _packed(bpm=90.2, gain=-4.0), STAMPS)
    assert store.read_sync(lambda db: db.conn.execute(
        "SELECT bpm, rg_track_gain FROM track WHERE id = 'tr-1'").fetchone()) == (90, -4.0)
    gain = w(store, an.update_album_gain, "al-1", 1)
    assert gain["replaygain_album_gain_db"] is not None
    assert store.read_sync(lambda db: db.conn.execute(
        "SELECT count(*) FROM track WHERE rg_album_gain IS NOT NULL").fetchone()[0]) == 2
    # a rescan rewrites tag columns (empty: no tags); the analysis values come back
    store.write_sync(lambda db: db.conn.execute(
        "UPDATE track SET bpm = NULL, rg_track_gain = NULL, rg_album_gain = NULL, file_id = NULL WHERE id = 'tr-1'"))
    w(store, an.refill_tracks)
    assert store.read_sync(lambda db: db.conn.execute(
        "SELECT bpm, rg_track_gain, rg_album_gain IS NOT NULL, file_id FROM track WHERE id = 'tr-1'").fetchone()) \
        == (90.0, -4.0, 1, "f1abc")


def test_album_gain_waits_for_every_track(store):
    w(store, _track, "tr-1")
    w(store, _track, "tr-2")
    w(store, an.save, "tr-1", _packed(), STAMPS)
    assert w(store, an.update_album_gain, "al-1", 1) is None


def test_summary_hides_blobs_and_prune_forgets_removed_tracks(store):
    w(store, _track)
    w(store, an.save, "tr-1", _packed(), STAMPS)
    s = store.read_sync(an.summary, "tr-1")
    assert s["bpm"]["bpm"] == 120.4 and s["versions"] == VERSIONS
    assert "block_histogram" not in s["loudness"] and "data" not in json.dumps(s["waveform"])
    assert store.read_sync(an.blob, "tr-1", "waveform")["levels"][0]["samples_per_pixel"] == 512
    store.write_sync(lambda db: db.conn.execute("DELETE FROM track"))
    w(store, an.prune)
    assert store.read_sync(an.summary, "tr-1") is None
