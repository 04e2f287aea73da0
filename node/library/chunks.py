"""Tags and codec that WAV and AIFF files keep in their own chunks (mutagen reads only ID3 there).

* WAV: ``LIST``/``INFO`` (INAM title, IART artist, IPRD album, IPRT/ITRK track,
  IGNR genre, ICRD date, ICMT comment, ICMP composer…), the ``fmt `` format tag
  (PCM, float, or a compressed codec inside a WAV), and XMP in ``_PMX``.
* AIFF/AIFC: ``NAME``, ``AUTH``, ``ANNO``, ``(c) `` and the AIFC compression type of
  ``COMM``; XMP in an ``APPL`` chunk signed ``XMP ``.

Only chunk headers are read, seeking over the audio, so this costs a few small
reads per file. Text is decoded as UTF-8 when valid, else Windows-1252 (what
Windows tools wrote for twenty years). XMP goes through defusedxml.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_CHUNK_TEXT = 64 * 1024  # a text chunk larger than this is skipped
MAX_XMP = 1024 * 1024
MAX_CHUNKS = 4096

_INFO = {
    b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"IPRT": "tracknumber", b"ITRK": "tracknumber",
    b"IGNR": "genre", b"ICRD": "date", b"ICMT": "comment", b"ICMP": "composer", b"IMUS": "composer",
    b"IPUB": "label", b"ISBJ": "comment",
}
_AIFF_TEXT = {b"NAME": "title", b"AUTH": "artist", b"ANNO": "comment", b"(c) ": "copyright"}
#: WAVE format tags that are not plain PCM → codec name (WAVE_FORMAT_* of mmreg.h).
_WAVE_CODECS = {
    0x0002: "adpcm_ms", 0x0006: "pcm_alaw", 0x0007: "pcm_mulaw", 0x0011: "adpcm_ima", 0x0050: "mp2",
    0x0055: "mp3", 0x0161: "wma", 0x2000: "ac3", 0x2001: "dts",
}
_AIFC_PCM = {b"NONE", b"none", b"sowt", b"twos", b"fl32", b"FL32", b"fl64", b"FL64", b"in24", b"in32", b"raw "}
_AIFC_CODECS = {b"ulaw": "pcm_mulaw", b"ULAW": "pcm_mulaw", b"alaw": "pcm_alaw", b"ALAW": "pcm_alaw",
                b"ima4": "adpcm_ima", b"MAC3": "mace", b"MAC6": "mace", b"GSM ": "gsm", b"QDM2": "qdm2"}
_XMP_FIELDS = {
    "title": "title", "creator": "artist", "artist": "artist", "album": "album", "trackNumber": "tracknumber",
    "genre": "genre", "releaseDate": "date", "composer": "composer", "description": "comment",
}


@dataclass
class ChunkInfo:
    """What the chunks say: tags in the common vocabulary, and a non-PCM codec if any."""

    raw: dict[str, list[str]] = field(default_factory=dict)
    codec: str | None = None  # None: plain PCM (or not said)


def read_chunks(path: str) -> ChunkInfo:
    """Walk the RIFF or FORM chunks of ``path``; damaged chunk lists end the walk, never the scan."""
    info = ChunkInfo()
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
                _walk(f, "<", info, _wav_chunk)
            elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
                _walk(f, ">", info, _aiff_chunk)
    except (OSError, struct.error, ValueError):
        pass
    return info


def _walk(f: BinaryIO, order: str, info: ChunkInfo, handle) -> None:
    for _ in range(MAX_CHUNKS):
        header = f.read(8)
        if len(header) < 8:
            return
        cid, size = header[:4], struct.unpack(order + "I", header[4:])[0]
        start = f.tell()
        handle(f, cid, size, info)
        f.seek(start + size + (size & 1))


def _wav_chunk(f: BinaryIO, cid: bytes, size: int, info: ChunkInfo) -> None:
    if cid == b"fmt " and size >= 16:
        data = f.read(min(size, 40))
        tag = struct.unpack("<H", data[:2])[0]
        if tag == 0xFFFE and len(data) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
            tag = struct.unpack("<H", data[24:26])[0]
        if tag not in (0x0001, 0x0003):
            info.codec = _WAVE_CODECS.get(tag, f"wave_0x{tag:04x}")
    elif cid == b"LIST" and 4 <= size <= MAX_CHUNK_TEXT:
        data = f.read(size)
        if data[:4] == b"INFO":
            _info_list(data[4:], info.raw)
    elif cid == b"_PMX" and size <= MAX_XMP:
        _xmp(f.read(size), info.raw)


def _info_list(data: bytes, raw: dict[str, list[str]]) -> None:
    pos = 0
    while pos + 8 <= len(data):
        sub, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        value = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
        name = _INFO.get(sub)
        text = decode_text(value)
        if name and text:
            raw.setdefault(name, []).append(text)


def _aiff_chunk(f: BinaryIO, cid: bytes, size: int, info: ChunkInfo) -> None:
    if cid == b"COMM" and size >= 22:
        data = f.read(min(size, 64))
        kind = data[18:22]
        if kind and kind not in _AIFC_PCM:
            info.codec = _AIFC_CODECS.get(kind, kind.decode("latin-1").strip().lower() or None)
    elif cid in _AIFF_TEXT and size <= MAX_CHUNK_TEXT:
        text = decode_text(f.read(size))
        if text:
            info.raw.setdefault(_AIFF_TEXT[cid], []).append(text)
    elif cid == b"APPL" and 4 < size <= MAX_XMP:
        data = f.read(size)
        if data[:4] == b"XMP ":
            _xmp(data[4:], info.raw)


def decode_text(value: bytes) -> str:
    """Chunk text: NUL-terminated, UTF-8 when valid, else Windows-1252."""
    value = value.split(b"\0", 1)[0].strip()
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", "replace")


def _xmp(data: bytes, raw: dict[str, list[str]]) -> None:
    """Dublin Core and xmpDM fields of an XMP packet (parsed safely; a bad packet is ignored)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    data = data.rstrip(b"\0 \n")
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return
    found: dict[str, list[str]] = {}
    for element in root.iter():
        for key, value in element.attrib.items():  # the short form: <rdf:Description xmpDM:album="…">
            name = _XMP_FIELDS.get(key.rsplit("}", 1)[-1])
            if name and value.strip():
                found.setdefault(name, []).append(value.strip())
        local = element.tag.rsplit("}", 1)[-1]
        name = _XMP_FIELDS.get(local)
        if name is None:
            continue
        texts = [li.text.strip() for li in element.iter() if li is not element and li.text and li.text.strip()]
        if not texts and element.text and element.text.strip():
            texts = [element.text.strip()]
        found.setdefault(name, []).extend(texts)
    for name, texts in found.items():
        raw.setdefault(name, texts)
