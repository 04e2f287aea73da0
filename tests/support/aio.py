"""Running an asyncio client (py-opensonic) from a synchronous test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def run_asyncio(make: Callable[[], Awaitable[T]]) -> T:
    """``asyncio.run(make())`` in a thread of its own.

    A test worker that ran the browser tests keeps Playwright's (sync API) asyncio loop running in
    its main thread for the rest of the session, and ``asyncio.run`` refuses to start inside a
    running loop; with test files spread over workers, any later test may share that worker.
    ``make`` is called in the new thread so that clients bind to the new loop, not Playwright's.
    """
    out: dict[str, object] = {}

    def main() -> None:
        try:
            out["value"] = asyncio.run(_call(make))
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=main, name="asyncio client")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]  # type: ignore[return-value]


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()
