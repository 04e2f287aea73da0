"""Invites: single-use, expiring capabilities to join, printable as one code.

Theory of operation
-------------------
A member issues an :class:`Invite` (federation id, its own id, addresses and
TLS certificate pin, expiry, a random 16-byte nonce, allowed uses, role) and
signs it. :meth:`Invite.to_code` packs it into one copy-pasteable string::

    snt1<base32, lower case, no padding: payload || BLAKE2b-32(payload)>

The trailing 4-byte checksum catches typing and truncation mistakes before
any network traffic. The joiner decodes the code, verifies the signature, dials
the inviter at one of its addresses (checking its TLS certificate against the
pin) and sends a :class:`JoinRequest` signed with its own key (proof of
possession). The inviter's :class:`InviteBook` checks, in order:

===================================  ==================
not an invite we issued / bad sig     ``bad_invite``
another federation                    ``wrong_federation``
``now >= expires``                    ``invite_expired``
no uses left                          ``invite_used``
joiner already revoked                ``revoked``
===================================  ==================

and on success signs an :class:`~.membership.Admission` that then gossips.
The same joiner repeating the same request (a lost response) gets the same
admission back without using up another use. Only the inviter can redeem its
invites, so single use needs no coordination.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any

from .canonical import b2h, h2b
from .catalogue import _fields, _int
from .errors import LocalProtocolError, RemoteProtocolError
from .identity import NodeId, NodeIdentity
from .limits import DEFAULT_INVITE_TTL_MS, MAX_INVITE_TTL_MS, MAX_INVITE_USES, NONCE_BYTES
from .membership import ROLES, Admission, MembershipState, _addresses

__all__ = ["Invite", "JoinRequest", "InviteBook", "CODE_PREFIX"]

CODE_PREFIX = "snt1"
_HEAD = struct.Struct(">BBQ16s32s32s32s")  # role, uses, expires, nonce, fed, inviter, pin


@dataclass(frozen=True)
class Invite:
    fed: str
    inviter: NodeId
    addresses: tuple[str, ...]
    cert_pin: bytes
    expires: int
    nonce: bytes
    uses: int
    role: str
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"fed": self.fed, "inviter": str(self.inviter), "addresses": list(self.addresses),
                "cert_pin": b2h(self.cert_pin), "expires": self.expires, "nonce": b2h(self.nonce),
                "uses": self.uses, "role": self.role}

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @classmethod
    def from_obj(cls, obj: Any) -> Invite:
        o = _fields(obj, {"fed", "inviter", "addresses", "cert_pin", "expires", "nonce", "uses", "role", "sig"},
                    "invite")
        if o["role"] not in ROLES:
            raise RemoteProtocolError("bad_invite", "role")
        return cls(b2h(h2b(o["fed"], 32, what="fed")), NodeId.parse(o["inviter"]), _addresses(o["addresses"]),
                   h2b(o["cert_pin"], 32, what="cert_pin"), _int(o, "expires"), h2b(o["nonce"], NONCE_BYTES),
                   _int(o, "uses", 1, MAX_INVITE_USES), o["role"], h2b(o["sig"], 64, what="sig"))

    def verify(self) -> None:
        try:
            self.inviter.verify("invite", self.body(), self.sig)
        except RemoteProtocolError as exc:
            raise RemoteProtocolError("bad_invite", "the invite's signature does not verify") from exc

    # --- the printable code -------------------------------------------------------
    def to_code(self) -> str:
        payload = bytearray(_HEAD.pack(ROLES.index(self.role), self.uses, self.expires, self.nonce,
                                       bytes.fromhex(self.fed), self.inviter.key, self.cert_pin))
        payload.append(len(self.addresses))
        for a in self.addresses:
            raw = a.encode("utf-8")
            payload.append(len(raw))
            payload += raw
        payload += self.sig
        payload += hashlib.blake2b(bytes(payload), digest_size=4).digest()
        return CODE_PREFIX + base64.b32encode(bytes(payload)).decode("ascii").rstrip("=").lower()

    @classmethod
    def from_code(cls, code: str) -> Invite:
        """Decode and verify a code; ``bad_invite`` says what is wrong."""
        text = "".join(str(code).split()).lower()
        if not text.startswith(CODE_PREFIX):
            raise RemoteProtocolError("bad_invite", f"an invite code starts with {CODE_PREFIX!r}")
        b32 = text[len(CODE_PREFIX):].upper()
        try:
            raw = base64.b32decode(b32 + "=" * (-len(b32) % 8))
        except ValueError as exc:
            raise RemoteProtocolError("bad_invite", "not base32: mistyped code?") from exc
        payload, check = raw[:-4], raw[-4:]
        if len(raw) < _HEAD.size + 1 + 64 + 4 or hashlib.blake2b(payload, digest_size=4).digest() != check:
            raise RemoteProtocolError("bad_invite", "checksum mismatch: the code is mistyped or truncated")
        try:
            role, uses, expires, nonce, fed, inviter, pin = _HEAD.unpack_from(payload)
            pos = _HEAD.size
            n = payload[pos]
            pos += 1
            addrs = []
            for _ in range(n):
                ln = payload[pos]
                addrs.append(payload[pos + 1 : pos + 1 + ln].decode("utf-8"))
                pos += 1 + ln
            sig = payload[pos : pos + 64]
            if len(sig) != 64 or pos + 64 != len(payload) or role >= len(ROLES):
                raise ValueError("bad layout")
            inv = cls(fed.hex(), NodeId(inviter), _addresses(addrs), pin, expires, nonce, uses, ROLES[role], sig)
        except (ValueError, IndexError, struct.error, UnicodeDecodeError, LocalProtocolError) as exc:
            raise RemoteProtocolError("bad_invite", f"malformed invite code: {exc}") from exc
        inv.verify()
        return inv


@dataclass(frozen=True)
class JoinRequest:
    """Sent by the joiner to the inviter; signed by the joiner's own key."""

    invite: Invite
    node: NodeId
    addresses: tuple[str, ...]
    cert_pin: bytes
    time: int
    sig: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        return {"invite": self.invite.to_obj(), "node": str(self.node), "addresses": list(self.addresses),
                "cert_pin": b2h(self.cert_pin), "time": self.time}

    def to_obj(self) -> dict[str, Any]:
        return {**self.body(), "sig": b2h(self.sig)}

    @classmethod
    def from_obj(cls, obj: Any) -> JoinRequest:
        o = _fields(obj, {"invite", "node", "addresses", "cert_pin", "time", "sig"}, "join request")
        return cls(Invite.from_obj(o["invite"]), NodeId.parse(o["node"]), _addresses(o["addresses"]),
                   h2b(o["cert_pin"], 32, what="cert_pin"), _int(o, "time"), h2b(o["sig"], 64, what="sig"))

    @classmethod
    def create(cls, joiner: NodeIdentity, invite: Invite, addresses: list[str], cert_pin: bytes,
               now_ms: int) -> JoinRequest:
        r = cls(invite, joiner.node_id, tuple(addresses), cert_pin, now_ms, bytes(64))
        return cls(invite, joiner.node_id, tuple(addresses), cert_pin, now_ms, joiner.sign("join", r.body()))

    def verify(self) -> None:
        self.node.verify("join", self.body(), self.sig)


