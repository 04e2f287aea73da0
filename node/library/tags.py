"""Reading a file's tags and audio properties with mutagen.

Every container's frames are turned into one vocabulary (lower-case Vorbis
comment names → list of strings) so that :mod:`.tagmap` maps them once. The
file type is chosen by extension first (cheap) and by content if that fails,
so a mislabelled file is still read. Pictures are returned as bytes bounded by
``MAX_PICTURE`` (a larger picture is skipped, not loaded into the index).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass

import mutagen
from mutagen.aac import AAC
from mutagen.ac3 import AC3
from mutagen.aiff import AIFF
from mutagen.apev2 import APEv2, APENoHeaderError
from mutagen.asf import ASF
from mutagen.dsdiff import DSDIFF
from mutagen.dsf import DSF
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.musepack import Musepack
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.trueaudio import TrueAudio
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from . import chunks, probe
from .tagmap import RawTags

MAX_PICTURE = 16 * 1024 * 1024
PYAV = "pyav"  # read with PyAV, not mutagen

AUDIO_EXTENSIONS = {
    ".flac": FLAC,
    ".mp3": MP3,
    ".m4a": MP4,
    ".m4b": MP4,
    ".mp4": MP4,
    ".aac": AAC,  # raw ADTS or ADIF
    ".ogg": OggVorbis,
    ".oga": OggVorbis,
    ".opus": OggOpus,
    ".wav": WAVE,
    ".aif": AIFF,
    ".aiff": AIFF,
    ".aifc": AIFF,
    ".wv": WavPack,
    ".ape": MonkeysAudio,
    ".wma": ASF,
    ".asf": ASF,
    ".dsf": DSF,
    ".dff": DSDIFF,
    ".mpc": Musepack,
    ".mp+": Musepack,
    ".mpp": Musepack,
    ".tta": TrueAudio,
    ".spx": OggSpeex,
    ".mp1": MP3,
    ".mp2": MP3,
    ".mpa": MP3,
    ".ac3": AC3,
    ".eac3": AC3,
    # containers mutagen does not read: PyAV tells codec, stream info, duration and tags
    ".mka": PYAV,
    ".weba": PYAV,
    ".caf": PYAV,
    ".w64": PYAV,
    ".tak": PYAV,
    ".dts": PYAV,
    ".shn": PYAV,
    ".au": PYAV,
    ".amr": PYAV,
    ".ra": PYAV,
    ".vqf": PYAV,
}

LOSSLESS_CODECS = probe.LOSSLESS_CODECS
MP3_CHECK_BELOW = 128 * 1024  # MP3s smaller than this have their frames counted to check the header
#                               (cheap, and where broken Xing headers live: short clips from old rippers)


class TagReadError(Exception):
    """The file could not be read as audio; ``str()`` is the reason."""


@dataclass(frozen=True)
class AudioProps:
    format: str
    codec: str
    lossless: bool
    sample_rate: int | None
    bit_depth: int | None
    channels: int | None
    duration: float
    bitrate: int | None  # kbit/s
    scan_note: str | None = None  # the header was wrong: what, and that the duration comes from decoding


@dataclass(frozen=True)
class FileTags:
    raw: RawTags
    props: AudioProps
    picture: bytes | None
    picture_mime: str | None
    md5: str | None  # FLAC STREAMINFO MD5 of the decoded audio, when set


_ID3_TEXT = {
    "TIT2": "title", "TPE1": "artist", "TPE2": "albumartist", "TALB": "album",
    "TRCK": "tracknumber", "TPOS": "discnumber", "TDRC": "date", "TYER": "date",
    "TDOR": "originaldate", "TORY": "originaldate", "TCON": "genre", "TCOM": "composer",
    "TPUB": "label", "TCMP": "compilation", "TBPM": "bpm", "TSST": "discsubtitle",
    "TSOT": "titlesort", "TSOP": "artistsort", "TSOA": "albumsort", "TSO2": "albumartistsort",
    "TSRC": "isrc", "GRP1": "grouping", "TIT1": "contentgroup", "MVNM": "movementname", "MVIN": "movement",
}
_TXXX = {
    "musicbrainz album id": "musicbrainz_albumid",
    "musicbrainz artist id": "musicbrainz_artistid",
    "musicbrainz album artist id": "musicbrainz_albumartistid",
    "musicbrainz release track id": "musicbrainz_releasetrackid",
    "musicbrainz track id": "musicbrainz_trackid",
    "artists": "artists",
    "albumartists": "albumartists",
    "replaygain_track_gain": "replaygain_track_gain",
    "replaygain_track_peak": "replaygain_track_peak",
    "replaygain_album_gain": "replaygain_album_gain",
    "replaygain_album_peak": "replaygain_album_peak",
    "originalyear": "originalyear",
    "label": "label",
    "work": "work",
    "musicbrainz work id": "musicbrainz_workid",
    "albumversion": "albumversion",
    "musicbrainz album comment": "musicbrainz_albumcomment",
    "movementtotal": "movementtotal",
}
_MP4 = {
    "©nam": "title", "©ART": "artist", "aART": "albumartist", "©alb": "album",
    "©day": "date", "©gen": "genre", "©wrt": "composer", "©lyr": "lyrics", "©cmt": "comment",
    "sonm": "titlesort", "soar": "artistsort", "soal": "albumsort", "soaa": "albumartistsort",
    "©grp": "grouping", "©wrk": "work", "©mvn": "movementname", "©mvi": "movement", "©mvc": "movementtotal",
}


def read_file(path: str) -> FileTags:
    """Read tags, audio properties and the front cover of one file.

    mutagen reads the headers; PyAV is asked only when mutagen cannot say (a container it
    does not read) or its header is wrong (unreadable, zero or implausible duration): then
    the audio is decoded and the file indexed with the decoded duration and a ``scan_note``.
    A file with no decodable audio is a :class:`TagReadError` with the reason.
    """
    try:
        if os.path.getsize(path) == 0:
            raise TagReadError("empty file")
    except OSError as exc:
        raise TagReadError(_reason(exc)) from exc
    ext = os.path.splitext(path)[1].lower()
    if AUDIO_EXTENSIONS.get(ext) == PYAV:
        return _from_probe(path, None, decode=False)
    try:
        audio = _open(path)
        props = _props(audio, path)
    except TagReadError as exc:
        return _from_probe(path, str(exc), decode=True)
    except Exception as exc:  # mutagen raises assorted errors on hostile input
        return _from_probe(path, _reason(exc), decode=True)
    doubt = _doubtful(audio, props, path)
    if doubt is not None:
        props = _checked(path, props, doubt)
    raw, picture, mime = _tags(audio)
    if isinstance(audio, (WAVE, AIFF)):
        props, raw = _with_chunks(path, props, raw)
    md5 = None
    if isinstance(audio, FLAC) and audio.info.md5_signature:
        md5 = f"{audio.info.md5_signature:032x}"
    return FileTags(raw=raw, props=props, picture=picture, picture_mime=mime, md5=md5)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"not readable as audio: {text}"[:300]


def _from_probe(path: str, problem: str | None, decode: bool) -> FileTags:
    """A file mutagen could not read (``problem``) or does not read: what PyAV decodes."""
    try:
        found = probe.probe(path, decode=decode)
    except probe.ProbeError as exc:
        reason = f"{problem}; {exc}" if problem else str(exc)
        if "no decoder" in str(exc):
            reason = f"unsupported format: {exc}"
        raise TagReadError(reason[:300]) from exc
    except Exception as exc:
        raise TagReadError(problem or f"unreadable ({type(exc).__name__}: {exc})"[:300]) from exc
    if found.duration <= 0:
        found = probe.probe(path, decode=True) if not decode else found
    if found.codec in _MUTAGEN_CANNOT:
        problem = None  # nothing wrong with the file: mutagen does not read this stream
    note = f"header wrong ({problem}); duration from decoding" if problem else None
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    props = AudioProps(
        format=ext or found.codec,
        codec=found.codec,
        lossless=found.codec in LOSSLESS_CODECS,
        sample_rate=found.sample_rate,
        bit_depth=found.bit_depth,
        channels=found.channels,
        duration=found.duration,
        bitrate=round(found.bitrate / 1000) if found.bitrate else _size_bitrate(path, found.duration),
        scan_note=note[:300] if note else None,
    )
    return FileTags(raw=found.tags, props=props, picture=None, picture_mime=None, md5=None)


#: Streams mutagen fails on although they are sound: MPEG Layer I (it computes a Layer I frame as four
#: times its length, so it never finds the second frame).
_MUTAGEN_CANNOT = frozenset({"mp1"})


def _size_bitrate(path: str, seconds: float) -> int | None:
    return round(os.path.getsize(path) * 8 / seconds / 1000) if seconds > 0 else None


def _open(path: str) -> mutagen.FileType:
    ext = os.path.splitext(path)[1].lower()
    kind = AUDIO_EXTENSIONS.get(ext)
    if kind is not None:
        try:
            if kind is MP3:
                return MP3(path, known_frames=_lenient_frames())
            return kind(path)
        except mutagen.MutagenError:
            pass  # mislabelled (or an .ogg holding FLAC, Speex or Opus)? read it as what it is
    sniffed = _sniff(path)
    if sniffed is not None and sniffed is not kind:
        return sniffed(path)
    audio = mutagen.File(path)
    if audio is None:
        raise TagReadError("not a recognised audio format")
    return audio


def _sniff(path: str) -> type | None:
    """The container by its magic bytes: a mislabelled file is read as what it is."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        if b"OpusHead" in head:
            return OggOpus
        if b"\x7fFLAC" in head:
            return OggFLAC
        if b"Speex   " in head:
            return OggSpeex
        return OggVorbis
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return WAVE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[:4] == b"FRM8" and head[12:16] == b"DSD ":
        return DSDIFF
    if head[:4] == b"DSD ":
        return DSF
    if head[4:8] == b"ftyp":
        return MP4
    if head[:4] == b"wvpk":
        return WavPack
    if head[:4] == b"MAC ":
        return MonkeysAudio
    if head[:4] in (b"MPCK", b"MP+\x07", b"MP+\x17") or head[:3] == b"MP+":
        return Musepack
    if head[:4] == b"TTA1":
        return TrueAudio
    if head[:16] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c":
        return ASF
    if head[:4] == b"ADIF" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0):
        return AAC  # ADTS: a frame sync whose "layer" bits are 00
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3
    return None


