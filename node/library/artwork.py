"""Cover art: originals (embedded pictures in the cover cache, folder images in the library),
resized thumbnails (Pillow, in a worker thread), cached on disk by (cover, size), and the
placeholder pictures served for an item that has no art (as Navidrome does: clients expect
every album, artist and song to carry a cover id that answers an image)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import hashlib

import trio

from ..errors import InvalidInput, NotFound
from ..store import browse
from .paths import OutsideLibrary, confine

MAX_SOURCE = 32 * 1024 * 1024
SIZES = (64, 128, 256, 300, 512, 600, 1024, 2048)
PLACEHOLDER_SIZE = 600  # a placeholder asked without a size
PLACEHOLDER_KINDS = ("album", "artist")
_placeholders: dict[tuple[str, int], bytes] = {}  # at most len(PLACEHOLDER_KINDS) × len(SIZES) small PNGs


def _sniff(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:3] == b"GIF":
        return "image/gif"
    return "image/jpeg"


def _snap(size: int) -> int:
    """Thumbnails are made at a few sizes only, so a client cannot fill the disk with sizes."""
    return next((s for s in SIZES if s >= size), SIZES[-1])


def _thumbnail(src: str, dest: Path, size: int) -> bytes:
    from PIL import Image

    with Image.open(src) as im:
        im.draft("RGB", (size, size))
        im = im.convert("RGB")
        im.thumbnail((size, size), Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85, optimize=True)
    data = buf.getvalue()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    return data


def _read(path: str) -> bytes:
    if os.path.getsize(path) > MAX_SOURCE:
        raise OSError("cover too large")
    with open(path, "rb") as f:
        return f.read()


async def cover_source(node, ident: str) -> str | None:
    store = node.store
    cover_id = await store.read(browse.cover_for, ident)
    if not cover_id:
        return None
    if cover_id.startswith("em-"):
        path = node.data.cache_dir / "covers" / os.path.basename(cover_id)
        return str(path) if path.exists() else None
    if cover_id.startswith("mx-"):  # fetched by external metadata (node/metadata/images.py)
        from ..metadata.images import path_of

        found = path_of(node.data.cache_dir / "metadata", cover_id)
        return str(found) if found else None
    row = await store.read(browse.cover_row, cover_id)
    if not row or row["folder_id"] is None:
        return None
    folder = await store.read(browse.folder_of, row["folder_id"])
    try:
        return confine(folder["path"], row["path"])
    except OutsideLibrary:
        return None


async def cover_bytes(node, ident: str, size: int | None) -> tuple[bytes, str]:
    """(image bytes, MIME type) of the cover of a cover, track, album or artist id."""
    src = await cover_source(node, ident)
    if src is None:
        raise NotFound(f"no cover art for {ident}")
    try:
        if size is None:
            data = await trio.to_thread.run_sync(_read, src)
            return data, _sniff(data)
        size = _snap(size)
        digest = hashlib.blake2b(src.encode(), digest_size=8).hexdigest()
        dest = node.data.cache_dir / "thumbs" / f"{digest}-{size}.jpg"
        if dest.exists() and dest.stat().st_mtime >= os.path.getmtime(src):
            data = await trio.to_thread.run_sync(_read, str(dest))
        else:
            data = await trio.to_thread.run_sync(_thumbnail, src, dest, size)
        return data, "image/jpeg"
    except OSError as exc:
        raise NotFound(f"cover art for {ident} cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # Pillow on a corrupt picture
        raise InvalidInput(f"cover art for {ident} is not a readable image") from exc


def _draw_placeholder(kind: str, size: int) -> bytes:
    """A flat PNG: a record for albums and songs, a head and shoulders for artists."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), (44, 46, 56))
    draw = ImageDraw.Draw(im)
    c, fg, hole = size / 2, (92, 96, 112), (44, 46, 56)
    if kind == "artist":
        draw.ellipse((c - size * 0.17, size * 0.2, c + size * 0.17, size * 0.54), fill=fg)
        draw.ellipse((c - size * 0.32, size * 0.6, c + size * 0.32, size * 1.1), fill=fg)
    else:
        r = size * 0.34
        draw.ellipse((c - r, c - r, c + r, c + r), fill=fg)
        for k in (0.8, 0.62):
            draw.ellipse((c - r * k, c - r * k, c + r * k, c + r * k), outline=hole, width=max(1, size // 150))
        draw.ellipse((c - r * 0.3, c - r * 0.3, c + r * 0.3, c + r * 0.3), fill=(150, 156, 176))
        draw.ellipse((c - r * 0.06, c - r * 0.06, c + r * 0.06, c + r * 0.06), fill=hole)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()


async def placeholder(kind: str, size: int | None) -> tuple[bytes, str]:
    """(PNG bytes, MIME type) of the placeholder for an ``album`` (also songs, playlists) or an ``artist``."""
    kind = kind if kind in PLACEHOLDER_KINDS else "album"
    size = PLACEHOLDER_SIZE if size is None else _snap(size)
    data = _placeholders.get((kind, size))
    if data is None:
        data = _placeholders[(kind, size)] = await trio.to_thread.run_sync(_draw_placeholder, kind, size)
    return data, "image/png"
