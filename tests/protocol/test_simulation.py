"""Simulation tests: N gossip machines in protocol.testing.Network."""

import math

import pytest

from sonantica.protocol.membership import Admission, Announce, Revocation
from sonantica.protocol.testing import Network, fixed_identity, sample_record


def converge(net, pred, rounds=40):
    return net.run_until(net.now + rounds * net.config.swim.round_ms, pred)


def rounds_since(net, t0):
    return math.ceil((net.now - t0) / net.config.swim.round_ms)


def test_100_nodes_converge_on_new_entry():
    net = Network(100, seed=1)
    net.run_rounds(2)
    t0 = net.now
    net.append(0, record=sample_record(1))
    assert converge(net, lambda: net.has_seq(net.nodes[0].id, 1))
    assert rounds_since(net, t0) <= math.log2(100) + 3
    for n in net.nodes[1:]:
        assert n.store.tracks[net.nodes[0].id]["music/artist1/album1/000001.flac"] == sample_record(1)
    assert not net.errors


def test_10pct_loss_still_converges():
    net = Network(50, seed=2, loss=0.10)
    net.run_rounds(2)
    net.append(3, record=sample_record(7, owner=3))
    assert converge(net, lambda: net.has_seq(net.nodes[3].id, 1))


def test_idle_is_quiet():
    net = Network(30, seed=3)
    net.run_rounds(5)
    before, t0 = sum(net.bytes_sent.values()), net.now
    net.run_rounds(10)
    per_node_per_s = (sum(net.bytes_sent.values()) - before) / 30 / ((net.now - t0) / 1000)
    assert per_node_per_s <= 1024
    assert all(s == "alive" for n in net.nodes for s in n.states.values())


def _membership_converged(net, pred):
    return lambda: all(pred(n.machine.membership) for n in net.live_nodes())


def test_100_nodes_converge_on_admission():
    from sonantica.protocol.invites import InviteBook, JoinRequest

    net = Network(100, seed=4)
    net.run_rounds(2)
    founder = net.nodes[0]
    book = InviteBook(founder.identity, net.genesis.fed_id)
    inv = book.issue(["sim://0"], bytes(32), net.now, bytes(range(16)))
    joiner = fixed_identity(1000)
    req = JoinRequest.create(joiner, inv.__class__.from_code(inv.to_code()), ["sim://new"], bytes(32), net.now)
    adm = book.redeem(req, net.now, founder.machine.membership)
    net.local_records(0, [adm])
    new = net.join(joiner, net.records + [adm])
    t0 = net.now
    assert converge(net, _membership_converged(net, lambda m: m.is_member(joiner.node_id)))
    assert rounds_since(net, t0) <= math.log2(101) + 3
    # the new member's catalogue reaches everyone too
    net.perform(new, new.machine.append("add", net.now, record=sample_record(5, owner=1000)))
    assert converge(net, lambda: net.has_seq(joiner.node_id, 1))


def test_100_nodes_converge_on_revocation_and_refuse_the_revoked():
    net = Network(100, seed=5)
    net.run_rounds(2)
    bad = net.nodes[42]
    net.append(42, record=sample_record(1, owner=42))
    converge(net, lambda: net.has_seq(bad.id, 1))
    rev = Revocation.create(net.nodes[0].identity, net.genesis.fed_id, bad.id, "test", net.now)
    net.local_records(0, [rev])
    t0 = net.now
    others = [n for n in net.nodes if n is not bad]
    assert converge(net, lambda: all(n.machine.membership.is_revoked(bad.id) for n in others))
    assert rounds_since(net, t0) <= math.log2(100) + 3
    for n in others:
        assert bad.id not in n.machine.replicas and bad.id not in n.store.tracks
    net.errors.clear()
    net.run_rounds(3)
    assert net.errors and {c for c, _ in net.errors} == {"revoked"}


def test_100_nodes_learn_a_moved_member_address():
    net = Network(100, seed=8)
    net.run_rounds(2)
    mover = net.nodes[17]
    ann = Announce.create(mover.identity, net.genesis.fed_id, ["sim://17-new"], net.now)
    net.local_records(17, [ann])
    t0 = net.now
    assert converge(net, _membership_converged(net, lambda m: m.members[mover.id].addresses == ("sim://17-new",)))
    assert rounds_since(net, t0) <= math.log2(100) + 3
    # a later move replaces the earlier one everywhere: the record set does not grow
    net.local_records(17, [Announce.create(mover.identity, net.genesis.fed_id, ["sim://17-newer"], net.now + 1)])
    assert converge(net, _membership_converged(net, lambda m: m.members[mover.id].addresses == ("sim://17-newer",)))
    assert len({n.machine.membership.summary() for n in net.nodes}) == 1
    assert all(ann.id not in n.machine.membership.records for n in net.nodes)
    assert not net.errors