def _props(audio: mutagen.FileType, path: str) -> AudioProps:
    info = audio.info
    codec, fmt = _codec(audio)
    bit_depth = getattr(info, "bits_per_sample", None) or None
    bitrate = getattr(info, "bitrate", 0) or 0
    length = float(getattr(info, "length", 0.0) or 0.0)
    if length <= 0:
        raise TagReadError("zero duration in the header")
    if not bitrate and length > 0:
        bitrate = int(os.path.getsize(path) * 8 / length)
    lossless = codec in LOSSLESS_CODECS
    if isinstance(audio, WavPack):
        lossless, bit_depth = _wavpack_mode(path, bit_depth)
        codec = "wavpack" if bit_depth != 1 else "dsd"
    channels = getattr(info, "channels", None) or None
    sample_rate = getattr(info, "sample_rate", None) or (48000 if codec == "opus" else None)
    if isinstance(audio, TrueAudio):  # mutagen knows rate and length only
        found = _probe_quietly(path)
        if found is not None:
            channels, bit_depth = found.channels, found.bit_depth
    return AudioProps(
        format=fmt,
        codec=codec,
        lossless=lossless,
        sample_rate=sample_rate,
        bit_depth=bit_depth if lossless else None,
        channels=channels,
        duration=length,
        bitrate=round(bitrate / 1000) if bitrate else None,
    )


