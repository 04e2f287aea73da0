"""Typed in-process events (scan progress, library changes, analysis) for live clients.

Publishers never block: each subscriber has a bounded buffer and a slow
subscriber loses its oldest events rather than stalling the scanner.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field

import trio


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict
    at: float = field(default_factory=time.time)


class Subscription:
    def __init__(self, bus: "Bus", size: int) -> None:
        self._bus = bus
        self._queue: deque[Event] = deque(maxlen=size)
        self._ready = trio.Event()

    def _put(self, event: Event) -> None:
        self._queue.append(event)
        self._ready.set()

    async def get(self) -> Event:
        while not self._queue:
            self._ready = trio.Event()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        self._bus._subs.discard(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._ids = itertools.count(1)
        self._token: trio.lowlevel.TrioToken | None = None

    def bind(self) -> None:
        """Remember the trio loop, so that worker threads may publish too."""
        self._token = trio.lowlevel.current_trio_token()

    def publish(self, kind: str, data: dict) -> None:
        event = Event(next(self._ids), kind, data)
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            if self._token is not None:
                try:
                    self._token.run_sync_soon(self._deliver, event)
                except trio.RunFinishedError:
                    pass
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        for sub in list(self._subs):
            sub._put(event)

    def subscribe(self, size: int = 256) -> Subscription:
        sub = Subscription(self, size)
        self._subs.add(sub)
        return sub
