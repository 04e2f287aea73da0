"""Node identity: an Ed25519 key pair and its printable, self-checking id.

Theory of operation
-------------------
A node is its Ed25519 public key. The printable node id is built like a
Syncthing device id: the 32-byte key in RFC 4648 base32 without padding
(52 characters), cut into four groups of 13, each followed by one Luhn mod 32
check character (56 characters), then written in eight groups of seven joined
by ``-``::

    MFRGGZD-FMZTQOB-...   (63 characters, upper case)

Luhn mod 32 detects any single mistyped character and most swaps of adjacent
characters. Parsing accepts lower case and ignores ``-`` and spaces, but the
four unused trailing bits of the key must be zero, so each key has exactly one
id. :class:`NodeIdentity` holds the private seed and signs;
:class:`NodeId` only verifies. Signatures always cover
:func:`canonical.signing_bytes` (a domain tag plus the canonical document).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import nacl.exceptions
import nacl.signing

from . import canonical
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = ["NodeId", "NodeIdentity", "luhn32"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_PARSED: dict[str, "NodeId"] = {}  # parse cache: ids recur in every message
#: Signatures already verified (a pure function, so caching is safe): relayed
#: records reach a node many times. Bounded; cleared when full.
_VERIFIED: dict[tuple[bytes, bytes, bytes], None] = {}


def luhn32(s: str) -> str:
    """Luhn mod 32 check character of a base32 string."""
    factor, total = 2, 0
    for ch in reversed(s):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return _ALPHABET[(32 - total % 32) % 32]


@dataclass(frozen=True, slots=True)
class NodeId:
    """A node's public key; ``str(node_id)`` is the printable id."""

    key: bytes
    _text: str = field(init=False, repr=False, compare=False)
    _verify: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, bytes) or len(self.key) != 32:
            raise LocalProtocolError("a node id is a 32-byte Ed25519 public key")
        b32 = base64.b32encode(self.key).decode("ascii").rstrip("=")
        groups = [b32[i : i + 13] for i in range(0, 52, 13)]
        flat = "".join(g + luhn32(g) for g in groups)
        object.__setattr__(self, "_text", "-".join(flat[i : i + 7] for i in range(0, 56, 7)))
        object.__setattr__(self, "_verify", None)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"NodeId({self._text[:15]}…)"

    def __lt__(self, other: NodeId) -> bool:
        return self._text < other._text

    @property
    def short(self) -> str:
        """First group, for logs and UIs."""
        return self._text[:7]

    @classmethod
    def parse(cls, text: Any) -> NodeId:
        """Parse a printable id; ``RemoteProtocolError("bad_node_id")`` says what is wrong."""
        if not isinstance(text, str):
            raise RemoteProtocolError("bad_node_id", "a node id is a string")
        hit = _PARSED.get(text)
        if hit is not None:
            return hit
        node = cls._parse(text)
        if len(_PARSED) >= 65536:
            _PARSED.clear()
        _PARSED[text] = node
        return node

    @classmethod
    def _parse(cls, text: str) -> NodeId:
        flat = text.replace("-", "").replace(" ", "").upper()
        if len(flat) != 56:
            raise RemoteProtocolError("bad_node_id", f"expected 56 characters (without dashes), got {len(flat)}")
        for pos, ch in enumerate(flat):
            if ch not in _INDEX:
                raise RemoteProtocolError("bad_node_id", f"character {pos + 1} ({ch!r}) is not base32 (A-Z, 2-7)")
        for g in range(4):
            chunk = flat[g * 14 : g * 14 + 13]
            if luhn32(chunk) != flat[g * 14 + 13]:
                raise RemoteProtocolError(
                    "bad_node_id", f"check character of group {g + 1} does not match: mistyped id?"
                )
        b32 = "".join(flat[g * 14 : g * 14 + 13] for g in range(4))
        key = base64.b32decode(b32 + "====")
        node = cls(key)
        if node._text.replace("-", "") != flat:
            raise RemoteProtocolError("bad_node_id", "unused trailing bits are not zero")
        return node

    def verify_bytes(self, message: bytes, signature: bytes) -> None:
        """Raise ``RemoteProtocolError("bad_signature")`` unless ``signature`` is ours."""
        vk = self._verify
        if vk is None:
            vk = nacl.signing.VerifyKey(self.key)
            object.__setattr__(self, "_verify", vk)
        if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
            raise RemoteProtocolError("bad_signature", "a signature is 64 bytes")
        memo = (self.key, bytes(signature), bytes(message))
        if memo in _VERIFIED:
            return
        try:
            vk.verify(memo[2], memo[1])
        except nacl.exceptions.BadSignatureError as exc:
            raise RemoteProtocolError("bad_signature", f"not signed by {self.short}") from exc
        if len(_VERIFIED) >= 65536:
            _VERIFIED.clear()
        _VERIFIED[memo] = None

    def verify(self, domain: str, obj: Any, signature: bytes) -> None:
        """Verify a signature over ``signing_bytes(domain, obj)``."""
        self.verify_bytes(canonical.signing_bytes(domain, obj), signature)


class NodeIdentity:
    """A node's private key. Keep ``seed`` in a 0600 file (that I/O is node/'s job)."""

    __slots__ = ("_sk", "node_id")

    def __init__(self, signing_key: nacl.signing.SigningKey) -> None:
        self._sk = signing_key
        self.node_id = NodeId(bytes(signing_key.verify_key))

    @classmethod
    def from_seed(cls, seed: bytes) -> NodeIdentity:
        if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
            raise LocalProtocolError("an Ed25519 seed is 32 bytes")
        return cls(nacl.signing.SigningKey(bytes(seed)))

    @classmethod
    def generate(cls, random_bytes: bytes) -> NodeIdentity:
        """From 32 bytes of the caller's randomness (the node reads them from the OS)."""
        return cls.from_seed(random_bytes)

    @property
    def seed(self) -> bytes:
        return bytes(self._sk)

    def __repr__(self) -> str:
        return f"NodeIdentity({self.node_id.short}…)"

    def sign_bytes(self, message: bytes) -> bytes:
        return self._sk.sign(bytes(message)).signature

    def sign(self, domain: str, obj: Any) -> bytes:
        """Ed25519 signature over ``signing_bytes(domain, obj)``."""
        return self.sign_bytes(canonical.signing_bytes(domain, obj))
