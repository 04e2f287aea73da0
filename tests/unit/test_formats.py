"""Every format, container and tag kind the scan reads, on tiny files made here (issue 17).

Each case is written per module run (tests/support/formats.py), read with the scan's reader
and checked against what decoding the file gives: codec, lossless, stream info, a duration
within 0.5 s of the decoded length, and each tag written.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest
from mutagen.id3 import ID3, SYLT, USLT

from sonantica.node.library.reader import read_one
from sonantica.node.library.tagmap import MAX_TEXT, map_tags
from sonantica.node.library.tags import TagReadError, read_file
from tests.support import formats as F
from tests.support.audio import jpeg, make_track
from tests.support.formats import CASE_NAMES, TAGS, make_cases


def decoded_seconds(path: Path) -> float:
    """The length a player plays: decoded samples over the rate."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        n = rate = 0
        for frame in c.decode(stream):
            n += frame.samples
            rate = frame.sample_rate
    return n / rate


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    return make_cases(tmp_path_factory.mktemp("formats"))




@pytest.mark.parametrize("name", CASE_NAMES)
def test_format_is_read_from_its_stream(cases, name):
    path, want = cases[name]
    ft = read_file(str(path))
    props = ft.props
    assert props.codec == want["codec"]
    assert props.lossless is want["lossless"]
    for key in ("sample_rate", "channels", "bit_depth"):
        if key in want:
            assert getattr(props, key) == want[key], key
    if not props.lossless:
        assert props.bit_depth is None
    if want.get("decodes", True):
        assert abs(props.duration - decoded_seconds(path)) <= 0.5
    assert props.scan_note is None
    m = map_tags(ft.raw, path.name)
    if want["tags"] is True:
        assert (m.title, m.artists, m.album, m.track_no) == (TAGS["title"], (TAGS["artist"],), TAGS["album"], 3)
    elif want["tags"]:
        assert (m.title, m.artists) == (TAGS["title"], (TAGS["artist"],))


def test_the_case_list_is_complete(cases):
    assert sorted(cases) == sorted(CASE_NAMES)


def test_wavpack_hybrid_is_lossy_without_its_correction_file(cases, tmp_path):
    data = bytearray(cases["wavpack16"][0].read_bytes())
    flags = int.from_bytes(data[24:28], "little")
    data[24:28] = (flags | 0x8).to_bytes(4, "little")  # HYBRID_FLAG in the first block's header
    path = tmp_path / "hybrid.wv"
    path.write_bytes(bytes(data))
    props = read_file(str(path)).props
    assert (props.codec, props.lossless, props.bit_depth) == ("wavpack", False, None)
    (tmp_path / "hybrid.wvc").write_bytes(b"wvpk")  # the correction file makes it lossless again
    assert read_file(str(path)).props.lossless is True


def test_missing_decoders_are_named():
    from sonantica.node.library.probe import missing_decoders

    assert missing_decoders(["dsd", "musepack", "wma", "tta", "speex", "ape", "no-such-codec"]) == ["no-such-codec"]


# -- tags in WAV and AIFF chunks ----------------------------------------------------------------
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/'
       b'DynamicMedia/" xmpDM:album="Xmp Album" xmpDM:trackNumber="7"><dc:title><rdf:Alt><rdf:li xml:lang="x-'
       b'default">Xmp Title</rdf:li></rdf:Alt></dc:title><dc:creator><rdf:Seq><rdf:li>Xmp Artist</rdf:li></rdf:Seq>'
       b'</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')


def test_wav_list_info_tags(tmp_path):
    path = make_track(tmp_path / "info.wav", "wav")
    info = b"INFO" + b"".join(F.riff_chunk(k, v.encode("cp1252") + b"\0") for k, v in (
        (b"INAM", "Café"), (b"IART", "Ärtist"), (b"IPRD", "Album"), (b"IPRT", "4"), (b"IGNR", "Jazz"),
        (b"ICRD", "1999-05-01")))
    F.append_chunks(path, F.riff_chunk(b"LIST", info), "<")
    ft = read_file(str(path))
    m = map_tags(ft.raw, path.name)
    assert (m.title, m.artists, m.album, m.track_no, m.genres, m.year) == (
        "Café", ("Ärtist",), "Album", 4, ("Jazz",), 1999)
    assert ft.props.codec == "pcm" and ft.props.lossless


