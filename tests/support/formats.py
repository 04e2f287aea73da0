"""Tiny files in every format and container the scan reads, made per test (1–2 s each).

PyAV writes what this build can encode (WMA, TTA, WavPack, MP2, Matroska, ALAC/FLAC/
Opus/AC-3/E-AC-3 in MP4, FLAC/Opus/Vorbis in Ogg…). DSF and DSDIFF are written byte by
byte (their payload is plain 1-bit DSD, any bytes decode). Speex and Musepack have no
encoder in PyAV: their fixtures are tiny byte strings made once with speexenc and mpcenc
(see ``_EMBEDDED``). Monkey's Audio has no free encoder here: its fixture is a valid header
that mutagen reads (tags and stream info) with no decodable frames.
"""

from __future__ import annotations

import shutil
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from mutagen.apev2 import APEv2
from mutagen.asf import ASF
from mutagen.id3 import TALB, TIT2, TPE1, TRCK
from mutagen.oggspeex import OggSpeex


def pcm(seconds: float, rate: int, channels: int, seed: int = 1) -> np.ndarray:
    """A sine plus a little noise, float32 planar (channels, frames)."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t)[None, :] + 0.02 * rng.standard_normal((channels, n))
    return x.astype(np.float32)


def encode(path: Path, container: str, codec: str, seconds: float = 1.0, rate: int = 44100, channels: int = 2,
           bit_rate: int | None = None, sample_fmt: str | None = None, options: dict | None = None) -> Path:
    """Encode ``seconds`` of a tone with PyAV: ``container`` is a muxer name, ``codec`` an encoder."""
    layout = "mono" if channels == 1 else "stereo"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container, options={"strict": "experimental", **(options or {})}) as out:
        st = out.add_stream(codec, rate=rate)
        st.layout = layout
        if bit_rate or codec.startswith("wma"):
            st.bit_rate = bit_rate or 128_000
        if sample_fmt:
            st.format = sample_fmt
        st.codec_context.options = {"strict": "experimental"}  # the native Vorbis/Opus encoders
        fmt = st.codec_context.format.name if st.codec_context.format else "fltp"
        frame_size = st.codec_context.frame_size or 4096
        src = av.AudioFrame.from_ndarray(pcm(seconds, rate, channels), format="fltp", layout=layout)
        src.sample_rate = rate
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate, frame_size=frame_size)
        pts = 0
        for frame in [*resampler.resample(src), *resampler.resample(None), None]:
            if frame is not None:
                frame.pts = pts
                frame.time_base = Fraction(1, rate)
                pts += frame.samples
            for packet in st.encode(frame):
                out.mux(packet)
    return path


TAGS = {"title": "Song", "artist": "Singer", "album": "Record", "tracknumber": "3"}


def _ape_tags(path: Path) -> Path:
    tag = APEv2()
    tag.update({"Title": TAGS["title"], "Artist": TAGS["artist"], "Album": TAGS["album"], "Track": "3"})
    tag.save(str(path))
    return path


def _id3_tags(path: Path, cls) -> Path:
    f = cls(str(path))
    if f.tags is None:
        f.add_tags()
    f.tags.add(TIT2(encoding=3, text=TAGS["title"]))
    f.tags.add(TPE1(encoding=3, text=TAGS["artist"]))
    f.tags.add(TALB(encoding=3, text=TAGS["album"]))
    f.tags.add(TRCK(encoding=3, text="3"))
    f.save()
    return path


def _bare_id3(path: Path) -> Path:
    """An ID3v2 tag put before any file (mutagen's MP3 class cannot open Layer I streams)."""
    from mutagen.id3 import ID3

    tags = ID3()
    for frame in (TIT2(encoding=3, text=TAGS["title"]), TPE1(encoding=3, text=TAGS["artist"]),
                  TALB(encoding=3, text=TAGS["album"]), TRCK(encoding=3, text="3")):
        tags.add(frame)
    tags.save(str(path))
    return path


def _av_tags(path: Path, container: str, codec: str, **kw) -> Path:
    """PyAV-written file with container metadata (Matroska keeps it as tags)."""
    encode(path, container, codec, **kw)
    with av.open(str(path)) as c:
        meta = dict(c.metadata)
    if meta.get("title") == TAGS["title"]:
        return path
    tmp = path.with_suffix(".tmp" + path.suffix)
    with av.open(str(path)) as src, av.open(str(tmp), "w", format=container) as out:
        out.metadata.update({"title": TAGS["title"], "artist": TAGS["artist"], "album": TAGS["album"], "track": "3"})
        ist = src.streams.audio[0]
        ost = out.add_stream_from_template(ist)
        for packet in src.demux(ist):
            if packet.dts is None:
                continue
            packet.stream = ost
            out.mux(packet)
    shutil.move(tmp, path)
    return path


def make_cases(d: Path) -> dict[str, tuple[Path, dict]]:
    """name → (file, what the scan must find)."""
    from mutagen.dsdiff import DSDIFF
    from mutagen.dsf import DSF
    from mutagen.mp3 import MP3
    from mutagen.musepack import Musepack  # noqa: F401  (APEv2 tags)
    from mutagen.trueaudio import TrueAudio

    cases: dict[str, tuple[Path, dict]] = {}

    def add(name, path, codec, lossless, tags=True, **info):
        cases[name] = (path, {"codec": codec, "lossless": lossless, "tags": tags, **info})

    wma = encode(d / "wma.wma", "asf", "wmav2", bit_rate=96_000)
    f = ASF(str(wma))
    f.update({"Title": [TAGS["title"]], "Author": [TAGS["artist"]], "WM/AlbumTitle": [TAGS["album"]],
              "WM/TrackNumber": ["3"]})
    f.save()
    add("wma", wma, "wma", False, sample_rate=44100, channels=2)
    add("wma1", encode(d / "wma1.asf", "asf", "wmav1", bit_rate=96_000), "wma", False, tags=False)
    add("dsf", _id3_tags(dsf(d / "dsd.dsf"), DSF), "dsd", True, sample_rate=2_822_400, channels=2, bit_depth=1)
    add("dff", _id3_tags(dff(d / "dsd.dff"), DSDIFF), "dsd", True, sample_rate=2_822_400, channels=2, bit_depth=1)
    add("mpc", _ape_tags(embedded(d / "mp.mpc", "musepack")), "musepack", False, sample_rate=44100, channels=1)
    add("tta", _id3_tags(encode(d / "t.tta", "tta", "tta", sample_fmt="s16"), TrueAudio), "tta", True,
        sample_rate=44100, channels=2, bit_depth=16)
    mka = _av_tags(d / "flac.mka", "matroska", "flac", sample_fmt="s16")
    add("mka_flac", mka, "flac", True, sample_rate=44100, channels=2, bit_depth=16)
    add("mka_opus", _av_tags(d / "opus.mka", "matroska", "libopus", rate=48000), "opus", False, sample_rate=48000)
    spx = embedded(d / "sp.spx", "speex")
    f = OggSpeex(str(spx))
    f.update({"title": TAGS["title"], "artist": TAGS["artist"], "album": TAGS["album"], "tracknumber": "3"})
    f.save()
    add("speex", spx, "speex", False, sample_rate=8000, channels=1)
    add("mp2", _id3_tags(encode(d / "l2.mp2", "mp2", "mp2", bit_rate=128_000), MP3), "mp2", False,
        sample_rate=44100, channels=2)
    add("mp1", _bare_id3(mp1(d / "l1.mp1")), "mp1", False, sample_rate=44100, channels=1)
    add("wavpack16", _ape_tags(encode(d / "w16.wv", "wv", "wavpack", sample_fmt="s16p")), "wavpack", True,
        bit_depth=16, channels=2)
    add("wavpack_float", encode(d / "wf.wv", "wv", "wavpack", sample_fmt="fltp", channels=1), "wavpack", True,
        tags=False, bit_depth=32, channels=1)
    add("ape", _ape_tags(ape_header(d / "a.ape")), "ape", True, decodes=False, bit_depth=16, channels=2)
    for codec, name, lossless in (("aac", "aac", False), ("alac", "alac", True), ("flac", "flac", True),
                                  ("libopus", "opus", False), ("ac3", "ac3", False), ("eac3", "eac3", False)):
        rate = 48000 if name == "opus" else 44100
        fmt = {"alac": "s16p", "flac": "s16"}.get(name)
        path = encode(d / f"{name}-in.m4a", "mp4", codec, rate=rate, sample_fmt=fmt)
        add(f"m4a_{name}", _mp4_tags(path), name, lossless, sample_rate=rate, channels=2,
            **({"bit_depth": 16} if lossless else {}))
    for codec, name, lossless in (("vorbis", "vorbis", False), ("flac", "flac", True), ("libopus", "opus", False)):
        rate = 48000 if name == "opus" else 44100
        path = encode(d / f"{name}-in.oga", "ogg", codec, rate=rate, sample_fmt="s16" if name == "flac" else None)
        add(f"oga_{name}", _vorbis_tags(path), name, lossless, sample_rate=rate, channels=2)
    add("ogg_speex", _copy(spx, d / "speex-in.ogg"), "speex", False, sample_rate=8000)
    wav = encode(d / "info.wav", "wav", "pcm_s16le")
    info = b"INFO" + b"".join(riff_chunk(k, v.encode() + b"\0") for k, v in (
        (b"INAM", TAGS["title"]), (b"IART", TAGS["artist"]), (b"IPRD", TAGS["album"]), (b"IPRT", "3")))
    append_chunks(wav, riff_chunk(b"LIST", info), "<")
    add("wav_info", wav, "pcm", True, sample_rate=44100, channels=2, bit_depth=16)
    aiff = encode(d / "names.aiff", "aiff", "pcm_s16be")
    append_chunks(aiff, riff_chunk(b"NAME", TAGS["title"].encode(), ">") + riff_chunk(
        b"AUTH", TAGS["artist"].encode(), ">"), ">")
    add("aiff_name", aiff, "pcm", True, tags=("title", "artist"), sample_rate=44100, bit_depth=16)
    return cases


def riff_chunk(cid: bytes, body: bytes, order: str = "<") -> bytes:
    """One RIFF (``<``) or IFF (``>``) chunk, padded to an even size."""
    return cid + struct.pack(order + "I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def append_chunks(path: Path, chunks: bytes, order: str) -> None:
    """Append chunks to a WAV or AIFF file and fix its outer size."""
    data = bytearray(path.read_bytes()) + chunks
    data[4:8] = struct.pack(order + "I", len(data) - 8)
    path.write_bytes(bytes(data))


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _mp4_tags(path: Path) -> Path:
    from mutagen.mp4 import MP4

    f = MP4(str(path))
    f.update({"\xa9nam": [TAGS["title"]], "\xa9ART": [TAGS["artist"]], "\xa9alb": [TAGS["album"]], "trkn": [(3, 0)]})
    f.save()
    return path


def _vorbis_tags(path: Path) -> Path:
    import mutagen

    f = mutagen.File(str(path))
    f.update({"title": TAGS["title"], "artist": TAGS["artist"], "album": TAGS["album"], "tracknumber": "3"})
    f.save()
    return path


CASE_NAMES = [
    "wma", "wma1", "dsf", "dff", "mpc", "tta", "mka_flac", "mka_opus", "speex", "mp2", "wavpack16", "wavpack_float",
    "ape", "m4a_aac", "m4a_alac", "m4a_flac", "m4a_opus", "m4a_ac3", "m4a_eac3", "oga_vorbis", "oga_flac", "oga_opus",
    "ogg_speex", "wav_info", "aiff_name", "mp1",
]


def mp1(path: Path, seconds: float = 1.0) -> Path:
    """MPEG-1 Layer I, mono, 44.1 kHz, 128 kbit/s, byte by byte (no encoder exists here): frames
    whose bit allocation is all zero, which every decoder plays as silence (384 samples each)."""
    header = bytes([0xFF, 0xFF, 0x40, 0xC0])  # sync, MPEG-1, Layer I, no CRC; 128 kbit/s, 44.1 kHz; mono
    frame = header + b"\0" * ((12 * 128_000 // 44_100) * 4 - 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame * int(seconds * 44_100 / 384))
    return path


def dsf(path: Path, seconds: float = 1.0, rate: int = 2_822_400, channels: int = 2) -> Path:
    """A DSF file (Sony's DSD stream file): DSD silence (0x69), 4096-byte blocks per channel."""
    samples = int(seconds * rate)
    block = 4096
    per_channel = -(-samples // 8 // block) * block
    data = bytes([0x69]) * (per_channel * channels)
    fmt = struct.pack("<4sQIIIIIIQII", b"fmt ", 52, 1, 0, 2 if channels == 2 else 1, channels, rate, 1,
                      samples, block, 0)
    chunk = struct.pack("<4sQ", b"data", 12 + len(data)) + data
    total = 28 + len(fmt) + len(chunk)
    head = struct.pack("<4sQQQ", b"DSD ", 28, total, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + fmt + chunk)
    return path


def dff(path: Path, seconds: float = 1.0, rate: int = 2_822_400, channels: int = 2) -> Path:
    """A DSDIFF file (Philips): FVER, PROP (FS, CHNL, CMPR "DSD "), then byte-interleaved DSD silence."""
    data = bytes([0x69]) * (int(seconds * rate) // 8 * channels)

    def chunk(cid: bytes, body: bytes) -> bytes:
        return struct.pack(">4sQ", cid, len(body)) + body + (b"\0" if len(body) % 2 else b"")

    ids = [b"SLFT", b"SRGT"][:channels]
    name = b"not compressed"
    prop = b"SND " + chunk(b"FS  ", struct.pack(">I", rate)) + chunk(
        b"CHNL", struct.pack(">H", channels) + b"".join(ids)) + chunk(
        b"CMPR", b"DSD " + bytes([len(name)]) + name + (b"\0" if (len(name) + 1) % 2 else b""))
    body = b"DSD " + chunk(b"FVER", struct.pack(">I", 0x01050000)) + chunk(b"PROP", prop) + chunk(b"DSD ", data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(">4sQ", b"FRM8", len(body)) + body)
    return path


def ape_header(path: Path, seconds: float = 1.0, rate: int = 44100, channels: int = 2, bits: int = 16,
               version: int = 3990) -> Path:
    """A Monkey's Audio descriptor and header (3.98+ layout) without audio frames: what the scan
    reads of an APE (stream info and APEv2 tags). No APE encoder exists here, so this fixture does
    not exercise the decoder."""
    blocks = int(seconds * rate)
    per_frame = 73728 * 4
    frames = max(1, -(-blocks // per_frame))
    final = blocks - (frames - 1) * per_frame
    descriptor = struct.pack("<4sHHIIIIIII16s", b"MAC ", version, 0, 52, 24, 4 * frames, 0, 0, 0, 0, b"\0" * 16)
    header = struct.pack("<HHIIIHHI", 2000, 0, per_frame, final, frames, bits, channels, rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(descriptor + header + b"\0" * (4 * frames))
    return path


def embedded(path: Path, kind: str) -> Path:
    """A fixture made once with an encoder PyAV lacks: ``speex`` (speexenc --quality 0 --vbr, 1 s
    mono 8 kHz) or ``musepack`` (mpcenc --quality 0, SV8, 1 s mono 44.1 kHz), both of :func:`pcm`."""
    import base64

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode("".join(_EMBEDDED[kind])))
    return path


_EMBEDDED = {
    "speex": (
        "T2dnUwACAAAAAAAAAABgAjtFAAAAAE68Jm0BUFNwZWV4ICAgMS4yLjEAAAAAAAAAAAAAAAAAAAABAAAAUAAAAEAfAAAAAAAABAAA"
        "AAEAAAD/////oAAAAAEAAAABAAAAAAAAAAAAAAAAAAAAT2dnUwAAAAAAAAAAAABgAjtFAQAAAJNW8E8BIBgAAABFbmNvZGVkIHdp"
        "dGggU3BlZXggMS4yLjEAAAAAT2dnUwAEQB8AAAAAAABgAjtFAgAAAM8yQ5czCgoKCgoGBgYKBgYKCgoKCgoKCgoKCgoKCgoKCgYK"
        "CgoKCgoKCgoKCgoKCgYKCgoKCgoKRVwIBu+cpSlEUEBEyAcu8a6RFUxARIncMKtY9/PERVwIBy8UFZKx7kHWT0wz4SEQkc4IRMAo"
        "Mg8IRIncMA8J1k+UMe9B1jgHMT/LozrSCESIKDIPDVwIdDAPQESITzBBt4s1ZkBEiAcvKA78e95B1mcrLfQGR9ASQESIBy6cV+3k"
        "pEVcCE8va6fCnuZARIFMMQOdaRRQQdZuBy4QwO33jEHWGbsuhFrWOtZB1mabLxMj9jteQESIuDIEpxFAYEVccAcvA8uNEkRB1l2U"
        "MohY90pwQdYuBu8fqtY70kBE8CgwnCEKtY5ARIgG7koURjQgQESABy9jxysU5kBEwUwwq1j3WnAJ1m50Mg9ARKgHMZ2KdZM0QdY4"
        "By77pwj9rEHWbigyc4EpwhBB1m4HLh0c7VpwQESIBy8UdDsY1kHWZrwz7GEKtY5ARIgHLiEsUZsYQESAly8IPGJcYkBEiActhUjk"
        "aIRARIncMYQi1j3WQESABu6cR/yUpEHWbysu1YsIQqxARIgHL2O1axVmQETB3DLIWPdacAhEiUwyD0BEiE8w+hHM70hB1i5O8DWI"
        "SPsgQESIBy7bt9b1skBEiJsvvuW7EIpB1m9zLoQGRwXSQESIly6RRnj8xkBEifaye8d93kY="
    ),
    "musepack": (
        "TVBDS1NIDrqt8vUIgthEAAULUkcMAQAAAAAAAAAARUkHUQEeAVNPCJY9AAAAQVCWNeAG3eGfSrjTBKFEgRmSNqnVOrdTa4+b7LBk"
        "CtsBgRYjiYQGZWMcGG/dS6TvyEbGIcrSQiNQTWIypfGXECWlg6ozTogTH7+/rT4FwzIAbWJ7rPrfZqMZFtexjm7Yr8jYlJcCkwgw"
        "kU7zSsMb4a+L/rP2LSB4CQGe7H3/RX07kVtYbrEStE2qaSzR4chSL77/NvtQYMGvQtd58GrvnyaapZR0DEG2vgDbNKuDptAKOpxn"
        "/XMqmD5SuqWY8T095JyfmUyyV7QDfDFt9hTn9iSwjFc4rIZ5ZJpQN21RrLdryP4P01iHnp7Jtn+9L8J1afYYBFP+yhK49+wI26Ae"
        "B3RXhw4/z2n+GMD6pJbHn798LOAaBEB2Y0GYkYovJz6AmVlSPANG2IPHfA7uUFdD4fYSvjevnRzCYyTulo1abU0/caOUnai/sB+G"
        "GH1VduuwY5dSTJDRLOJEGwULtQaHFB2gyF6EIkwJjaMnVFyO4NHvQjGabqu2Fa1imm8+E5VKzNrhJy8mdQRGy6yEQ6YwHjBh9VVs"
        "9wayXgM7Fgf0dDbiQVUk6I6SsBEi0CxhoDRIQO2FwrghEJybL82dOWNd2MUqHteTFOY5vjZ/e0RAiKwGMBjBh9XtV1zMEOM2kJlJ"
        "gksDx/kIlugV9GB2I0F3kYqsJkB8lXipFkGDTIGOtGbyjxcoixEOjPbA97CYWAmiwgsUHwgLzh4J0WA8bGB9VK1rRXrjQAZwMBPB"
        "AIVExlKUJjJNSIEHAWLtgh/FCPxsLyIxRcTzR55ExK4kxBzsF0VqcEBS4GeNFg+GpgWaoJYPOyEYI8zxgMYYH1VW1+4OfQk6wUI7"
        "w0c+B474FdSgjsfD6yUuoJ0holnESDYKF2oLKOldXz6EFA0tHnRtD5pM5x1lMUc9wDd2A/GDD6rW8dzxwogM0GQrMiEpic6jJ1ZU"
        "ktDh30HkvgZ5KB/B0OtJC6onEEc+11gz29GA6+6ABeOzcXBH0u3O+arKwHjwYfVVagr1iI4SsBMh1ChloDRIAM2FwnYhEJyU0kJ1"
        "BcksDx7sIlugVWfJjM9NTkpX7tl20dI+iZs9dT9xyeOKpTCS/wOnOSrXgFgPGww+qruHbdL2QEfDgdeSCqsnPHydcKEWAYNfhESA"
        "DtxYK4HhGkkMpydjlsY/vBTywLJXfrRPqPu3fY6FV/Htvt3yPIdvhLLJRMYDxhgfVqbl75G6cyS0iBBwEizkFfxgdkNBmREKrSc+"
        "fJ1gqR4hg5+DR34OnC+tzeYK8UPzgNLgs5tasY0QnvMuMx4DGDD6qrX6iV3LCuh8PqJTCgnSmiWcRINwkXbA0KGDNBkKzIRReTHU"
        "RMe7RDiXjrTCzeu2PQlx7SdkoOv8ttteEh8CCagiifjwwPq1aSw3D1WWI7Q8b8CJDsGdSgn0cDbiUsoJkZwmmEiHUKGGgPDhAyBa"
        "piwe+wElAQdt5l9YVnODmmYt/dJtMj9YD8YMPqlWoyvobYYC9h8TmJjaQpUFyWwOH+wmW6BnsgH+HAy4iKrCdAeKHYXxQ9oKSsde"
        "jmPOUz7ryT4DgJsEf7vZtPH4MPrUmxwlzldaKEeQaNNAePABW4uE8kAhSSmkpOnMklQeP8BMtwDQIwPXbp7eu4/JSjqyU/YmrYNK"
        "vweCqPFE+WJojJxktYDxsYH1Uu62vYZkNhmJGKrSU+hJlYqR4ho38DxnwO5lhXQ8H2khhQUJDRNoGw+P9snB/iXxliEGT/3jf2s4"
        "ikcLbNIvh5yo9f9ewHjwYfVUNy+Z31IkP7BQu2BoUQGZjAXmQibAmPIidUWJLg0b9B5D0GeRwiS3OqaNViV1ypjW3iVDu3TwwCRn"
        "CYkbkrESWj2Ttn+GwH1VTam2I3g8G3EhZUTIjxKwEyDUKGWoNEhAzcYCdyARmJjSMnUGCUoqqim3hZb4bRvE7be6kOXafi/n+MGH"
        "1VLUtuf2CA92EyXgI/kA/w2G4EZZYUITpOvFSLENGWYNGgAzcWCscVtNLC6ig5vLHnvkPHmhLW18Pzx+GH1q7lM549woIgGknBxw"
        "wOgEBOAQf8DTXA9hINQLEtDyiw5goMbvdut7hfpI0zpunPmHQ3/3C5Ens2gCwtvbOOBmMBjwwPqqtq7BviGjbEJjPgZ3LCOh8PqJ"
        "TCcnSGSakRH9woXbg0GKDtBkKWfRPvXW9C1Fi0q6TfTd6JT+QPg1pW0m8jY0ER2AxgMYMPqlLYndlcTQiE2BMeQk6osSXhg58ESH"
        "gM8kBHo6HWkhVSTIzpMwEiCxuBynP3dOY7rI4naVSQvmvU6N/dS8jCqQW6tn+MMD6qZv1V1cO+gUMtAaHDB2oyF6kQlOSm0hOoME"
        "loeO9hEt2DP5AR6OBjhlZyBEfaaEl9qutp9PntgujbmTHgMNgPqqt1rHbiQVVE6E6TMBQjyCxtkDxIAO4FgrgfEaSQ0lJ05klpDx"
        "8aaPUe4EbgvDD8pbyhJThef6NKKP0zmK6QM4lDJHMxgMbDD6qpurVx+QkWcg7+KDMhoMyIxVcTH0BOtKkeIWOMQaO+BnQsEdDweE"
        "d8R1zn1BCrnJEYtjGtHnf+p/S/EqodlQZUXX3BbIU/xjAfVStk2cPqyUymKEholpECDcJF24LBig7MZCtCMTXk55ETqypHeGjY81"
        "0A7IbIZJhePPsTJYfdPSbPGGB9VWzZ34HkvQZ3JB/BwQsJCygmRniZgJEOgWMtQeHEBmoyFbEIkVvoP3vYdV9ta0uIYLRJi3dcy8"
        "BjxgPqrbqGxsc5OaRkyowR2CA52ESHYK9kA/w4G3EZZSToDpOuEyLMLGnSUXKLsBhCZykqWQaRL82vNAiAjsxDhgKJ/jBh9UlNih"
        "D1yldkDxYIM5FgrcfEKiU0kJ0xgjqER7oJlOgZ/GB2I4F5ERVEd8SGnBnJjMuJ/LfF4kr12iIAmOPkueMBjBh9VSbpUz11pQfQE6"
        "0VIsA0b/B4z4GcygnkeD6yUwoKEpoloER7gJFwVwo0edPmnlI9mdvEW8mZwgxzZxBEyUHrYD8YMPqrakpM5twaDDB2YyF5kQkvJT"
        "yIlVFiS8NHPgeQ9BncgK7HQ+skL7WOT+FNLBQcyV2N6ffWpC9RnNgjFPxgw+td0PLXVE6M2STiZBqFjDQIhwgZsLhWxCJzExtGUK"
        "DBHcHjvoRK6cn7+tux57Faqc6VpGsOx4/ogod6TGA8MMPqytwXvnGV2DvpAR8Nh15EVUk6E6TLxMiyCxpmDRIIO2FgrcgEqCU0in"
        "/bK7DSTXGZ9i8Oc3oiZ+fqHykEZBE8/www+qy261xXycmTmSSsPH+QgWdA0CMD/jYbiRCqwmPnidaKkeIaNfg0a31eSwDULoe82h"
        "uopp8wkn9d4M/9pFLZjAeMGH1Vtmubt+DupYRyPiFZMYTE6Y0TUiJBuFi7cGgxAdoMhmZCJzExzV+KpkQVleI0b8lfaSGeQ4eoYr"
        "lta4EOnfAmPAYxgPqlWru9eQEysqS3hg76ESHoO7kg/Y6H2kpZSUIzZNOJEOoSMtAaHErwcQl55iJgwjBAW29BSzj2AkENa/hhhQ"
        "laDP8YMPrVbJLoshgrUZC9SATmJTiQmVFyKwPHewmW6Bn0kH+HA24jLKiZBJYYP6yR5vCNFtJqk6k5BrV5IQP2/BNmPAYwwPqqtg"
        "8b54mYChHqFjTIHjQgZuMBO5CJUEppKTpjJLUID/IQLOQZ/o/5rbHwzD/eR1+b6YvhuF+7fKohRPH6px7d/4wPx9gXRQFG4CiWBR"
        "XApOgUcFAp1IXpUmg0t45A8c8sdU2cqUkBgsWLFixYsWLFi3sN0GzyHX+M//9UvVL6Dn7s2Nn2nG/sNwgbgjYFNUBgES0FNFAw=="
    ),
}
