"""Every refusal has its own code and leaves the state unchanged."""

import dataclasses

import pytest

from sonantica.protocol import canonical
from sonantica.protocol.catalogue import CatalogueLog, Entry, Head, LogReplica
from sonantica.protocol.errors import LocalProtocolError, RemoteProtocolError
from sonantica.protocol.gossip import GossipMachine
from sonantica.protocol.identity import NodeId
from sonantica.protocol.invites import Invite, InviteBook, JoinRequest
from sonantica.protocol.limits import MAX_MESSAGE_BYTES, MAX_CLOCK_SKEW_MS
from sonantica.protocol.membership import Admission, Announce, Genesis, MembershipState, Revocation, parse_record
from sonantica.protocol.messages import Ack, Entries, parse, serialize
from sonantica.protocol.peer_auth import RequestVerifier, sign_request
from sonantica.protocol.testing import fixed_identity, make_federation, sample_record

A, B, C = fixed_identity(1), fixed_identity(2), fixed_identity(3)


def refused(code, fn, *args, **kw):
    with pytest.raises(RemoteProtocolError) as e:
        fn(*args, **kw)
    assert e.value.code == code, e.value
    return e.value


def forge(obj, **changes):
    return dataclasses.replace(obj, **changes)


# --- catalogue -------------------------------------------------------------------------------
@pytest.fixture
def chain():
    log = CatalogueLog(A)
    es = [log.append("add", i, record=sample_record(i, owner=1)) for i in range(5)]
    return log, es


def rep_state(r):
    return (r.seq, r.hash, r.head)


def test_log_refusals_leave_replica_unchanged(chain):
    log, es = chain
    r = LogReplica(A.node_id)
    r.apply_entries(es[:2])
    before = rep_state(r)
    other = CatalogueLog(B)
    b1 = other.append("add", 1, record=sample_record(1, owner=2))
    cases = [
        ("bad_signature", [forge(es[2], sig=bytes(64))]),
        ("bad_signature", [forge(es[2], time=es[2].time + 1)]),  # body changed after signing
        ("wrong_key", [b1]),
        ("rollback", [es[1]]),  # replayed entry
        ("gap", [es[3]]),
        ("fork", [CatalogueLog(A, 2, bytes(32)).append("add", 9, record=sample_record(9))]),
        ("bad_signature", [es[2], forge(es[3], sig=es[4].sig)]),  # good entry then a bad one: all-or-nothing
    ]
    for code, batch in cases:
        refused(code, r.apply_entries, batch)
        assert rep_state(r) == before
    # fork between two signed heads, rollback of heads
    r.accept_head(log.head(10))
    before = rep_state(r)
    forked = CatalogueLog(A, 5, bytes(32)).head(11)
    refused("fork", r.accept_head, forked)
    refused("rollback", r.accept_head, Head.sign(A, 1, es[0].hash, 12))
    refused("wrong_key", r.accept_head, other.head(1))
    refused("bad_signature", r.accept_head, forge(log.head(13), seq=6))
    assert rep_state(r) == before
    # the honest continuation still applies
    r.apply_entries(es[2:])
    assert r.seq == 5 and not r.behind


def test_entry_signed_by_another_key_claiming_our_log(chain):
    _, es = chain
    body = es[0].body()
    fake = Entry.from_obj({**body, "sig": B.sign("entry", body).hex()})
    refused("bad_signature", LogReplica(A.node_id).apply_entries, [fake])


# --- membership --------------------------------------------------------------------------------
def fed():
    g, ids, recs = make_federation(4, first_key=10)
    return g, ids, MembershipState(g, recs)


def m_state(ms):
    return (ms.summary(), dict(ms.members), set(ms.revoked))


def test_membership_refusals_leave_state_unchanged():
    g, ids, ms = fed()
    founder, m1, m2, m3 = ids
    before = m_state(ms)
    other_g = Genesis.create(A, "other", [], bytes(32), 0)
    outsider = fixed_identity(99)
    good = Admission.create(m1, g.fed_id, outsider.node_id, "member", ["x"], bytes(32), 5)
    cases = [
        ("bad_signature", forge(good, sig=bytes(64))),
        ("bad_signature", forge(good, role="admin")),  # escalated after signing
        ("wrong_federation", Admission.create(m1, other_g.fed_id, outsider.node_id, "member", [], bytes(32), 5)),
        ("not_member", Admission.create(outsider, g.fed_id, fixed_identity(98).node_id, "member", [], bytes(32), 5)),
        ("not_authorised", Admission.create(m1, g.fed_id, outsider.node_id, "admin", [], bytes(32), 5)),
        ("not_authorised", Revocation.create(m1, g.fed_id, founder.node_id, "coup", 5)),
        ("not_authorised", Revocation.create(m1, g.fed_id, m2.node_id, "not an admin", 5)),
    ]
    for code, rec in cases:
        refused(code, ms.add, rec)
        assert m_state(ms) == before
    # founder revokes; the revoked member's vouchees lose membership; re-admission is impossible
    assert ms.add(good) and ms.is_member(outsider.node_id)
    assert ms.add(Revocation.create(founder, g.fed_id, m1.node_id, "lost laptop", 6))
    assert ms.is_revoked(m1.node_id) and not ms.is_member(m1.node_id) and not ms.is_member(outsider.node_id)
    refused("revoked", ms.check_peer, m1.node_id)
    refused("not_member", ms.check_peer, fixed_identity(97).node_id)
    ms.add(Admission.create(founder, g.fed_id, m1.node_id, "member", [], bytes(32), 7))
    assert not ms.is_member(m1.node_id)


