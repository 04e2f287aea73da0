"""Sign-in throttling per (account, address): guesses are slowed, credentials that verify go through.

Theory of operation. Every password sign-in (web login, Subsonic ``p=``/``enc:``/token, the
current password of ``PUT /me/password``) goes through :meth:`LoginGuard.attempt` with the
account name, the client's address and a *fingerprint* of the secret tried (an HMAC under a
key that lives only in this process, over the account's stored secrets and the secret). State
is kept per **pair** (account, address), never per address alone, so one stale phone or a
guesser behind the household's reverse proxy slows only that account from that address.

For each pair:

- A secret that was already found wrong (same fingerprint: the account's secrets have not
  changed since) is a *repeat*: it is answered from memory without spending argon2 time and
  is no new guess. A stale client polling with an old password is exactly this. Repeats
  count as failures: after ``FREE_TRIES`` of them the pair is *throttled* for repeats, and
  they are answered "rate limited" (never "wrong password") with a Retry-After that doubles
  (1, 2, 4 … s, at most ``MAX_DELAY``).
- A new secret is a *guess*. It is verified, unless the pair already made ``FREE_TRIES``
  different wrong guesses and its back-off window (1, 2, 4 … s, at most ``MAX_DELAY``) is open:
  then it is answered "rate limited" unverified. This is the brute-force bound: after the
  free tries an attacker gets one guess per window, ~``FREE_TRIES`` + 12 in the first
  15 minutes and 4 an hour after (``guesses_allowed`` computes it; a test measures it).
- A secret that verifies clears the pair. So a stale client never locks its own account's
  right password out (its repeats are not guesses); only ``FREE_TRIES`` *different* wrong
  secrets from one address can make that address wait before its next new secret, and other
  accounts and addresses are never affected. Token auth (``t``, ``s``) carries a new salt
  each time, so a token client with a stale app password makes guesses: set ``trusted_proxies``
  so that its address is its own.

There is no cap per address alone (it would refuse a household's right passwords behind a
proxy); user-name spraying from one address gets ``FREE_TRIES`` guesses per account, and all
argon2 checks share :attr:`LoginGuard.cpu` (two at a time: each takes ~0.5 s and 128 MiB), which
bounds how fast anyone can guess at all. State is in memory: a restart forgives, which is
acceptable for a home node.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

FREE_TRIES = 5
MAX_DELAY = 15 * 60
FORGET_AFTER = 24 * 3600
MAX_PAIRS = 100_000
REMEMBERED_WRONG = 16  # different wrong secrets remembered per pair
ARGON2_AT_ONCE = 2
MAX_QUEUED = 64  # tries of one pair waiting for their turn (apps send many requests at once)


class RateLimited(Exception):
    """Too many failed tries for this account from this address: ask again in ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"rate limited, retry in {self.retry_after} s")


def backoff(count: int) -> float:
    """Seconds a pair waits after ``count`` failures (0 within the free tries)."""
    return 0.0 if count < FREE_TRIES else float(min(MAX_DELAY, 2 ** (count - FREE_TRIES)))


def guesses_allowed(seconds: float) -> int:
    """How many different guesses one (account, address) pair can have verified in ``seconds``
    when it guesses as fast as it may: the bound the tests assert."""
    t, n = 0.0, 0
    while True:
        n += 1
        t += backoff(n)
        if t > seconds:
            return n


