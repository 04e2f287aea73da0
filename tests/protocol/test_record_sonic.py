"""The optional `sonic` member of track records (specs/protocol.md §5): a member's sonic vector."""

import base64
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonantica.protocol import TrackRecord, canonical
from sonantica.protocol.errors import LocalProtocolError, RemoteProtocolError
from sonantica.protocol.limits import MAX_EXTRA_BYTES, MAX_RECORD_BYTES, MAX_SONIC_CHARS, MAX_SONIC_DIMS
from sonantica.protocol.records import decode_sonic, encode_sonic

BASE = {"track_key": "k1", "file_id": "f1" + "ab" * 32, "size": 10, "title": "T"}


def f32(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def test_sonic_round_trips_and_records_without_it_still_validate():
    value = encode_sonic(3, f32(0.5, -1.25, 3.0))
    assert value == "3:" + base64.b64encode(f32(0.5, -1.25, 3.0)).decode()
    rec = TrackRecord.from_obj({**BASE, "sonic": value})
    assert rec.to_obj() == {**BASE, "sonic": value} and decode_sonic(rec.sonic) == (3, f32(0.5, -1.25, 3.0))
    plain = TrackRecord.from_obj(BASE)
    assert plain.sonic is None and "sonic" not in plain.to_obj()
    assert rec.encode() != plain.encode()  # a new vector is a catalogue update


def test_an_older_node_keeps_and_relays_the_largest_vector_as_an_unknown_member():
    biggest = encode_sonic(999_999_999, f32(*([1.0] * MAX_SONIC_DIMS)))
    assert len(biggest) <= MAX_SONIC_CHARS
    assert len(canonical.encode({"sonic": biggest})) <= MAX_EXTRA_BYTES  # fits an older node's `extra` bound
    record = TrackRecord.from_obj({**BASE, "artists": ["A" * 200], "album": "B" * 300, "sonic": biggest})
    assert len(record.encode()) <= MAX_RECORD_BYTES  # with room for tags beside it


@given(st.integers(1, 10**9 - 1), st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False),
                                           min_size=1, max_size=MAX_SONIC_DIMS))
def test_any_vector_round_trips(version, values):
    data = f32(*values)
    value = encode_sonic(version, data)
    assert decode_sonic(value) == (version, data)
    assert TrackRecord.from_obj({**BASE, "sonic": value}).sonic == value


@pytest.mark.parametrize("other", [
    "1:", "0:" + base64.b64encode(f32(1.0)).decode(), "x:AAAAAA==", "1:AAAAAA", "1:AAA=",  # not our form
    "1:" + base64.b64encode(b"\x00\x00").decode(),  # not whole float32s
    "1:" + base64.b64encode(f32(float("nan"))).decode(),
    "1:" + base64.b64encode(f32(*([0.0] * (MAX_SONIC_DIMS + 1)))).decode(),  # too many numbers
    "1:" + base64.b64encode(f32(1.0)).decode() + "\n", 7, None,
])
def test_a_vector_of_another_form_is_ignored_not_fatal(other):
    assert decode_sonic(other) is None
    if isinstance(other, str) and 0 < len(other) <= MAX_SONIC_CHARS:  # the record itself stays valid
        assert TrackRecord.from_obj({**BASE, "sonic": other}).sonic == other


@pytest.mark.parametrize("bad", [5, ["1:AAAAAA=="], "é:AAAA", "1:" + "A" * MAX_SONIC_CHARS, ""])
def test_a_sonic_member_that_is_not_a_bounded_ascii_string_is_refused(bad):
    with pytest.raises(RemoteProtocolError) as exc:
        TrackRecord.from_obj({**BASE, "sonic": bad})
    assert exc.value.code in ("bad_field", "not_canonical")


def test_producers_cannot_encode_what_receivers_would_ignore():
    for version, data in ((0, f32(1.0)), (1, b""), (1, f32(float("inf"))), (1, b"\x00" * 5)):
        with pytest.raises(LocalProtocolError):
            encode_sonic(version, data)
