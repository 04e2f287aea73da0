"""Track records: what a catalogue says about one track.

A :class:`TrackRecord` is a frozen, validated, dict-like value. Every string is
NFC-normalised on construction and every size is bounded (``limits.py``).
Optional fields that are absent are ``None`` (scalars) or ``()`` (lists) and
are left out of the canonical form; ``from_obj`` refuses an explicit ``null``
or ``[]`` so that ``to_obj(from_obj(x)) == x`` holds for every accepted ``x``.

Fields a newer peer adds are kept verbatim in ``extra`` (bounded) so that an
older node can still relay and verify them. ``analysis`` is a flat mapping of
short keys to integers, short strings or booleans (``bpm_milli``, ``key``,
``loudness_mlufs``, ``replaygain_track_gain_mdb``...); known keys are
type-checked, unknown ones accepted if they fit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import struct
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from . import canonical
from .chunks import parse_file_id
from .errors import LocalProtocolError, RemoteProtocolError
from .limits import (
    MAX_EXTRA_BYTES,
    MAX_FILE_SIZE,
    MAX_INT,
    MAX_KEY,
    MAX_ARTIST_INFO_BYTES,
    MAX_BIOGRAPHY_BYTES,
    MAX_LIST,
    MAX_LYRICS_BYTES,
    MAX_RECORD_BYTES,
    MAX_SHORT,
    MAX_SONIC_CHARS,
    MAX_SONIC_DIMS,
    MAX_TEXT,
)

__all__ = ["TrackRecord", "ANALYSIS_FIELDS", "encode_sonic", "decode_sonic", "lyrics_id", "is_lyrics_id",
           "artist_info_id", "is_artist_info_id", "encode_artist_info", "decode_artist_info"]

#: Known analysis keys and their types (others: int, str <= MAX_SHORT, bool).
ANALYSIS_FIELDS: dict[str, type] = {
    "bpm_milli": int,
    "key": str,
    "camelot": str,
    "loudness_mlufs": int,
    "loudness_range_mlu": int,
    "true_peak_mdbtp": int,
    "replaygain_track_gain_mdb": int,
    "replaygain_track_peak_micro": int,
    "replaygain_album_gain_mdb": int,
    "replaygain_album_peak_micro": int,
    "analysis_version": int,
}
_ANALYSIS_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_ANALYSIS_KEYS = 32

_TEXT = ("title", "album", "composer", "folder")
_SHORT = ("format", "codec", "mb_recording_id", "mb_release_id", "mb_release_group_id", "audio_id", "cover", "lyrics", "artist_info")
_LISTS = ("artists", "album_artists", "genres", "mb_artist_ids")
_COUNTS = (
    "track_no", "track_total", "disc_no", "disc_total", "year", "sample_rate",
    "bit_depth", "channels", "duration_ms", "bitrate",
)
_BOOLS = ("compilation", "lossless")


def _nfc(s: str) -> str:
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def _text(name: str, v: Any, limit: int) -> str:
    if not isinstance(v, str):
        raise LocalProtocolError(f"{name} must be a string")
    v = _nfc(v)
    if len(v) > limit:
        raise LocalProtocolError(f"{name} is longer than {limit} characters")
    return v


@dataclass(frozen=True, eq=True)
class TrackRecord(Mapping):
    track_key: str
    file_id: str
    size: int
    title: str = ""
    artists: tuple[str, ...] = ()
    album: str | None = None
    album_artists: tuple[str, ...] = ()
    track_no: int | None = None
    track_total: int | None = None
    disc_no: int | None = None
    disc_total: int | None = None
    year: int | None = None
    genres: tuple[str, ...] = ()
    composer: str | None = None
    compilation: bool | None = None
    mb_recording_id: str | None = None
    mb_release_id: str | None = None
    mb_release_group_id: str | None = None
    mb_artist_ids: tuple[str, ...] = ()
    format: str | None = None
    codec: str | None = None
    lossless: bool | None = None
    sample_rate: int | None = None
    bit_depth: int | None = None
    channels: int | None = None
    duration_ms: int | None = None
    bitrate: int | None = None
    audio_id: str | None = None
    folder: str | None = None
    cover: str | None = None  # the cover image's content id (see specs/protocol.md §5), if the owner serves one
    artist_info: str | None = None  # content id of the owner's fetched biography of the track's artist
    lyrics: str | None = None  # the content id of the owner's fetched lyrics text (is_lyrics_id), if it serves them
    sonic: str | None = None  # "<version>:<base64 float32 LE>" (encode_sonic); a value of another form is ignored
    analysis: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = object.__setattr__
        key = _text("track_key", self.track_key, MAX_KEY)
        if not key:
            raise LocalProtocolError("track_key must not be empty")
        s(self, "track_key", key)
        try:
            parse_file_id(self.file_id)
        except RemoteProtocolError as exc:
            raise LocalProtocolError(f"file_id: {exc}") from exc
        if type(self.size) is not int or not 0 <= self.size <= MAX_FILE_SIZE:
            raise LocalProtocolError("size must be an integer in 0..MAX_FILE_SIZE")
        s(self, "title", _text("title", self.title, MAX_TEXT))
        for name in _TEXT[1:]:
            v = getattr(self, name)
            if v is not None:
                s(self, name, _text(name, v, MAX_TEXT))
        for name in _SHORT:
            v = getattr(self, name)
            if v is not None:
                s(self, name, _text(name, v, MAX_SHORT * 2))
        if self.sonic is not None:
            if not isinstance(self.sonic, str) or not self.sonic.isascii() or not 0 < len(self.sonic) <= MAX_SONIC_CHARS:
                raise LocalProtocolError(f"sonic must be an ASCII string of at most {MAX_SONIC_CHARS} characters")
        for name in _LISTS:
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple)):
                raise LocalProtocolError(f"{name} must be a list of strings")
            if len(v) > MAX_LIST:
                raise LocalProtocolError(f"{name} has more than {MAX_LIST} items")
            s(self, name, tuple(_text(name, x, MAX_TEXT) for x in v))
        for name in _COUNTS:
            v = getattr(self, name)
            if v is not None and (type(v) is not int or not 0 <= v <= MAX_INT):
                raise LocalProtocolError(f"{name} must be a non-negative integer")
        for name in _BOOLS:
            v = getattr(self, name)
            if v is not None and type(v) is not bool:
                raise LocalProtocolError(f"{name} must be a boolean")
        s(self, "analysis", MappingProxyType(self._check_analysis(self.analysis)))
        s(self, "extra", MappingProxyType(self._check_extra(self.extra)))
        if len(self.encode()) > MAX_RECORD_BYTES:
            raise LocalProtocolError(f"record is larger than {MAX_RECORD_BYTES} bytes")

    @staticmethod
    def _check_analysis(a: Any) -> dict[str, Any]:
        if not isinstance(a, Mapping) or len(a) > _MAX_ANALYSIS_KEYS:
            raise LocalProtocolError(f"analysis must be a mapping of at most {_MAX_ANALYSIS_KEYS} keys")
        out: dict[str, Any] = {}
        for k, v in a.items():
            if not isinstance(k, str) or not _ANALYSIS_KEY.match(k):
                raise LocalProtocolError(f"analysis key {k!r} is not [a-z][a-z0-9_]*")
            want = ANALYSIS_FIELDS.get(k)
            if type(v) is bool:
                ok = want in (None, bool)
            elif type(v) is int:
                ok = want in (None, int) and -MAX_INT <= v <= MAX_INT
            elif type(v) is str:
                ok = want in (None, str) and len(v) <= MAX_SHORT
                v = _nfc(v)
            else:
                ok = False
            if not ok:
                raise LocalProtocolError(f"analysis[{k!r}] has the wrong type or size")
            out[k] = v
        return out

    @staticmethod
    def _check_extra(x: Any) -> dict[str, Any]:
        if not isinstance(x, Mapping):
            raise LocalProtocolError("extra must be a mapping")
        known = {f.name for f in fields(TrackRecord)}
        for k in x:
            if k in known:
                raise LocalProtocolError(f"extra field {k!r} shadows a known field")
        d = dict(x)
        if len(canonical.encode(d)) > MAX_EXTRA_BYTES:
            raise LocalProtocolError(f"unknown fields exceed {MAX_EXTRA_BYTES} bytes")
        return d

    # --- canonical form ---------------------------------------------------------
    def to_obj(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        for f in fields(self):
            if f.name in ("analysis", "extra"):
                continue
            v = getattr(self, f.name)
            if v is None or v == ():
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        if self.analysis:
            out["analysis"] = dict(self.analysis)
        return out

    def encode(self) -> bytes:
        return canonical.encode(self.to_obj())

    @classmethod
    def from_obj(cls, obj: Any) -> TrackRecord:
        """Build from a decoded document; refuses bad data with ``bad_field``."""
        if not isinstance(obj, dict):
            raise RemoteProtocolError("bad_field", "a track record is an object")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for k, v in obj.items():
            if v is None or v == [] or (k == "analysis" and v == {}):
                raise RemoteProtocolError("not_canonical", f"track field {k!r} must be omitted, not empty")
            if k in known:
                kwargs[k] = tuple(v) if k in _LISTS and isinstance(v, list) else v
            else:
                extra[k] = v
        try:
            rec = cls(**kwargs, extra=extra)
        except TypeError as exc:
            raise RemoteProtocolError("bad_field", f"track record: {exc}") from exc
        except LocalProtocolError as exc:
            raise RemoteProtocolError("bad_field", f"track record: {exc}") from exc
        if rec.to_obj() != obj:
            raise RemoteProtocolError("not_canonical", "track record does not round-trip")
        return rec

    # --- dict-like, read-only ------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        obj = self.to_obj()
        return obj[key]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.to_obj()))

    def __len__(self) -> int:
        return len(self.to_obj())

    def __hash__(self) -> int:
        return hash(self.encode())

    def replace(self, **changes: Any) -> TrackRecord:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(changes)
        return TrackRecord(**d)


_SONIC = re.compile(r"^([1-9][0-9]{0,8}):((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$")


def encode_sonic(version: int, values: bytes) -> str:
    """The ``sonic`` member for a vector: ``values`` are its little-endian float32 bytes (1..MAX_SONIC_DIMS)."""
    if type(version) is not int or not 0 < version < 10**9:
        raise LocalProtocolError("sonic version must be a positive integer")
    _check_vector(values, LocalProtocolError)
    return f"{version}:{base64.b64encode(values).decode('ascii')}"


def decode_sonic(value: Any) -> tuple[int, bytes] | None:
    """(version, float32 LE bytes) of a ``sonic`` member, or None when it is not of that form.

    Receivers ignore a vector they cannot read (a later revision may encode it otherwise) and
    compare only vectors of the version they compute themselves.
    """
    if not isinstance(value, str) or len(value) > MAX_SONIC_CHARS:
        return None
    m = _SONIC.fullmatch(value)
    if m is None:
        return None
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        _check_vector(data, ValueError)
    except ValueError:
        return None
    return int(m.group(1)), data


def _check_vector(values: bytes, error: type[Exception]) -> None:
    if not isinstance(values, (bytes, bytearray)) or not 0 < len(values) <= 4 * MAX_SONIC_DIMS or len(values) % 4:
        raise error(f"a sonic vector is 1..{MAX_SONIC_DIMS} float32 numbers")
    if not all(math.isfinite(x) for (x,) in struct.iter_unpack("<f", values)):
        raise error("a sonic vector holds finite numbers only")


_LYRICS_ID = re.compile(r"^ly-[0-9a-f]{24}$")


def lyrics_id(text: str) -> str:
    """The ``lyrics`` member for a lyrics text: ``ly-`` and the hex BLAKE2b-96 of its UTF-8 bytes.

    The text itself (≤ MAX_LYRICS_BYTES) is too large for a record: members fetch it from a holder
    (``GET /peer/v1/lyrics/{file_id}``) and keep it only if it hashes to this id, which the owner signed.
    """
    data = text.encode("utf-8")
    if not 0 < len(data) <= MAX_LYRICS_BYTES:
        raise LocalProtocolError(f"lyrics are 1..{MAX_LYRICS_BYTES} bytes of UTF-8")
    return "ly-" + hashlib.blake2b(data, digest_size=12).hexdigest()


def is_lyrics_id(value: Any) -> bool:
    """A lyrics content id as records carry it (a value of another form is ignored by receivers)."""
    return isinstance(value, str) and _LYRICS_ID.fullmatch(value) is not None


_ARTIST_INFO_ID = re.compile(r"^ai-[0-9a-f]{24}$")
_ARTIST_INFO_KEYS = {"artist", "biography", "source", "attribution"}


def encode_artist_info(artist: str, biography: str, source: str | None, attribution: str | None) -> bytes:
    """The document an ``artist_info`` id names: canonical JSON of the artist's name, biography (plain
    text, 1..MAX_BIOGRAPHY_BYTES of UTF-8) and, when known, its source link and attribution."""
    doc = {"artist": artist, "biography": biography, "source": source, "attribution": attribution}
    doc = {k: _nfc(v) if isinstance(v, str) else v for k, v in doc.items() if v}
    data = canonical.encode(doc)
    if decode_artist_info(data) is None:
        raise LocalProtocolError("artist info out of bounds")
    return data


def decode_artist_info(data: bytes) -> dict | None:
    """The document of an ``artist_info`` id, or None when it is not of that form (then it is ignored)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_ARTIST_INFO_BYTES:
        return None
    try:
        doc = canonical.decode(bytes(data), max_bytes=MAX_ARTIST_INFO_BYTES)
    except RemoteProtocolError:
        return None
    if not isinstance(doc, dict) or not doc.keys() <= _ARTIST_INFO_KEYS or not {"artist", "biography"} <= doc.keys():
        return None
    if not all(isinstance(v, str) and v for v in doc.values()):
        return None
    if len(doc["biography"].encode("utf-8")) > MAX_BIOGRAPHY_BYTES or len(doc["artist"]) > MAX_TEXT:
        return None
    if len(doc.get("source", "")) > 2048 or len(doc.get("attribution", "")) > 512:
        return None
    return doc


def artist_info_id(data: bytes) -> str:
    """The ``artist_info`` member for a document (encode_artist_info): ``ai-`` and its hex BLAKE2b-96."""
    return "ai-" + hashlib.blake2b(data, digest_size=12).hexdigest()


def is_artist_info_id(value: Any) -> bool:
    return isinstance(value, str) and _ARTIST_INFO_ID.fullmatch(value) is not None