def address_group(address: str) -> str:
    """The unit an address is throttled as: an IPv4 address, or an IPv6 /64 (one household or host
    may hold the whole /64, so its addresses are one client)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address[:100]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Gate:
    lock: trio.Lock = field(default_factory=trio.Lock)
    waiting: int = 0


@dataclass
class _Pair:
    failures: int = 0  # every failed try: repeats and guesses
    guesses: int = 0  # different wrong secrets
    wrong: deque = field(default_factory=lambda: deque(maxlen=REMEMBERED_WRONG))
    repeat_until: float = 0.0
    guess_until: float = 0.0
    last: float = 0.0


class LoginGuard:
    """The one place every password sign-in asks (see the module's theory of operation)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._key = secrets.token_bytes(32)
        self.cpu = trio.CapacityLimiter(ARGON2_AT_ONCE)  # every argon2 check of a sign-in
        self._gates: dict[tuple[str, str], _Gate] = {}

    def fingerprint(self, *parts: str | bytes | None) -> bytes:
        """An HMAC (key of this process) over the account's stored secrets and the secret tried."""
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in parts:
            data = part if isinstance(part, bytes) else (part or "").encode()
            mac.update(len(data).to_bytes(4, "big") + data)
        return mac.digest()

    async def attempt(self, account: str, address: str, fingerprint: bytes,
                      verify: Callable[[], Awaitable[bool]]) -> bool:
        """True if the secret verifies, False if it is wrong; RateLimited when the pair must wait.

        A pair verifies one secret at a time (others wait their turn, at most ``MAX_QUEUED``), so
        guesses sent in parallel cannot all slip through before the first failure is counted.
        An app's parallel requests barely wait: a token check is an MD5, and after the first
        argon2 check of a ``p=`` the Subsonic layer remembers the result."""
        key = (account.casefold()[:64], address_group(address))
        if self._known_wrong(key, fingerprint):
            return False
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _Gate()
        if gate.waiting >= MAX_QUEUED:
            raise RateLimited(1)
        gate.waiting += 1
        try:
            async with gate.lock:
                if self._known_wrong(key, fingerprint):  # the state may have moved while queued
                    return False
                ok = await verify()
                if ok:
                    self._pairs.pop(key, None)
                else:
                    self._guess(key, fingerprint, self._clock())
                return ok
        finally:
            gate.waiting -= 1
            if gate.waiting == 0:
                self._gates.pop(key, None)

    def _known_wrong(self, key: tuple[str, str], fingerprint: bytes) -> bool:
        """Whether to answer without verifying: True for a repeat of a known-wrong secret (counted;
        RateLimited once the pair is throttled), RateLimited for a new guess inside the window."""
        now = self._clock()
        pair = self._pairs.get(key)
        if pair is None:
            return False
        if now - pair.last > FORGET_AFTER:
            del self._pairs[key]  # a day without a try forgives
            return False
        if any(hmac.compare_digest(fingerprint, w) for w in pair.wrong):
            self._repeat(pair, now)
            return True
        if now < pair.guess_until:
            raise RateLimited(pair.guess_until - now)
        return False

    def _repeat(self, pair: _Pair, now: float) -> None:
        throttled = now < pair.repeat_until
        pair.failures += 1
        pair.last = now
        pair.repeat_until = max(pair.repeat_until, now + backoff(pair.failures))
        if throttled or pair.failures > FREE_TRIES:
            raise RateLimited(pair.repeat_until - now)

    def _guess(self, key: tuple[str, str], fingerprint: bytes, now: float) -> None:
        if len(self._pairs) >= MAX_PAIRS:
            self._forget_old(now)
        pair = self._pairs.setdefault(key, _Pair())
        pair.failures += 1
        pair.guesses += 1
        pair.wrong.append(fingerprint)
        pair.last = now
        pair.guess_until = now + backoff(pair.guesses)
        pair.repeat_until = max(pair.repeat_until, now + backoff(pair.failures))

    def _forget_old(self, now: float) -> None:
        for key in [k for k, p in self._pairs.items() if now - p.last > FORGET_AFTER]:
            del self._pairs[key]
        while len(self._pairs) >= MAX_PAIRS:  # still full: drop the oldest
            del self._pairs[min(self._pairs, key=lambda k: self._pairs[k].last)]


def client_address(remote: str, forwarded_for: list[str], trusted: tuple[str, ...]) -> str:
    """The client's address: ``remote`` (the TCP peer), unless it is one of the ``trusted``
    proxies (networks, from the ``trusted_proxies`` setting); then the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy. Nobody else can choose the address
    they are throttled as by sending the header."""
    if not trusted or not _in(remote, trusted):
        return remote
    hops = [h.strip() for line in forwarded_for for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop[:100]
    return remote


def from_trusted_proxy(remote: str, trusted: tuple[str, ...]) -> bool:
    """Whether the TCP peer ``remote`` is one of the ``trusted_proxies`` (also for trusted-header login)."""
    return bool(trusted) and _in(remote, trusted)


def _in(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
