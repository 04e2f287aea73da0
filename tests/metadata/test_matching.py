"""The worker against the stand-ins: matching by MBID and by tags, covers, pictures, biographies, lyrics."""

from __future__ import annotations

from dataclasses import replace

import pytest
import trio

from sonantica.node import cli
from sonantica.node.config import DataDir
from sonantica.node.metadata.worker import Worker
from sonantica.node.store import metadata as meta_store
from sonantica.node.store.db import Store

from .world import ARTIST_PICTURE, BJORK, COVER, DEBUT, HOMOGENIC, HUNTER_REC, build_library


@pytest.fixture(scope="module")
def looked(tmp_path_factory, standin):
    """One library scanned, one metadata pass made; (data dir, store, pass result, requests made)."""
    root = tmp_path_factory.mktemp("matching")
    build_library(root / "music")
    assert cli.main(["--data", str(root / "node"), "init", "--music", str(root / "music")]) == 0
    data = DataDir(root / "node")
    config = replace(data.load_config(), metadata=True, **standin.settings())
    data.save_config(config)
    assert cli.main(["--data", str(root / "node"), "scan"]) == 0
    store = Store.open(data.db_path)
    before = standin.count()

    async def one_pass():
        w = Worker(store, config, data.cache_dir / "metadata")
        try:
            return await w.run_pass()
        finally:
            await w.http.aclose()

    result = trio.run(one_pass)
    yield data, store, result, standin.count() - before
    store.close()


def _ids(store):
    def read(db):
        albums = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM album")}
        tracks = {r["title"]: r["id"] for r in db.query("SELECT id, title FROM track")}
        artist = db.conn.execute("SELECT id FROM artist WHERE name = 'Björk'").fetchone()[0]
        return albums, tracks, artist

    return store.read_sync(read)


def test_album_matched_by_tags_gets_mbids_and_cover(looked):
    data, store, result, _ = looked
    albums, tracks, _ = _ids(store)
    row = store.read_sync(meta_store.album_row, albums["Homogenic"])
    assert row["release_mbid"] == HOMOGENIC  # not the live release with 9 tracks the search listed first
    assert row["release_group_mbid"] == "bbbbbbbb-2222-4222-8222-000000000001"
    assert row["artist_mbid"] == BJORK
    assert (data.cache_dir / "metadata" / row["cover"]).read_bytes() == COVER
    cover = store.read_sync(lambda db: db.conn.execute("SELECT cover FROM album WHERE id = ?",
                                                       (albums["Homogenic"],)).fetchone()[0])
    assert cover == row["cover"]
    assert store.read_sync(meta_store.track_row, tracks["Hunter"])["recording_mbid"] == HUNTER_REC
    assert not result.failures


def test_album_matched_by_its_mbid(looked, standin):
    _, store, _, _ = looked
    albums, tracks, _ = _ids(store)
    row = store.read_sync(meta_store.album_row, albums["Debut"])
    assert row["release_mbid"] == DEBUT and row["cover"] is None  # the archive has no front for it
    assert store.read_sync(meta_store.track_row, tracks["Human Behaviour"])["recording_mbid"] == \
        "dddddddd-4444-4444-8444-000000000011"
    assert standin.count("coverartarchive") and not any(s.path == f"/caa/release/{DEBUT}" for s in standin.seen)


def test_artist_gets_picture_and_biography_with_sources(looked):
    data, store, _, _ = looked
    _, _, artist = _ids(store)
    row = store.read_sync(meta_store.artist_row, artist)
    assert row["mbid"] == BJORK
    assert (data.cache_dir / "metadata" / row["image"]).read_bytes() == ARTIST_PICTURE
    assert "Wikimedia Commons" in row["image_attribution"] and "File:Bj" in row["image_source"]
    assert row["biography"].startswith("Björk Guðmundsdóttir is an Icelandic singer")
    assert row["biography_source"] == "https://en.wikipedia.org/wiki/Bj%C3%B6rk"
    assert "CC BY-SA" in row["biography_attribution"]


def test_lyrics_fetched_only_for_tracks_without_their_own(looked, standin):
    _, store, _, _ = looked
    _, tracks, _ = _ids(store)
    assert store.read_sync(meta_store.fetched_lyrics, tracks["Hunter"]).startswith("[00:00.40] If travel")
    asked = [s.query.get("track_name") for s in standin.seen if s.path == "/lrclib/api/get"]
    assert "Jóga" not in asked  # its .lrc wins; nothing is asked about it
    hunter = next(s for s in standin.seen if s.path == "/lrclib/api/get" and s.query["track_name"] == "Hunter")
    assert hunter.query == {"artist_name": "Björk", "track_name": "Hunter", "album_name": "Homogenic", "duration": "2"}


def test_requests_name_the_project_and_send_only_tags(looked, standin):
    for seen in standin.seen:
        assert seen.headers["user-agent"].startswith("Sonantica/")
        assert "cookie" not in seen.headers and "authorization" not in seen.headers


def test_second_pass_asks_nothing(looked, standin):
    data, store, _, _ = looked
    before = standin.count()

    async def again():
        w = Worker(store, data.load_config(), data.cache_dir / "metadata")
        try:
            return await w.run_pass()
        finally:
            await w.http.aclose()

    result = trio.run(again)
    assert sum(result.looked.values()) == 0 and standin.count() == before


def test_cli_refresh_one_album_asks_again_and_status_reports(looked, standin, capsys):
    import json

    data, store, _, _ = looked
    albums, _, _ = _ids(store)
    before = standin.count("musicbrainz")
    assert cli.main(["--data", str(data.root), "metadata", "refresh", "--album", albums["Homogenic"], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ran"] == "here" and out["looked"]["album"] == 1 and out["looked"]["artist"] == 0
    assert standin.count("musicbrainz") > before  # the cache was skipped for it
    assert cli.main(["--data", str(data.root), "metadata", "refresh", "--album", "al-nothing"]) != 0
    capsys.readouterr()
    assert cli.main(["--data", str(data.root), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)["metadata"]
    assert status["albums"] == {"total": 2, "checked": 2, "found": 2}
    assert {p["name"] for p in status["providers"]} >= {"musicbrainz", "coverartarchive", "lrclib", "wikidata"}
    assert cli.main(["--data", str(data.root), "status"]) == 0
    assert "metadata: 2 of 2 albums looked at (2 found)" in capsys.readouterr().out
