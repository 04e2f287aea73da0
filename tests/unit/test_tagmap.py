"""The pure tag mapping: every rule and fallback, without files."""

import pytest

from sonantica.node.library import tagmap
from sonantica.node.library.tagmap import map_tags


def test_full_tags_map_field_by_field():
    raw = {
        "title": ["  Song  "], "artist": ["A", "B"], "album": ["Al"], "albumartist": ["AA"],
        "tracknumber": ["3/12"], "discnumber": ["2/2"], "date": ["2019-05-01"], "genre": ["Rock", "Pop"],
        "composer": ["C"], "label": ["Lbl"], "musicbrainz_albumid": ["12345678-1234-1234-1234-123456789ABC"],
        "replaygain_track_gain": ["-6.50 dB"], "replaygain_track_peak": ["0.98"], "bpm": ["128"],
    }
    m = map_tags(raw, "x/y.flac")
    assert m.title == "Song"
    assert m.artists == ("A", "B") and m.artist == "A, B"
    assert m.album_artists == ("AA",)
    assert (m.track_no, m.track_total, m.disc_no, m.disc_total) == (3, 12, 2, 2)
    assert m.year == 2019 and m.date == "2019-05-01"
    assert m.genres == ("Rock", "Pop") and m.composers == ("C",) and m.label == "Lbl"
    assert m.mb_album_id == "12345678-1234-1234-1234-123456789abc"
    assert m.rg_track_gain == -6.5 and m.rg_track_peak == 0.98 and m.bpm == 128


@pytest.mark.parametrize(
    "value, expected",
    [
        ("A; B", ("A", "B")),
        ("A feat. B", ("A", "B")),
        ("A ft. B", ("A", "B")),
        ("A featuring B", ("A", "B")),
        ("A / B", ("A", "B")),
        ("AC/DC", ("AC/DC",)),
        ("Simon & Garfunkel", ("Simon & Garfunkel",)),
        ("A; a", ("A",)),
    ],
)
def test_single_artist_value_split_on_conventions(value, expected):
    assert map_tags({"artist": [value]}, "f.mp3").artists == expected


def test_repeated_values_are_not_split_further():
    assert map_tags({"artist": ["A; B", "C"]}, "f.mp3").artists == ("A; B", "C")


def test_artists_tag_preferred_over_display_artist():
    assert map_tags({"artist": ["A feat. B"], "artists": ["A", "B"]}, "f.mp3").artists == ("A", "B")


@pytest.mark.parametrize(
    "raw, expected",
    [(["(17)"], ("Rock",)), (["17"], ("Rock",)), (["(17)Indie"], ("Indie",)), (["Rock; Pop"], ("Rock", "Pop")),
     (["Rock/Pop"], ("Rock", "Pop")), (["Rock", "rock"], ("Rock",)), (["Drum & Bass"], ("Drum & Bass",))],
)
def test_genres(raw, expected):
    assert map_tags({"genre": raw}, "f.mp3").genres == expected


@pytest.mark.parametrize(
    "text, expected",
    [("3/12", (3, 12)), ("03", (3, None)), ("0/0", (None, None)), ("x", (None, None)), ("", (None, None)),
     (" 7 / 9", (7, 9)), ("/9", (None, 9))],
)
def test_number_pairs(text, expected):
    assert tagmap.parse_number_pair(text) == expected


def test_totals_from_separate_fields():
    m = map_tags({"tracknumber": ["4"], "tracktotal": ["10"], "discnumber": ["1"], "totaldiscs": ["3"]}, "f.flac")
    assert (m.track_no, m.track_total, m.disc_no, m.disc_total) == (4, 10, 1, 3)


def test_untagged_file_falls_back_to_name_and_folder():
    m = map_tags({}, "Some Album/07 - The Artist - The Title.flac")
    assert (m.title, m.artists, m.album, m.track_no) == ("The Title", ("The Artist",), "Some Album", 7)
    assert m.album_artists == ("The Artist",)


def test_untagged_without_artist_in_name():
    m = map_tags({}, "Album/Title only.mp3")
    assert (m.title, m.artists, m.album) == ("Title only", ("Unknown Artist",), "Album")


def test_disc_folders_are_not_the_album():
    assert map_tags({}, "Big Album/CD2/01 - x.flac").album == "Big Album"
    assert map_tags({}, "Big Album/Disc 1/01 - x.flac").album == "Big Album"


def test_compilation_flag_gives_various_artists():
    m = map_tags({"artist": ["X"], "compilation": ["1"]}, "f.flac")
    assert m.compilation and m.album_artists == ("Various Artists",) and m.artists == ("X",)


def test_various_artists_album_artist_marks_compilation():
    assert map_tags({"artist": ["X"], "albumartist": ["Various Artists"]}, "f.flac").compilation


@pytest.mark.parametrize("text, year", [("2001", 2001), ("2001-02-03", 2001), ("03/04/1999", 1999), ("abc", None), ("0000", None)])
def test_years(text, year):
    assert tagmap.parse_year(text) == year


@pytest.mark.parametrize("text, gain", [("-6.5 dB", -6.5), ("+1.20 dB", 1.2), ("2", 2.0), ("junk", None)])
def test_gains(text, gain):
    assert tagmap.parse_gain(text) == gain


def test_invalid_mbid_dropped():
    assert map_tags({"musicbrainz_albumid": ["not-an-id"]}, "f.flac").mb_album_id is None


def test_control_characters_and_length_are_bounded():
    m = map_tags({"title": ["a\x00b\x07c" + "x" * 10000]}, "f.flac")
    assert m.title.startswith("abc") and len(m.title) == tagmap.MAX_TEXT


def test_normalise_is_accent_and_case_insensitive():
    assert tagmap.normalise("Björk") == tagmap.normalise("bjork") == "bjork"
    assert tagmap.normalise("  Café  Tacvba ") == "cafe tacvba"


def test_isrc_work_movement_grouping_and_album_version():
    from sonantica.node.library.tagmap import classical

    picard = classical({"isrc": ["us-s1z-99-00001", "junk"], "grouping": ["A", "a"], "work": ["Op. 9"],
                        "musicbrainz_workid": ["2A4B2F5C-1111-4222-8333-944455556666"],
                        "movementname": ["Allegro"], "movement": ["2"], "movementtotal": ["4"],
                        "musicbrainz_albumcomment": ["Deluxe"]})
    assert picard == {"isrc": ("USS1Z9900001",), "groupings": ("A",), "work": "Op. 9",
                      "mb_work_id": "2a4b2f5c-1111-4222-8333-944455556666", "movement_name": "Allegro",
                      "movement_no": 2, "movement_total": 4, "album_version": "Deluxe"}
    # ID3 TIT1: a grouping by the standard, the work in iTunes' convention (grouping in GRP1)
    assert classical({"contentgroup": ["Live"]})["groupings"] == ("Live",)
    itunes = classical({"contentgroup": ["Op. 9"], "grouping": ["Live"], "movement": ["3/5"]})
    assert (itunes["work"], itunes["groupings"], itunes["movement_no"], itunes["movement_total"]) == \
        ("Op. 9", ("Live",), 3, 5)
    assert classical({}) == {"isrc": (), "groupings": (), "work": None, "mb_work_id": None, "movement_name": None,
                             "movement_no": None, "movement_total": None, "album_version": None}
