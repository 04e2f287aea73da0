"""The node's Ed25519 key on disk: a 32-byte seed in a file of mode 0600.

The key is created once by ``init`` and never regenerated silently; losing it
means the node must be re-admitted to its federation, so ``backup`` includes it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import nacl.signing

from .errors import ConfigError


def create_key(path: Path) -> nacl.signing.SigningKey:
    seed = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(seed)
        f.flush()
        os.fsync(f.fileno())
    return nacl.signing.SigningKey(seed)


def load_seed(path: Path) -> bytes:
    try:
        st = os.stat(path)
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"node key {path} is missing: restore it from a backup (sonantica restore FILE)") from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"node key {path} is readable by others: run `chmod 600 {path}`")
    if len(data) != 32:
        raise ConfigError(f"node key {path} is damaged (expected 32 bytes, found {len(data)})")
    return data


def load_key(path: Path) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(load_seed(path))
