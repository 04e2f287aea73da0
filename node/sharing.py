"""Share-link tokens and the node's public address.

A link is ``<public base>/s/<token>``; the token is 43 URL-safe characters: the share's 16 random
bytes (its ``nonce``, 128 bits) followed by the first 16 bytes of HMAC-SHA256 over the share's id and
nonce, keyed by a key derived from the node's Ed25519 seed (so nobody holding only the database, or
guessing, can make one). A token is checked in constant time; a malformed, forged, revoked or
expired one is simply not found (404), never told apart.

The public base is the request's own scheme and host, or, when the request comes from a reverse
proxy listed in ``trusted_proxies``, what its ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` /
``X-Forwarded-Prefix`` say (the same trust rule as ``X-Forwarded-For``, see api/ratelimit.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
from pathlib import Path

from .identity import load_seed

MAC_BYTES = 16
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]{1,64}){1,8}$")


def link_key(key_path: Path) -> bytes:
    """The HMAC key of share links: derived from the node's seed, never the seed itself."""
    return hashlib.blake2b(b"sonantica share links v1", key=load_seed(key_path), digest_size=32).digest()


def _mac(key: bytes, share_id: str, nonce: bytes) -> bytes:
    return hmac.new(key, b"share\0" + share_id.encode() + b"\0" + nonce, hashlib.sha256).digest()[:MAC_BYTES]


def make_token(key: bytes, share_id: str, nonce_hex: str) -> str:
    nonce = bytes.fromhex(nonce_hex)
    return base64.urlsafe_b64encode(nonce + _mac(key, share_id, nonce)).rstrip(b"=").decode()


def split_token(token: str) -> tuple[str, bytes] | None:
    """(nonce as hex, mac) of a well-formed token, else None."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32 or make_token_raw(raw) != token:  # one spelling per token
        return None
    return raw[:16].hex(), raw[16:]


def make_token_raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_matches(key: bytes, share_id: str, nonce_hex: str, mac: bytes) -> bool:
    return hmac.compare_digest(_mac(key, share_id, bytes.fromhex(nonce_hex)), mac)


def public_base(scheme: str, host: str, remote: str, headers, trusted: tuple[str, ...]) -> str:
    """The address visitors reach this node at (no trailing slash); ``headers`` is a mapping with getlist."""
    host = host if _HOST.match(host or "") else "localhost"
    if trusted and _trusted(remote, trusted):
        proto = _first(headers.getlist("X-Forwarded-Proto")).lower()
        fwd_host = _first(headers.getlist("X-Forwarded-Host"))
        prefix = _first(headers.getlist("X-Forwarded-Prefix")).rstrip("/")
        scheme = proto if proto in ("http", "https") else scheme
        host = fwd_host if _HOST.match(fwd_host) else host
        prefix = prefix if _PREFIX.match(prefix) else ""
        return f"{scheme}://{host}{prefix}"
    return f"{scheme}://{host}"


def _trusted(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def _first(values: list[str]) -> str:
    """The first value a proxy chain gave (the one nearest the visitor)."""
    for line in values:
        for part in line.split(","):
            if part.strip():
                return part.strip()
    return ""
