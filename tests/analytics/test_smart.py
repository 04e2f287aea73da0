"""Smart playlist rules (Navidrome .nsp shape) compiled to SQL, against a synthetic library."""

from __future__ import annotations

import pytest

from sonantica.node.analytics import playlists, plays
from sonantica.node.errors import InvalidInput
from sonantica.node.store import annotations
from sonantica.node.store import playlists as pl
from sonantica.node.store.db import Store

from . import synth


@pytest.fixture
def world(tmp_path):
    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 80, 4)
    uid = store.write_sync(synth.add_user, "ana")
    yield store, cat, uid
    store.close()


def run(store, uid, rules, now=None):
    return store.read_sync(playlists.evaluate, uid, rules, now)


def test_operators(world):
    store, cat, uid = world
    by = {t["id"]: t for t in cat}
    jazz = run(store, uid, {"all": [{"is": {"genre": "jazz"}}], "limit": 1000})
    assert jazz and all(by[i]["genre"] == "Jazz" for i in jazz) and len(jazz) == 20
    not_jazz = run(store, uid, {"all": [{"isNot": {"genre": "Jazz"}}]})
    assert len(not_jazz) == 60
    either = run(store, uid, {"any": [{"is": {"genre": "Jazz"}}, {"is": {"genre": "Folk"}}]})
    assert len(either) == 40
    assert run(store, uid, {"all": [{"contains": {"title": "Song 7"}}]}) == [cat[7]["id"], *[
        t["id"] for t in cat if t["id"] != cat[7]["id"] and "Song 7" in f"Song {int(t['id'][4:])}"]][:len(
        run(store, uid, {"all": [{"contains": {"title": "Song 7"}}]}))]
    years = run(store, uid, {"all": [{"inTheRange": {"year": [1960, 1966]}}]})
    assert years and len(years) == 20
    assert run(store, uid, {"all": [{"startsWith": {"title": "Song 1"}}, {"endsWith": {"title": "9"}}],
                            "sort": "title"})[0] == cat[19]["id"]
    limited = run(store, uid, {"all": [{"gt": {"bpm": 0}}], "sort": "-bpm", "limit": 5})
    assert len(limited) == 5
    sql_injection = run(store, uid, {"all": [{"contains": {"title": "'; DROP TABLE track; --"}}]})
    assert sql_injection == [] and len(run(store, uid, {"all": []})) == 80


def test_user_fields_plays_stars_and_recency(world):
    store, cat, uid = world
    now = 1_700_000_000.0
    for n in range(3):
        store.write_sync(plays.apply_scrobble, uid, cat[0]["id"], True, "t", now - 100 * n, None, None, now)
    store.write_sync(plays.apply_scrobble, uid, cat[1]["id"], True, "t", now - 90 * 86400, None, None, now)
    store.write_sync(annotations.star, uid, cat[2]["id"])
    store.write_sync(annotations.rate, uid, cat[3]["id"], 5)
    assert run(store, uid, {"all": [{"gt": {"playcount": 2}}]}) == [cat[0]["id"]]
    assert run(store, uid, {"all": [{"inTheLast": {"lastplayed": 30}}]}, now) == [cat[0]["id"]]
    recent_or_never = run(store, uid, {"all": [{"notInTheLast": {"lastplayed": 30}}]}, now)
    assert cat[1]["id"] in recent_or_never and cat[0]["id"] not in recent_or_never
    assert run(store, uid, {"all": [{"is": {"loved": True}}]}) == [cat[2]["id"]]
    assert run(store, uid, {"all": [{"gt": {"rating": 4}}]}) == [cat[3]["id"]]
    assert run(store, uid, {"all": [{"gt": {"playcount": 0}}], "sort": "-playcount"})[0] == cat[0]["id"]


def test_live_update_and_read_only(world):
    store, cat, uid = world
    pid = store.write_sync(playlists.create_smart, uid, "Played", {"all": [{"gt": {"playcount": 0}}]})
    assert store.read_sync(pl.items, pid) == []
    store.write_sync(plays.apply_scrobble, uid, cat[5]["id"], True, "t", 1000.0, None, None, 1000.0)
    store.write_sync(playlists.refresh_smart, uid)
    assert store.read_sync(pl.items, pid) == [cat[5]["id"]]
    p = store.read_sync(pl.get, pid)
    assert p["generated"] == "smart" and p["rules"] == {"all": [{"gt": {"playcount": 0}}]}
    assert not pl.can_write(p, {"id": uid, "role": "listener"})


@pytest.mark.parametrize("rules", [
    [], {"all": "x"}, {"all": [{"is": {"nope": 1}}]}, {"all": [{"frobnicate": {"title": 1}}]},
    {"all": [{"gt": {"year": "abc"}}]}, {"all": [{"inTheLast": {"year": 3}}]}, {"all": [], "limit": 0},
    {"all": [], "sort": "colour"}, {"all": [{"is": {"title": "a", "album": "b"}}]},
    {"all": [{"any": [{"any": [{"any": [{"any": [{"any": [{"any": []}]}]}]}]}]}]},
])
def test_bad_rules_are_refused(world, rules):
    store, _, uid = world
    with pytest.raises(InvalidInput):
        run(store, uid, rules)