def test_membership_is_order_independent():
    g, ids, _ = fed()
    founder, m1, m2, _ = ids
    x, y = fixed_identity(50), fixed_identity(51)
    recs = [
        Admission.create(founder, g.fed_id, m1.node_id, "admin", [], bytes(32), 1),
        Admission.create(m1, g.fed_id, x.node_id, "member", [], bytes(32), 2),
        Admission.create(x, g.fed_id, y.node_id, "member", [], bytes(32), 3),
        Revocation.create(m1, g.fed_id, x.node_id, "bye", 4),
    ]
    views = set()
    for order in (recs, recs[::-1], recs[1:] + recs[:1]):
        ms = MembershipState(g)
        ms.add_many(list(order))
        views.add((ms.summary(), frozenset(ms.members), frozenset(ms.revoked)))
    assert len(views) == 1
    (_, members, revoked), = views
    assert x.node_id in revoked and y.node_id not in members


def test_announce_moves_a_member_and_only_the_member_may():
    g, ids, ms = fed()
    founder, m1, m2, _ = ids
    new = Announce.create(m1, g.fed_id, ["https://new.example:4433"], 100)
    before = m_state(ms)
    outsider = fixed_identity(99)
    cases = [
        ("bad_signature", forge(new, addresses=("https://evil.example:1",))),  # redirected after signing
        ("bad_signature", forge(Announce.create(m2, g.fed_id, ["https://evil.example:1"], 100), node=m1.node_id)),
        ("wrong_federation", Announce.create(m1, "ab" * 32, ["https://x:1"], 100)),
        ("not_member", Announce.create(outsider, g.fed_id, ["https://x:1"], 100)),
    ]
    for code, rec in cases:
        refused(code, ms.add, rec)
        assert m_state(ms) == before
    assert ms.add(new)
    assert ms.members[m1.node_id].addresses == ("https://new.example:4433",)
    assert ms.members[m1.node_id].cert_pin == before[1][m1.node_id].cert_pin  # the pin stays the admission's
    # an older announce changes nothing and is not kept; a newer one replaces it
    assert not ms.add(Announce.create(m1, g.fed_id, ["https://old.example:1"], 50))
    newer = Announce.create(m1, g.fed_id, ["https://newer.example:1"], 200)
    assert ms.add(newer)
    assert ms.members[m1.node_id].addresses == ("https://newer.example:1",)
    assert new.id not in ms.records and ms.announce_of(m1.node_id) == newer
    # the founder moves too (its addresses otherwise come from the genesis)
    assert ms.add(Announce.create(founder, g.fed_id, ["https://f.example:1"], 300))
    assert ms.members[founder.node_id].addresses == ("https://f.example:1",)
    # a revoked member's announce does not make it a member again
    assert ms.add(Revocation.create(founder, g.fed_id, m2.node_id, "gone", 400))
    ms.add(Announce.create(m2, g.fed_id, ["https://m2.example:1"], 500))
    assert not ms.is_member(m2.node_id)
    assert parse_record(newer.to_obj()) == newer


def test_announces_converge_whatever_the_order():
    g, ids, _ = fed()
    m1 = ids[1]
    anns = [Announce.create(m1, g.fed_id, [f"https://h{i}:1"], t) for i, t in enumerate((30, 10, 20))]
    views = set()
    for order in (anns, anns[::-1], anns[1:] + anns[:1]):
        ms = MembershipState(g, make_federation(4, first_key=10)[2])
        ms.add_many(list(order))
        views.add((ms.summary(), ms.members[m1.node_id].addresses))
    assert len(views) == 1 and next(iter(views))[1] == ("https://h0:1",)


