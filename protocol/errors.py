"""The two error families of the protocol edge, in the manner of h11.

::

    ProtocolError
     ├── LocalProtocolError   we misused the API (a bug in our own code)
     └── RemoteProtocolError  a peer sent something we refuse (bad data, forged,
                              stale, oversized ...); carries a stable ``code``

Every ``RemoteProtocolError`` code is listed in :data:`CODES` with the HTTP
status a node should answer with, and whether the peer may retry later. The
table is the single source of truth: ``specs/protocol.md`` lists the same codes
and a test pins the two together. Code that refuses remote data never raises
anything else: foreign exceptions (``nacl``, ``json``, ``binascii``) are
translated at the point where they happen, keeping the cause (``raise ... from``).
"""

from __future__ import annotations

__all__ = ["CODES", "ProtocolError", "LocalProtocolError", "RemoteProtocolError"]

#: code -> (HTTP status hint, retry-later?)
CODES: dict[str, tuple[int, bool]] = {
    # encoding and framing
    "malformed": (400, False),
    "not_canonical": (400, False),
    "oversized": (413, False),
    "unknown_version": (400, False),
    "unknown_type": (400, False),
    "bad_field": (400, False),
    # identity and signatures
    "bad_node_id": (400, False),
    "bad_signature": (401, False),
    "wrong_key": (401, False),
    # catalogue logs
    "fork": (409, False),
    "rollback": (409, False),
    "gap": (409, True),
    "unknown_log": (404, True),
    "snapshot_mismatch": (409, False),
    # content
    "chunk_mismatch": (502, True),
    "bad_file_id": (400, False),
    # membership, invites
    "wrong_federation": (403, False),
    "not_member": (403, False),
    "revoked": (403, False),
    "not_authorised": (403, False),
    "invite_expired": (410, False),
    "invite_used": (410, False),
    "bad_invite": (400, False),
    # peer request authentication
    "clock_skew": (401, True),
    "replay": (401, False),
    "bad_auth_header": (401, False),
    "body_mismatch": (400, False),
}


class ProtocolError(Exception):
    """Base of both families; never raised directly."""

    def __init__(self, msg: str) -> None:
        if type(self) is ProtocolError:
            raise TypeError("raise LocalProtocolError or RemoteProtocolError")
        super().__init__(msg)


class LocalProtocolError(ProtocolError):
    """Our own code used the protocol API wrongly (wrong type, wrong state...)."""


class RemoteProtocolError(ProtocolError):
    """A peer sent data we refuse.

    ``code`` is stable (clients may branch on it), ``status`` is the HTTP
    status a node should answer with, ``retry`` says whether the same request
    may succeed later (``gap``, ``clock_skew``...) or never will (``fork``).
    """

    code: str
    status: int
    retry: bool
    detail: str

    def __init__(self, code: str, detail: str = "", *, status: int | None = None) -> None:
        if code not in CODES:
            raise LocalProtocolError(f"unknown RemoteProtocolError code {code!r}")
        hint, retry = CODES[code]
        self.code = code
        self.detail = detail
        self.status = hint if status is None else status
        self.retry = retry
        super().__init__(f"{code}: {detail}" if detail else code)
