"""Publishing the local library as this node's signed catalogue (the pure part).

The catalogue holds the tracks of the shared folders (config ``share``: all,
none, or the folders named in ``share_folders``). A track is published once it
has a ``file_id`` (the publisher computes missing ones). Each record is bounded
to the protocol's size limit by trimming long text first.
"""

from __future__ import annotations

import hashlib
import json
import os

from sonantica.protocol import FileIdBuilder, TrackRecord
from sonantica.protocol.errors import LocalProtocolError

MAX_TEXT = 300
MAX_ITEMS = 8


def shared_folder_ids(folders: list[dict], share: str, share_folders: tuple[str, ...]) -> set[int]:
    if share == "none":
        return set()
    if share == "all":
        return {f["id"] for f in folders}
    wanted = {os.path.abspath(os.path.expanduser(p)) for p in share_folders} | set(share_folders)
    return {f["id"] for f in folders if f["path"] in wanted or f["name"] in wanted}


def _text(value, limit: int = MAX_TEXT):
    return value[:limit] if isinstance(value, str) else value


def record_for(track: dict, folder_name: str, cover: str | None = None, sonic: str | None = None) -> TrackRecord:
    """The catalogue record of a local track; ``cover`` is its cover's content id (see covers.py), ``sonic``
    its encoded sonic vector (protocol ``encode_sonic``), dropped if the record would not fit otherwise."""
    analysis = {}
    if track.get("bpm"):
        analysis["bpm_milli"] = int(round(track["bpm"] * 1000))
    if track.get("rg_track_gain") is not None:
        analysis["replaygain_track_gain_mdb"] = int(round(track["rg_track_gain"] * 1000))
    fields = dict(
        track_key=track["id"], file_id=track["file_id"], size=int(track["size"]), title=_text(track["title"]),
        artists=tuple(_text(a) for a in track["artists"][:MAX_ITEMS]), album=_text(track["album"]),
        album_artists=tuple(_text(a) for a in track["album_artists"][:MAX_ITEMS]),
        track_no=track.get("track_no"), track_total=track.get("track_total"), disc_no=track.get("disc_no"),
        disc_total=track.get("disc_total"), year=track.get("year"),
        genres=tuple(_text(g, 64) for g in track["genres"][:MAX_ITEMS]), composer=_text(track.get("composer")),
        compilation=bool(track.get("compilation")), mb_recording_id=track.get("mb_recording_id"),
        mb_release_id=track.get("mb_album_id"), format=track["format"], codec=track["codec"],
        lossless=bool(track["lossless"]), sample_rate=track.get("sample_rate"), bit_depth=track.get("bit_depth"),
        channels=track.get("channels"), duration_ms=int(track["duration"] * 1000), bitrate=track.get("bitrate"),
        audio_id=(track.get("audio_id") or "")[:64] or None, folder=_text(folder_name, 200), cover=cover,
        lyrics=track.get("lyrics_id"), artist_info=track.get("artist_info_id"), sonic=sonic, analysis=analysis,
    )
    for limit in (MAX_TEXT, 120, 40):
        try:
            return TrackRecord(**fields)
        except LocalProtocolError:
            for key in ("title", "album", "composer", "folder"):
                fields[key] = _text(fields[key], limit)
            fields["artists"] = tuple(_text(a, limit) for a in fields["artists"][:4])
            fields["album_artists"] = tuple(_text(a, limit) for a in fields["album_artists"][:4])
            fields["genres"] = tuple(_text(g, limit) for g in fields["genres"][:4])
    try:
        return TrackRecord(**fields)
    except LocalProtocolError:
        if fields["sonic"] is None:
            raise
        fields["sonic"] = None  # the tags matter more than the vector
        return TrackRecord(**fields)


def sonic_members(ids: list[str], data: bytes, version: int, dims: int) -> dict[str, str]:
    """Encoded ``sonic`` members by track id, from the analysis' float32 rows (see protocol ``encode_sonic``)."""
    from sonantica.protocol.records import encode_sonic

    size = 4 * dims
    return {track_id: encode_sonic(version, data[i * size:(i + 1) * size]) for i, track_id in enumerate(ids)}


def digest(record: TrackRecord) -> str:
    return hashlib.blake2b(record.encode(), digest_size=16).hexdigest()


def compute_file_id(path: str) -> str:
    """(Blocking) the file_id of a file: BLAKE2b chunk hashes and their Merkle root."""
    builder = FileIdBuilder()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            builder.update(block)
    return builder.finish()[0]


def leaves_of(path: str) -> tuple[str, list[bytes]]:
    builder = FileIdBuilder()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            builder.update(block)
    return builder.finish()


def as_obj(record: TrackRecord) -> dict:
    return json.loads(json.dumps(record.to_obj()))
