"""The one place that confines file paths to the library roots.

Every path that reaches the disk from a database row, a URL or a peer goes
through :func:`confine`, which resolves symlinks and ``..`` and refuses any
result outside the root it claims to be in.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidInput, NotFound


class OutsideLibrary(InvalidInput):
    """A path that resolves outside every library root."""


def is_within(path: str, root: str) -> bool:
    root = root.rstrip(os.sep) or os.sep
    return path == root or path.startswith(root + os.sep)


def confine(root: str | Path, relpath: str) -> str:
    """Absolute real path of ``relpath`` under ``root``; refuses escapes and absolute paths."""
    if not relpath or "\0" in relpath or os.path.isabs(relpath):
        raise OutsideLibrary(f"{relpath!r} is not a path inside the library")
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, relpath))
    if not is_within(full, real_root):
        raise OutsideLibrary(f"{relpath!r} resolves outside the library folder {root}")
    return full


def existing_file(root: str | Path, relpath: str) -> str:
    full = confine(root, relpath)
    if not os.path.isfile(full):
        raise NotFound(f"{relpath}: file not found in its library folder")  # the root is not the asker's business
    return full
