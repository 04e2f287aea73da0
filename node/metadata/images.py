"""Fetched pictures: checked before they are kept, kept in a bounded folder.

A picture is kept only if it is a JPEG, PNG or WebP that Pillow opens, within
``MAX_PIXELS`` (a small file can claim a huge canvas: a decompression bomb) and whose
data decodes to the end. It is stored as ``cache/metadata/mx-<hash>`` (content addressed,
so the same picture fetched twice is kept once) and answered by the cover code like any
cover id. The folder is held under ``metadata_image_cache_mb``: past it, the oldest files go
and their items are fetched again on a later pass (see ``store.metadata.forget_images``).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

MAX_PIXELS = 40_000_000  # 6000 × 6000 and some
PREFIX = "mx-"


class NotAnImage(ValueError):
    """The bytes are not a picture we keep (the reason says why)."""


def check(data: bytes) -> str:
    """The MIME type of ``data`` if it is a picture we keep; NotAnImage otherwise. Runs in a thread."""
    from PIL import Image

    if data[:3] == b"\xff\xd8\xff":
        mime = "image/jpeg"
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        mime = "image/png"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        mime = "image/webp"
    else:
        raise NotAnImage("not a JPEG, PNG or WebP picture")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
        with im:
            width, height = im.size
            if width * height > MAX_PIXELS or width < 16 or height < 16:
                raise NotAnImage(f"picture of {width}×{height} pixels refused")
            im.load()
    except NotAnImage:
        raise
    except Exception as exc:  # Pillow's many ways of saying "broken"
        raise NotAnImage(f"picture does not decode ({type(exc).__name__})") from None
    return mime


def cover_id_for(data: bytes) -> str:
    return PREFIX + hashlib.blake2b(data, digest_size=12).hexdigest()


def store(folder: Path, data: bytes) -> str:
    """Check and write ``data``; its cover id. Runs in a thread."""
    check(data)
    ident = cover_id_for(data)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / ident
    if not dest.exists():
        tmp = dest.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    return ident


def path_of(folder: Path, cover_id: str) -> Path | None:
    """The file of a fetched picture's cover id, if it is one and is there."""
    name = os.path.basename(cover_id)
    if not name.startswith(PREFIX) or name != cover_id:
        return None
    path = folder / name
    return path if path.exists() else None


def trim(folder: Path, max_bytes: int) -> list[str]:
    """Delete the oldest pictures until the folder holds at most ``max_bytes``; the ids deleted."""
    try:
        files = [(e.stat().st_mtime, e.stat().st_size, e.name) for e in os.scandir(folder)
                 if e.is_file() and e.name.startswith(PREFIX)]
    except FileNotFoundError:
        return []
    total = sum(size for _, size, _ in files)
    gone = []
    for _, size, name in sorted(files):
        if total <= max_bytes:
            break
        try:
            os.unlink(folder / name)
        except OSError:
            continue
        total -= size
        gone.append(name)
    return gone
