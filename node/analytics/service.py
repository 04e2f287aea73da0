"""The analytics service of a serving node (see ``daemon.background_services``).

One task, woken by bus events or a timer, never in the way of playback:

- ``play.counted`` → smart playlists of that user are re-evaluated (debounced);
- ``scan.finished`` / ``library.changed`` → every smart playlist is;
- every ``SETTINGS["refresh_check_s"]`` → generated playlists older than a day
  are rebuilt, user by user, and listens whose client vanished are closed;
- ``play.counted`` / ``analytics.forward`` or the earliest due time → the
  forwarding queue is delivered (:func:`.forward.deliver_due`) with one shared
  httpx client; a failure there is logged and retried later, never raised.

Each pass catches and logs its own errors, so one bad user or a sick remote
never stops the others; ``Cancelled`` always propagates.
"""

from __future__ import annotations

import logging
import time

import httpx
import trio

from . import forward, plays, playlists

log = logging.getLogger(__name__)

SETTINGS = {"refresh_check_s": 3600.0, "refresh_every_s": 86400.0, "forward_poll_s": 60.0, "debounce_s": 1.0}
FOLLOWED = ("play.counted", "scan.finished", "library.changed", "analytics.forward")


async def run(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    wake = trio.Event()
    pending_users: set[str] = set()
    state = {"all_smart": False, "wake": wake}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_listen, node, pending_users, state)
        task_status.started()
        async with httpx.AsyncClient(headers={"User-Agent": "Sonantica/0.1"}) as client:
            last_refresh = 0.0
            while True:
                now = time.time()
                if now - last_refresh >= SETTINGS["refresh_check_s"]:
                    last_refresh = now
                    await _daily(node, now)
                await _smart(node, pending_users, state)
                await _forward(node, client)
                timeout = await _next_wait(node)
                with trio.move_on_after(timeout):
                    await state["wake"].wait()
                state["wake"] = trio.Event()
                await trio.sleep(SETTINGS["debounce_s"])


async def _listen(node, pending_users: set[str], state: dict) -> None:
    with node.bus.subscribe(1024) as sub:
        while True:
            event = await sub.get()
            if event.kind not in FOLLOWED:
                continue
            if event.kind == "play.counted":
                pending_users.add(event.data.get("user_id"))
            elif event.kind in ("scan.finished", "library.changed"):
                state["all_smart"] = True
            state["wake"].set()


async def _next_wait(node) -> float:
    due = await node.store.read(_queue_next_at)
    wait = SETTINGS["forward_poll_s"]
    if due is not None and getattr(node.config, "listenbrainz_forwarding", False):
        wait = min(wait, max(0.05, due - time.time()))
    return min(wait, SETTINGS["refresh_check_s"])


def _queue_next_at(db):
    from ..store import plays as ps

    return ps.queue_next_at(db)


async def _daily(node, now: float) -> None:
    try:
        await node.store.write(plays.close_stale, now)
        for user_id in await node.store.read(playlists.users_due, now, SETTINGS["refresh_every_s"]):
            try:
                await node.store.write(playlists.refresh_user, user_id, now)
            except Exception:
                log.exception("refreshing generated playlists of %s failed", user_id)
            await trio.sleep(0)
    except Exception:
        log.exception("daily analytics pass failed")


async def _smart(node, pending_users: set[str], state: dict) -> None:
    try:
        if state["all_smart"]:
            state["all_smart"] = False
            pending_users.clear()
            await node.store.write(playlists.refresh_smart, None)
        while pending_users:
            await node.store.write(playlists.refresh_smart, pending_users.pop())
    except Exception:
        log.exception("refreshing smart playlists failed")


async def _forward(node, client: httpx.AsyncClient) -> None:
    try:
        counts = await forward.deliver_due(node, client)
        if counts["sent"] or counts["failed"]:
            log.info("forwarded plays: %s", counts)
    except Exception:
        log.exception("forwarding pass failed")
