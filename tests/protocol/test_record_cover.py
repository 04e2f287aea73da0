"""The optional `cover` member of track records (specs/protocol.md §5)."""

import pytest

from sonantica.protocol import TrackRecord
from sonantica.protocol.errors import RemoteProtocolError

BASE = {"track_key": "k1", "file_id": "f1" + "ab" * 32, "size": 10, "title": "T"}


def test_cover_round_trips_and_is_optional():
    with_cover = {**BASE, "cover": "em-" + "0f" * 12}
    assert TrackRecord.from_obj(with_cover).to_obj() == with_cover
    assert TrackRecord.from_obj(with_cover).cover == with_cover["cover"]
    assert TrackRecord.from_obj(BASE).cover is None and "cover" not in TrackRecord.from_obj(BASE).to_obj()
    # its presence changes the record's bytes, so a new cover is a catalogue update
    assert TrackRecord.from_obj(with_cover).encode() != TrackRecord.from_obj(BASE).encode()


@pytest.mark.parametrize("bad", [5, None, "x" * 200, ["em-"]])
def test_bad_cover_is_refused(bad):
    with pytest.raises(RemoteProtocolError) as exc:
        TrackRecord.from_obj({**BASE, "cover": bad})
    assert exc.value.code in ("bad_field", "not_canonical")
