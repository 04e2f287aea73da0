"""Where episode files and channel covers live, and how a fetched file becomes a served one.

Everything is inside the node's data folder, ``<data>/podcasts/<channel number>/``, under names
the node makes from ids (``<episode number>.<suffix>``), never from anything a feed says. A
download writes ``<episode number>.part`` (with ``.part.json`` holding the validators used to
resume it) and only a complete, probed file is renamed to its final name: a file with the final
name is whole, a ``.part`` never is, and nothing serves a ``.part``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..library.paths import OutsideLibrary, confine

# what mutagen calls a file → the suffix it is stored under (the suffix gives the served MIME type)
SUFFIXES = {"MP3": "mp3", "EasyMP3": "mp3", "MP4": "m4a", "EasyMP4": "m4a", "OggVorbis": "ogg", "OggOpus": "opus",
            "FLAC": "flac", "WAVE": "wav", "AAC": "aac", "AIFF": "aiff", "OggFLAC": "oga"}
COVER_MAX_SOURCE = 10 * 1024 * 1024
COVER_MAX_PIXELS = 40_000_000
COVER_SIZE = 1200
COVER_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


def root(data_root: Path) -> Path:
    return Path(data_root) / "podcasts"


def channel_dir(data_root: Path, channel_key: int) -> Path:
    return root(data_root) / str(int(channel_key))


def part_path(data_root: Path, channel_key: int, episode_key: int) -> Path:
    return channel_dir(data_root, channel_key) / f"{int(episode_key)}.part"


def final_name(episode_key: int, suffix: str) -> str:
    return f"{int(episode_key)}.{suffix}"


def served_path(data_root: Path, channel_key: int, name: str) -> str:
    """The absolute path of a completed episode's file, confined to the podcasts folder."""
    try:
        return confine(root(data_root), f"{int(channel_key)}/{name}")
    except OutsideLibrary as exc:
        raise FileNotFoundError(str(exc)) from None


def cover_path(data_root: Path, channel_key: int) -> Path:
    return root(data_root) / "covers" / f"{int(channel_key)}.jpg"


# -- blocking helpers (run in a worker thread) ------------------------------------------------------
def read_validators(part: Path) -> dict:
    try:
        value = json.loads(part.with_suffix(".part.json").read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def write_validators(part: Path, values: dict) -> None:
    part.parent.mkdir(parents=True, exist_ok=True)
    part.with_suffix(".part.json").write_text(json.dumps(values))


def part_size(part: Path) -> int:
    try:
        return part.stat().st_size
    except OSError:
        return 0


def discard_part(part: Path) -> None:
    for p in (part, part.with_suffix(".part.json")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def probe(path: Path) -> tuple[str, float | None, int | None]:
    """(suffix, duration s, bitrate kbps) of an audio file; ValueError if it is not audio."""
    import mutagen

    try:
        audio = mutagen.File(str(path))
    except Exception as exc:  # mutagen raises many kinds on a corrupt file
        raise ValueError(f"the downloaded file is not readable audio ({type(exc).__name__})") from None
    if audio is None or type(audio).__name__ not in SUFFIXES:
        raise ValueError("the downloaded file is not audio in a format this node plays")
    info = audio.info
    duration = getattr(info, "length", None) or None
    bitrate = getattr(info, "bitrate", None)
    return SUFFIXES[type(audio).__name__], duration, int(bitrate // 1000) if bitrate else None


def finish(part: Path, final: Path) -> int:
    """Make the whole ``.part`` durable and give it its final name; returns its size."""
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, final)
    try:
        part.with_suffix(".part.json").unlink()
    except FileNotFoundError:
        pass
    return final.stat().st_size


def remove(path: Path | str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def store_cover(data: bytes, dest: Path) -> None:
    """Validate a channel picture (a real JPEG/PNG/GIF/WebP of bounded size) and store it re-encoded as JPEG,
    so that what is served is a picture the node made, whatever the feed's host sent."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        if im.format not in COVER_FORMATS:
            raise ValueError(f"the channel's picture is {im.format or 'not an image'}, not JPEG, PNG, GIF or WebP")
        if im.width * im.height > COVER_MAX_PIXELS:
            raise ValueError("the channel's picture is too large")
        im.verify()
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (COVER_SIZE, COVER_SIZE))
        rgb = im.convert("RGB")
        rgb.thumbnail((COVER_SIZE, COVER_SIZE), Image.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=88)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(out.getvalue())
    os.replace(tmp, dest)
