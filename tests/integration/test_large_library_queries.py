"""Reads whose cost must not grow with the library: the Subsonic full sync (search3 "" by offset) and
search as you type. Rows go in through the store's own upsert paths (local tracks as the scanner
writes them, members' recordings as the federation applies catalogue records).

Costs are counted in SQLite virtual-machine steps (a progress handler), not in time: the same
query on a library four times larger must cost about the same, where before it cost four times as
much (a sort of the whole lib_track view per page; bm25 over every match of a one-letter prefix).
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from sonantica.node.library import search
from sonantica.node.library.tagmap import map_tags
from sonantica.node.store import peers as peers_store
from sonantica.node.store import subsonic_queries as sq
from sonantica.node.store import tracks as tracks_store
from sonantica.node.store.db import Store
from sonantica.protocol import TrackRecord as CatalogueRecord

MEMBERS = ("node-b", "node-a")


def _local(i: int, folder: int) -> tracks_store.TrackRecord:
    raw = {"title": [f"Song {i} baker"], "artist": [f"Artist {i % 37}"], "album": [f"Album {i // 10}"],
           "tracknumber": [str(i % 10 + 1)], "genre": ["Rock"]}
    rel = f"Artist {i % 37}/Album {i // 10}/{i}.flac"
    tags = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(map_tags(raw, rel)).items()}
    props = {"format": "flac", "codec": "flac", "lossless": 1, "sample_rate": 44100, "bit_depth": 16,
             "channels": 2, "duration": 100.0, "bitrate": 900}
    return tracks_store.TrackRecord(folder, rel, 1000, 1, props, tags, None, f"l{i:031d}")


def _remote(i: int, audio: str | None = None) -> dict:
    return CatalogueRecord(
        track_key=f"k{i:07d}", file_id="f1" + f"{i:064x}", size=1000, title=f"Remote {i} bongo",
        artists=(f"Band {i % 23}",), album=f"Disc {i // 10}", album_artists=(f"Band {i % 23}",), track_no=i % 10 + 1,
        track_total=None, disc_no=1, disc_total=None, year=2000, genres=("Jazz",), composer=None, compilation=False,
        mb_recording_id=None, mb_release_id=None, format="mp3", codec="mp3", lossless=False, sample_rate=44100,
        bit_depth=None, channels=2, duration_ms=100_000, bitrate=320, audio_id=audio or f"r{i:031d}", folder="Music",
        cover=None, analysis={},
    ).to_obj()


def build(path, local: int, remote: int) -> Store:
    """``local`` tracks and ``remote`` recordings per member; some held twice, some also held locally."""
    store = Store.open(path)
    [(folder, _)] = store.write_sync(tracks_store.sync_folders, [str(path.parent / "music")])

    def put_local(db, recs):
        _, _, albums = tracks_store.upsert_tracks(db, recs, {})
        tracks_store.refresh_albums(db, albums)

    def put_remote(db, member, recs):
        peers_store.refresh_remote_albums(db, peers_store.upsert_remote(db, member, recs))

    for first in range(0, local, 500):
        store.write_sync(put_local, [_local(i, folder) for i in range(first, min(local, first + 500))])
    for m, member in enumerate(MEMBERS):
        for first in range(0, remote, 500):
            recs = [_remote(m * 1_000_000 + i) for i in range(first, min(remote, first + 500))]
            if first == 0:
                recs[0] = _remote(m * 1_000_000, audio="r" + "9" * 31)  # held by both members
                recs[1] = _remote(m * 1_000_000 + 1, audio=f"l{3:031d}")  # also held here: listed once
            store.write_sync(put_remote, member, recs)
    return store


def vm_steps(store: Store, fn, *args) -> tuple[int, object]:
    """(SQLite VM steps / 100, result) of ``fn(db, *args)`` on a reader connection."""
    def run(db):
        steps = [0]

        def tick():
            steps[0] += 1
            return 0

        db.conn.set_progress_handler(tick, 100)
        try:
            return steps[0], fn(db, *args), steps
        finally:
            db.conn.set_progress_handler(None, 0)

    _, result, steps = store.read_sync(run)
    return steps[0], result


@pytest.fixture
def small(tmp_path):
    store = build(tmp_path / "small.db", 300, 300)
    yield store
    store.close()


def test_full_sync_pages_every_song_once_in_order_and_out_of_order(small):
    want = small.read_sync(lambda db: sorted(r[0] for r in db.conn.execute("SELECT id FROM lib_track")))
    assert len(want) == 300 + 299 + 299 - 1  # each member: one also held here; one held by both
    walked, offset = [], 0
    while True:
        page = small.read_sync(sq.tracks_page, offset, 70)
        walked += [t["id"] for t in page]
        offset += len(page)
        if len(page) < 70:
            break
    assert sorted(walked) == want and len(walked) == len(set(walked))
    for offset in (0, 1, 299, 300, 301, 598, 599, 600, 897, 898, 5000):  # out of order (no page ended there)
        assert [t["id"] for t in small.read_sync(sq.tracks_page, offset, 5)] == walked[offset : offset + 5]
    local_folder = small.read_sync(lambda db: db.conn.execute("SELECT id FROM folder").fetchone()[0])
    assert len(small.read_sync(sq.tracks_page, 0, 500, local_folder)) == 300
    member_folder = small.read_sync(peers_store.member_folders)["node-a"]
    mine = small.read_sync(sq.tracks_page, 0, 500, member_folder)
    assert len(mine) == 299 and {t["folder_id"] for t in mine} == {member_folder}


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sizes")
    small, large = build(tmp / "a.db", 400, 400), build(tmp / "b.db", 1600, 1600)
    yield small, large
    small.close()
    large.close()


def test_a_sync_page_costs_the_same_in_a_library_four_times_larger(two_sizes):
    small, large = two_sizes

    def last_page_cost(store):
        offset = 0
        while True:
            cost, page = vm_steps(store, sq.tracks_page, offset, 100)
            offset += len(page)
            if len(page) < 100:
                return cost

    assert vm_steps(large, sq.tracks_page, 0, 100)[0] <= 1.6 * vm_steps(small, sq.tracks_page, 0, 100)[0] + 30
    assert last_page_cost(large) <= 1.6 * last_page_cost(small) + 30


def test_a_keystroke_costs_the_same_in_a_library_four_times_larger(two_sizes, monkeypatch):
    small, large = two_sizes
    monkeypatch.setattr(search, "MAX_RANKED", 200, raising=False)
    for fn in (search.search_tracks, search.search_albums, search.search_artists):
        for q in ("b", "ba", "so"):
            few, _ = vm_steps(small, fn, q, 20)
            many, _ = vm_steps(large, fn, q, 20)
            assert many <= 1.6 * few + 30, (fn.__name__, q, few, many)
    assert len(large.read_sync(search.search_tracks, "bongo", 20)) == 20
    assert set(large.read_sync(search.search_artists, "band 7", 20)) == {peers_store.artist_id("Band 7")}


def test_an_artists_albums_among_members_are_found_by_index_also_in_an_existing_database(tmp_path):
    """Migration peers:0006 on a database made before it: an artist page reads members' albums by index."""
    store = build(tmp_path / "old.db", 20, 20)
    store.write_sync(lambda db: (db.conn.execute("DROP INDEX remote_album_artist"),
                                 db.conn.execute("DELETE FROM _migrations WHERE name = 'peers:0006_remote_album_artist'")))
    store.close()
    with Store.open(tmp_path / "old.db") as store:
        plan = store.read_sync(lambda db: [r[3] for r in db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM lib_album WHERE artist_id = ?", ["ar-x"])])
        assert any("remote_album USING INDEX remote_album_artist" in step for step in plan), plan
        band = peers_store.artist_id("Band 3")
        from sonantica.node.store import browse

        assert [a["name"] for a in store.read_sync(browse.artist_albums, band)] == ["Disc 0"]


def test_showing_a_few_artists_costs_the_same_in_a_library_four_times_larger(two_sizes):
    """search3 shows its artists with their counts and cover: that must not read the whole library."""
    from sonantica.node.store import browse

    small, large = two_sizes
    ids = [peers_store.artist_id(f"Band {i}") for i in range(3)] + [peers_store.artist_id(f"Artist {i}") for i in range(3)]
    _, shown = vm_steps(small, browse.artists_by_ids, ids)
    cost, shown_large = vm_steps(large, browse.artists_by_ids, ids)
    # the counts read the shown artists' own rows, a small part of the library (it cost 80x more before)
    every_link, _ = vm_steps(large, lambda db: db.conn.execute("SELECT count(*) FROM lib_track_artist").fetchone())
    assert cost < every_link / 2, (cost, every_link)
    # the same counts and covers as reading them through the views, for every artist
    views = ("SELECT ar.id, ar.name, ar.sort_name, ar.mbid, "
             "(SELECT count(*) FROM lib_album al WHERE al.artist_id = ar.id) AS album_count, "
             "(SELECT count(*) FROM lib_track_artist ta WHERE ta.artist_id = ar.id AND ta.role = 'artist') AS track_count, "
             "(SELECT al.cover FROM lib_album al WHERE al.artist_id = ar.id AND al.cover IS NOT NULL LIMIT 1) AS cover "
             "FROM lib_artist ar ORDER BY ar.id")
    for store in two_sizes:
        assert store.read_sync(lambda db: list(db.query(browse.artist_sql() + " ORDER BY ar.id"))) == \
            store.read_sync(lambda db: list(db.query(views)))
    band0 = next(a for a in shown_large if a["name"] == "Band 0")
    assert band0["track_count"] > 100 and band0["album_count"] > 0


def test_a_listener_limited_to_some_folders_reads_at_the_same_cost(two_sizes):
    """The folder condition (store/scope.py) is checked on rows read by the query's own index: a limited
    listener's reads cost about what everyone's do, and stay the same in a library four times larger."""
    from sonantica.node.store import browse, scope

    def folders(store):
        local = store.read_sync(lambda db: [r[0] for r in db.conn.execute("SELECT id FROM folder")])
        return [*local, store.read_sync(peers_store.member_folder, MEMBERS[0])]

    def reads(db):
        ids = [r[0] for r in db.conn.execute("SELECT id FROM track ORDER BY rid LIMIT 50")]
        artists = [peers_store.artist_id(f"Band {i}") for i in range(3)] + [peers_store.artist_id("Artist 1")]
        return [lambda: browse.tracks_by_ids(db, ids), lambda: browse.artists_by_ids(db, artists),
                lambda: browse.album_tracks(db, db.conn.execute("SELECT id FROM album LIMIT 1").fetchone()[0]),
                lambda: sq.tracks_page(db, 0, 100), lambda: sq.album_list(db, "alphabeticalByName", "u", 0, 50),
                lambda: search.search_tracks(db, "bongo", 20), lambda: search.search_albums(db, "disc", 20),
                lambda: search.search_artists(db, "band", 20), lambda: browse.item_kind(db, ids[0])]

    def costs(store, limit):
        with scope.only(limit):
            n = len(store.read_sync(reads))
            return [vm_steps(store, lambda db, i=i: reads(db)[i]())[0] for i in range(n)]

    small, large = two_sizes
    for store in two_sizes:
        limited, everyone = costs(store, folders(store)), costs(store, None)
        assert all(a <= 2 * b + 30 for a, b in zip(limited, everyone)), (limited, everyone)
    # those whose cost does not grow with the library (the others grow as much for everyone: an artist's
    # counts, a sort of every album, ranking every match) stay so when limited
    few, many = costs(small, folders(small)), costs(large, folders(large))
    assert all(many[i] <= 1.6 * few[i] + 30 for i in (0, 2, 3, 8)), (few, many)
    with scope.only(folders(large)):  # and it limits: the second member's recordings are not shown
        shown = large.read_sync(sq.tracks_page, 0, 500)
    assert shown and not any(t["title"].startswith("Remote 1") and t.get("source") == MEMBERS[1] for t in shown)
