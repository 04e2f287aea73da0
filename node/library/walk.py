"""Walking the library folders: regular audio files, folder images, and what could not be read.

Symlinks are followed only when their target stays inside a library root;
directories are identified by (device, inode) so that link loops end. Only
regular files are returned (a FIFO named ``x.mp3`` would block a reader).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from .paths import is_within

#: The audio files the scanner reads: the keys of ``tags.AUDIO_EXTENSIONS`` (which maps each
#: to its mutagen class; a test keeps the two equal), here so that walking loads no mutagen.
AUDIO_EXTENSIONS = frozenset({
    ".flac", ".mp3", ".m4a", ".m4b", ".mp4", ".aac", ".ogg", ".oga", ".opus", ".wav", ".aif", ".aiff", ".aifc",
    ".wv", ".ape", ".wma", ".asf", ".dsf", ".dff", ".mpc", ".mp+", ".mpp", ".tta", ".spx", ".mp1", ".mp2", ".mpa",
    ".ac3", ".eac3", ".mka", ".weba", ".caf", ".w64", ".tak", ".dts", ".shn", ".au", ".amr", ".ra", ".vqf",
})
#: Music files the node does not index (no decoder, or DRM): counted as "unsupported format" in status
#: (``sonantica status``, ``GET /api/v1/library/status``), never silently ignored.
UNSUPPORTED_EXTENSIONS = frozenset({
    ".mid", ".midi", ".kar", ".rmi", ".mod", ".xm", ".it", ".s3m", ".mtm", ".umx", ".ofr", ".ofs", ".la",
    ".m4p", ".aa", ".aax", ".spc", ".nsf", ".sid", ".vgm", ".vgz", ".gym", ".psf", ".minipsf", ".2sf",
    ".usf", ".gsf", ".hes",
})
IMAGE_NAMES = ("cover", "folder", "front", "album", "albumart")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
ARTIST_IMAGE_NAME = "artist"  # artist.jpg in the artist's folder (above its albums) or an album's, as Navidrome reads
LYRICS_EXTENSIONS = (".lrc",)


@dataclass(frozen=True, slots=True)
class FoundFile:
    folder_id: int
    relpath: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class WalkProblem:
    folder_id: int
    relpath: str
    reason: str


@dataclass
class WalkResult:
    files: list[FoundFile]
    images: dict[tuple[int, str], str]  # (folder_id, reldir) -> relpath of best folder image
    problems: list[WalkProblem]
    unsupported: list[FoundFile] = field(default_factory=list)  # music files in formats the node cannot read
    # (folder_id, reldir) of folders that could not be read ("" = the library folder itself):
    # what was indexed under them is kept, not taken for deleted (an unmounted disk, a NAS away)
    unreadable: list[tuple[int, str]] = field(default_factory=list)
    artist_images: dict[tuple[int, str], str] = field(default_factory=dict)  # (folder_id, reldir) -> artist.*


def walk(folders: list[tuple[int, str]]) -> WalkResult:
    real_roots = [os.path.realpath(path) for _, path in folders]
    result = WalkResult(files=[], images={}, problems=[])
    for folder_id, root in folders:
        real_root = os.path.realpath(root)
        if not os.path.isdir(real_root):
            result.problems.append(WalkProblem(folder_id, "", f"library folder {root} is missing or not a folder: "
                                                              "its tracks are kept until it is back"))
            result.unreadable.append((folder_id, ""))
            continue
        seen: set[tuple[int, int]] = set()
        for item in _walk_dir(folder_id, real_root, "", real_roots, seen, result):
            result.files.append(item)
    return result


def _walk_dir(
    folder_id: int,
    root: str,
    reldir: str,
    real_roots: list[str],
    seen: set[tuple[int, int]],
    result: WalkResult,
) -> Iterator[FoundFile]:
    stack = [reldir]
    while stack:
        rel = stack.pop()
        path = os.path.join(root, rel) if rel else root
        try:
            st = os.stat(path)
        except OSError as exc:
            result.problems.append(WalkProblem(folder_id, rel, f"cannot read folder: {exc.strerror}"))
            result.unreadable.append((folder_id, rel))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue  # symlink loop or a second link to a folder already walked
        seen.add(key)
        try:
            entries = list(os.scandir(path))
        except OSError as exc:
            result.problems.append(WalkProblem(folder_id, rel, f"cannot read folder: {exc.strerror}"))
            result.unreadable.append((folder_id, rel))
            continue
        best_image: tuple[int, str] | None = None
        subdirs = []
        for entry in entries:
            name = entry.name
            relpath = f"{rel}/{name}" if rel else name
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not any(is_within(target, r) for r in real_roots):
                        continue  # links that leave the library are not followed
                    est = os.stat(entry.path)
                else:
                    est = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(est.st_mode):
                if not name.startswith("."):
                    subdirs.append(relpath)
                continue
            if not stat.S_ISREG(est.st_mode) or name.startswith("._"):
                continue
            ext = os.path.splitext(name)[1].lower()
            if ext in AUDIO_EXTENSIONS:
                yield FoundFile(folder_id, relpath, est.st_size, est.st_mtime_ns)
            elif ext in UNSUPPORTED_EXTENSIONS:
                result.unsupported.append(FoundFile(folder_id, relpath, est.st_size, est.st_mtime_ns))
            elif ext in IMAGE_EXTENSIONS:
                stem = os.path.splitext(name)[0].lower()
                if stem == ARTIST_IMAGE_NAME:
                    result.artist_images[(folder_id, rel)] = relpath
                elif stem in IMAGE_NAMES:
                    rank = IMAGE_NAMES.index(stem)
                    if best_image is None or rank < best_image[0]:
                        best_image = (rank, relpath)
        if best_image is not None:
            result.images[(folder_id, rel)] = best_image[1]
        stack.extend(sorted(subdirs, reverse=True))
