"""Simulation tests: N gossip machines in protocol.testing.Network."""

import math

import pytest

from sonantica.protocol.membership import Admission, Revocation
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