def _probe_quietly(path: str) -> probe.Probe | None:
    try:
        return probe.probe(path)
    except Exception:
        return None


def _wavpack_mode(path: str, bit_depth: int | None) -> tuple[bool, int | None]:
    """(lossless, bit depth) from the first block's flags: hybrid mode is lossy unless a
    ``.wvc`` correction file lies beside it; WavPack 5 DSD blocks hold 1-bit audio."""
    with open(path, "rb") as f:
        head = f.read(32)
    if head[:4] != b"wvpk" or len(head) < 28:
        return True, bit_depth
    flags = int.from_bytes(head[24:28], "little")
    if flags & 0x80000000:  # DSD_FLAG
        return True, 1
    if flags & 0x8 and not os.path.exists(os.path.splitext(path)[0] + ".wvc"):  # HYBRID_FLAG
        return False, bit_depth
    return True, bit_depth


def _codec(audio: mutagen.FileType) -> tuple[str, str]:
    """(codec, format): the codec from the stream info, the format from the container."""
    if isinstance(audio, FLAC):
        return "flac", "flac"
    if isinstance(audio, MP3):
        layer = getattr(audio.info, "layer", 3)
        name = {1: "mp1", 2: "mp2"}.get(layer, "mp3")
        return name, name
    if isinstance(audio, MP4):
        return _mp4_codec(getattr(audio.info, "codec", "") or ""), "m4a"
    if isinstance(audio, OggOpus):
        return "opus", "opus"
    if isinstance(audio, OggFLAC):
        return "flac", "ogg"
    if isinstance(audio, OggSpeex):
        return "speex", "ogg"
    if isinstance(audio, OggVorbis):
        return "vorbis", "ogg"
    if isinstance(audio, WAVE):
        return "pcm", "wav"
    if isinstance(audio, AIFF):
        return "pcm", "aiff"
    if isinstance(audio, WavPack):
        return "wavpack", "wv"
    if isinstance(audio, MonkeysAudio):
        return "ape", "ape"
    if isinstance(audio, ASF):
        name = (getattr(audio.info, "codec_name", "") or "") + " " + (getattr(audio.info, "codec_type", "") or "")
        low = name.lower()
        codec = "wmalossless" if "lossless" in low else "wmapro" if "professional" in low or " pro" in low else \
            "wmavoice" if "voice" in low else "wma"
        return codec, "wma"
    if isinstance(audio, DSF):
        return "dsd", "dsf"
    if isinstance(audio, DSDIFF):
        compressed = (getattr(audio.info, "compression", "") or "").strip().upper() == "DST"
        return ("dst" if compressed else "dsd"), "dff"
    if isinstance(audio, Musepack):
        return "musepack", "mpc"
    if isinstance(audio, TrueAudio):
        return "tta", "tta"
    if isinstance(audio, AC3):
        return ("eac3" if (getattr(audio.info, "codec", "") or "") == "ec-3" else "ac3"), "ac3"
    if isinstance(audio, AAC):
        return "aac", "aac"
    name = type(audio).__name__.lower()
    return name, name