class InviteBook:
    """The inviter's record of issued invites and their remaining uses."""

    def __init__(self, identity: NodeIdentity, fed_id: str) -> None:
        self.identity = identity
        self.fed_id = fed_id
        self.issued: dict[bytes, Invite] = {}
        self.remaining: dict[bytes, int] = {}
        self.redeemed: dict[tuple[bytes, NodeId], Admission] = {}

    def issue(self, addresses: list[str], cert_pin: bytes, now_ms: int, nonce: bytes, *,
              ttl_ms: int = DEFAULT_INVITE_TTL_MS, uses: int = 1, role: str = "member") -> Invite:
        """Sign a new invite; ``nonce`` is 16 random bytes from the caller."""
        if len(nonce) != NONCE_BYTES or not 0 < ttl_ms <= MAX_INVITE_TTL_MS or not 1 <= uses <= MAX_INVITE_USES:
            raise LocalProtocolError("bad nonce, ttl or uses")
        if role not in ROLES or nonce in self.issued:
            raise LocalProtocolError("bad role or reused nonce")
        draft = Invite(self.fed_id, self.identity.node_id, tuple(addresses), cert_pin, now_ms + ttl_ms, nonce, uses,
                       role, bytes(64))
        inv = Invite(**{**draft.__dict__, "sig": self.identity.sign("invite", draft.body())})
        self.issued[nonce] = inv
        self.remaining[nonce] = uses
        return inv

    def redeem(self, request: JoinRequest, now_ms: int, membership: MembershipState) -> Admission:
        """Check ``request`` and sign the joiner's admission. State unchanged on refusal."""
        inv = request.invite
        if inv.inviter != self.identity.node_id or self.issued.get(inv.nonce) != inv:
            raise RemoteProtocolError("bad_invite", "this node did not issue that invite")
        inv.verify()
        request.verify()
        if inv.fed != self.fed_id or inv.fed != membership.fed_id:
            raise RemoteProtocolError("wrong_federation", "the invite is for another federation")
        if now_ms >= inv.expires:
            raise RemoteProtocolError("invite_expired", "the invite has expired: ask for a new one")
        done = self.redeemed.get((inv.nonce, request.node))
        if done is not None:
            return done
        if self.remaining.get(inv.nonce, 0) <= 0:
            raise RemoteProtocolError("invite_used", "the invite has already been used")
        if membership.is_revoked(request.node):
            raise RemoteProtocolError("revoked", "that node has been revoked from this federation")
        adm = Admission.create(self.identity, self.fed_id, request.node, inv.role, request.addresses,
                               request.cert_pin, now_ms, invite=inv.nonce)
        self.remaining[inv.nonce] -= 1
        self.redeemed[(inv.nonce, request.node)] = adm
        return adm
