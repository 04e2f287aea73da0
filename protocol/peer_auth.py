"""Peer request authentication: signed headers and a bounded replay window.

Theory of operation
-------------------
Every HTTP request between nodes carries four headers::

    Sonantica-Node:       <sender node id>
    Sonantica-Time:       <sender clock, integer ms since the Unix epoch>
    Sonantica-Nonce:      <16 random bytes, hex>
    Sonantica-Signature:  <Ed25519 signature, hex>

The signature covers ``signing_bytes("request", {"method", "path", "body",
"time", "nonce", "node"})`` where ``method`` is upper case, ``path`` is the
request target (path and query, exactly as sent) and ``body`` is the hex
BLAKE2b-256 of the body bytes. :class:`RequestVerifier` checks, in order, and
refuses with:

===========================================  ===================
a header missing or malformed                 ``bad_auth_header``
a malformed node id                           ``bad_node_id``
``|time - now| > MAX_CLOCK_SKEW_MS``           ``clock_skew``
a signature that does not verify              ``bad_signature``
a revoked sender                              ``revoked``
a sender that is not a member                 ``not_member``
a nonce already seen within the window        ``replay``
===========================================  ===================

A nonce is remembered only once the request passed every other check. The
cache holds at most ``REPLAY_CACHE_SIZE`` nonces; when it must forget one
still inside the window it raises a floor instead, and refuses any request
dated at or before that floor (``replay``): bounded memory never reopens a
replay.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from . import canonical
from .canonical import b2h, h2b
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import MAX_CLOCK_SKEW_MS, MAX_INT, NONCE_BYTES, REPLAY_CACHE_SIZE

__all__ = ["HEADERS", "sign_request", "body_hash", "RequestVerifier"]

H_NODE, H_TIME, H_NONCE, H_SIG = "Sonantica-Node", "Sonantica-Time", "Sonantica-Nonce", "Sonantica-Signature"
HEADERS = (H_NODE, H_TIME, H_NONCE, H_SIG)


def body_hash(body: bytes) -> bytes:
    return hashlib.blake2b(bytes(body), digest_size=32).digest()


def _signed(method: str, path: str, bhash: bytes, now: int, nonce: bytes, node: NodeId) -> dict[str, Any]:
    return {"method": method.upper(), "path": path, "body": b2h(bhash), "time": now, "nonce": b2h(nonce),
            "node": str(node)}


def sign_request(identity: NodeIdentity, method: str, path: str, body: bytes | None, now: int, nonce: bytes, *,
                 body_digest: bytes | None = None) -> dict[str, str]:
    """Headers to add to a request. ``nonce``: 16 random bytes from the caller."""
    if len(nonce) != NONCE_BYTES or type(now) is not int or not 0 <= now <= MAX_INT:
        raise LocalProtocolError("nonce must be 16 bytes and now an int of ms")
    if (body is None) == (body_digest is None):
        raise LocalProtocolError("give exactly one of body and body_digest")
    bh = body_digest if body_digest is not None else body_hash(body or b"")
    sig = identity.sign("request", _signed(method, path, bh, now, nonce, identity.node_id))
    return {H_NODE: str(identity.node_id), H_TIME: str(now), H_NONCE: b2h(nonce), H_SIG: b2h(sig)}


class RequestVerifier:
    """Checks signed requests for one node; holds the replay cache."""

    def __init__(self, check_peer: Callable[[NodeId], None] | Any, *, skew_ms: int = MAX_CLOCK_SKEW_MS,
                 cache_size: int = REPLAY_CACHE_SIZE) -> None:
        self.check_peer = check_peer.check_peer if hasattr(check_peer, "check_peer") else check_peer
        self.skew_ms = skew_ms
        self.cache_size = cache_size
        self._seen: OrderedDict[tuple[NodeId, bytes], int] = OrderedDict()
        self.floor = -1

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None, now: int, *,
               body_digest: bytes | None = None) -> NodeId:
        """The authenticated sender, or ``RemoteProtocolError``; nothing is remembered on refusal."""
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            raw = [lower[h.lower()] for h in HEADERS]
        except KeyError as exc:
            raise RemoteProtocolError("bad_auth_header", f"missing header {exc.args[0]}") from None
        node = NodeId.parse(raw[0])
        t = raw[1]
        if not (isinstance(t, str) and t.isdigit() and len(t) <= 16 and (t == "0" or t[0] != "0")):
            raise RemoteProtocolError("bad_auth_header", "Sonantica-Time is integer milliseconds")
        when = int(t)
        try:
            nonce = h2b(raw[2], NONCE_BYTES, what="nonce")
            sig = h2b(raw[3], 64, what="signature")
        except RemoteProtocolError as exc:
            raise RemoteProtocolError("bad_auth_header", str(exc)) from exc
        if abs(when - now) > self.skew_ms:
            raise RemoteProtocolError("clock_skew", f"request time is {when - now} ms from ours")
        bh = body_digest if body_digest is not None else body_hash(body or b"")
        node.verify("request", _signed(method, path, bh, when, nonce, node), sig)
        self.check_peer(node)
        key = (node, nonce)
        if key in self._seen or when <= self.floor:
            raise RemoteProtocolError("replay", "this request was already received")
        self._remember(key, when, now)
        return node

    def _remember(self, key: tuple[NodeId, bytes], when: int, now: int) -> None:
        seen = self._seen
        horizon = now - self.skew_ms
        while seen:
            k, t = next(iter(seen.items()))
            if t < horizon:
                seen.popitem(last=False)
            elif len(seen) >= self.cache_size:
                seen.popitem(last=False)
                self.floor = max(self.floor, t)
            else:
                break
        seen[key] = when

    def __len__(self) -> int:
        return len(self._seen)
