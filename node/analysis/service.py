"""The analysis service of a serving node (see ``daemon.background_services``).

It owns the :class:`~.runner.Runner` (the worker processes) and the
scheduler: after every scan, and every ``Settings.sweep_s``, tracks with a
missing, outdated (bumped feature version) or stale (changed audio) result
get a job. Jobs left by a previous run are picked up as they are: pending
ones at once, ones leased by a dead process when their lease runs out.

Playback first. Workers already run at nice 19, SCHED_IDLE and the idle I/O
class, so the kernel gives the node's own process the CPU first. On top of
that, while anything plays the runner keeps to one worker and pauses between
jobs. "Anything plays" is :func:`playback_busy`: transcodes in progress
(``node.transcode_limiter.in_use``) or open streams counted by
``node.stream_activity`` (an :class:`Activity`). A stream route feeds the
latter by wrapping its body: ``body = node.stream_activity.track(body)``.

``SETTINGS`` is read when the service starts; tests replace it with short
leases and backoffs.
"""

from __future__ import annotations

import logging

import trio

from .runner import Runner, Settings, worker_count

log = logging.getLogger(__name__)

SETTINGS = Settings()
FOLLOWED = ("scan.finished", "library.changed")


class Activity:
    """A count of open streams; ``track(body)`` counts an async-iterable body while it is iterated."""

    def __init__(self) -> None:
        self.active = 0

    def track(self, body):
        async def counted():
            self.active += 1
            try:
                async for chunk in body:
                    yield chunk
            finally:
                self.active -= 1

        return counted()


def playback_busy(node) -> bool:
    limiter = getattr(node, "transcode_limiter", None)
    activity = getattr(node, "stream_activity", None)
    return bool((limiter is not None and limiter.in_use) or (activity is not None and activity.active))


async def run(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    if getattr(node, "stream_activity", None) is None:
        node.stream_activity = Activity()
    runner = Runner(node.store, workers=worker_count(node.config.analysis_workers), settings=SETTINGS,
                    publish=node.bus.publish, busy=lambda: playback_busy(node),
                    leaves_dir=str(node.data.file_leaves_dir))
    node.analysis = runner
    async with trio.open_nursery() as nursery:
        sub = node.bus.subscribe(64)  # before the first sweep: no scan can finish unseen
        nursery.start_soon(_schedule, runner, sub)
        await nursery.start(runner.run)
        task_status.started()


async def _schedule(runner: Runner, sub) -> None:
    """Sweep at start, after each scan and periodically; events arriving together make one sweep."""
    with sub:
        while True:
            try:
                queued = await runner.sweep()
                if queued:
                    log.info("analysis: %d tracks queued", queued)
            except Exception:
                log.exception("analysis sweep failed")
            with trio.move_on_after(runner.settings.sweep_s):
                while (await sub.get()).kind not in FOLLOWED:
                    pass
                await trio.sleep(0.2)  # let scan.finished and library.changed arrive together
