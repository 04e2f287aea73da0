"""The serving node: one root nursery for the store, scanner, watcher, workers and HTTP.

``serve`` holds the data folder's serve lock (see :mod:`.serving`) so that a
second ``serve`` on the same data folder refuses to start and ``restore``
knows the node is live. SIGINT/SIGTERM cancel the root nursery;
hypercorn gets a graceful-shutdown deadline, then everything is cancelled.
"""

from __future__ import annotations

import logging
import os
import signal

import trio

from .bus import Bus
from .config import Config, DataDir
from .library.scanner import Scanner
from .serving import hold_serve_lock
from .store.db import Store

log = logging.getLogger("sonantica")

SHUTDOWN_GRACE_S = 3.0


def background_services() -> list:
    """The subsystems that run beside the HTTP app while serving, in start order.

    Each is ``async def run(node, *, task_status)`` and calls ``task_status.started()``
    once ready. Imported here, when a node starts serving, so that CLI commands that
    never serve do not load them.
    """
    from .analysis import service as analysis
    from .analytics import service as analytics
    from .federation import service as federation
    from .metadata import service as metadata
    from .podcasts import service as podcasts

    return [analysis.run, federation.run, analytics.run, podcasts.run, metadata.run]


class Node:
    """Everything one running node holds; handed to the API and the background services."""

    def __init__(self, data: DataDir, config: Config, store: Store) -> None:
        from .streaming import TranscodeCache, TranscodeLimiter

        self.data = data
        self.config = config
        self.store = store
        self.bus = Bus()
        self.scanner = Scanner(store, list(config.music), data.cache_dir / "covers", data.scan_lock, config.scan_workers)
        self.scanner.listeners.append(self.bus.publish)
        self.transcode_limiter = TranscodeLimiter(config.max_transcodes)
        self.transcode_cache = TranscodeCache(data.cache_dir / "transcodes", config.transcode_cache_mb * 1024 * 1024)
        self.nursery: trio.Nursery | None = None
        self.app = None
        self.federation = None  # set by federation.service while serving
        self.podcasts = None  # set by podcasts.service while serving
        self.metadata = None  # set by metadata.service while serving with metadata = true
        # background services of subsystems: async fn(node, *, task_status), see background_services
        self.services: list = background_services()

    def start_scan(self, full: bool = False) -> bool:
        """Start a scan in the background; False when one is already running."""
        if self.scanner.running or self.nursery is None:
            return False
        self.nursery.start_soon(self.scan_logged, full)
        return True

    async def scan_logged(self, full: bool = False) -> None:
        try:
            summary = await self.scanner.scan(full=full)
            log.info("scan: %s", {k: v for k, v in summary.as_dict().items() if k != "problems"})
        except Exception:
            log.exception("scan failed")


async def serve(data: DataDir, config: Config, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run the node until cancelled or signalled; reports the bound addresses via task_status."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data.require()
    lock_fd = hold_serve_lock(data)
    store = Store.open(data.db_path)
    try:
        node = Node(data, config, store)
        await trio.to_thread.run_sync(node.transcode_cache.load)
        node.bus.bind()
        async with trio.open_nursery() as nursery:
            node.nursery = nursery
            nursery.start_soon(_stop_on_signal, nursery.cancel_scope)
            nursery.start_soon(node.scan_logged, False)
            if config.watch:
                from .library.watcher import watch

                nursery.start_soon(watch, node.scanner)
            for service in node.services:
                await nursery.start(service, node)
            bound = await nursery.start(_run_http, node)
            log.info("%s serving on %s", config.name, ", ".join(bound))
            task_status.started(bound)
    finally:
        store.close()
        os.close(lock_fd)


async def _run_http(node: Node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    from .api.server import run_http

    await run_http(node, task_status=task_status)


async def _stop_on_signal(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
            scope.cancel()
            return