def test_a_moved_node_pushes_its_announce_until_each_member_reaches_it():
    """The others answer pings at the address they hold (the old one), so the mover must push."""
    import random

    from sonantica.protocol.gossip import GossipMachine
    from sonantica.protocol.membership import MembershipState
    from sonantica.protocol.messages import Ping, Records
    from sonantica.protocol.testing import make_federation

    g, ids, recs = make_federation(3)
    me, x, y = ids
    m = GossipMachine(me, MembershipState(g, recs), 0)
    ann = Announce.create(me, g.fed_id, ["https://moved:1"], 10)
    pushed = [a for a in m.add_records([ann], 10) if hasattr(a, "message") and isinstance(a.message, Records)]
    assert {a.peer for a in pushed} == {x.node_id, y.node_id} and all(a.message.records == (ann,) for a in pushed)
    # x answers (it reached us); y stays silent: later pings to y carry the announce, pings to x do not
    m.receive(x.node_id, Ping(1, m.logs_summary(), m.membership.summary()), 20)
    rng, seen = random.Random(1), {x.node_id: [], y.node_id: []}
    for t in range(0, 20_000, 100):
        out = [a for a in m.tick(1000 + t, rng) if hasattr(a, "message")]
        for i, a in enumerate(out):
            if isinstance(a.message, Ping):
                before = out[i - 1].message if i else None
                seen[a.peer].append(isinstance(before, Records) and before.records == (ann,))
    assert seen[y.node_id] and all(seen[y.node_id])
    assert seen[x.node_id] and not any(seen[x.node_id])
    # after a restart, the stored announce is pushed again once (it may have been lost)
    again = GossipMachine(me, MembershipState(g, recs + [ann]), 0)
    assert again.announce_to == {x.node_id, y.node_id}


def test_partition_heals():
    net = Network(20, seed=6)
    net.run_rounds(2)
    net.partition(range(10), range(10, 20))
    net.append(0, record=sample_record(1))
    net.append(15, record=sample_record(2, owner=15))
    net.run_rounds(12)  # long enough for each side to declare the other dead
    a, b = net.nodes[0].id, net.nodes[15].id
    assert all(n.machine._seq_of(a) == (1 if n.index < 10 else 0) for n in net.nodes)
    assert net.nodes[3].machine.swim.state_of(b) == "dead"
    net.heal()
    assert converge(net, lambda: net.has_seq(a, 1) and net.has_seq(b, 1), rounds=60)
    assert converge(net, lambda: all(n.machine.swim.state_of(m.id) == "alive"
                                     for n in net.nodes for m in net.nodes if m is not n), rounds=60)


def test_crashed_node_declared_dead_then_refutes_on_return():
    net = Network(30, seed=7)
    net.run_rounds(2)
    victim = net.nodes[7]
    net.crash(7)
    live = [n for n in net.nodes if n is not victim]
    assert converge(net, lambda: all(n.machine.swim.state_of(victim.id) == "dead" for n in live), rounds=30)
    net.restart(7)
    assert converge(net, lambda: all(n.machine.swim.state_of(victim.id) == "alive" for n in live), rounds=40)
    assert net.nodes[7].machine.swim.inc > 0  # it refuted with a higher incarnation


def test_new_member_catches_up_from_a_snapshot():
    net = Network(5, seed=8)
    owner = net.nodes[1]
    for i in range(600):
        net.append(1, record=sample_record(i, owner=1))
    owner.store.compact(owner.identity, 600, owner.machine.log.hash, net.now)
    net.append(1, record=sample_record(9999, owner=1))
    net.append(1, op="remove", key=sample_record(3, owner=1).track_key)
    assert converge(net, lambda: net.has_seq(owner.id, 602), rounds=30)
    for n in net.nodes:
        if n is not owner:
            tracks = n.store.tracks[owner.id]
            assert len(tracks) == 600 and sample_record(9999, owner=1).track_key in tracks
            assert n.store.snapshot[owner.id][0].seq == 600
    assert not net.errors
