"""Where a song's bytes come from now (the songSources extension), pure."""

from sonantica.node.federation.selection import HolderStats
from sonantica.node.federation.sources import MAX_LIVE, LiveSources, resolve

PEERS = {"B": {"name": "Node B", "state": "alive", "rtt_ms": 12.4}, "C": {"name": "Node C", "state": "unreachable"},
         "D": {"name": "Node D", "state": "alive", "rtt_ms": 3.0}}
MEMBERS = {"A", "B", "C", "D"}


def test_a_local_copy_serves_and_members_are_listed_too():
    found = resolve("A", "Node A", True, ["B", "C"], PEERS, MEMBERS, {}, None, False)
    assert (found.serving, found.reason) == ("A", "local")
    assert [(s.node, s.is_self, s.state) for s in found.sources] == [("A", True, "self"), ("B", False, "alive"),
                                                                    ("C", False, "unreachable")]


def test_the_best_reachable_holder_is_preferred_unreachable_and_departed_ones_never():
    slow = HolderStats("D", rtt_ms=900.0)
    found = resolve("A", "Node A", False, ["B", "C", "D", "E"], PEERS, MEMBERS, {"D": slow}, None, False)
    assert (found.serving, found.reason) == ("B", "preferred")
    assert {s.node: s.state for s in found.sources} == {"B": "alive", "C": "unreachable", "D": "alive", "E": "gone"}
    assert resolve("A", "Node A", False, ["C", "E"], PEERS, MEMBERS, {}, None, False).reason == "none"


def test_a_running_transfer_then_a_complete_cached_copy_serve():
    live = LiveSources()
    live.opened("f1", "D")
    found = resolve("A", "Node A", False, ["B", "D"], PEERS, MEMBERS, {}, live.serving("f1"), True)
    assert (found.serving, found.reason) == ("D", "streaming")
    live.moved("f1", "B")  # failover to another holder
    assert live.serving("f1") == "B"
    live.opened("f1", "B")  # a second listener of the same file
    live.closed("f1")
    assert live.serving("f1") == "B"
    live.closed("f1")
    assert live.serving("f1") is None
    found = resolve("A", "Node A", False, ["B", "D"], PEERS, MEMBERS, {}, None, True)
    assert (found.serving, found.reason, found.sources[0].is_self) == ("A", "cache", True)


def test_live_sources_stay_bounded():
    live = LiveSources()
    for i in range(MAX_LIVE + 10):
        live.opened(f"f{i}", "B")
    assert live.serving("f0") is None and live.serving(f"f{MAX_LIVE + 9}") == "B"