#: MP4 sample entry (mutagen's ``info.codec``) → codec.
_MP4_CODECS = {"alac": "alac", "flac": "flac", "opus": "opus", "ac-3": "ac3", "ec-3": "eac3", "mp4a.6b": "mp3",
               "mp4a.69": "mp3", ".mp3": "mp3", "mp4a.a5": "ac3", "mp4a.a6": "eac3", "samr": "amr"}


def _mp4_codec(codec: str) -> str:
    low = codec.lower()
    if low in _MP4_CODECS:
        return _MP4_CODECS[low]
    if low.startswith("mp4a"):
        return "aac"
    if low.startswith(("lpcm", "sowt", "twos", "in24", "in32", "fl32", "fl64", "ipcm", "fpcm")):
        return "pcm"
    return low or "aac"


def _doubtful(audio: mutagen.FileType, props: AudioProps, path: str) -> str | None:
    """Why the header's duration may be wrong, or None. Only MP3 headers (Xing/VBRI frame counts)
    are checked: cheaply by size, and by decoding when the file is small or mutagen had doubts."""
    if not isinstance(audio, MP3):
        return None
    size = os.path.getsize(path)
    tag_size = audio.tags.size if isinstance(audio.tags, ID3) else 0
    implied = (size - tag_size) * 8 / props.duration
    if implied > 500_000 * 1.2:  # no MPEG audio stream is denser: the header undercounts the frames
        return f"the header says {props.duration:.2f} s, too short for {size} bytes"
    if implied < 4_000:
        return f"the header says {props.duration:.2f} s, too long for {size} bytes"
    if getattr(audio.info, "sketchy", False):
        return "no valid MPEG frame header found where expected"
    if size < MP3_CHECK_BELOW:  # short clips, where broken Xing headers live: count the frames
        counted = mp3_frame_seconds(path, tag_size)
        if counted is not None and abs(counted - props.duration) > 0.5:
            return f"the header says {props.duration:.2f} s, its frames {counted:.2f} s"
    return None