# --- invites --------------------------------------------------------------------------------------
def test_invite_refusals():
    g, ids, ms = fed()
    founder = ids[0]
    book = InviteBook(founder, g.fed_id)
    inv = book.issue(["https://a:1"], bytes(32), 1000, bytes(16), ttl_ms=5000)
    j = fixed_identity(60)
    req = JoinRequest.create(j, inv, ["https://j:1"], bytes(32), 1100)
    refused("invite_expired", book.redeem, req, 6000, ms)
    assert book.remaining[inv.nonce] == 1
    adm = book.redeem(req, 2000, ms)
    assert book.redeem(req, 2100, ms) == adm  # same joiner retrying: same admission
    other = JoinRequest.create(fixed_identity(61), inv, [], bytes(32), 2200)
    refused("invite_used", book.redeem, other, 2300, ms)
    # forged invites and requests
    foreign = InviteBook(A, g.fed_id).issue([], bytes(32), 1000, bytes(range(16)))
    refused("bad_invite", book.redeem, JoinRequest.create(j, foreign, [], bytes(32), 1), 2, ms)
    inv2 = book.issue([], bytes(32), 1000, bytes([1]) * 16, uses=2)
    refused("bad_invite", book.redeem, JoinRequest.create(j, forge(inv2, uses=3), [], bytes(32), 1), 2, ms)
    r = JoinRequest.create(j, inv2, [], bytes(32), 1)
    refused("bad_signature", book.redeem, forge(r, node=fixed_identity(62).node_id), 2, ms)
    # revoked joiner
    ms.add(Admission.create(founder, g.fed_id, fixed_identity(63).node_id, "member", [], bytes(32), 1))
    ms.add(Revocation.create(founder, g.fed_id, fixed_identity(63).node_id, "x", 2))
    refused("revoked", book.redeem, JoinRequest.create(fixed_identity(63), inv2, [], bytes(32), 1), 3, ms)
    assert book.remaining[inv2.nonce] == 2


def test_invite_code_catches_every_single_typo():
    inv = InviteBook(A, "00" * 32).issue(["https://h:1"], bytes(32), 0, bytes(16))
    code = inv.to_code()
    assert Invite.from_code(code) == inv
    assert Invite.from_code(" " + code[:40] + "\n" + code[40:].upper()) == inv
    for pos in range(4, len(code), 7):
        ch = "a" if code[pos] != "a" else "b"
        refused("bad_invite", Invite.from_code, code[:pos] + ch + code[pos + 1:])
    refused("bad_invite", Invite.from_code, code[:-5])
    refused("bad_invite", Invite.from_code, "xyz" + code)


# --- node ids -------------------------------------------------------------------------------------
def test_node_id_catches_every_single_typo():
    text = str(A.node_id)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for pos, ch in enumerate(text):
        if ch == "-":
            continue
        for sub in alphabet[:6]:
            if sub != ch:
                refused("bad_node_id", NodeId.parse, text[:pos] + sub + text[pos + 1:])
    for bad in ["", "A" * 55, text + "A", text.replace("A", "1", 1) if "A" in text else "1" + text[1:], 5]:
        refused("bad_node_id", NodeId.parse, bad)


# --- messages ---------------------------------------------------------------------------------
def test_message_refusals():
    good = serialize(Ack(1))
    assert parse(good) == Ack(1)
    cases = {
        "unknown_version": [b'{"seq":1,"type":"ack","v":2}', b'{"seq":1,"type":"ack","v":true}', b'{"seq":1,"type":"ack"}'],
        "unknown_type": [b'{"seq":1,"type":"hello","v":1}', b'{"seq":1,"type":7,"v":1}'],
        "bad_field": [b'{"type":"ack","v":1}', b'{"extra":1,"seq":1,"type":"ack","v":1}', b'{"seq":-1,"type":"ack","v":1}'],
        "not_canonical": [b'{"v":1,"type":"ack","seq":1}', b'{"seq":1,"type":"ack","up":[],"v":1}'],
        "malformed": [b"[1]", b"\xff", b'{"seq":1.0,"type":"ack","v":1}'],
        "oversized": [b'{"pad":"' + b"x" * MAX_MESSAGE_BYTES + b'","seq":1,"type":"ack","v":1}'],
    }
    for code, items in cases.items():
        for data in items:
            refused(code, parse, data)


def test_oversized_message_is_a_local_error_to_build():
    log = CatalogueLog(A)
    big = sample_record(0, title="x" * 900, album="y" * 900)
    es = tuple(log.append("add", i, record=big.replace(track_key=f"k{i}")) for i in range(256))
    msg = Entries(log.head(1), es + es + es)
    with pytest.raises(LocalProtocolError):
        serialize(msg)


