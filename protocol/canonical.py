"""Canonical encoding: the one byte form of everything signed or hashed.

Theory of operation
-------------------
A document is JSON (RFC 8259) with these extra rules, so that one value has
exactly one encoding and any language can reproduce it:

* UTF-8, no byte order mark; no insignificant whitespace (``,`` and ``:`` only);
* object keys are strings, unique, sorted by Unicode code point;
* values are ``null``, ``true``, ``false``, integers in ``[-(2**53-1), 2**53-1]``,
  strings, arrays and objects; **no floats** (fractional quantities are carried
  as scaled integers, e.g. ``bpm_milli``), no exponents, no leading zeros;
* strings are NFC-normalised; only ``"`` ``\\`` and U+0000..U+001F are escaped:
  ``\\"`` ``\\\\`` ``\\b`` ``\\f`` ``\\n`` ``\\r`` ``\\t`` and otherwise ``\\u00xx``
  (lowercase hex); every other character is written as itself;
* nesting is at most :data:`MAX_DEPTH` deep;
* bytes (hashes, keys, signatures, nonces) are lowercase hexadecimal strings.

:func:`decode` is strict: it refuses anything whose re-encoding is not
byte-identical to its input (``not_canonical``), so a relayed document keeps
its hash and signature. :func:`signing_bytes` prefixes a domain tag so that a
signature made for one purpose can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

from .errors import LocalProtocolError, RemoteProtocolError
from .limits import MAX_DEPTH, MAX_INT, MAX_MESSAGE_BYTES

__all__ = ["encode", "decode", "signing_bytes", "digest", "b2h", "h2b", "DOMAIN_PREFIX"]

DOMAIN_PREFIX = b"sonantica/v1/"

_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check(obj: Any, depth: int, err: type) -> None:
    if depth > MAX_DEPTH:
        raise _mk(err, "nested too deeply")
    t = type(obj)
    if t is str:
        if not obj.isascii() and not unicodedata.is_normalized("NFC", obj):
            raise _mk(err, f"string is not NFC-normalised: {obj!r:.40}", "not_canonical")
    elif t is int:
        if not -MAX_INT <= obj <= MAX_INT:
            raise _mk(err, f"integer out of range: {obj}")
    elif t is bool or obj is None:
        pass
    elif t is dict:
        for k, v in obj.items():
            if type(k) is not str:
                raise _mk(err, f"object key must be a string, not {type(k).__name__}")
            _check(k, depth + 1, err)
            _check(v, depth + 1, err)
    elif t is list or t is tuple:
        for v in obj:
            _check(v, depth + 1, err)
    elif t is float:
        raise _mk(err, "floats are not allowed (use a scaled integer)")
    else:
        raise _mk(err, f"type {t.__name__} cannot be encoded")


def _mk(err: type, msg: str, code: str = "malformed") -> Exception:
    return err(code, msg) if err is RemoteProtocolError else err(msg)


def encode(obj: Any) -> bytes:
    """Canonical bytes of ``obj``; ``LocalProtocolError`` if it cannot be encoded."""
    _check(obj, 0, LocalProtocolError)
    try:
        return _encoder.encode(obj).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError("string is not valid Unicode") from exc


def _no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise RemoteProtocolError("malformed", "duplicate object key")
    return d


def _no_float(s: str) -> Any:
    raise RemoteProtocolError("malformed", f"floats are not allowed: {s:.20}")


def decode(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Parse canonical bytes; refuse oversized, malformed and non-canonical input."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise LocalProtocolError("decode() takes bytes")
    if len(data) > max_bytes:
        raise RemoteProtocolError("oversized", f"{len(data)} bytes > {max_bytes}")
    try:
        text = bytes(data).decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_dups, parse_float=_no_float, parse_constant=_no_float)
    except RemoteProtocolError:
        raise
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError("malformed", f"not JSON: {exc}") from exc
    _check(obj, 0, RemoteProtocolError)
    try:
        again = _encoder.encode(obj).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RemoteProtocolError("malformed", "string is not valid Unicode") from exc
    if again != bytes(data):
        raise RemoteProtocolError("not_canonical", "document is not in canonical form")
    return obj


def signing_bytes(domain: str, obj: Any) -> bytes:
    """What is signed: ``b"sonantica/v1/" + domain + b"\\x00" + encode(obj)``."""
    return DOMAIN_PREFIX + domain.encode("ascii") + b"\x00" + encode(obj)


def digest(domain: str, obj: Any) -> bytes:
    """BLAKE2b-256 of :func:`signing_bytes` (record ids, entry hashes...)."""
    return hashlib.blake2b(signing_bytes(domain, obj), digest_size=32).digest()


def b2h(b: bytes) -> str:
    """Bytes as lowercase hex."""
    return bytes(b).hex()


def h2b(s: Any, size: int | None = None, *, what: str = "value") -> bytes:
    """Strict lowercase hex -> bytes (``RemoteProtocolError("bad_field")``)."""
    if not isinstance(s, str) or s != s.lower() or (size is not None and len(s) != 2 * size):
        raise RemoteProtocolError("bad_field", f"{what}: expected {size or 'some'} bytes as lowercase hex")
    try:
        return bytes.fromhex(s)
    except ValueError as exc:
        raise RemoteProtocolError("bad_field", f"{what}: not hexadecimal") from exc
