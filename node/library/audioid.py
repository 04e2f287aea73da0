"""A cheap, tag-independent identity of a file's audio payload.

Moves, renames and re-tagging must keep a track's id, so the scanner matches
a vanished path to a new one by ``audio_id``. Decoding every file would be too
slow for a scan, so the id is taken from the container:

- FLAC: the STREAMINFO MD5 of the decoded audio when the encoder set it;
  otherwise the audio frames after the metadata blocks;
- MP3: the frames between the ID3v2 header and any trailing ID3v1/APEv2 tag;
- MP4/M4A: the ``mdat`` atom;  WAV/AIFF: the ``data``/``SSND`` chunk;
- Ogg (Vorbis, Opus): the bodies of the audio pages (page headers are left out
  because re-tagging may renumber pages).

Of the payload, the length and three 64 KiB samples (start, middle, end) are
hashed with BLAKE2b. Two different recordings with identical samples at those
three places are not a real-world case; the full-content ``file_id`` and the
acoustic fingerprint of the analysis are the exact identities.
"""

from __future__ import annotations

import hashlib
import os
import struct
from typing import BinaryIO

SAMPLE = 64 * 1024


def audio_id(path: str, fmt: str, flac_md5: str | None = None) -> str | None:
    if fmt == "flac" and flac_md5 and flac_md5 != "0" * 32:
        return "md5:" + flac_md5
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if fmt == "ogg" or fmt == "opus":
                return _ogg_id(f, size)
            span = _span(f, size, fmt)
            if span is None:
                return None
            return _sample_hash(f, *span)
    except (OSError, struct.error, ValueError):
        return None


def _span(f: BinaryIO, size: int, fmt: str) -> tuple[int, int] | None:
    if fmt == "flac":
        return _flac_span(f, size)
    if fmt in ("mp3", "mp2", "mp1"):
        return _mp3_span(f, size)
    if fmt == "m4a":
        return _atom_span(f, size, b"mdat")
    if fmt == "wav":
        return _chunk_span(f, size, b"RIFF", b"data", "<")
    if fmt == "aiff":
        return _chunk_span(f, size, b"FORM", b"SSND", ">")
    return _tail_trimmed(f, size)


def _sample_hash(f: BinaryIO, start: int, end: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    length = max(0, end - start)
    h.update(length.to_bytes(8, "big"))
    offsets = [start]
    if length > 3 * SAMPLE:
        offsets += [start + length // 2 - SAMPLE // 2, end - SAMPLE]
    for off in offsets:
        f.seek(off)
        h.update(f.read(min(SAMPLE, end - off)))
    return "b2:" + h.hexdigest()


def _flac_span(f: BinaryIO, size: int) -> tuple[int, int] | None:
    head = f.read(4)
    offset = 0
    if head[:3] == b"ID3":
        f.seek(0)
        offset = _id3v2_size(f.read(10))
        f.seek(offset)
        head = f.read(4)
    if head != b"fLaC":
        return None
    pos = offset + 4
    while pos < size:
        f.seek(pos)
        header = f.read(4)
        if len(header) < 4:
            return None
        last = header[0] & 0x80
        pos += 4 + int.from_bytes(header[1:4], "big")
        if last:
            break
    return pos, _trailing_tags(f, size)


def _mp3_span(f: BinaryIO, size: int) -> tuple[int, int]:
    f.seek(0)
    start = _id3v2_size(f.read(10))
    return start, _trailing_tags(f, size)


def _id3v2_size(header: bytes) -> int:
    if len(header) < 10 or header[:3] != b"ID3":
        return 0
    b = header[6:10]
    length = (b[0] & 0x7F) << 21 | (b[1] & 0x7F) << 14 | (b[2] & 0x7F) << 7 | (b[3] & 0x7F)
    footer = 10 if header[5] & 0x10 else 0
    return 10 + length + footer


def _trailing_tags(f: BinaryIO, size: int) -> int:
    end = size
    if end >= 128:
        f.seek(end - 128)
        if f.read(3) == b"TAG":
            end -= 128
    if end >= 32:
        f.seek(end - 32)
        footer = f.read(32)
        if footer[:8] == b"APETAGEX":
            tag_size = struct.unpack("<I", footer[12:16])[0]
            flags = struct.unpack("<I", footer[20:24])[0]
            end -= tag_size + (32 if flags & 0x80000000 else 0)
    return max(end, 0)


def _tail_trimmed(f: BinaryIO, size: int) -> tuple[int, int]:
    return 0, _trailing_tags(f, size)


def _atom_span(f: BinaryIO, size: int, name: bytes) -> tuple[int, int] | None:
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        header = f.read(8)
        length, kind = struct.unpack(">I4s", header)
        header_len = 8
        if length == 1:
            length = struct.unpack(">Q", f.read(8))[0]
            header_len = 16
        elif length == 0:
            length = size - pos
        if length < header_len:
            return None
        if kind == name:
            return pos + header_len, min(pos + length, size)
        pos += length
    return None


def _chunk_span(f: BinaryIO, size: int, container: bytes, name: bytes, order: str) -> tuple[int, int] | None:
    f.seek(0)
    if f.read(4) != container:
        return None
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        kind, length = struct.unpack(order + "4sI", f.read(8))
        if kind == name:
            return pos + 8, min(pos + 8 + length, size)
        pos += 8 + length + (length & 1)
    return None


def _ogg_id(f: BinaryIO, size: int) -> str | None:
    """Hash the bodies of the first audio pages (granule > 0) and of the last page."""
    h = hashlib.blake2b(digest_size=16)
    pos, taken, pages = 0, 0, 0
    while pos + 27 <= size and taken < SAMPLE and pages < 10_000:
        f.seek(pos)
        header = f.read(27)
        if header[:4] != b"OggS":
            return None
        granule = struct.unpack("<q", header[6:14])[0]
        nseg = header[26]
        lacing = f.read(nseg)
        body_len = sum(lacing)
        if granule > 0:
            h.update(f.read(body_len))
            taken += body_len
        pos += 27 + nseg + body_len
        pages += 1
    # the last page carries the total sample count
    f.seek(max(0, size - 65536))
    tail = f.read()
    last = tail.rfind(b"OggS")
    if last < 0 or last + 14 > len(tail):
        return None
    h.update(tail[last + 6 : last + 14])
    return "ogg:" + h.hexdigest()
