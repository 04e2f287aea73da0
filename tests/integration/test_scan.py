"""The scanner against real files in every format, real tags and broken files, into real SQLite."""

import os
import shutil

import pytest

from tests.support.audio import FORMATS, jpeg, make_track, write_tags

MBID = "12345678-1234-1234-1234-123456789012"
FULL_TAGS = {
    "title": "Song", "artist": ["Ana", "Bo"], "album": "Record", "albumartist": "Ana",
    "tracknumber": "3/12", "discnumber": "1/2", "date": "2019-05-01", "genre": ["Rock", "Pop"],
    "composer": "Cy", "musicbrainz_albumid": MBID, "replaygain_track_gain": "-6.5 dB",
    "replaygain_track_peak": "0.9",
}
EXPECT_PROPS = {
    "flac": ("flac", "flac", True, 16), "mp3": ("mp3", "mp3", False, None), "ogg": ("ogg", "vorbis", False, None),
    "opus": ("opus", "opus", False, None), "m4a": ("m4a", "aac", False, None), "alac": ("m4a", "alac", True, None),
    "wav": ("wav", "pcm", True, 16), "aiff": ("aiff", "pcm", True, 16),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_indexed_field_by_field(library, music, fmt):
    ext = "m4a" if fmt == "alac" else fmt
    tags = dict(FULL_TAGS)
    if fmt in ("m4a", "alac"):
        tags.pop("replaygain_track_gain"), tags.pop("replaygain_track_peak")
    make_track(music / f"Ana/Record/03 - Song.{ext}", fmt, tags, seconds=1.5, cover=jpeg())
    summary = library.scan()
    assert (summary.seen, summary.added, summary.errors) == (1, 1, 0)
    [t] = library.tracks()
    fmt_name, codec, lossless, depth = EXPECT_PROPS[fmt]
    assert (t["format"], t["codec"], t["lossless"]) == (fmt_name, codec, lossless)
    if depth:
        assert t["bit_depth"] == depth
    assert t["channels"] == 2 and t["sample_rate"] in (44100, 48000)
    assert 1.3 < t["duration"] < 1.7 and t["bitrate"] > 0 and t["size"] > 0
    assert t["title"] == "Song" and t["artists"] == ["Ana", "Bo"] and t["artist"] == "Ana, Bo"
    assert t["album"] == "Record" and t["album_artists"] == ["Ana"]
    assert (t["track_no"], t["track_total"], t["disc_no"], t["disc_total"]) == (3, 12, 1, 2)
    assert t["year"] == 2019 and t["genres"] == ["Rock", "Pop"] and t["composer"] == "Cy"
    assert t["mb_album_id"] == MBID
    if fmt not in ("m4a", "alac"):
        assert t["rg_track_gain"] == -6.5 and t["rg_track_peak"] == 0.9
    assert t["has_cover"] and t["cover"].startswith("em-")
    assert t["audio_id"]
    [album] = library.albums()
    assert album["id"] == t["album_id"] and album["cover"] == t["cover"] and album["song_count"] == 1


def test_24_bit_flac_and_mono(library, music):
    make_track(music / "a.flac", "flac", {"title": "Hi"}, bit_depth=24, channels=1, sr=96000)
    library.scan()
    [t] = library.tracks()
    assert (t["bit_depth"], t["channels"], t["sample_rate"]) == (24, 1, 96000)


def test_id3v24_multi_values_and_feat_fallback(library, music):
    make_track(music / "one.mp3", "mp3", {"title": "One", "artist": ["X", "Y"]})
    make_track(music / "two.mp3", "mp3", {"title": "Two", "artist": "X feat. Z"})
    library.scan()
    t = library.by_title()
    assert t["One"]["artists"] == ["X", "Y"]
    assert t["Two"]["artists"] == ["X", "Z"]


def test_untagged_file_uses_name_and_folder(library, music):
    make_track(music / "The Album/02 - Some Band - Hello.flac", "flac")
    library.scan()
    [t] = library.tracks()
    assert (t["title"], t["artists"], t["album"], t["track_no"]) == ("Hello", ["Some Band"], "The Album", 2)


def test_compilation_groups_under_various_artists(library, music):
    for i, artist in enumerate(["Ana", "Bo", "Cy"]):
        make_track(music / f"Comp/0{i}.flac", "flac",
                   {"title": f"T{i}", "artist": artist, "album": "Hits", "compilation": "1"}, seed=i)
    library.scan()
    [album] = library.albums()
    assert album["artist"] == "Various Artists" and album["compilation"] == 1 and album["song_count"] == 3
    assert sorted(t["artist"] for t in library.tracks()) == ["Ana", "Bo", "Cy"]


def test_multi_disc_album_stays_one(library, music):
    for disc in (1, 2):
        for no in (1, 2):
            make_track(music / f"Big/CD{disc}/0{no}.flac", "flac",
                       {"title": f"D{disc}T{no}", "artist": "Ana", "album": "Big", "discnumber": f"{disc}/2",
                        "tracknumber": str(no)}, seed=disc * 10 + no)
    library.scan()
    [album] = library.albums()
    assert album["song_count"] == 4 and album["disc_count"] == 2


def test_same_album_name_different_artists_are_two_albums(library, music):
    make_track(music / "a/1.flac", "flac", {"title": "a", "artist": "Ana", "album": "Greatest Hits"})
    make_track(music / "b/1.flac", "flac", {"title": "b", "artist": "Bo", "album": "Greatest Hits"}, seed=1)
    library.scan()
    assert len(library.albums()) == 2


def test_folder_image_is_album_cover(library, music):
    make_track(music / "Ana/Rec/01.flac", "flac", {"title": "a", "artist": "Ana", "album": "Rec"})
    (music / "Ana/Rec/cover.jpg").write_bytes(jpeg())
    library.scan()
    [album] = library.albums()
    assert album["cover"] and album["cover"].startswith("fi-")


def test_big_cover_does_not_stop_the_scan(library, music):
    big = jpeg(64) + os.urandom(10 * 1024 * 1024)
    make_track(music / "big.flac", "flac", {"title": "Big"}, cover=big)
    summary = library.scan()
    assert summary.errors == 0
    [t] = library.tracks()
    assert t["has_cover"]


BROKEN = {
    "garbage.mp3": b"this is not audio" * 100,
    "empty.flac": b"",
    "truncated.flac": None,
    "header-only.ogg": b"OggS" + b"\0" * 40,
    "zero-length-wav.wav": b"RIFF\x24\0\0\0WAVEfmt ",
}


def test_broken_files_are_recorded_and_never_stop_the_scan(library, music):
    make_track(music / "good.flac", "flac", {"title": "Good"})
    for name, content in BROKEN.items():
        if content is None:
            full = (music / "good.flac").read_bytes()
            content = full[:60]
        (music / name).write_bytes(content)
    # mislabelled: a FLAC named .mp3 is still read, by content
    make_track(music / "actually-flac.mp3.tmp", "flac", {"title": "Mislabelled"}, seed=3)
    os.rename(music / "actually-flac.mp3.tmp", music / "actually-flac.mp3")
    summary = library.scan()
    assert {t["title"] for t in library.tracks()} == {"Good", "Mislabelled"}
    errors = library.errors()
    assert set(errors) == set(BROKEN)
    assert errors["empty.flac"] == "empty file"
    assert all(reason for reason in errors.values())
    assert summary.errors == len(BROKEN)
    # a second scan does not re-read the same broken files, and keeps their errors
    again = library.scan()
    assert again.added == again.updated == 0 and set(library.errors()) == set(BROKEN)
    # fixing a broken file clears its error
    make_track(music / "garbage.mp3", "mp3", {"title": "Fixed"})
    library.scan()
    assert "garbage.mp3" not in library.errors() and "Fixed" in library.by_title()


def test_fifo_named_like_audio_is_skipped(library, music):
    os.mkfifo(music / "pipe.flac")
    make_track(music / "ok.flac", "flac", {"title": "ok"})
    assert library.scan().seen == 1


def test_symlink_loop_terminates_and_outside_links_are_not_followed(library, music, tmp_path):
    make_track(music / "in/a.flac", "flac", {"title": "inside"})
    outside = tmp_path / "outside"
    make_track(outside / "b.flac", "flac", {"title": "outside"}, seed=1)
    os.symlink(music, music / "in/loop")
    os.symlink(outside, music / "escape")
    os.symlink(outside / "b.flac", music / "escape.flac")
    summary = library.scan()
    assert [t["title"] for t in library.tracks()] == ["inside"]
    assert summary.seen == 1


@pytest.mark.skipif(os.getuid() == 0, reason="root reads folders of mode 000: cannot make one unreadable")
def test_unreadable_folder_is_reported(library, music):
    make_track(music / "ok/a.flac", "flac", {"title": "ok"})
    (music / "locked").mkdir()
    os.chmod(music / "locked", 0)
    try:
        summary = library.scan()
    finally:
        os.chmod(music / "locked", 0o755)
    assert any("locked" in p for p in summary.problems)


def test_incremental_rescan(library, music):
    for i in range(5):
        make_track(music / f"{i}.flac", "flac", {"title": f"t{i}", "artist": "A", "album": "B"}, seed=i)
    first = library.scan()
    assert first.added == 5
    second = library.scan()
    assert (second.unchanged, second.added, second.updated, second.removed) == (5, 0, 0, 0)
    # changed file re-read, deleted disappears
    write_tags(music / "1.flac", "flac", {"title": "renamed title"})
    os.unlink(music / "2.flac")
    third = library.scan()
    assert (third.updated, third.removed, third.unchanged) == (1, 1, 3)
    titles = {t["title"] for t in library.tracks()}
    assert titles == {"t0", "renamed title", "t3", "t4"}


def test_moved_renamed_and_retagged_files_keep_their_id(library, music):
    for i, fmt in enumerate(["flac", "mp3", "ogg", "m4a", "wav", "opus"]):
        make_track(music / f"old/{i}.{fmt}", fmt, {"title": f"t{i}", "artist": "A"}, seed=i)
    library.scan()
    before = {t["title"]: t["id"] for t in library.tracks()}
    shutil.move(music / "old", music / "new place")
    summary = library.scan()
    assert summary.moved == 6 and summary.removed == 0 and summary.added == 0
    after = {t["title"]: (t["id"], t["path"]) for t in library.tracks()}
    assert {k: v[0] for k, v in after.items()} == before
    assert all(p.startswith("new place/") for _, p in after.values())
    # re-tagging only: same id
    write_tags(music / "new place/1.mp3", "mp3", {"title": "t1 (remaster)"})
    write_tags(music / "new place/2.ogg", "ogg", {"title": "t2 (remaster)"})
    library.scan()
    t = library.by_title()
    assert t["t1 (remaster)"]["id"] == before["t1"] and t["t2 (remaster)"]["id"] == before["t2"]


def test_full_rescan_rereads_everything(library, music):
    make_track(music / "a.flac", "flac", {"title": "a"})
    library.scan()
    assert library.scan(full=True).updated == 1


def test_artists_and_albums_pruned_when_files_go(library, music):
    make_track(music / "a.flac", "flac", {"title": "a", "artist": "Gone", "album": "Lost"})
    make_track(music / "b.flac", "flac", {"title": "b"}, seed=2)  # the folder is not left empty (see below)
    library.scan()
    os.unlink(music / "a.flac")
    library.scan()
    assert all(a["name"] != "Lost" for a in library.albums())
    assert library.store.read_sync(lambda db: db.conn.execute(
        "SELECT count(*) FROM artist WHERE name = 'Gone'").fetchone()[0]) == 0


def test_an_unmounted_music_folder_keeps_its_tracks_until_it_is_back(tmp_path):
    """A NAS share or USB disk that is away (folder missing, or its empty mount point) is not "every
    file deleted": the tracks keep their ids (and so stars, plays, playlists) and come back as they were."""
    from tests.support.library import Library

    disk, home = tmp_path / "disk", tmp_path / "home"
    for i in range(3):
        make_track(disk / f"Live/{i}.flac", "flac", {"title": f"live {i}", "album": "Live"}, seed=i)
    make_track(home / "h.flac", "flac", {"title": "home"}, seed=9)
    lib = Library(tmp_path / "node", [disk, home])
    try:
        lib.scan()
        before = {t["title"]: t["id"] for t in lib.tracks()}
        assert len(before) == 4
        disk.rename(tmp_path / "away")  # unmounted: the folder is gone
        gone = lib.scan()
        assert gone.removed == 0 and {t["title"]: t["id"] for t in lib.tracks()} == before
        assert any(str(disk) in p and "kept" in p for p in gone.problems), gone.problems
        disk.mkdir()  # the empty mount point stays behind
        empty = lib.scan()
        assert empty.removed == 0 and {t["title"]: t["id"] for t in lib.tracks()} == before
        assert any(str(disk) in p and "empty" in p and "3 tracks" in p for p in empty.problems), empty.problems
        disk.rmdir()
        (tmp_path / "away").rename(disk)  # mounted again
        back = lib.scan()
        assert (back.added, back.removed, back.moved) == (0, 0, 0)
        assert {t["title"]: t["id"] for t in lib.tracks()} == before
        assert [a["name"] for a in lib.albums() if a["name"] == "Live"] == ["Live"]
        # really gone: an explicit full scan believes the empty folder
        for f in (disk / "Live").iterdir():
            f.unlink()
        assert lib.scan().removed == 0
        assert lib.scan(full=True).removed == 3
        assert [t["title"] for t in lib.tracks()] == ["home"]
    finally:
        lib.close()


def _copies(music, n: int) -> None:
    src = make_track(music / "seed.flac", "flac", {"title": "seed"})
    for i in range(n):
        (music / f"d{i // 50}").mkdir(exist_ok=True)
        shutil.copyfile(src, music / f"d{i // 50}/{i}.flac")


def test_process_pool_path_many_files(library, music):
    _copies(music, 400)
    library.scanner.inline_limit = 0
    summary = library.scan()
    assert summary.added == 401 and summary.errors == 0
    assert len(library.tracks()) == 401
    stats = library.scanner.statistics()
    assert stats["here"] + stats["pool"] == 2  # batches of 256, each read once, by whichever reader was free


def test_small_first_scan_reads_in_process_without_a_pool(library, music):
    """A first scan of 500 files starts no process pool (starting one took seconds on 2 cores)."""
    _copies(music, 499)
    summary = library.scan()
    assert summary.added == 500 and summary.errors == 0
    assert library.scanner.statistics() == {"here": 2, "pool": 0}


def _mixed_library(music) -> None:
    for i, fmt in enumerate(FORMATS):
        ext = "m4a" if fmt == "alac" else fmt
        tags = dict(FULL_TAGS, title=f"Song {fmt}", tracknumber=f"{i + 1}/12")
        make_track(music / f"Ana/Record/{i + 1:02} - {fmt}.{ext}", fmt, tags, seconds=0.5, cover=jpeg(color=(i, 9, 9)))
    make_track(music / "Bo/loose.mp3", "mp3", {"title": "Loose", "artist": "Bo"})
    (music / "Bo/broken.flac").write_bytes(b"fLaC" + b"\0" * 100)


def _comparable(library) -> list[dict]:
    return [{k: v for k, v in t.items() if k not in ("id", "created_at", "updated_at")} for t in library.tracks()]


def test_pool_and_in_process_readers_index_the_same(tmp_path, music):
    """Tags, properties, covers, audio ids and errors are the same whichever reader read a file."""
    from tests.support.library import Library

    _mixed_library(music)
    here = Library(tmp_path / "here", music)
    pool = Library(tmp_path / "pool", music)
    try:
        here.scan()
        pool.scanner.inline_limit, pool.scanner.read_here = 0, False
        pool.scan()
        assert here.scanner.statistics() == {"here": 1, "pool": 0}
        assert pool.scanner.statistics() == {"here": 0, "pool": 1}
        assert _comparable(here) == _comparable(pool) and len(_comparable(here)) == len(FORMATS) + 1
        assert here.errors() == pool.errors() and list(here.errors()) == ["Bo/broken.flac"]
        assert [a["cover"] for a in here.albums()] == [a["cover"] for a in pool.albums()]
    finally:
        here.close()
        pool.close()
