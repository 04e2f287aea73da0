"""Login throttling per account and per address, with growing delays.

After ``FREE_TRIES`` failures in a row a key (an account name or a client
address) must wait ``2 ** (failures - FREE_TRIES)`` seconds, capped at
``MAX_DELAY``, before its next try; a success clears the account's count.
State is in memory: a restart forgives, which is acceptable for a home node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

FREE_TRIES = 5
MAX_DELAY = 15 * 60
FORGET_AFTER = 24 * 3600
MAX_KEYS = 100_000


@dataclass
class _State:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class LoginLimiter:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._states: dict[str, _State] = {}

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before a try is allowed for all of ``keys`` (0 when allowed)."""
        now = self._clock()
        return max((max(0.0, s.blocked_until - now) for k in keys if (s := self._states.get(k))), default=0.0)

    def failure(self, *keys: str) -> None:
        now = self._clock()
        if len(self._states) > MAX_KEYS:
            self._forget_old(now)
        for key in keys:
            s = self._states.setdefault(key, _State())
            s.failures += 1
            s.last = now
            if s.failures >= FREE_TRIES:
                s.blocked_until = now + min(MAX_DELAY, 2 ** (s.failures - FREE_TRIES))

    def success(self, account_key: str) -> None:
        self._states.pop(account_key, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, s in self._states.items() if now - s.last > FORGET_AFTER]:
            del self._states[key]
