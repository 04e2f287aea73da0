"""The sign-in guard (node/api/ratelimit.py) on a fake clock: stale clients, guessers, parallel
guesses, addresses. The real-node scenario is tests/integration/test_login_throttle.py."""

import pytest
import trio

from sonantica.node.api.ratelimit import (
    FREE_TRIES,
    MAX_DELAY,
    LoginGuard,
    RateLimited,
    address_group,
    client_address,
    guesses_allowed,
)

RIGHT = "the right password"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def checker(calls: list):
    def make(secret: str):
        async def verify() -> bool:
            calls.append(secret)
            await trio.sleep(0)
            return secret == RIGHT
        return verify
    return make


async def try_(guard, account, address, secret, verify):
    try:
        return await guard.attempt(account, address, guard.fingerprint(account, secret), verify(secret))
    except RateLimited as exc:
        return exc


async def test_a_stale_client_repeating_one_password_costs_one_check_and_locks_out_nobody():
    clock, calls = Clock(), []
    guard, verify = LoginGuard(clock), checker(calls)
    answers = [await try_(guard, "alice", "10.0.0.1", "old password", verify) for _ in range(50)]
    assert calls == ["old password"]  # verified once; the 49 repeats are answered from memory
    assert answers[:FREE_TRIES] == [False] * FREE_TRIES
    assert all(isinstance(a, RateLimited) for a in answers[FREE_TRIES:])
    assert answers[-1].retry_after == MAX_DELAY  # growing with each repeat, capped
    # the right password of the same account from the same address, and everyone else, go through
    assert await try_(guard, "alice", "10.0.0.1", RIGHT, verify) is True
    assert await try_(guard, "bob", "10.0.0.1", RIGHT, verify) is True


async def test_a_changed_secret_is_not_a_remembered_wrong_one():
    """The fingerprint covers the account's stored secrets: once they change, an old wrong try is new."""
    clock, calls = Clock(), []
    guard, verify = LoginGuard(clock), checker(calls)
    fp_old = guard.fingerprint("p", "hash-1", RIGHT)
    assert await guard.attempt("a", "10.0.0.1", fp_old, verify("not yet")) is False
    assert await guard.attempt("a", "10.0.0.1", guard.fingerprint("p", "hash-2", RIGHT), verify(RIGHT)) is True


@pytest.mark.parametrize("seconds,bound", [(60, 10), (3600, 17), (24 * 3600, 17 + 23 * 4)])
async def test_brute_force_is_bounded(seconds, bound):
    """An attacker guessing different passwords at one account from one address, as fast as the
    guard lets them: how many guesses get verified per minute, hour, day."""
    clock, calls = Clock(), []
    guard, verify = LoginGuard(clock), checker(calls)
    start, refused, n = clock.now, 0, 0
    while clock.now - start < seconds:
        answer = await try_(guard, "bob", "203.0.113.9", f"guess {n}", verify)
        n += 1
        if isinstance(answer, RateLimited):
            refused += 1
            clock.now += min(answer.retry_after, start + seconds - clock.now + 1)
    assert len(calls) == guesses_allowed(seconds) <= bound
    # and another account from the same address still signs in at once
    assert await try_(guard, "carol", "203.0.113.9", RIGHT, verify) is True


async def test_parallel_guesses_cannot_slip_past_the_count():
    clock, calls = Clock(), []
    guard, verify = LoginGuard(clock), checker(calls)
    answers = []

    async def one(i):
        answers.append(await try_(guard, "bob", "10.0.0.1", f"guess {i}", verify))

    async with trio.open_nursery() as nursery:
        for i in range(30):
            nursery.start_soon(one, i)
    assert len(calls) == FREE_TRIES
    assert sum(isinstance(a, RateLimited) for a in answers) == 30 - FREE_TRIES


async def test_a_day_without_tries_forgives():
    clock, calls = Clock(), []
    guard, verify = LoginGuard(clock), checker(calls)
    for i in range(FREE_TRIES + 3):
        await try_(guard, "bob", "10.0.0.1", f"guess {i}", verify)
    assert isinstance(await try_(guard, "bob", "10.0.0.1", "another", verify), RateLimited)
    clock.now += 24 * 3600 + 1
    assert await try_(guard, "bob", "10.0.0.1", RIGHT, verify) is True


def test_address_groups():
    assert address_group("192.0.2.7") == "192.0.2.7"
    assert address_group("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:3::1") != address_group("2001:db8:1:2::1")
    assert address_group("fe80::1%eth0") == "fe80::/64"


def test_forwarded_for_only_from_trusted_proxies():
    spoof = ["1.2.3.4"]
    assert client_address("127.0.0.1", spoof, ()) == "127.0.0.1"  # the default: never trusted
    assert client_address("192.0.2.1", spoof, ("127.0.0.1/32",)) == "192.0.2.1"  # not the proxy
    assert client_address("127.0.0.1", spoof, ("127.0.0.1/32",)) == "1.2.3.4"
    # the client may prepend anything; the nearest untrusted hop is what the proxy saw
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.2"], ("127.0.0.1/32",)) == "198.51.100.2"
    assert client_address("127.0.0.1", ["198.51.100.2, 10.0.0.5"], ("127.0.0.0/8", "10.0.0.0/8")) \
        == "198.51.100.2"
    assert client_address("127.0.0.1", [], ("127.0.0.1/32",)) == "127.0.0.1"


def test_trusted_proxies_setting():
    from sonantica.node.config import parse_config
    from sonantica.node.errors import ConfigError

    assert parse_config('trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]').trusted_proxies == (
        "127.0.0.1/32", "10.0.0.0/8", "::1/128")
    with pytest.raises(ConfigError, match="trusted_proxies"):
        parse_config('trusted_proxies = ["proxy.lan"]')
