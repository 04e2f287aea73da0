"""Real audio files for tests, in every format the node reads, with real tags.

Audio comes from soundfile (FLAC, WAV, AIFF, Ogg Vorbis, Opus, MP3) and PyAV
(AAC and ALAC in M4A); tags are written with mutagen in each container's own
way (repeated Vorbis fields, ID3v2.4 multi-values, MP4 lists), so the scanner
is tested against what real taggers produce.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

FORMATS = ("flac", "mp3", "ogg", "opus", "m4a", "alac", "wav", "aiff")


def tone(seconds: float = 1.0, sr: int = 44100, channels: int = 2, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A distinct, deterministic signal per seed: a chord of partials plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    base = freq * (1 + (seed % 12) / 12)
    sig = sum(np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3, 5))
    sig = 0.2 * sig / np.max(np.abs(sig)) + 0.01 * rng.standard_normal(t.size)
    return np.stack([sig * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def jpeg(size: int = 64, color: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, "JPEG")
    return buf.getvalue()


def write_audio(path: Path, fmt: str, data: np.ndarray, sr: int = 44100, bit_depth: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("m4a", "alac"):
        _write_av(path, "aac" if fmt == "m4a" else "alac", data, sr)
        return
    subtype = {16: "PCM_16", 24: "PCM_24"}[bit_depth]
    kw = {
        "flac": dict(format="FLAC", subtype=subtype),
        "wav": dict(format="WAV", subtype=subtype),
        "aiff": dict(format="AIFF", subtype=subtype),
        "ogg": dict(format="OGG", subtype="VORBIS"),
        "opus": dict(format="OGG", subtype="OPUS"),
        "mp3": dict(format="MP3", subtype="MPEG_LAYER_III"),
    }[fmt]
    if fmt == "opus" and sr not in (8000, 12000, 16000, 24000, 48000):
        sr = 48000
    sf.write(str(path), data, sr, **kw)


def _write_av(path: Path, codec: str, data: np.ndarray, sr: int) -> None:
    import av

    channels = data.shape[1]
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = layout
        if codec == "aac":
            stream.bit_rate = 128000
        fmt = "fltp" if codec == "aac" else "s16p"
        frame_size = 1024 if codec == "aac" else 4096
        pcm = data.T.astype(np.float32)
        if fmt == "s16p":
            pcm = (np.clip(pcm, -1, 1) * 32767).astype(np.int16)
        pts = 0
        for start in range(0, pcm.shape[1], frame_size):
            chunk = np.ascontiguousarray(pcm[:, start : start + frame_size])
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout=layout)
            frame.sample_rate = sr
            frame.pts = pts
            frame.time_base = Fraction(1, sr)
            pts += chunk.shape[1]
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def make_track(
    path: Path,
    fmt: str | None = None,
    tags: dict | None = None,
    seconds: float = 1.0,
    sr: int = 44100,
    channels: int = 2,
    bit_depth: int = 16,
    cover: bytes | None = None,
    seed: int = 0,
) -> Path:
    """Write one tagged file; ``tags`` use Vorbis names with list values for multi-valued fields."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    write_audio(path, fmt, tone(seconds, sr, channels, seed=seed), sr, bit_depth)
    if tags or cover:
        write_tags(path, fmt, tags or {}, cover)
    return path


def write_tags(path: Path, fmt: str, tags: dict, cover: bytes | None = None) -> None:
    if fmt in ("flac", "ogg", "opus"):
        _vorbis_tags(path, fmt, tags, cover)
    elif fmt in ("mp3", "wav", "aiff"):
        _id3_tags(path, fmt, tags, cover)
    elif fmt in ("m4a", "alac"):
        _mp4_tags(path, tags, cover)
    else:
        raise ValueError(fmt)


