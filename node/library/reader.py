"""The part of a scan that runs in worker processes: read, map, hash, extract covers.

Runs without the database: it takes file descriptions and returns plain
tuples, so it pickles cheaply across the process pool. Covers are written to
the cover cache here (content-addressed, atomic rename) so that a 10 MB
picture never travels back to the main process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import tempfile

from .audioid import audio_id
from .tagmap import map_tags
from .tags import FileTags, TagReadError, read_file

Item = tuple[int, str, str, int, int]  # folder_id, root, relpath, size, mtime_ns
Ok = tuple[str, int, str, int, int, dict, dict, str | None, str | None, str | None]
Err = tuple[str, int, str, str, int, int]


def init_worker() -> None:
    """Workers leave Ctrl-C to the parent, which shuts the pool down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(5)
    except OSError:
        pass


def read_batch(items: list[Item], covers_dir: str) -> list[Ok | Err]:
    return [read_one(item, covers_dir) for item in items]


def read_one(item: Item, covers_dir: str) -> Ok | Err:
    folder_id, root, relpath, size, mtime_ns = item
    path = os.path.join(root, relpath)
    try:
        ft = read_file(path)
    except TagReadError as exc:
        return ("err", folder_id, relpath, str(exc), size, mtime_ns)
    except Exception as exc:  # a hostile file must never stop the scan
        return ("err", folder_id, relpath, f"unreadable ({type(exc).__name__}: {exc})"[:300], size, mtime_ns)
    tags = dataclasses.asdict(map_tags(ft.raw, relpath))
    for key, value in tags.items():
        if isinstance(value, tuple):
            tags[key] = list(value)
    props = dataclasses.asdict(ft.props)
    props["lossless"] = int(props["lossless"])
    cover, mime = _save_cover(ft, covers_dir)
    aid = audio_id(path, ft.props.format, ft.md5)
    return ("ok", folder_id, relpath, size, mtime_ns, props, tags, cover, mime, aid)


def _save_cover(ft: FileTags, covers_dir: str) -> tuple[str | None, str | None]:
    if not ft.picture:
        return None, None
    digest = hashlib.blake2b(ft.picture, digest_size=12).hexdigest()
    cover_id = "em-" + digest
    dest = os.path.join(covers_dir, cover_id)
    if not os.path.exists(dest):
        os.makedirs(covers_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=covers_dir, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(ft.picture)
            os.replace(tmp, dest)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return None, None
    return cover_id, ft.picture_mime or _sniff(ft.picture)


def _sniff(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"