def test_wav_id3_wins_over_info_and_xmp_fills_in(tmp_path):
    path = make_track(tmp_path / "both.wav", "wav", {"title": "From ID3"})
    info = b"INFO" + F.riff_chunk(b"INAM", b"From INFO\0") + F.riff_chunk(b"IART", b"Info Artist\0")
    F.append_chunks(path, F.riff_chunk(b"LIST", info) + F.riff_chunk(b"_PMX", XMP), "<")
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.album) == ("From ID3", ("Info Artist",), "Xmp Album")


def test_wav_xmp_alone(tmp_path):
    path = make_track(tmp_path / "xmp.wav", "wav")
    F.append_chunks(path, F.riff_chunk(b"_PMX", XMP), "<")
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.album, m.track_no) == ("Xmp Title", ("Xmp Artist",), "Xmp Album", 7)


def test_aiff_name_auth_anno_and_id3(tmp_path):
    path = make_track(tmp_path / "n.aiff", "aiff")
    F.append_chunks(path, F.riff_chunk(b"NAME", b"Aiff Title", ">") + F.riff_chunk(b"AUTH", b"Aiff Author", ">")
                   + F.riff_chunk(b"ANNO", b"A note", ">"), ">")
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.comment) == ("Aiff Title", ("Aiff Author",), "A note")
    tagged = make_track(tmp_path / "id3.aiff", "aiff", {"title": "Id3 Title", "album": "Id3 Album"})
    m = map_tags(read_file(str(tagged)).raw, tagged.name)
    assert (m.title, m.album) == ("Id3 Title", "Id3 Album")


def test_aiff_xmp_in_an_appl_chunk(tmp_path):
    path = make_track(tmp_path / "x.aiff", "aiff")
    F.append_chunks(path, F.riff_chunk(b"APPL", b"XMP " + XMP, ">"), ">")
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.album, m.track_no) == ("Xmp Title", ("Xmp Artist",), "Xmp Album", 7)


