"""Who serves a data folder: the lock ``serve`` holds on ``serve.lock``, with its pid inside.

Kept apart from :mod:`.daemon` so that commands which only ask (``status``,
``restore``, ``analyze``) do not load the serving machinery.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .config import DataDir
from .errors import NodeIsRunning


def running_pid(data: DataDir) -> int | None:
    """The pid of the process serving this data folder, or None."""
    path = data.serve_lock
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            return int(Path(path).read_text().strip() or 0) or -1
        except (OSError, ValueError):
            return -1
    finally:
        os.close(fd)
    return None


def hold_serve_lock(data: DataDir) -> int:
    """Take the serve lock (the caller keeps the fd open while serving), or NodeIsRunning."""
    fd = os.open(data.serve_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise NodeIsRunning(f"another `sonantica serve` already runs on {data.root}") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