def _listify(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _vorbis_tags(path: Path, fmt: str, tags: dict, cover: bytes | None) -> None:
    from mutagen.flac import FLAC, Picture
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    f = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[fmt](str(path))
    for key, value in tags.items():
        f[key] = _listify(value)
    if cover:
        pic = Picture()
        pic.type, pic.mime, pic.data = 3, "image/jpeg", cover
        if fmt == "flac":
            f.add_picture(pic)
        else:
            import base64

            f["metadata_block_picture"] = [base64.b64encode(pic.write()).decode()]
    f.save()


_ID3_FRAMES = {
    "title": "TIT2", "artist": "TPE1", "albumartist": "TPE2", "album": "TALB", "tracknumber": "TRCK",
    "discnumber": "TPOS", "date": "TDRC", "genre": "TCON", "composer": "TCOM", "compilation": "TCMP",
    "bpm": "TBPM", "label": "TPUB", "originaldate": "TDOR",
}
_ID3_TXXX = {
    "musicbrainz_albumid": "MusicBrainz Album Id", "musicbrainz_artistid": "MusicBrainz Artist Id",
    "musicbrainz_albumartistid": "MusicBrainz Album Artist Id", "replaygain_track_gain": "REPLAYGAIN_TRACK_GAIN",
    "replaygain_track_peak": "REPLAYGAIN_TRACK_PEAK", "replaygain_album_gain": "REPLAYGAIN_ALBUM_GAIN",
    "replaygain_album_peak": "REPLAYGAIN_ALBUM_PEAK", "artists": "ARTISTS",
}


def _id3_tags(path: Path, fmt: str, tags: dict, cover: bytes | None) -> None:
    from mutagen import id3
    from mutagen.aiff import AIFF
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    f = {"mp3": MP3, "wav": WAVE, "aiff": AIFF}[fmt](str(path))
    if f.tags is None:
        f.add_tags()
    for key, value in tags.items():
        values = _listify(value)
        if key in _ID3_FRAMES:
            frame = getattr(id3, _ID3_FRAMES[key])
            f.tags.add(frame(encoding=3, text=values))
        elif key in _ID3_TXXX:
            f.tags.add(id3.TXXX(encoding=3, desc=_ID3_TXXX[key], text=values))
        elif key == "musicbrainz_trackid":
            f.tags.add(id3.UFID(owner="http://musicbrainz.org", data=values[0].encode()))
        elif key == "lyrics":
            f.tags.add(id3.USLT(encoding=3, lang="eng", desc="", text=values[0]))
        else:
            raise KeyError(key)
    if cover:
        f.tags.add(id3.APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=cover))
    f.save(v2_version=4) if fmt == "mp3" else f.save()


_MP4_KEYS = {
    "title": "\xa9nam", "artist": "\xa9ART", "albumartist": "aART", "album": "\xa9alb", "date": "\xa9day",
    "genre": "\xa9gen", "composer": "\xa9wrt", "lyrics": "\xa9lyr",
}


def _mp4_tags(path: Path, tags: dict, cover: bytes | None) -> None:
    from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

    f = MP4(str(path))
    for key, value in tags.items():
        values = _listify(value)
        if key in _MP4_KEYS:
            f[_MP4_KEYS[key]] = values
        elif key in ("tracknumber", "discnumber"):
            no, _, total = values[0].partition("/")
            f["trkn" if key == "tracknumber" else "disk"] = [(int(no), int(total or 0))]
        elif key == "compilation":
            f["cpil"] = values[0] in ("1", "True", "true")
        elif key == "bpm":
            f["tmpo"] = [int(float(values[0]))]
        else:
            name = {"musicbrainz_albumid": "MusicBrainz Album Id"}.get(key, key.upper())
            f["----:com.apple.iTunes:" + name] = [MP4FreeForm(v.encode()) for v in values]
    if cover:
        f["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_JPEG)]
    f.save()


def long_wav(path: Path, minutes: float, seed: int = 3) -> str:
    """A long 16-bit stereo 44.1 kHz WAV written fast (10.6 MB a minute): a 10 s block repeated,
    varied per block so that no two chunks are alike. Returns its sha256 (hex)."""
    import hashlib

    path.parent.mkdir(parents=True, exist_ok=True)
    block = (tone(10.0, seed=seed) * 32767).astype(np.int16)
    with sf.SoundFile(str(path), "w", 44100, 2, "PCM_16", format="WAV") as f:
        for i in range(int(minutes * 6)):
            varied = block.copy()
            varied[::997] += np.int16(i % 251)
            f.write(varied)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(1 << 22):
            digest.update(piece)
    return digest.hexdigest()