_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MP3_KBPS = {  # (MPEG-1?, layer) → bitrate by index
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def mp3_frame_seconds(path: str, start: int) -> float | None:
    """Seconds of audio in an MPEG audio stream, by walking its frame headers (no decoding; a
    small file only). None when the frames cannot be followed (then the header is believed)."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(MP3_CHECK_BELOW)
    pos = data.find(b"\xff")
    samples = 0
    rate = 0
    frames = 0
    while 0 <= pos <= len(data) - 4:
        h = int.from_bytes(data[pos : pos + 4], "big")
        version, layer = (h >> 19) & 3, 4 - ((h >> 17) & 3)
        br_index, sr_index, pad = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        if h >> 21 != 0x7FF or version == 1 or layer == 4 or br_index in (0, 15) or sr_index == 3:
            if frames:
                break  # trailing tags (ID3v1, APEv2) or junk after the frames
            pos = data.find(b"\xff", pos + 1)
            continue
        mpeg1 = version == 3
        sr = _MP3_RATES[version][sr_index]
        kbps = _MP3_KBPS[(mpeg1, min(layer, 3))][br_index]
        if layer == 1:
            size, per = (12000 * kbps // sr + pad) * 4, 384
        else:
            per = 1152 if layer == 2 or mpeg1 else 576
            size = (144000 if per == 1152 else 72000) * kbps // sr + pad
        if rate and sr != rate:
            break
        rate = sr
        samples += per
        frames += 1
        pos += size
    if frames < 2 or not rate:
        return None
    xing = data.find(b"Xing", 0, 200) >= 0 or data.find(b"Info", 0, 200) >= 0 or data.find(b"VBRI", 0, 200) >= 0
    return (samples - (per if xing else 0)) / rate


def _checked(path: str, props: AudioProps, doubt: str) -> AudioProps:
    """Decode to check a doubtful duration; keep the header's when decoding agrees (or fails)."""
    try:
        found = probe.probe(path, decode=True)
    except Exception:
        return dataclasses.replace(props, scan_note=f"header wrong ({doubt}); could not decode to check")
    if abs(found.duration - props.duration) <= 0.5:
        return props
    said = doubt
    note = f"header wrong ({said}); duration from decoding: {found.duration:.2f} s"
    bitrate = _size_bitrate(path, found.duration)
    return dataclasses.replace(props, duration=found.duration, bitrate=bitrate, scan_note=note[:300])


def _with_chunks(path: str, props: AudioProps, raw: RawTags) -> tuple[AudioProps, RawTags]:
    """WAV and AIFF: tags from INFO/NAME/AUTH/ANNO/XMP chunks under the ID3 tag, and a
    compressed codec inside the file (a WAV holding MP3 or ADPCM is not lossless)."""
    found = chunks.read_chunks(path)
    for key, values in found.raw.items():
        raw.setdefault(key, values)
    if found.codec is not None:
        props = dataclasses.replace(props, codec=found.codec, lossless=False, bit_depth=None)
    return props, raw


def _tags(audio: mutagen.FileType) -> tuple[RawTags, bytes | None, str | None]:
    if isinstance(audio, MP4):
        return _mp4(audio)
    if isinstance(audio, ASF):
        return _asf(audio)
    tags = audio.tags
    if isinstance(tags, ID3):
        return _id3(tags)
    if isinstance(audio, (WavPack, MonkeysAudio)) or isinstance(tags, APEv2):
        return _ape(tags)
    raw: RawTags = {}
    if tags is not None:
        for key, value in tags.items() if hasattr(tags, "items") else []:
            raw.setdefault(key.lower(), []).extend(str(v) for v in (value if isinstance(value, list) else [value]))
    picture, mime = _vorbis_picture(audio)
    return raw, picture, mime


def _vorbis_picture(audio: mutagen.FileType) -> tuple[bytes | None, str | None]:
    pictures = list(getattr(audio, "pictures", []) or [])
    if not pictures and audio.tags is not None and hasattr(audio.tags, "get"):
        import base64

        from mutagen.flac import Picture

        for b64 in (audio.tags.get("metadata_block_picture") or [])[:4]:
            if len(b64) > MAX_PICTURE * 4 // 3 + 4:
                continue
            try:
                pictures.append(Picture(base64.b64decode(b64)))
            except Exception:
                continue
    pictures.sort(key=lambda p: p.type != 3)  # front cover first
    for pic in pictures:
        if 0 < len(pic.data) <= MAX_PICTURE:
            return pic.data, pic.mime or None
    return None, None


def _id3(tags: ID3) -> tuple[RawTags, bytes | None, str | None]:
    raw: RawTags = {}
    picture = mime = None
    for frame in tags.values():
        fid = frame.FrameID
        if fid in _ID3_TEXT:
            raw.setdefault(_ID3_TEXT[fid], []).extend(str(t) for t in frame.text)
        elif fid == "TXXX":
            key = _TXXX.get(frame.desc.lower())
            if key:
                raw.setdefault(key, []).extend(str(t) for t in frame.text)
        elif fid == "UFID" and frame.owner == "http://musicbrainz.org":
            raw.setdefault("musicbrainz_trackid", []).append(frame.data.decode("ascii", "replace"))
        elif fid == "USLT":
            raw.setdefault("lyrics", []).append(frame.text)
        elif fid == "SYLT" and frame.type == 1 and frame.text:  # timed lyrics: read as LRC, as taggers show them
            raw.setdefault("syncedlyrics", []).append(sylt_to_lrc(frame))
        elif fid == "COMM" and not frame.desc:
            raw.setdefault("comment", []).extend(str(t) for t in frame.text)
        elif fid == "APIC" and 0 < len(frame.data) <= MAX_PICTURE:
            if picture is None or frame.type == 3:
                picture, mime = frame.data, frame.mime
    return raw, picture, mime


@functools.cache
def _lenient_frames() -> dict:
    """mutagen's frame classes, with the text frames of ``_ID3_TEXT`` made lenient: mutagen drops a
    frame whose bytes do not match its declared encoding (Latin-1 bytes declared UTF-8, common from
    old taggers); these read it as Windows-1252 instead. Passed to mutagen as ``known_frames``, so
    reading costs nothing more."""
    from mutagen.id3 import Frames
    from mutagen.id3._util import ID3JunkFrameError

    def lenient(cls: type) -> type:
        def _fromData(klass, header, tflags, data):
            try:
                return cls._fromData.__func__(klass, header, tflags, data)
            except ID3JunkFrameError:
                if tflags or not data:  # compressed, encrypted…: nothing to read leniently
                    raise
                return cls(encoding=3, text=[v for v in _decode_declared(data[0], data[1:]).split("\0") if v])

        return type(cls.__name__, (cls,), {"_fromData": classmethod(_fromData)})

    known = dict(Frames)
    for fid in _ID3_TEXT:
        if fid in known:
            known[fid] = lenient(known[fid])
    return known


def _decode_declared(encoding: int, data: bytes) -> str:
    """Text in its declared ID3 encoding; bytes that are not what was declared are read as Windows-1252."""
    codec = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}.get(encoding, "latin-1")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def sylt_to_lrc(frame) -> str:
    """An ID3 SYLT frame (text, time) pairs as LRC lines; frame-count stamps (format 1) are skipped."""
    if getattr(frame, "format", 2) != 2:  # 2 = milliseconds
        return ""
    lines = []
    for text, ms in list(frame.text)[:5000]:
        text = str(text).strip("\r\n")
        if not isinstance(ms, int) or ms < 0:
            continue
        lines.append(f"[{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000 // 10:02d}]{text}")
    return "\n".join(lines)