# --- peer auth ------------------------------------------------------------------------------------
def test_peer_auth_refusals():
    g, ids, ms = fed()
    founder, m1, m2, _ = ids
    v = RequestVerifier(ms)
    now = 1_700_000_000_000
    body = b'{"x":1}'

    def hdr(ident=m1, t=now, nonce=bytes(16), b=body, path="/peer/v1/gossip"):
        return sign_request(ident, "POST", path, b, t, nonce)

    assert v.verify("POST", "/peer/v1/gossip", hdr(), body, now) == m1.node_id
    n_before = len(v)
    cases = [
        ("replay", hdr(), body),
        ("bad_signature", hdr(nonce=bytes([1]) * 16), b'{"x":2}'),  # body swapped
        ("bad_signature", {**hdr(nonce=bytes([2]) * 16), "Sonantica-Node": str(m2.node_id)}, body),
        ("bad_signature", hdr(nonce=bytes([3]) * 16, path="/other"), body),
        ("clock_skew", hdr(t=now - MAX_CLOCK_SKEW_MS - 1, nonce=bytes([4]) * 16), body),
        ("clock_skew", hdr(t=now + MAX_CLOCK_SKEW_MS + 1, nonce=bytes([5]) * 16), body),
        ("not_member", hdr(ident=A, nonce=bytes([6]) * 16), body),
        ("bad_auth_header", {k: val for k, val in hdr(nonce=bytes([7]) * 16).items() if k != "Sonantica-Nonce"}, body),
        ("bad_auth_header", {**hdr(nonce=bytes([8]) * 16), "Sonantica-Time": "01"}, body),
        ("bad_node_id", {**hdr(nonce=bytes([9]) * 16), "Sonantica-Node": "nonsense"}, body),
    ]
    for code, h, b in cases:
        refused(code, v.verify, "POST", "/peer/v1/gossip", h, b, now)
        assert len(v) == n_before
    ms.add(Revocation.create(founder, g.fed_id, m1.node_id, "bye", 1))
    refused("revoked", v.verify, "POST", "/peer/v1/gossip", hdr(nonce=bytes([10]) * 16), body, now)


def test_replay_cache_is_bounded_without_reopening_replays():
    g, ids, ms = fed()
    v = RequestVerifier(ms, cache_size=4)
    now = 1_700_000_000_000
    hs = [sign_request(ids[1], "GET", "/p", b"", now + i, bytes([i]) * 16) for i in range(6)]
    for i, h in enumerate(hs):
        v.verify("GET", "/p", h, b"", now + i)
    assert len(v) <= 4
    for h in hs:  # forgotten ones are refused by the floor, remembered ones by the cache
        refused("replay", v.verify, "GET", "/p", h, b"", now + 6)


# --- the gossip machine ---------------------------------------------------------------------------
def machine_state(m):
    return (m.logs_summary(), m.membership.summary(),
            {k: (r.seq, r.hash, r.head) for k, r in m.replicas.items()}, m.log.seq)


def test_gossip_machine_refusals_leave_state_unchanged():
    g, ids, recs = make_federation(3, first_key=20)
    founder, m1, m2 = ids
    m = GossipMachine(m2, MembershipState(g, recs), 0)
    log = CatalogueLog(m1)
    es = [log.append("add", i, record=sample_record(i, owner=21)) for i in range(3)]
    m.receive(m1.node_id, Entries(log.head(5), tuple(es[:1])), 10)
    before = machine_state(m)
    cases = [
        ("not_member", A.node_id, Entries(log.head(5), tuple(es[1:]))),
        ("bad_signature", m1.node_id, Entries(log.head(5), (forge(es[1], sig=bytes(64)),))),
        ("gap", m1.node_id, Entries(log.head(5), (es[2],))),
        ("fork", m1.node_id, Entries(log.head(5), (CatalogueLog(m1, 1, bytes(32)).append("add", 1, record=sample_record(7)),))),
        ("wrong_key", founder.node_id, Entries(log.head(5), (CatalogueLog(founder).append("add", 1, record=sample_record(1)),))),
        ("unknown_version", m1.node_id, b'{"seq":1,"type":"ack","v":9}'),
        ("unknown_type", m1.node_id, b'{"seq":1,"type":"gimme","v":1}'),
    ]
    for code, peer, msg in cases:
        refused(code, m.receive, peer, msg, 20)
        assert machine_state(m) == before
    # revoke m1: its messages are refused and its log is dropped
    m.add_records([Revocation.create(founder, g.fed_id, m1.node_id, "bye", 30)], 30)
    assert m1.node_id not in m.replicas
    refused("revoked", m.receive, m1.node_id, Ack(1), 40)
