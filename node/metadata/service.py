"""The metadata service of a serving node (see ``daemon.background_services``).

With ``metadata = false`` (the default) it starts nothing and the node asks no outside
service anything. Otherwise one worker task makes a pass at start, after each scan, when an
owner asks for a refresh (``wake``), and every ``SWEEP_S`` (cheap when nothing is due). It
yields to playback like analysis does (``analysis.service.playback_busy``).
"""

from __future__ import annotations

import logging

import trio

from .worker import Worker

log = logging.getLogger(__name__)

SWEEP_S = 60.0
FOLLOWED = ("scan.finished", "library.changed")


class Service:
    def __init__(self, worker: Worker, found=lambda: None) -> None:
        self.worker = worker
        self.found = found  # called after a pass that stored something (members are told: republish)
        self._wake = trio.Event()
        self.passes = 0

    def wake(self) -> None:
        self._wake.set()

    async def loop(self, sub) -> None:
        with sub:
            while True:
                self._wake = trio.Event()
                try:
                    result = await self.worker.run_pass()
                    self.passes += 1
                    if any(result.looked.values()):
                        log.info("metadata: looked at %s", result.looked)
                    if result.found:
                        self.found()
                except Exception:
                    log.exception("metadata pass failed")
                with trio.move_on_after(SWEEP_S):
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(_until_event, sub, nursery.cancel_scope)
                        nursery.start_soon(_until_wake, self._wake, nursery.cancel_scope)


async def _until_event(sub, scope: trio.CancelScope) -> None:
    while (await sub.get()).kind not in FOLLOWED:
        pass
    await trio.sleep(0.2)
    scope.cancel()


async def _until_wake(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _republish(node) -> None:
    """Fetched covers and MBIDs ride in the signed catalogue (federation/runtime.py): publish them soon."""
    federation = getattr(node, "federation", None)
    if federation is not None and hasattr(federation, "publish_soon"):
        federation.publish_soon()


async def run(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    node.metadata = None
    if not node.config.metadata:
        task_status.started()
        return
    from ..analysis.service import playback_busy

    worker = Worker(node.store, node.config, node.data.cache_dir / "metadata", busy=lambda: playback_busy(node))
    service = Service(worker, found=lambda: _republish(node))
    node.metadata = service
    try:
        sub = node.bus.subscribe(64)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(service.loop, sub)
            task_status.started()
    finally:
        with trio.CancelScope(shield=True):
            await worker.http.aclose()