_ASF = {
    "title": "title", "author": "artist", "wm/albumtitle": "album", "wm/albumartist": "albumartist",
    "wm/tracknumber": "tracknumber", "wm/track": "tracknumber", "wm/partofset": "discnumber",
    "wm/year": "date", "wm/originalreleaseyear": "originalyear", "wm/genre": "genre", "wm/composer": "composer",
    "wm/publisher": "label", "wm/lyrics": "lyrics", "wm/bestsort": None, "description": "comment",
    "wm/beatsperminute": "bpm", "wm/setsubtitle": "discsubtitle", "wm/iscompilation": "compilation",
    "wm/titlesortorder": "titlesort", "wm/artistsortorder": "artistsort", "wm/albumsortorder": "albumsort",
    "wm/albumartistsortorder": "albumartistsort", "wm/artists": "artists",
    "musicbrainz/track id": "musicbrainz_trackid", "musicbrainz/album id": "musicbrainz_albumid",
    "musicbrainz/artist id": "musicbrainz_artistid", "musicbrainz/album artist id": "musicbrainz_albumartistid",
    "musicbrainz/release track id": "musicbrainz_releasetrackid",
    "replaygain_track_gain": "replaygain_track_gain", "replaygain_track_peak": "replaygain_track_peak",
    "replaygain_album_gain": "replaygain_album_gain", "replaygain_album_peak": "replaygain_album_peak",
}


