"""Reading a file's tags and audio properties with mutagen.

Every container's frames are turned into one vocabulary (lower-case Vorbis
comment names → list of strings) so that :mod:`.tagmap` maps them once. The
file type is chosen by extension first (cheap) and by content if that fails,
so a mislabelled file is still read. Pictures are returned as bytes bounded by
``MAX_PICTURE`` (a larger picture is skipped, not loaded into the index).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import mutagen
from mutagen.aiff import AIFF
from mutagen.apev2 import APEv2, APENoHeaderError
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from .tagmap import RawTags

MAX_PICTURE = 16 * 1024 * 1024

AUDIO_EXTENSIONS = {
    ".flac": FLAC,
    ".mp3": MP3,
    ".m4a": MP4,
    ".m4b": MP4,
    ".mp4": MP4,
    ".aac": None,  # raw ADTS: mutagen.File decides
    ".ogg": OggVorbis,
    ".oga": OggVorbis,
    ".opus": OggOpus,
    ".wav": WAVE,
    ".aif": AIFF,
    ".aiff": AIFF,
    ".aifc": AIFF,
    ".wv": WavPack,
    ".ape": MonkeysAudio,
}

LOSSLESS_CODECS = {"flac", "alac", "pcm", "wavpack", "ape"}


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
    """Read tags, audio properties and the front cover of one file."""
    try:
        if os.path.getsize(path) == 0:
            raise TagReadError("empty file")
        audio = _open(path)
    except TagReadError:
        raise
    except (mutagen.MutagenError, OSError, ValueError, KeyError, IndexError, EOFError, TypeError) as exc:
        raise TagReadError(_reason(exc)) from exc
    except Exception as exc:  # mutagen raises assorted errors on hostile input
        raise TagReadError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    props = _props(audio, path)
    if props.duration <= 0:
        raise TagReadError("no audio (zero duration)")
    raw, picture, mime = _tags(audio)
    md5 = None
    if isinstance(audio, FLAC) and audio.info.md5_signature:
        md5 = f"{audio.info.md5_signature:032x}"
    return FileTags(raw=raw, props=props, picture=picture, picture_mime=mime, md5=md5)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"not readable as audio: {text}"[:300]


def _open(path: str) -> mutagen.FileType:
    ext = os.path.splitext(path)[1].lower()
    kind = AUDIO_EXTENSIONS.get(ext)
    if kind is not None:
        try:
            return kind(path)
        except mutagen.MutagenError:
            pass  # mislabelled? let mutagen sniff the content
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
        return OggOpus if b"OpusHead" in head else OggVorbis
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAVE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[4:8] == b"ftyp":
        return MP4
    if head[:4] == b"wvpk":
        return WavPack
    if head[:4] == b"MAC ":
        return MonkeysAudio
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3
    return None


def _props(audio: mutagen.FileType, path: str) -> AudioProps:
    info = audio.info
    codec, fmt = _codec(audio)
    bit_depth = getattr(info, "bits_per_sample", None) or None
    bitrate = getattr(info, "bitrate", 0) or 0
    length = float(getattr(info, "length", 0.0) or 0.0)
    if not bitrate and length > 0:
        bitrate = int(os.path.getsize(path) * 8 / length)
    return AudioProps(
        format=fmt,
        codec=codec,
        lossless=codec in LOSSLESS_CODECS,
        sample_rate=getattr(info, "sample_rate", None) or (48000 if codec == "opus" else None),
        bit_depth=bit_depth if codec in LOSSLESS_CODECS else None,
        channels=getattr(info, "channels", None) or None,
        duration=length,
        bitrate=round(bitrate / 1000) if bitrate else None,
    )


def _codec(audio: mutagen.FileType) -> tuple[str, str]:
    if isinstance(audio, FLAC):
        return "flac", "flac"
    if isinstance(audio, MP3):
        return "mp3", "mp3"
    if isinstance(audio, MP4):
        codec = (getattr(audio.info, "codec", "") or "").lower()
        return ("alac" if codec.startswith("alac") else "aac"), "m4a"
    if isinstance(audio, OggOpus):
        return "opus", "opus"
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
    name = type(audio).__name__.lower()
    return name, name


def _tags(audio: mutagen.FileType) -> tuple[RawTags, bytes | None, str | None]:
    if isinstance(audio, MP4):
        return _mp4(audio)
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
        elif fid == "COMM" and not frame.desc:
            raw.setdefault("comment", []).extend(str(t) for t in frame.text)
        elif fid == "APIC" and 0 < len(frame.data) <= MAX_PICTURE:
            if picture is None or frame.type == 3:
                picture, mime = frame.data, frame.mime
    return raw, picture, mime


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