def test_hostile_xmp_is_ignored(tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><t xmlns="http://purl.org/dc/elements/1.1/">&b;</t></x:xmpmeta>')
    path = make_track(tmp_path / "bomb.wav", "wav")
    F.append_chunks(path, F.riff_chunk(b"_PMX", bomb), "<")
    assert map_tags(read_file(str(path)).raw, path.name).title == "bomb"  # the file name: the packet was refused


def test_wav_holding_a_compressed_codec_is_not_lossless(tmp_path):
    path = F.encode(tmp_path / "adpcm.wav", "wav", "adpcm_ima_wav")
    props = read_file(str(path)).props
    assert props.codec == "adpcm_ima" and not props.lossless and props.bit_depth is None


# -- embedded synced lyrics ---------------------------------------------------------------------
def test_sylt_becomes_synced_lines(tmp_path):
    from sonantica.node.library.lyrics import parse_lrc

    path = make_track(tmp_path / "s.mp3", "mp3", {"title": "Sung", "lyrics": "plain words"})
    tags = ID3(str(path))
    tags.add(SYLT(encoding=3, lang="eng", format=2, type=1, desc="", text=[("First line", 500), ("Second", 1750)]))
    tags.save()
    m = map_tags(read_file(str(path)).raw, path.name)
    parsed = parse_lrc(m.lyrics)
    assert parsed["synced"] and [(x["start_ms"], x["text"]) for x in parsed["lines"]] == [
        (500, "First line"), (1750, "Second")]


def test_lrc_text_in_uslt_and_vorbis_lyrics_is_kept_whole(tmp_path):
    from sonantica.node.library.lyrics import parse_lrc

    lrc = "\n".join(f"[00:{i:02d}.00]line {i} " + "la " * 40 for i in range(50))  # longer than MAX_TEXT
    assert len(lrc) > MAX_TEXT
    mp3 = make_track(tmp_path / "u.mp3", "mp3", {"title": "x"})
    tags = ID3(str(mp3))
    tags.add(USLT(encoding=3, lang="eng", desc="", text=lrc))
    tags.save()
    flac = make_track(tmp_path / "v.flac", "flac", {"title": "x", "lyrics": lrc})
    for path in (mp3, flac):
        parsed = parse_lrc(map_tags(read_file(str(path)).raw, path.name).lyrics)
        assert parsed["synced"] and len(parsed["lines"]) == 50 and parsed["lines"][-1]["start_ms"] == 49_000


# -- files players play although their header is wrong -------------------------------------------
def broken_xing_mp3(path: Path) -> Path:
    """A CBR MP3 whose Xing/Info header says it holds 2 frames (it holds about 40)."""
    F.encode(path, "mp3", "libmp3lame", bit_rate=128_000)
    data = bytearray(path.read_bytes())
    at = max(data.find(b"Xing"), data.find(b"Info"))
    assert at > 0 and struct.unpack(">I", data[at + 4 : at + 8])[0] & 1
    data[at + 8 : at + 12] = struct.pack(">I", 2)
    path.write_bytes(bytes(data))
    return path


def half_counted_mp3(path: Path) -> Path:
    """A 3 s MP3 whose Xing header counts half its frames: plausible for its size, caught by counting."""
    F.encode(path, "mp3", "libmp3lame", seconds=3.0, bit_rate=128_000)
    data = bytearray(path.read_bytes())
    at = max(data.find(b"Xing"), data.find(b"Info"))
    frames = struct.unpack(">I", data[at + 8 : at + 12])[0]
    data[at + 8 : at + 12] = struct.pack(">I", frames // 2)
    path.write_bytes(bytes(data))
    return path


def damaged_picture_flac(path: Path) -> Path:
    make_track(path, "flac", {"title": "Damaged", "artist": "Someone"}, cover=jpeg())
    data = bytearray(path.read_bytes())
    at = data.find(b"image/jpeg")
    data[at - 4 : at] = struct.pack(">I", 0x7FFFFFFF)  # the MIME length runs far past the block
    path.write_bytes(bytes(data))
    return path


def junk_before_adts(path: Path) -> Path:
    F.encode(path.with_suffix(".tmp"), "adts", "aac")
    path.write_bytes(b"\0" * 3000 + path.with_suffix(".tmp").read_bytes())
    path.with_suffix(".tmp").unlink()
    return path


@pytest.mark.parametrize("make,codec", [(broken_xing_mp3, "mp3"), (half_counted_mp3, "mp3"),
                                        (damaged_picture_flac, "flac"), (junk_before_adts, "aac")])
def test_wrong_header_is_indexed_with_the_decoded_duration(tmp_path, make, codec):
    path = make(tmp_path / f"broken.{codec if codec != 'flac' else 'flac'}")
    props = read_file(str(path)).props
    assert props.codec == codec
    assert abs(props.duration - decoded_seconds(path)) <= 0.05
    assert props.scan_note and props.scan_note.startswith("header wrong")


def test_sound_short_mp3s_get_no_note(tmp_path):
    for i, path in enumerate((make_track(tmp_path / "vbr.mp3", "mp3", {"title": "x"}, seconds=2),
                              F.encode(tmp_path / "cbr.mp3", "mp3", "libmp3lame", seconds=2.5, bit_rate=96_000),
                              F.encode(tmp_path / "l2.mp2", "mp2", "mp2", seconds=2.0, bit_rate=128_000))):
        props = read_file(str(path)).props
        assert props.scan_note is None and abs(props.duration - decoded_seconds(path)) <= 0.5, path


def test_damaged_picture_keeps_the_tags(tmp_path):
    path = damaged_picture_flac(tmp_path / "d.flac")
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists) == ("Damaged", ("Someone",))


def test_no_decodable_audio_gives_the_reason(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"ID3\x04\0\0\0\0\0\0" + bytes(range(256)) * 40)
    with pytest.raises(TagReadError) as err:
        read_file(str(path))
    assert "no decodable audio" in str(err.value) or "not readable" in str(err.value)
    result = read_one((1, str(tmp_path), "noise.mp3", path.stat().st_size, 0), str(tmp_path / "covers"))
    assert result[0] == "err" and result[3]


# -- pathological values ------------------------------------------------------------------------
def _raw_id3(frames: bytes) -> bytes:
    size = len(frames)
    return b"ID3\x04\0\0" + bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F]) + frames


