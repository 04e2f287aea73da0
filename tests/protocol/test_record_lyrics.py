"""The optional `lyrics` and `artist_info` members of track records (specs/protocol.md §5): the content
ids of the lyrics text and the artist biography their owner fetched, which members fetch apart
(``GET /peer/v1/lyrics/{file_id}``, ``/peer/v1/artist-info/{file_id}``) and verify."""

import hashlib

import pytest

from sonantica.protocol import TrackRecord, canonical
from sonantica.protocol.errors import LocalProtocolError, RemoteProtocolError
from sonantica.protocol.limits import (
    MAX_ARTIST_INFO_BYTES,
    MAX_BIOGRAPHY_BYTES,
    MAX_EXTRA_BYTES,
    MAX_LYRICS_BYTES,
    MAX_RECORD_BYTES,
)
from sonantica.protocol.records import (
    artist_info_id,
    decode_artist_info,
    encode_artist_info,
    is_artist_info_id,
    is_lyrics_id,
    lyrics_id,
)

BASE = {"track_key": "k1", "file_id": "f1" + "ab" * 32, "size": 10, "title": "T"}
LRC = "[00:01.00]Fuzzy lines\n[00:03.50]Ça va\n"


def test_the_id_names_the_utf8_text_and_records_without_it_still_validate():
    ident = lyrics_id(LRC)
    assert ident == "ly-" + hashlib.blake2b(LRC.encode("utf-8"), digest_size=12).hexdigest() and is_lyrics_id(ident)
    rec = TrackRecord.from_obj({**BASE, "lyrics": ident})
    assert rec.lyrics == ident and rec.to_obj() == {**BASE, "lyrics": ident}
    plain = TrackRecord.from_obj(BASE)
    assert plain.lyrics is None and "lyrics" not in plain.to_obj()
    assert rec.encode() != plain.encode()  # newly fetched lyrics are a catalogue update
    assert lyrics_id(LRC + "x") != ident


def test_an_older_node_keeps_and_relays_it_as_an_unknown_member():
    ident = lyrics_id("x" * MAX_LYRICS_BYTES)  # the largest text still has a 27-character id
    assert len(canonical.encode({"lyrics": ident})) <= MAX_EXTRA_BYTES
    big = TrackRecord.from_obj({**BASE, "artists": ["A" * 200], "album": "B" * 300, "lyrics": ident})
    assert len(big.encode()) <= MAX_RECORD_BYTES


@pytest.mark.parametrize("text", ["", "é" * (MAX_LYRICS_BYTES // 2 + 1), "x" * (MAX_LYRICS_BYTES + 1)])
def test_producers_cannot_name_empty_or_oversized_lyrics(text):
    with pytest.raises(LocalProtocolError):
        lyrics_id(text)


@pytest.mark.parametrize("other", ["ly-" + "A" * 24, "ly-" + "0" * 23, "em-" + "0" * 24, "lyrics please", "ly-" + "0" * 25])
def test_a_value_of_another_form_is_ignored_not_fatal(other):
    assert not is_lyrics_id(other)
    assert TrackRecord.from_obj({**BASE, "lyrics": other}).lyrics == other  # the record stays valid


@pytest.mark.parametrize("bad", [5, ["ly-" + "0" * 24], "x" * 200])
def test_a_lyrics_member_that_is_not_a_short_string_is_refused(bad):
    with pytest.raises(RemoteProtocolError) as exc:
        TrackRecord.from_obj({**BASE, "lyrics": bad})
    assert exc.value.code in ("bad_field", "not_canonical")


# -- artist_info: the content id of a member's fetched artist biography -------------------------------
def test_artist_info_document_round_trips_and_its_id_rides_in_records():
    data = encode_artist_info("Björk", "An Icelandic singer.", "https://en.wikipedia.org/wiki/Bj%C3%B6rk", "Wikipedia")
    assert decode_artist_info(data) == {"artist": "Björk", "biography": "An Icelandic singer.",
                                        "source": "https://en.wikipedia.org/wiki/Bj%C3%B6rk", "attribution": "Wikipedia"}
    assert decode_artist_info(encode_artist_info("Björk", "Bio.", None, None)) == {"artist": "Björk", "biography": "Bio."}
    ident = artist_info_id(data)
    assert is_artist_info_id(ident) and ident == "ai-" + hashlib.blake2b(data, digest_size=12).hexdigest()
    rec = TrackRecord.from_obj({**BASE, "artist_info": ident, "lyrics": lyrics_id(LRC)})
    assert rec.artist_info == ident and len(rec.encode()) <= MAX_RECORD_BYTES
    assert "artist_info" not in TrackRecord.from_obj(BASE).to_obj()
    assert TrackRecord.from_obj({**BASE, "artist_info": "ai-nonsense"}).artist_info == "ai-nonsense"  # ignored, valid
    assert not is_artist_info_id("ai-nonsense")


@pytest.mark.parametrize("doc", [
    b"not json", b"[]", b'{"artist":"A"}', b'{"artist":"A","biography":""}', b'{"artist":"A","biography":5}',
    b'{"artist":"A","biography":"B","html":"<b>"}',  # an unknown member
    canonical.encode({"artist": "A", "biography": "x" * (MAX_BIOGRAPHY_BYTES + 1)}),
    canonical.encode({"artist": "A", "biography": "B", "source": "s" * 3000}),
    b" " * (MAX_ARTIST_INFO_BYTES + 1),
])
def test_an_artist_info_document_out_of_form_or_bounds_is_ignored(doc):
    assert decode_artist_info(doc) is None


def test_producers_cannot_encode_an_oversized_biography():
    with pytest.raises(LocalProtocolError):
        encode_artist_info("A", "é" * (MAX_BIOGRAPHY_BYTES // 2 + 1), None, None)
