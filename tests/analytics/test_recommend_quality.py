"""Recommendation quality on synthetic listeners with known taste clusters.

Forty listeners each like two of eight clusters (genre, artists, decade and
tempo differ per cluster) and play a Zipf-ish mix of sixty favourites. The
last fifth of each history is held out; the recommender, given the rest, must
find the held-out tracks the user had not played yet at least twice as often
as the node's most popular tracks do (recall@20).
"""

from __future__ import annotations

import random

import pytest

from sonantica.node.analytics import playlists, plays, recommend
from sonantica.node.store.db import Store

from . import synth

T0 = 1_700_000_000.0


def _play_all(db, user_id: str, tracks: list[str], start: float) -> None:
    at = start
    for n, tid in enumerate(tracks):
        if n % 15 == 0:
            at += 6 * 3600  # a new session
        plays.apply_scrobble(db, user_id, tid, True, "test", at, now=at + 1)
        at += 200


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("rec") / "node.db")
    rng = random.Random(7)
    cat = store.write_sync(synth.add_catalogue, 2000, 8)
    users = []
    for u in range(40):
        uid = store.write_sync(synth.add_user, f"u{u}")
        clusters = rng.sample(range(8), 2)
        hist = synth.history(cat, clusters, 300, rng)
        cut = int(len(hist) * 0.8)
        train, held = hist[:cut], hist[cut:]
        store.write_sync(_play_all, uid, train, T0)
        users.append((uid, clusters, set(train), set(held) - set(train)))
    yield store, cat, users
    store.close()


def test_recall_at_20_beats_popularity_twice(world):
    store, _, users = world
    now = T0 + 90 * 86400
    ours = base = total = 0
    for uid, _, train, held in users:
        if not held:
            continue
        picks = store.read_sync(lambda db: recommend.recommend(db, uid, 20, now=now, exclude_played=True))
        pop = store.read_sync(recommend.popular, 20, train)
        ours += len(held & {p.id for p in picks})
        base += len(held & set(pop))
        total += len(held)
    recall, baseline = ours / total, base / total
    print(f"recall@20 {recall:.3f} popularity {baseline:.3f}")
    assert recall >= 2 * max(baseline, 0.01), (recall, baseline)


def test_every_pick_has_a_reason_and_no_artist_dominates(world):
    store, _, users = world
    uid = users[0][0]
    picks = store.read_sync(lambda db: recommend.recommend(db, uid, 20, now=T0 + 90 * 86400))
    assert len(picks) == 20
    assert all(p.reasons and p.reasons[0]["text"] for p in picks)
    cat = store.read_sync(recommend.candidates)
    artists = [int(cat.artist[cat.index[p.id]]) for p in picks]
    assert max(artists.count(a) for a in set(artists)) <= 2


def test_discoveries_only_hold_never_played_tracks(world):
    store, _, users = world
    for uid, _, train, _ in users[:5]:
        found = store.read_sync(lambda db: playlists.discoveries(db, uid, 40, now=T0 + 90 * 86400))
        assert found and not (set(found) & train)


def test_cold_start_uses_tags_and_content(world):
    store, cat, _ = world
    uid = store.write_sync(synth.add_user, "newcomer")
    picks = store.read_sync(lambda db: recommend.recommend(db, uid, 10))
    assert len(picks) == 10  # popular on the node, spread over artists
    jazz = [t["id"] for t in cat if t["cluster"] == 0][:3]
    similar = store.read_sync(lambda db: recommend.similar_to(db, jazz, 10))
    by_id = {t["id"]: t for t in cat}
    assert sum(by_id[p.id]["cluster"] == 0 for p in similar) >= 8