def _asf(audio: ASF) -> tuple[RawTags, bytes | None, str | None]:
    """Windows Media attributes (``WM/…``) in the common vocabulary, and ``WM/Picture``."""
    from mutagen.asf import ASFByteArrayAttribute

    raw: RawTags = {}
    picture = mime = None
    for key, values in (audio.tags or {}).items():
        low = key.lower()
        if low == "wm/picture":
            for value in values:
                if isinstance(value, ASFByteArrayAttribute) and picture is None:
                    picture, mime = _wm_picture(bytes(value.value))
            continue
        name = _ASF.get(low)
        if name:
            raw.setdefault(name, []).extend(str(v) for v in values)
    return raw, picture, mime


def _wm_picture(data: bytes) -> tuple[bytes | None, str | None]:
    """WM/Picture: type (1), size (4), MIME (UTF-16, NUL), description (UTF-16, NUL), data."""
    import struct

    try:
        size = struct.unpack_from("<I", data, 1)[0]
        pos = 5
        end = data.index(b"\0\0", pos)
        end += (end - pos) % 2
        mime = data[pos:end].decode("utf-16-le", "replace")
        pos = end + 2
        end = data.index(b"\0\0", pos)
        end += (end - pos) % 2
        body = data[end + 2 : end + 2 + size]
    except (ValueError, struct.error):
        return None, None
    if not 0 < len(body) <= MAX_PICTURE:
        return None, None
    return body, mime or None


def _mp4(audio: MP4) -> tuple[RawTags, bytes | None, str | None]:
    raw: RawTags = {}
    picture = mime = None
    tags = audio.tags or {}
    for key, value in tags.items():
        if key in _MP4:
            raw.setdefault(_MP4[key], []).extend(str(v) for v in value)
        elif key == "trkn" and value:
            no, total = value[0]
            raw["tracknumber"] = [f"{no}/{total}" if total else str(no)]
        elif key == "disk" and value:
            no, total = value[0]
            raw["discnumber"] = [f"{no}/{total}" if total else str(no)]
        elif key == "cpil":
            raw["compilation"] = ["1" if value else "0"]
        elif key == "tmpo" and value:
            raw["bpm"] = [str(value[0])]
        elif key == "covr" and value:
            cover = value[0]
            if 0 < len(cover) <= MAX_PICTURE:
                picture = bytes(cover)
                mime = "image/png" if cover.imageformat == cover.FORMAT_PNG else "image/jpeg"
        elif key.startswith("----:"):
            name = key.split(":", 2)[-1].lower()
            name = _TXXX.get(name, name)
            raw.setdefault(name, []).extend(
                v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in value
            )
    return raw, picture, mime


def _ape(tags: APEv2 | None) -> tuple[RawTags, bytes | None, str | None]:
    raw: RawTags = {}
    picture = mime = None
    if tags is None:
        return raw, None, None
    names = {"track": "tracknumber", "disc": "discnumber", "year": "date", "album artist": "albumartist"}
    for key, value in tags.items():
        low = key.lower()
        if low.startswith("cover art") and getattr(value, "kind", None) == 1:
            data = bytes(value.value)
            # APE binary items: "filename\0data"
            data = data.split(b"\0", 1)[1] if b"\0" in data[:256] else data
            if 0 < len(data) <= MAX_PICTURE and picture is None:
                picture, mime = data, "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
            continue
        if getattr(value, "kind", 0) != 0:
            continue
        raw.setdefault(names.get(low, low), []).extend(str(v) for v in value)
    return raw, picture, mime


def read_ape_sidecar(path: str) -> APEv2 | None:
    try:
        return APEv2(path)
    except (APENoHeaderError, mutagen.MutagenError):
        return None
