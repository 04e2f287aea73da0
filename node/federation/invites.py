"""Founding, inviting, joining, revoking and leaving: the membership actions of a person.

These run from the CLI (whether or not the node serves) and from the native
API. They change the database and bump ``fed_state.generation``; a serving
node notices and rebuilds its gossip machine, which then spreads the change.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse

import httpx
import trio

from sonantica.protocol import Admission, Invite, InviteBook, JoinRequest, MembershipState, NodeId, RemoteProtocolError
from sonantica.protocol.membership import Genesis, Revocation, parse_record

from ..errors import InvalidInput, NodeError
from ..store import peers as peers_store
from .binding import DEFAULT_PEER_PORT, hosts_for, split_peer_bind
from .binding import url as binding_url
from .client import PeerClient, now_ms
from .errors import PeerRejected, PeerUnavailable
from .runtime import load_identity, membership_from
from .tls import ensure_certificate, fetch_pinned_context

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")


class FederationCommandError(NodeError):
    """A federation action that cannot be done, with the reason."""


def parse_duration(text: str) -> int:
    """'90s', '10m', '24h', '7d' → milliseconds."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise InvalidInput(f"invalid duration {text!r}: use a number and s, m, h or d (e.g. 10m, 24h)")
    return int(m.group(1)) * {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[m.group(2)]


def advertised_addresses(peer_bind: str, insecure: bool, port: int | None = None,
                         public: tuple[str, ...] = ()) -> list[str]:
    """Where members can reach this node: ``public`` (``peer_advertise``) first, then the bind
    address, or this machine's interface addresses for 0.0.0.0 (see binding.py)."""
    host, bind_port = split_peer_bind(peer_bind)
    port = port or bind_port or DEFAULT_PEER_PORT
    scheme = "http" if insecure else "https"
    found = [binding_url(scheme, h, port) for h in hosts_for(host)]
    return list(dict.fromkeys([*public, *found]))[:8]


def _context(data, config):
    identity = load_identity(data)
    _, _, pin = ensure_certificate(data.root, str(identity.node_id))
    return identity, pin


def current_addresses(db, data, config) -> list[str]:
    stored = peers_store.addresses(db)
    return stored or advertised_addresses(config.peer_bind, config.federation_insecure_http,
                                          public=config.peer_advertise)


# -- found + invite --------------------------------------------------------------------------
def create_invite(store, data, config, uses: int = 1, ttl_ms: int = 24 * 3_600_000, role: str = "member") -> str:
    """(Sync, for the CLI and the API in a thread.) Found the federation if needed; return an invite code."""
    identity, pin = _context(data, config)
    addresses = store.read_sync(current_addresses, data, config)
    state = store.read_sync(peers_store.state)
    if state["genesis"] is None:
        genesis = Genesis.create(identity, f"{config.name}'s federation", addresses, pin, now_ms())
        store.write_sync(peers_store.set_genesis, genesis.to_obj())
        state = store.read_sync(peers_store.state)
    membership = membership_from(state, store.read_sync(peers_store.records))
    if role == "admin" and not membership.is_admin(identity.node_id):
        raise FederationCommandError("only an admin of the federation can invite admins")
    book = InviteBook(identity, membership.fed_id)
    try:
        invite = book.issue(addresses, pin, now_ms(), os.urandom(16), ttl_ms=ttl_ms, uses=uses, role=role)
    except Exception as exc:
        raise InvalidInput(f"cannot make that invite: {exc} (uses 1–100, at most 30 days)") from exc
    store.write_sync(peers_store.save_invite, invite.nonce.hex(), invite.to_obj(), uses)
    return invite.to_code()


# -- redeem (inviter side, serving) ----------------------------------------------------------------
async def redeem(node, federation, obj: dict) -> dict:
    if await node.store.read(peers_store.generation) != federation.generation:
        await federation.reload()  # the invite may have just founded the federation
    if federation.membership is None:
        raise RemoteProtocolError("wrong_federation", "this node is not in a federation")
    request = JoinRequest.from_obj(obj)
    nonce = request.invite.nonce.hex()
    async with federation._lock:
        saved = await node.store.read(peers_store.invite_state, nonce)
        book = InviteBook(federation.identity, federation.membership.fed_id)
        if saved is not None:
            inv_obj, remaining, redeemed = saved
            invite = Invite.from_obj(inv_obj)
            book.issued[invite.nonce] = invite
            book.remaining[invite.nonce] = remaining
            for node_text, adm in redeemed.items():
                book.redeemed[(invite.nonce, NodeId.parse(node_text))] = Admission.from_obj(adm)
        admission = book.redeem(request, now_ms(), federation.membership)
        await node.store.write(peers_store.record_redemption, nonce, str(request.node), admission.to_obj(),
                               book.remaining.get(request.invite.nonce, 0))
        if federation.machine is not None and admission.id not in federation.membership.records:
            actions = federation.machine.add_records([admission], now_ms())
            await federation._perform(actions)
    records = [r.to_obj() for r in federation.membership.records.values()]
    return {"genesis": federation.membership.genesis.to_obj(), "admission": admission.to_obj(), "records": records}


# -- join (joiner side) ------------------------------------------------------------------------------
JOIN_ERRORS = {
    "invite_expired": "this invite has expired: ask for a new one",
    "invite_used": "this invite has already been used: ask for a new one",
    "bad_invite": "the inviting node does not recognise this invite (forged, or made by another node)",
    "bad_signature": "the invite's signature is not valid (forged or damaged)",
    "revoked": "this node was revoked from that federation",
    "wrong_federation": "the inviting node is no longer in that federation",
}


def _refusal(exc: PeerRejected) -> str:
    for code, text in JOIN_ERRORS.items():
        if code in exc.reason:
            return text
    return f"the inviting node refused: {exc.reason}"


def prepare_join(store, data, config, code: str) -> tuple[Invite, bytes, object]:
    """(Sync.) Check the code and this node's state; the signed JoinRequest body to send."""
    try:
        invite = Invite.from_code(code)
        invite.verify()
    except RemoteProtocolError as exc:
        raise FederationCommandError(f"this invite code is not valid ({exc.code}): check it was copied whole") from exc
    if now_ms() >= invite.expires:
        raise FederationCommandError(JOIN_ERRORS["invite_expired"])
    identity, pin = _context(data, config)
    state = store.read_sync(peers_store.state)
    if state["genesis"] is not None:
        if Genesis.from_obj(state["genesis"]).fed_id == invite.fed:
            raise FederationCommandError("this node is already a member of that federation")
        raise FederationCommandError("this node is already in another federation: `sonantica leave` first")
    if invite.inviter == identity.node_id:
        raise FederationCommandError("this invite was made by this node: use it on the node that should join")
    addresses = store.read_sync(current_addresses, data, config)
    request = JoinRequest.create(identity, invite, addresses, pin, now_ms())
    return invite, json.dumps(request.to_obj()).encode(), identity


def finish_join(store, invite: Invite, identity, answer: dict) -> dict:
    """(Sync.) Verify the inviter's answer and store the membership; nothing is stored if it is wrong."""
    try:
        genesis = Genesis.from_obj(answer["genesis"])
        admission = Admission.from_obj(answer["admission"])
        records = [parse_record(r) for r in answer["records"]]
        if genesis.fed_id != invite.fed or admission.node != identity.node_id:
            raise FederationCommandError("the inviting node answered for another federation or node; nothing changed")
        membership = MembershipState(genesis)
        membership.add_many(records + [admission])
        if not membership.is_member(identity.node_id):
            raise FederationCommandError("the inviting node's answer does not admit this node; nothing changed")
    except (RemoteProtocolError, KeyError, TypeError) as exc:
        raise FederationCommandError(f"the inviting node sent an invalid answer ({exc}); nothing changed") from exc

    def save(db):
        peers_store.add_records(db, [(r.id.hex(), r.to_obj()) for r in membership.records.values()])
        peers_store.set_genesis(db, genesis.to_obj())

    store.write_sync(save)
    return {"federation": genesis.name, "fed_id": genesis.fed_id, "members": len(membership.members)}


def join(store, data, config, code: str) -> dict:
    """(Sync, for the CLI.) Redeem ``code`` with its inviter. Changes nothing on failure."""
    invite, body, identity = prepare_join(store, data, config, code)
    answer = trio.run(_post_join, invite, body, config.federation_insecure_http)
    return finish_join(store, invite, identity, answer)


async def join_async(store, data, config, code: str) -> dict:
    """The same, from a running node (the native API)."""
    invite, body, identity = await trio.to_thread.run_sync(prepare_join, store, data, config, code)
    answer = await _post_join(invite, body, config.federation_insecure_http)
    return await trio.to_thread.run_sync(finish_join, store, invite, identity, answer)


async def _post_join(invite: Invite, body: bytes, insecure: bool) -> dict:
    last = "no address in the invite"
    for address in invite.addresses:
        url = urllib.parse.urlsplit(address)
        try:
            if url.scheme == "https":
                ctx = await trio.to_thread.run_sync(fetch_pinned_context, url.hostname, url.port or 443,
                                                    invite.cert_pin, str(invite.inviter))
                client = httpx.AsyncClient(base_url=address, verify=ctx, timeout=15)
            elif url.scheme == "http" and insecure:
                client = httpx.AsyncClient(base_url=address, timeout=15)
            else:
                last = f"{address}: plain HTTP is refused outside test mode"
                continue
        except PeerUnavailable as exc:
            last = exc.reason
            continue
        except PeerRejected as exc:
            raise FederationCommandError(f"{address} is not the inviting node (certificate mismatch); nothing changed") from exc
        async with client:
            try:
                r = await client.post("/peer/v1/join", content=body, headers={"Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                last = f"{address}: {type(exc).__name__}"
                continue
        if r.status_code == 200:
            return r.json()
        try:
            err = r.json()["error"]
            raise FederationCommandError(JOIN_ERRORS.get(err["code"], f"the inviting node refused: {err['message']}"))
        except (ValueError, KeyError, TypeError):
            raise FederationCommandError(f"the inviting node answered {r.status_code}; nothing changed") from None
    raise FederationCommandError(f"cannot reach the inviting node ({last}); is it running? nothing changed")


# -- revoke and leave --------------------------------------------------------------------------------
def revoke(store, data, config, node_text: str, reason: str = "") -> str:
    identity, _ = _context(data, config)
    try:
        target = NodeId.parse(node_text)
    except RemoteProtocolError as exc:
        raise InvalidInput(f"{node_text!r} is not a node id ({exc})") from exc
    state = store.read_sync(peers_store.state)
    membership = membership_from(state, store.read_sync(peers_store.records))
    if membership is None:
        raise FederationCommandError("this node is not in a federation")
    if target not in membership.members:
        raise FederationCommandError(f"{target.short} is not a member of the federation")
    record = Revocation.create(identity, membership.fed_id, target, reason[:256], now_ms())
    accepted, errors = membership.add_many([record])
    if not accepted:
        raise FederationCommandError(f"cannot revoke {target.short}: {errors[0] if errors else 'refused'}")
    store.write_sync(lambda db: (peers_store.add_records(db, [(record.id.hex(), record.to_obj())]),
                                 peers_store.bump_generation(db)))
    return target.short


async def leave(store, data, config, federation=None) -> None:
    """Revoke ourselves, tell the members directly, then forget the federation."""
    identity, _ = _context(data, config)
    state = await store.read(peers_store.state)
    membership = membership_from(state, await store.read(peers_store.records))
    if membership is None:
        raise FederationCommandError("this node is not in a federation")
    record = Revocation.create(identity, membership.fed_id, identity.node_id, "left", now_ms())
    from sonantica.protocol import serialize
    from sonantica.protocol.messages import Records

    body = serialize(Records((record,)))
    client = PeerClient(identity, config.federation_insecure_http)
    async with trio.open_nursery() as n:
        for member, info in membership.members.items():
            if member != identity.node_id:
                n.start_soon(_tell, client, info, str(member), body)
    await client.aclose()
    await store.write(peers_store.leave_federation)


async def _tell(client: PeerClient, info, node: str, body: bytes) -> None:
    with trio.move_on_after(5):
        try:
            await client.call(info.addresses, info.cert_pin, node, "POST", "/peer/v1/gossip", body)
        except (PeerUnavailable, PeerRejected):
            pass