def _frame(fid: bytes, encoding: int, text: bytes) -> bytes:
    body = bytes([encoding]) + text
    size = len(body)
    return fid + bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F]) + b"\0\0" + body


def test_wrong_declared_encodings_are_read_cleanly(tmp_path):
    audio = F.encode(tmp_path / "plain.mp3", "mp3", "libmp3lame", bit_rate=128_000).read_bytes()
    tag = _raw_id3(_frame(b"TIT2", 3, "Café Müller".encode("latin-1"))  # Latin-1 bytes declared UTF-8
                   + _frame(b"TALB", 0, "Björk".encode("utf-8")))  # UTF-8 bytes declared Latin-1
    v1 = b"TAG" + "Кино".encode("cp1251").ljust(30, b"\0") + "Группа".encode("cp1251").ljust(30, b"\0") \
        + b"".ljust(30, b"\0") + b"1988" + b"".ljust(30, b"\0") + b"\xff"
    path = tmp_path / "enc.mp3"
    path.write_bytes(tag + audio + v1)
    m = map_tags(read_file(str(path)).raw, path.name)
    assert m.title == "Café Müller"
    assert m.album == "Björk"
    assert m.artists == ("Группа",)


def test_cp1251_id3v1_alone(tmp_path):
    audio = F.encode(tmp_path / "plain.mp3", "mp3", "libmp3lame", bit_rate=128_000).read_bytes()
    v1 = b"TAG" + "Звезда по имени Солнце".encode("cp1251").ljust(30, b"\0") + "Кино".encode("cp1251").ljust(30, b"\0") \
        + "Последний герой".encode("cp1251").ljust(30, b"\0") + b"1989" + b"".ljust(30, b"\0") + b"\xff"
    path = tmp_path / "v1.mp3"
    path.write_bytes(audio + v1)
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.album, m.year) == ("Звезда по имени Солнце", ("Кино",), "Последний герой", 1989)


def test_huge_control_and_nul_values_are_bounded_and_clean(tmp_path):
    path = make_track(tmp_path / "p.flac", "flac", {"title": "T\x01i\x1ft\x7fle" + "é" * 10_000,
                                                     "artist": "A\u200bB\x00C", "album": "\tAl\x0bbum \n"})
    m = map_tags(read_file(str(path)).raw, path.name)
    assert m.title.startswith("Titleé") and len(m.title) == MAX_TEXT
    assert m.artists == ("ABC",)
    assert m.album == "Album"


def test_id3v1_fills_only_what_id3v2_lacks(tmp_path):
    path = make_track(tmp_path / "both.mp3", "mp3", {"title": "V2 Title", "artist": "V2 Artist"}, seconds=2)
    v1 = b"TAG" + b"V1 Title".ljust(30, b"\0") + b"V1 Artist".ljust(30, b"\0") + b"V1 Album".ljust(30, b"\0") \
        + b"1977" + b"".ljust(28, b"\0") + b"\0\x05" + bytes([17])
    path.write_bytes(path.read_bytes() + v1)
    m = map_tags(read_file(str(path)).raw, path.name)
    assert (m.title, m.artists, m.album, m.year, m.track_no, m.genres) == (
        "V2 Title", ("V2 Artist",), "V1 Album", 1977, 5, ("Rock",))
