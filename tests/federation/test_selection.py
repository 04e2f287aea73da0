import random

import pytest
from hypothesis import given, settings, strategies as st

from sonantica.node.federation.selection import (
    FAILURE_ALPHA,
    RTT_ALPHA,
    HolderStats,
    choose,
    score,
)

NODE_IDS = [f"n{i}" for i in range(6)]


@st.composite
def holder(draw, node_id):
    h = HolderStats(
        node_id=node_id,
        local=draw(st.booleans()),
        rtt_ms=draw(st.floats(0, 2000)),
        throughput=draw(st.floats(1_000, 1e9)),
        failure=draw(st.floats(0, 1)),
        load=draw(st.floats(0, 1)),
        in_flight=draw(st.integers(0, 50)),
    )
    return h


@st.composite
def holder_sets(draw):
    n = draw(st.integers(0, len(NODE_IDS)))
    return [draw(holder(NODE_IDS[i])) for i in range(n)]


@given(holder_sets(), st.sets(st.sampled_from(NODE_IDS)), st.integers(0, 2**32))
@settings(max_examples=400)
def test_never_returns_an_excluded_holder(holders, excluded, seed):
    chosen = choose(holders, random.Random(seed), frozenset(excluded))
    allowed = [h for h in holders if h.node_id not in excluded]
    if not allowed:
        assert chosen is None
    else:
        assert chosen in allowed


@given(holder_sets(), st.integers(0, 2**32))
@settings(max_examples=300)
def test_prefers_a_local_holder(holders, seed):
    chosen = choose(holders, random.Random(seed))
    if any(h.local for h in holders):
        assert chosen.local
        assert score(chosen) == min(score(h) for h in holders if h.local)


@given(holder_sets(), st.integers(0, 2**32))
@settings(max_examples=300)
def test_never_picks_the_strictly_worst_of_several_remotes(holders, seed):
    remote = [h for h in holders if not h.local]
    if len(remote) < 2:
        return
    worst = max(remote, key=score)
    if sum(score(h) == score(worst) for h in remote) > 1:
        return
    assert choose(remote, random.Random(seed)) is not worst


@given(st.integers(0, 2**32))
def test_single_remote_is_chosen_even_if_failing(seed):
    h = HolderStats("a")
    for _ in range(10):
        h.on_failure(1.0)
    assert choose([h], random.Random(seed)) is h


def test_empty_and_all_excluded():
    rng = random.Random(1)
    assert choose([], rng) is None
    assert choose([HolderStats("a"), HolderStats("b")], rng, frozenset({"a", "b"})) is None
    assert choose([HolderStats("a"), HolderStats("b")], rng, frozenset({"a"})).node_id == "b"


def test_avoids_a_failing_holder():
    holders = [HolderStats(f"n{i}") for i in range(3)]
    for _ in range(3):
        holders[0].on_failure(now=10.0)
    assert holders[0].last_failure == 10.0
    rng = random.Random(7)
    picks = [choose(holders, rng).node_id for _ in range(2000)]
    assert "n0" not in picks
    assert {"n1", "n2"} == set(picks)


def test_a_recovering_holder_wins_traffic_back():
    h = HolderStats("a")
    h.on_failure(1.0)
    bad = score(h)
    for _ in range(20):
        h.on_success(rtt_ms=50, nbytes=262144, seconds=0.0655)
    assert h.failure < 0.001
    assert score(h) < bad


def test_ewma_updates():
    h = HolderStats("a")
    h.on_success(rtt_ms=10, nbytes=1_000_000, seconds=1.0)  # first sample replaces the prior
    assert h.rtt_ms == 10 and h.throughput == 1_000_000
    h.on_success(rtt_ms=110, nbytes=2_000_000, seconds=1.0)
    assert h.rtt_ms == pytest.approx(10 + RTT_ALPHA * 100)
    assert h.throughput == pytest.approx(1_200_000)
    h.on_failure(5.0)
    assert h.failure == pytest.approx(FAILURE_ALPHA)
    h.on_failure(6.0)
    assert h.failure == pytest.approx(1 - (1 - FAILURE_ALPHA) ** 2)
    before = h.failure
    h.on_slow(nbytes=0, seconds=2.0)  # abandoned for a faster copy: slower, no verdict
    assert h.failure == before and h.throughput < 1_200_000
    h.on_success(rtt_ms=10, nbytes=10, seconds=0.0)  # unmeasurable duration: throughput unchanged
    h.set_load(3)
    assert h.load == 1.0


def test_score_orders_the_obvious_cases():
    base = HolderStats("a")
    assert score(HolderStats("b", rtt_ms=500)) > score(base)
    assert score(HolderStats("b", throughput=100_000)) > score(base)
    assert score(HolderStats("b", failure=0.5)) > score(base)
    assert score(HolderStats("b", load=0.5)) > score(base)
    assert score(HolderStats("b", in_flight=1)) > score(base)
    assert score(HolderStats("b", failure=1.0)) < float("inf")


@pytest.mark.parametrize("seed", range(20))
def test_sixty_concurrent_streams_spread_over_three_equal_holders(seed):
    rng = random.Random(seed)
    holders = [HolderStats(f"n{i}") for i in range(3)]
    share = {h.node_id: 0 for h in holders}
    for _ in range(60):
        h = choose(holders, rng)
        h.in_flight += 1
        share[h.node_id] += 1
    assert max(share.values()) / min(share.values()) <= 1.5, share


@pytest.mark.parametrize("seed", range(10))
def test_churning_streams_spread_and_follow_measured_speed(seed):
    """Streams start and end at random; equal holders share, a slow one gets less."""
    rng = random.Random(seed)
    holders = [HolderStats(f"n{i}") for i in range(3)]
    for h in holders:
        h.on_success(rtt_ms=5, nbytes=10_000_000, seconds=1.0)
    active: list[HolderStats] = []
    share = {h.node_id: 0 for h in holders}
    for _ in range(3000):
        if len(active) >= 60 or (active and rng.random() < 0.5):
            done = active.pop(rng.randrange(len(active)))
            done.in_flight -= 1
        h = choose(holders, rng)
        h.in_flight += 1
        active.append(h)
        share[h.node_id] += 1
    assert max(share.values()) / min(share.values()) <= 1.5, share
    holders[2].on_success(rtt_ms=5, nbytes=1_000_000, seconds=1.0)
    for _ in range(5):
        holders[2].on_success(rtt_ms=5, nbytes=1_000_000, seconds=1.0)
    counts = {h.node_id: 0 for h in holders}
    for _ in range(600):
        counts[choose(holders, rng).node_id] += 1
    assert counts["n2"] < counts["n0"] and counts["n2"] < counts["n1"]


def test_peer_api_token_bucket_limits_each_member_separately():
    from sonantica.node.api.peer import TokenBucket

    bucket = TokenBucket(rate=10, burst=5)
    assert all(bucket.take("a", 0.0) for _ in range(5))
    assert not bucket.take("a", 0.0)  # burst spent
    assert bucket.take("b", 0.0)  # another member is not affected
    assert bucket.take("a", 0.1)  # 0.1 s at 10/s refills one
    assert not bucket.take("a", 0.1)
